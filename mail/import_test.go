package mail_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
)

// failure is one message Import reported and skipped.
type failure struct {
	src string
	err error
}

// mustImport imports paths and returns the totals and the failures.
func mustImport(tb testing.TB, d *db.DB, paths ...string) (mail.ImportStats, []failure) {
	tb.Helper()
	var fails []failure
	stats, err := mail.Import(context.Background(), d, paths, mail.ImportOptions{
		BatchSize: 2, // several batches even for the small samples
		OnFailure: func(src string, err error) { fails = append(fails, failure{src, err}) },
	})
	if err != nil {
		tb.Fatalf("import %v: %v", paths, err)
	}
	return stats, fails
}

// TestImport imports an mbox, a Maildir and a directory of .eml files, each
// with what it must skip, then imports them again.
func TestImport(t *testing.T) {
	tests := map[string]struct {
		path       string // or, when empty, setup builds it
		setup      func(t *testing.T) string
		stats      mail.ImportStats
		failSrc    string // the reported source of the corrupt message
		subjects   []string
		quotedFrom string // a ">From " line that must come back unquoted
	}{
		"mbox with one corrupt message": {
			path:       "testdata/import/sample.mbox",
			stats:      mail.ImportStats{New: 3, Failed: 1},
			failSrc:    "testdata/import/sample.mbox (message 2 at byte 231)",
			subjects:   []string{"Sample message 1", "Sample message 3", "Sample message 4"},
			quotedFrom: "From the archive: this line was quoted.\n>From stays quoted once.",
		},
		"Maildir with one corrupt message, tmp ignored": {
			path:     "testdata/import/Maildir",
			stats:    mail.ImportStats{New: 3, Failed: 1},
			failSrc:  filepath.Join("testdata/import/Maildir/new/1700000004.M4P4.host"),
			subjects: []string{"Sample message 5", "Sample message 6", "Sample message 7"},
		},
		"directory of .eml files, *.json skipped": {
			setup: emlDir,
			stats: mail.ImportStats{New: 10, Failed: 1},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := dbtest.MustOpen(t)
			ctx := context.Background()
			path := tc.path
			if tc.setup != nil {
				path = tc.setup(t)
			}
			stats, fails := mustImport(t, d, path)
			if stats != tc.stats {
				t.Errorf("stats = %+v, want %+v", stats, tc.stats)
			}
			if len(fails) != tc.stats.Failed {
				t.Fatalf("failures = %v, want %d", fails, tc.stats.Failed)
			}
			for _, f := range fails {
				if !errors.Is(f.err, mail.ErrNotMail) {
					t.Errorf("failure %s: %v, want ErrNotMail", f.src, f.err)
				}
			}
			if tc.failSrc != "" && fails[0].src != tc.failSrc {
				t.Errorf("failure reported at %q, want %q", fails[0].src, tc.failSrc)
			}
			n, err := d.CountMessages(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.stats.New {
				t.Errorf("store holds %d messages, want %d", n, tc.stats.New)
			}
			if tc.subjects != nil {
				list, err := d.ListMessages(ctx, 100, 0)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, s := range list {
					got = append(got, s.Subject)
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.subjects) {
					t.Errorf("subjects = %q, want %q", got, tc.subjects)
				}
			}
			if tc.quotedFrom != "" {
				m, err := d.Message(ctx, mail.EmailID("<sample-3@example.org>"))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(m.Text, tc.quotedFrom) {
					t.Errorf("text %q does not contain the unquoted %q", m.Text, tc.quotedFrom)
				}
			}

			again, _ := mustImport(t, d, path)
			want := mail.ImportStats{Present: tc.stats.New, Failed: tc.stats.Failed}
			if again != want {
				t.Errorf("re-import stats = %+v, want %+v", again, want)
			}
			if n2, _ := d.CountMessages(ctx); n2 != n {
				t.Errorf("re-import changed the count: %d -> %d", n, n2)
			}
		})
	}
}

// TestImportUnreadablePath: a missing path is an error naming it, and the
// other paths still import.
func TestImportUnreadablePath(t *testing.T) {
	d := dbtest.MustOpen(t)
	missing := filepath.Join(t.TempDir(), "nope.mbox")
	stats, err := mail.Import(context.Background(), d, []string{missing, "testdata/plain-utf8.eml"}, mail.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want a not-exist error naming %s", err, missing)
	}
	if stats.New != 1 {
		t.Errorf("stats = %+v, want the readable path imported", stats)
	}
}

// TestWalkSources: Walk names each message's source and skips what is not
// mail storage (*.json, hidden files, Maildir tmp).
func TestWalkSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	one := "From: a@example.com\nSubject: x\n\nbody\n"
	write("a.eml", one)
	write("b.txt", "From someone@example.com Thu Aug 22 12:36:23 2002\n"+one)
	write("meta.json", `{"not":"mail"}`)
	write(".hidden", one)
	write("box/Maildir/cur/1", one)
	write("box/Maildir/new/2", one)
	write("box/Maildir/tmp/3", one)
	write("box/Maildir/.Sent/cur/4", one)
	write("box/Maildir/.Sent/new/.keep", "")
	write("two.mbox", "From a@example.com Thu Aug 22 12:36:23 2002\n"+one+"\nFrom b@example.com Thu Aug 22 12:36:24 2002\n"+one)

	var got []string
	err := mail.Walk(context.Background(), dir, func(src string, raw []byte, err error) error {
		if err != nil {
			t.Errorf("%s: %v", src, err)
		}
		got = append(got, strings.TrimPrefix(filepath.ToSlash(src), filepath.ToSlash(dir)+"/"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a.eml",
		"b.txt (message 1 at byte 0)",
		"box/Maildir/new/2",
		"box/Maildir/cur/1",
		"box/Maildir/.Sent/cur/4",
		"two.mbox (message 1 at byte 0)",
		"two.mbox (message 2 at byte " + strconv.Itoa(len("From a@example.com Thu Aug 22 12:36:23 2002\n"+one+"\n")) + ")",
	}
	if !slices.Equal(got, want) {
		t.Errorf("walk order:\n got %q\nwant %q", got, want)
	}
}

// emlDir copies the testdata samples into a directory with a JSON file
// (skipped) and a corrupt file (reported).
func emlDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(files) != 10 {
		t.Fatalf("want the 10 samples, got %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{"index.json": `{"a":1}`, "corrupt.eml": "\x00\x01 not a mail \xff"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestImportHugeMbox: an mbox bigger than MaxMessageBytes is streamed; its
// oversized message is reported and skipped, a long line survives, the
// others import.
func TestImportHugeMbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.mbox")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(i int, body string) string {
		return "From sender@example.org Mon Mar  2 10:00:00 2026\nFrom: s@example.org\nSubject: m" +
			strconv.Itoa(i) + "\nMessage-ID: <huge-" + strconv.Itoa(i) + "@example.org>\n\n" + body + "\n\n"
	}
	line := strings.Repeat("a", 1023) + "\n"
	if _, err := f.WriteString(msg(1, "small")); err != nil {
		t.Fatal(err)
	}
	second, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(msg(2, "")); err != nil {
		t.Fatal(err)
	}
	chunk := strings.Repeat(line, 1024) // 1 MiB
	for range mail.MaxMessageBytes/len(chunk) + 1 {
		if _, err := f.WriteString(chunk); err != nil {
			t.Fatal(err)
		}
	}
	long := strings.Repeat("b", 300<<10) // longer than the read buffer
	if _, err := f.WriteString("\n" + msg(3, long)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	d := dbtest.MustOpen(t)
	stats, fails := mustImport(t, d, path)
	if stats != (mail.ImportStats{New: 2, Failed: 1}) {
		t.Errorf("stats = %+v, want 2 new and 1 failed", stats)
	}
	wantSrc := path + " (message 2 at byte " + strconv.FormatInt(second, 10) + ")"
	if len(fails) != 1 || !errors.Is(fails[0].err, mail.ErrTooLarge) || fails[0].src != wantSrc {
		t.Errorf("failures = %v, want ErrTooLarge at %s", fails, wantSrc)
	}
	m, err := d.Message(context.Background(), mail.EmailID("<huge-3@example.org>"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(m.Text) != long {
		t.Errorf("long line: got %d bytes, want %d", len(strings.TrimSpace(m.Text)), len(long))
	}
}

// failingStore stores the first batch, then fails as a full disk does.
type failingStore struct{ calls int }

func (s *failingStore) SaveMessages(ctx context.Context, source string, msgs []*mail.Message) ([]string, error) {
	s.calls++
	if s.calls > 1 {
		return nil, errors.New("database or disk is full")
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.StableID()
	}
	return ids, nil
}

// A store that fails mid-import stops it, and the totals say how many
// messages were read but not stored: never "0 failed" for mail that was
// lost.
func TestImportStoreFailureCountsUnstored(t *testing.T) {
	dir := t.TempDir()
	for i := range 7 {
		raw := fmt.Sprintf("From: a@example.com\r\nSubject: m%d\r\nMessage-ID: <m%d@example.com>\r\n\r\nbody\r\n", i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.eml", i)), []byte(raw), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := mail.Import(context.Background(), &failingStore{}, []string{dir}, mail.ImportOptions{BatchSize: 3, Workers: 1})
	if err == nil {
		t.Fatal("a failing store was not reported")
	}
	if stats.New != 3 || stats.Unstored != 3 || stats.Failed != 0 {
		t.Fatalf("stats %+v, want 3 new, 3 read but not stored", stats)
	}
}
