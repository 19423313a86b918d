package db_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
)

// TestParseQuery: every term maps onto the inbox filter's fields, plain
// words and phrases stay text, relative dates count back from now, and a
// bad term is an error that names what is allowed.
func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := map[string]struct {
		q    string
		want db.InboxFilter
		err  string // in the error; "" for none
	}{
		"empty":          {q: "  ", want: db.InboxFilter{}},
		"words":          {q: "quick  dashboard", want: db.InboxFilter{Search: "quick dashboard"}},
		"phrase":         {q: `"log in" now`, want: db.InboxFilter{Search: `"log in" now`}},
		"open quote":     {q: `say "hi there`, want: db.InboxFilter{Search: `say "hi there"`}},
		"quoted term":    {q: `"from:x"`, want: db.InboxFilter{Search: "from:x"}},
		"from":           {q: `from:ann from:"Ann B" invoice`, want: db.InboxFilter{Search: "invoice", From: `ann "Ann B"`}},
		"subject":        {q: "subject:refund", want: db.InboxFilter{Subject: "refund"}},
		"intent":         {q: "intent:Support", want: db.InboxFilter{Intent: "support"}},
		"untriaged":      {q: "intent:untriaged", want: db.InboxFilter{Intent: "untriaged"}},
		"flag":           {q: "flag:legal", want: db.InboxFilter{Flag: "legal"}},
		"unread":         {q: "is:unread", want: db.InboxFilter{Unread: true}},
		"dates":          {q: "after:2026-11-20 before:2026-12-01", want: db.InboxFilter{After: day(2026, 11, 20), Before: day(2026, 12, 1)}},
		"relative":       {q: "after:7d before:12h", want: db.InboxFilter{After: now.AddDate(0, 0, -7), Before: now.Add(-12 * time.Hour)}},
		"months, years":  {q: "after:1y before:3m", want: db.InboxFilter{After: now.AddDate(-1, 0, 0), Before: now.AddDate(0, -3, 0)}},
		"a colon word":   {q: "re: 10:30 http://x", want: db.InboxFilter{Search: "re: 10:30 http://x"}},
		"unknown term":   {q: "form:ann", err: "form: is not a term"},
		"bad intent":     {q: "intent:spamm", err: "the intents are support"},
		"bad flag":       {q: "flag:red", err: "the flags are payments"},
		"bad is":         {q: "is:read", err: "only is:unread"},
		"bad date":       {q: "before:yesterday", err: "a date is YYYY-MM-DD"},
		"bad day":        {q: "after:2026-13-01", err: "a date is YYYY-MM-DD"},
		"bad unit":       {q: "after:7x", err: "a date is YYYY-MM-DD"},
		"negative count": {q: "after:-7d", err: "a date is YYYY-MM-DD"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := db.ParseQuery(tc.q, now, time.UTC)
			if tc.err != "" {
				if err == nil || !errors.Is(err, db.ErrBadQuery) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseQuery(%q) = %+v, %v; want an error with %q", tc.q, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseQuery(%q) = %+v, %v; want %+v", tc.q, got, err, tc.want)
			}
		})
	}
}

// bodyMessage is a message whose body is text (a text/plain part) or,
// with html set, an HTML part only.
func bodyMessage(key, from, subject, text string, html bool, at time.Time) *mail.Message {
	m := dbtest.Message(key, subject, at)
	m.From = mail.Address{Name: from, Addr: strings.ToLower(from) + "@example.com"}
	ct := "text/plain"
	if html {
		ct = "text/html"
	}
	m.Text = ""
	m.Raw = []byte("From: " + from + " <" + m.From.Addr + ">\r\nSubject: " + subject + "\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: " + ct + "; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text + "\r\n")
	return m
}

// indexAll brings the search indexes up to date.
func indexAll(t *testing.T, d *db.DB) {
	t.Helper()
	for range 100 {
		n, err := d.IndexSearch(context.Background(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("IndexSearch never finished")
}

// TestBodySearch: a word found only in a body (text or HTML) finds its
// email once indexed, accents and case aside, a word being typed (its
// start) too; all words must match, each in the header or the body; a
// phrase matches its words in order; from: and subject: read the header
// only; the terms combine with the inbox's filters; the body index is cut
// at BodyIndexBytes; a deleted message leaves the index.
func TestBodySearch(t *testing.T) {
	d := dbtest.MustOpen(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("filler words here ", db.BodyIndexBytes/18+10) + "farbeyondtheindex"
	ids := dbtest.SeedMessages(t, d,
		bodyMessage("a", "Ann", "Login problem", "The dashboard shows a café error since Monday.", false, at),
		bodyMessage("b", "Bob", "Invoice 42", "<p>Please <b>refund</b> the quick payment of the invoice</p>", true, at.Add(-time.Hour)),
		bodyMessage("c", "Carl", "Dashboard request", "Nothing about it here.", false, at.Add(-48*time.Hour)),
		bodyMessage("d", "Dora", "Long one", long, false, at.Add(-72*time.Hour)),
	)
	find := func(t *testing.T, q string) []string {
		t.Helper()
		f, err := db.ParseQuery(q, at, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.Inbox(ctx, f, db.Page{Limit: 50})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		n, err := d.InboxCount(ctx, f)
		if err != nil || n != len(rows) {
			t.Fatalf("%q: count %d (%v), page %d", q, n, err, len(rows))
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	if got := find(t, "refund"); len(got) != 0 {
		t.Fatalf("a body word before indexing: %v, want none (bodies are indexed in the background)", got)
	}
	if got := find(t, "invoice"); !slices.Equal(got, ids[1:2]) {
		t.Fatalf("a subject word before indexing: %v, want %v", got, ids[1:2])
	}
	indexAll(t, d)
	tests := map[string]struct {
		q    string
		want []string
	}{
		"body word":           {q: "refund", want: ids[1:2]},
		"html body":           {q: "payment", want: ids[1:2]},
		"any case":            {q: "DASHBOARD", want: []string{ids[0], ids[2]}},
		"accents":             {q: "cafe", want: ids[0:1]},
		"word being typed":    {q: "dashb", want: []string{ids[0], ids[2]}},
		"all words":           {q: "dashboard monday", want: ids[0:1]},
		"header and body":     {q: "dashboard nothing", want: ids[2:3]},
		"in both, once":       {q: "invoice", want: ids[1:2]},
		"phrase":              {q: `"quick payment"`, want: ids[1:2]},
		"phrase out of order": {q: `"payment quick"`},
		"from":                {q: "from:bob", want: ids[1:2]},
		"from is not body":    {q: "from:refund"},
		"subject":             {q: "subject:dashboard", want: ids[2:3]},
		"after":               {q: "dashboard after:1d", want: ids[0:1]},
		"before":              {q: "dashboard before:1d", want: ids[2:3]},
		"short word":          {q: "42", want: ids[1:2]},
		"no word at all":      {q: "@@", want: nil},
		"bounded":             {q: "farbeyondtheindex"},
		"within the bound":    {q: "filler", want: ids[3:4]},
		"unread":              {q: "is:unread refund", want: ids[1:2]},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := find(t, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("%q: %v, want %v", tc.q, got, tc.want)
			}
		})
	}
	if err := d.MarkSeen(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if got := find(t, "is:unread refund"); len(got) != 0 {
		t.Errorf("is:unread after reading it: %v", got)
	}
	if _, err := d.Writer().ExecContext(ctx, `DELETE FROM messages WHERE id = ?`, ids[1]); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM messages_body`).Scan(&n); err != nil || n != 3 {
		t.Errorf("body index rows after a delete: %d (%v), want 3", n, err)
	}
}
