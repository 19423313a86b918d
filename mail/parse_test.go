package mail_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"smista/mail"
)

var update = flag.Bool("update", false, "rewrite the .golden files under testdata")

// golden is the JSON shape of the decoded fields compared with
// testdata/NAME.golden.
type golden struct {
	ID          string              `json:"id"`
	MessageID   string              `json:"message_id"`
	ThreadID    string              `json:"thread_id"`
	InReplyTo   string              `json:"in_reply_to"`
	References  []string            `json:"references"`
	From        mail.Address        `json:"from"`
	To          []mail.Address      `json:"to"`
	Cc          []mail.Address      `json:"cc"`
	ReplyTo     []mail.Address      `json:"reply_to"`
	Subject     string              `json:"subject"`
	Date        string              `json:"date"`
	Text        string              `json:"text"`
	HTML        string              `json:"html"`
	Attachments []mail.Attachment   `json:"attachments"`
	Header      map[string][]string `json:"header"`
}

func toGolden(m *mail.Message) golden {
	g := golden{
		ID: m.ID, MessageID: m.MessageID, ThreadID: m.ThreadID, InReplyTo: m.InReplyTo,
		References: m.References, From: m.From, To: m.To, Cc: m.Cc, ReplyTo: m.ReplyTo,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Attachments: m.Attachments, Header: m.Header,
	}
	if !m.Date.IsZero() {
		g.Date = m.Date.Format(time.RFC3339)
	}
	return g
}

// mustParseFile parses testdata/name.
func mustParseFile(tb testing.TB, name string) *mail.Message {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	m, err := mail.Parse(raw)
	if err != nil {
		tb.Fatalf("parse %s: %v", name, err)
	}
	if !bytes.Equal(m.Raw, raw) {
		tb.Fatalf("parse %s: Raw is not the input", name)
	}
	return m
}

// TestParseGolden compares the decoded fields of every testdata/*.eml with
// its .golden file (go test ./mail -run TestParseGolden -update rewrites
// them).
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 9 {
		t.Fatalf("found %d samples, want at least 9", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(toGolden(mustParseFile(t, name))); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := strings.TrimSuffix(f, ".eml") + ".golden"
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoded fields differ from %s (run with -update after checking):\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// TestParseShapes states, per MIME shape, the facts the golden files must
// hold, so a wrong -update cannot bless a regression.
func TestParseShapes(t *testing.T) {
	tests := map[string]struct {
		file  string
		check func(t *testing.T, m *mail.Message)
	}{
		"plain UTF-8": {"plain-utf8.eml", func(t *testing.T, m *mail.Message) {
			eq(t, "from", m.From, mail.Address{Name: "Giulia Rossi", Addr: "giulia@example.it"})
			eq(t, "to", len(m.To), 2)
			eq(t, "cc", m.Cc[0], mail.Address{Name: "Bianchi, Marco", Addr: "marco@example.it"})
			eq(t, "reply-to", m.ReplyTo[0].Addr, "giulia.rossi@example.it")
			eq(t, "subject", m.Subject, "Non riesco ad accedere — errore 500")
			eq(t, "message id", m.MessageID, "<20260303091500.1234@example.it>")
			eq(t, "id", m.ID, mail.EmailID("<20260303091500.1234@example.it>"))
			eq(t, "thread", m.ThreadID, m.ID)
			eq(t, "date", m.Date.UTC(), time.Date(2026, 3, 3, 8, 15, 0, 0, time.UTC))
			contains(t, m.Text, "non riesco più ad\naccedere")
			contains(t, m.Text, "È urgente.")
			eq(t, "crlf kept out of text", strings.Contains(m.Text, "\r"), false)
			eq(t, "html", m.HTML, "")
		}},
		"multipart/alternative prefers text/plain": {"alternative.eml", func(t *testing.T, m *mail.Message) {
			eq(t, "subject", m.Subject, "Your invoice — March")
			contains(t, m.Text, "120,00 €")
			contains(t, m.Text, "wrapped by quoted-printable")
			eq(t, "no html in text", strings.Contains(m.Text, "<p>"), false)
			contains(t, m.HTML, "<b>120,00 &euro;</b>")
			eq(t, "attachments", len(m.Attachments), 0)
		}},
		"HTML only is rendered as text": {"html-only.eml", func(t *testing.T, m *mail.Message) {
			contains(t, m.Text, "Spring sale\n")
			contains(t, m.Text, "Up to 50% off — this week only.")
			contains(t, m.Text, "- Shoes\n- Bags & belts")
			contains(t, m.Text, "our shop (https://shop.example/sale)")
			contains(t, m.Text, "Café corner\nOpen daily")
			contains(t, m.Text, "Tea 3€")
			eq(t, "link equal to its text is not repeated", strings.Contains(m.Text, "(https://shop.example/)"), false)
			for _, bad := range []string{"alert", "color: red", "Newsletter"} {
				eq(t, "dropped "+bad, strings.Contains(m.Text, bad), false)
			}
			eq(t, "subject entities are not HTML", m.Subject, "Spring sale &amp; more")
		}},
		"attachments": {"attachments.eml", func(t *testing.T, m *mail.Message) {
			eq(t, "text", strings.TrimSpace(m.Text), "In allegato il contratto e lo screenshot dell'errore.")
			eq(t, "attachments", m.Attachments, []mail.Attachment{
				{Filename: "contratto.pdf", ContentType: "application/pdf", Size: 1029},
				{Filename: "schermata d’errore.png", ContentType: "image/png", Size: 100},
				{Filename: "note è.txt", ContentType: "text/plain", Size: 10},
			})
		}},
		"Latin-1 body and RFC 2047 headers": {"latin1.eml", func(t *testing.T, m *mail.Message) {
			eq(t, "from", m.From, mail.Address{Name: "José Peña", Addr: "jose@example.es"})
			eq(t, "subject", m.Subject, "Caffè e perché à pronto")
			contains(t, m.Text, "Perché il caffè è freddo? Señor Peña.")
			contains(t, m.Text, "Città: München.")
		}},
		"Windows-1252": {"windows1252.eml", func(t *testing.T, m *mail.Message) {
			contains(t, m.Text, "the “Premium” plan costs € 49 per month – that’s all.")
			eq(t, "8-bit subject", m.Subject, "Quote for “Premium” plan")
		}},
		"missing Message-ID": {"no-message-id.eml", func(t *testing.T, m *mail.Message) {
			if !strings.HasPrefix(m.MessageID, "<") || !strings.HasSuffix(m.MessageID, "@smista.invalid>") {
				t.Errorf("message id = %q, want a synthesised <...@smista.invalid>", m.MessageID)
			}
			again := mustParseFile(t, "no-message-id.eml")
			eq(t, "stable message id", again.MessageID, m.MessageID)
			eq(t, "stable id", again.ID, m.ID)
			eq(t, "id from message id", m.ID, mail.EmailID(m.MessageID))
		}},
		"References threading": {"reply-thread.eml", func(t *testing.T, m *mail.Message) {
			eq(t, "in-reply-to", m.InReplyTo, "<reply-2@example.com>")
			eq(t, "references", m.References, []string{"<root-1@example.net>", "<reply-2@example.com>"})
			eq(t, "thread is the root", m.ThreadID, mail.EmailID("<root-1@example.net>"))
			eq(t, "subject", m.Subject, "Re: Re: Ticket about login")
		}},
		"broken base64 keeps the readable text": {"broken-base64.eml", func(t *testing.T, m *mail.Message) {
			contains(t, m.Text, "Il file è rovinato ma questo testo si legge.")
		}},
		"broken headers degrade, never fail": {"broken-headers.eml", func(t *testing.T, m *mail.Message) {
			eq(t, "from name", m.From.Name, "François")
			eq(t, "subject", m.Subject, "Réclamation urgente")
			eq(t, "date", m.Date.IsZero(), true)
			eq(t, "message id", m.MessageID, "<nobracketshere>")
			contains(t, m.Text, "Texte sans frontière connue.")
			if len(m.To) == 0 {
				t.Error("to: want a best-effort address")
			}
			eq(t, "spaced key", m.Get("X-Weird"), "spaced key")
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.check(t, mustParseFile(t, tc.file))
		})
	}
}

// TestParseNotMail: inputs with no header field fail with ErrNotMail.
func TestParseNotMail(t *testing.T) {
	tests := map[string]struct{ raw string }{
		"empty":        {""},
		"blank lines":  {"\r\n\r\n"},
		"binary":       {"\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n"},
		"text no head": {"hello world\nthis is not a mail\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := mail.Parse([]byte(tc.raw))
			if !errors.Is(err, mail.ErrNotMail) {
				t.Fatalf("Parse = %v, %v; want ErrNotMail", m, err)
			}
		})
	}
}

// TestParseLimits: a huge body is cut at MaxTextBytes with a note, deep
// nesting does not blow the stack, and a bare-LF mbox From line is skipped.
func TestParseLimits(t *testing.T) {
	tests := map[string]struct {
		raw   string
		check func(t *testing.T, m *mail.Message)
	}{
		"huge body": {
			"From: a@b.c\nSubject: big\n\n" + strings.Repeat("è", mail.MaxTextBytes),
			func(t *testing.T, m *mail.Message) {
				if len(m.Text) > mail.MaxTextBytes+len(mail.TruncatedNote) {
					t.Errorf("text is %d bytes", len(m.Text))
				}
				if !strings.HasSuffix(m.Text, mail.TruncatedNote) {
					t.Error("truncated text has no note")
				}
			},
		},
		"deep nesting": {
			deepNest(5000),
			func(t *testing.T, m *mail.Message) { eq(t, "subject", m.Subject, "deep") },
		},
		"mbox envelope line": {
			"From someone@example.com Thu Aug 22 12:36:23 2002\nFrom: x@example.com\nSubject: s\n\nbody\n",
			func(t *testing.T, m *mail.Message) {
				eq(t, "from", m.From.Addr, "x@example.com")
				eq(t, "text", m.Text, "body\n")
			},
		},
		"no blank line after header": {
			"From: x@example.com\nSubject: s\nbody starts here\n",
			func(t *testing.T, m *mail.Message) { eq(t, "text", m.Text, "body starts here\n") },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := mail.Parse([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}
}

func deepNest(n int) string {
	var b strings.Builder
	b.WriteString("From: a@b.c\nSubject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n")
	for i := 1; i < n; i++ {
		b.WriteString("--b" + strconv.Itoa(i-1) + "\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\n\n")
	}
	b.WriteString("--b" + strconv.Itoa(n-1) + "\n\ninner text\n")
	return b.String()
}

func eq[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		tb.Errorf("%s = %s, want %s", what, g, w)
	}
}

func contains(tb testing.TB, s, sub string) {
	tb.Helper()
	if !strings.Contains(s, sub) {
		tb.Errorf("text does not contain %q:\n%s", sub, s)
	}
}

// A header block over the 1 MiB cap keeps the fields that fit and never
// spills the rest into the body.
func TestParseHugeHeaderDoesNotSpillIntoBody(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@example.com>\r\n")
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, "X-Filler-%d: %s\r\n", i, strings.Repeat("x", 200))
	}
	b.WriteString("\r\nthe real body\r\n")
	m, err := mail.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "X-Filler") || strings.TrimSpace(m.Text) != "the real body" {
		t.Fatalf("body = %.80q…, want only the real body", m.Text)
	}
	if m.Subject != "big" || m.From.Addr != "a@example.com" {
		t.Errorf("fields before the cap lost: subject %q from %q", m.Subject, m.From.Addr)
	}
}
