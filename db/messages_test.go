package db_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
)

var _ mail.Store = (*db.DB)(nil)

// TestMessageRoundTrip: every decoded field of a parsed message comes back
// equal from the store, and saving it again adds nothing.
func TestMessageRoundTrip(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return now }

	tests := map[string]struct{ file string }{
		"threaded reply":       {"reply-thread.eml"},
		"attachments":          {"attachments.eml"},
		"html alternative":     {"alternative.eml"},
		"latin-1, cc and date": {"latin1.eml"},
		"broken headers":       {"broken-headers.eml"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "mail", "testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want, err := mail.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			added, err := d.SaveMessages(ctx, "import:test", []*mail.Message{want})
			if err != nil {
				t.Fatal(err)
			}
			if len(added) != 1 || added[0] != want.ID {
				t.Fatalf("added = %v, want [%s]", added, want.ID)
			}
			got, err := d.Message(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want.Date.IsZero() {
				// A mail without a usable Date is dated when it was stored.
				want.Date = now
			}
			if !got.Date.Equal(want.Date) {
				t.Errorf("date = %v, want %v", got.Date, want.Date)
			}
			got.Date, want.Date = time.Time{}, time.Time{}
			// DateFallback marks a parse's fallback for the sync to
			// correct; the store keeps the date it settled on.
			want.DateFallback = false
			if !reflect.DeepEqual(normal(got), normal(want)) {
				t.Errorf("round trip differs:\n got %+v\nwant %+v", got, want)
			}
			again, err := d.SaveMessages(ctx, "import:test", []*mail.Message{want})
			if err != nil || len(again) != 0 {
				t.Errorf("second save added %v, %v; want nothing", again, err)
			}
		})
	}
	n, err := d.CountMessages(ctx)
	if err != nil || n != len(tests) {
		t.Errorf("count = %d, %v; want %d", n, err, len(tests))
	}
	list, err := d.ListMessages(ctx, 2, 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("list = %v, %v", list, err)
	}
	if !list[0].Date.After(list[1].Date) && !list[0].Date.Equal(list[1].Date) {
		t.Errorf("list not newest first: %v then %v", list[0].Date, list[1].Date)
	}
}

// normal maps nil and empty slices alike: the store keeps "[]" for both.
func normal(m *mail.Message) mail.Message {
	c := *m
	if len(c.References) == 0 {
		c.References = nil
	}
	for _, p := range []*[]mail.Address{&c.To, &c.Cc, &c.ReplyTo} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(c.Attachments) == 0 {
		c.Attachments = nil
	}
	return c
}

// BenchmarkSaveMessages stores parsed messages in batches of 500 into a
// WAL file database and reports messages per second (the corpus when
// SMISTA_CORPUS is set, else the mail testdata samples under fresh ids).
func BenchmarkSaveMessages(b *testing.B) {
	var files []string
	if dir := os.Getenv("SMISTA_CORPUS"); dir != "" {
		files, _ = filepath.Glob(filepath.Join(dir, "*", "*.txt"))
	}
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join("..", "mail", "testdata", "*.eml"))
	}
	var msgs []*mail.Message
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		m, err := mail.Parse(raw)
		if err != nil {
			continue
		}
		msgs = append(msgs, m)
	}
	ctx := context.Background()
	d := dbtest.MustOpen(b)
	b.ReportAllocs()
	b.ResetTimer()
	stored := 0
	for i := 0; i < b.N; i++ {
		batch := make([]*mail.Message, 0, 500)
		for j := 0; j < 500; j++ {
			m := *msgs[(i*500+j)%len(msgs)]
			m.MessageID = fmt.Sprintf("<bench-%d-%d@smista.invalid>", i, j)
			m.ID = mail.EmailID(m.MessageID)
			batch = append(batch, &m)
		}
		added, err := d.SaveMessages(ctx, "bench", batch)
		if err != nil {
			b.Fatal(err)
		}
		stored += len(added)
	}
	b.ReportMetric(float64(stored)/b.Elapsed().Seconds(), "msgs/s")
}

// TestMessageRawRoundTrip: the raw mail comes back byte for byte whatever
// it holds — control bytes, invalid UTF-8, bytes that do not compress, a
// mail too small to compress — and the header map and body are read from
// it.
func TestMessageRawRoundTrip(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	noise := make([]byte, 64<<10)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	tests := map[string]struct {
		header, body string
		wantHeader   string
	}{
		"quotes and backslash": {header: `say "hi" \ bye`, body: "hello", wantHeader: `say "hi" \ bye`},
		"controls":             {header: "a\tb", body: "a\x00b\x1f\r\n", wantHeader: "a\tb"},
		"non-ASCII":            {header: "Caffè — 日本語 🎉", body: strings.Repeat("Caffè — 日本語 🎉\r\n", 200), wantHeader: "Caffè — 日本語 🎉"},
		"invalid UTF-8, long":  {header: "bad \xff byte", body: strings.Repeat("bad \xff byte\r\n", 500), wantHeader: "bad ÿ byte"},
		"incompressible":       {header: "noise", body: string(noise), wantHeader: "noise"},
		"tiny":                 {header: "x", body: "", wantHeader: "x"},
	}
	i := 0
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i++
			mid := fmt.Sprintf("<raw-%d@example.org>", i)
			raw := []byte("Message-ID: " + mid + "\r\nX-Test: " + tc.header + "\r\n\r\n" + tc.body)
			m, err := mail.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
				t.Fatal(err)
			}
			got, err := d.Message(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Raw, raw) {
				t.Fatalf("raw mail changed in the store: %d bytes back, %d stored", len(got.Raw), len(raw))
			}
			if h := got.Get("X-Test"); h != tc.wantHeader {
				t.Errorf("header = %q, want %q", h, tc.wantHeader)
			}
			if got.Text != m.Text {
				t.Errorf("text = %.40q, want %.40q", got.Text, m.Text)
			}
		})
	}
}

// TestMessageWithoutRaw: a message a program builds without its raw bytes
// (tests, fixtures) keeps its text.
func TestMessageWithoutRaw(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	m := &mail.Message{MessageID: "<noraw@example.org>", Subject: "s", Text: "just the text"}
	m.ID = mail.EmailID(m.MessageID)
	m.ThreadID = m.ID
	if _, err := d.SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
		t.Fatal(err)
	}
	got, err := d.Message(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "just the text" || got.Subject != "s" {
		t.Errorf("got text %q subject %q", got.Text, got.Subject)
	}
}

// TestMessageSeqsLeftToSQLite: the messages insert leaves seq to SQLite
// (no statement journal) while message_data names the seqs run expects;
// every email still reads back its own raw mail across batches cut into
// several statements, with stored emails skipped inside a batch and the
// newest row deleted between two batches (its seq is given again).
func TestMessageSeqsLeftToSQLite(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	at := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	msg := func(i int) *mail.Message {
		m := dbtest.Message(fmt.Sprintf("seq-%d", i), fmt.Sprintf("subject %d", i), at.Add(time.Duration(i)*time.Minute))
		m.Raw = []byte(fmt.Sprintf("Message-ID: %s\r\nSubject: subject %d\r\n\r\nbody %d %s", m.MessageID, i, i, strings.Repeat("x", i)))
		return m
	}
	var all []*mail.Message
	save := func(from, to int, again ...int) {
		t.Helper()
		var batch []*mail.Message
		for i := from; i < to; i++ {
			batch = append(batch, msg(i))
			if len(again) > 0 && i == from+3 {
				for _, j := range again {
					batch = append(batch, msg(j))
				}
			}
		}
		added, err := d.SaveMessages(ctx, "test", batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(added) != to-from {
			t.Fatalf("added %d of %d new messages", len(added), to-from)
		}
		for i := from; i < to; i++ {
			all = append(all, msg(i))
		}
	}
	save(0, 300)           // 256 + 16 + 16 + 4 + 4 + 4 rows a statement
	save(300, 337, 5, 299) // two stored emails inside the batch
	newest := all[len(all)-1]
	if _, err := d.Writer().ExecContext(ctx, `DELETE FROM messages WHERE id = ?`, newest.ID); err != nil {
		t.Fatal(err)
	}
	all = all[:len(all)-1]
	save(337, 341)
	ids := make([]string, len(all))
	for i, m := range all {
		ids[i] = m.ID
	}
	got, err := d.LoadMessages(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all) {
		t.Fatalf("loaded %d messages, want %d", len(got), len(all))
	}
	for i, m := range got {
		if m.ID != all[i].ID || !bytes.Equal(m.Raw, all[i].Raw) {
			t.Fatalf("message %d: id %s with %.30q, want %s with %.30q", i, m.ID, m.Raw, all[i].ID, all[i].Raw)
		}
	}
	var orphans int
	if err := d.Reader().QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM message_data x WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.seq = x.seq))
		+ (SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM message_data x WHERE x.seq = m.seq))`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d rows of messages or message_data without their other half", orphans)
	}
}
