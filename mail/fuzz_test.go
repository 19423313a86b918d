package mail_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"smista/mail"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, and what it
// returns must hold Parse's promises (bracketed ids, ids derived from the
// Message-ID, valid UTF-8 text within the size cap). Seeds: every
// testdata/*.eml sample plus testdata/fuzz/FuzzParse.
//
//	go test ./mail -run '^$' -fuzz FuzzParse -fuzztime 2m
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := mail.Parse(raw)
		if err != nil {
			if m != nil {
				t.Fatal("Parse returned a message and an error")
			}
			return
		}
		if !strings.HasPrefix(m.MessageID, "<") || !strings.HasSuffix(m.MessageID, ">") {
			t.Fatalf("message id %q lacks angle brackets", m.MessageID)
		}
		if m.ID != mail.EmailID(m.MessageID) {
			t.Fatalf("id %q is not EmailID(%q)", m.ID, m.MessageID)
		}
		if m.ThreadID == "" {
			t.Fatal("empty thread id")
		}
		for what, s := range map[string]string{"text": m.Text, "html": m.HTML, "subject": m.Subject, "from": m.From.String()} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not valid UTF-8: %q", what, s)
			}
		}
		if len(m.Text) > mail.MaxTextBytes+len(mail.TruncatedNote) || len(m.HTML) > mail.MaxTextBytes {
			t.Fatalf("body over the cap: text %d, html %d", len(m.Text), len(m.HTML))
		}
		for _, a := range m.Attachments {
			if a.Size < 0 {
				t.Fatalf("attachment %q has size %d", a.Filename, a.Size)
			}
		}
	})
}
