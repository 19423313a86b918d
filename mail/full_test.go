package mail_test

import (
	"slices"
	"strings"
	"testing"

	"smista/mail"
)

// TestParseFull: Parse cuts a body at 1 MiB; ParseFull reads all of it.
func TestParseFull(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n"
	body := strings.Repeat(line, 30000) + "THE END\n" // ~3 MiB
	raw := []byte("From: a@example.com\r\nSubject: big\r\n\r\n" + body)
	m, err := mail.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.Text, mail.TruncatedNote) || strings.Contains(m.Text, "THE END") {
		t.Fatalf("Parse kept %d bytes, want the body cut at 1 MiB", len(m.Text))
	}
	full, err := mail.ParseFull(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(full.Text), "THE END") || len(full.Text) < 3_000_000 {
		t.Errorf("ParseFull kept %d bytes ending %q, want the whole body", len(full.Text), full.Text[len(full.Text)-20:])
	}
}

func TestLinks(t *testing.T) {
	m := &mail.Message{
		Text: "See https://example.com/a?b=1. Or (http://x.example/y), mail mailto:help@example.com; again https://example.com/a?b=1",
		HTML: `<a href="https://example.com/h?x=1&amp;y=2">h</a> <a href='javascript:alert(1)'>j</a> <a href=ftp://f.example/z>f</a>`,
	}
	want := []string{"https://example.com/a?b=1", "http://x.example/y", "mailto:help@example.com",
		"https://example.com/h?x=1&y=2", "ftp://f.example/z"}
	if got := mail.Links(m); !slices.Equal(got, want) {
		t.Errorf("Links = %q, want %q", got, want)
	}
}

// BenchmarkParseFull is the message view's cost of a long body: the whole
// text of a 3 MiB mail (ParseFull) against Parse's first MiB.
func BenchmarkParseFull(b *testing.B) {
	raw := []byte("From: a@example.com\r\nSubject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 99)+"\n", 30000))
	b.Run("Parse", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := mail.Parse(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseFull", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := mail.ParseFull(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
