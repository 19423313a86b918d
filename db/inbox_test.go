package db_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
)

// seedInbox stores n messages, one minute apart (message i is i minutes
// old), triaged with intent support for even i and sales for odd i,
// confidence i/n, flag payments on multiples of 5, decision ticket on
// multiples of 3.
func seedInbox(tb testing.TB, d *db.DB, n int) []string {
	tb.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	var msgs []*mail.Message
	for i := 0; i < n; i++ {
		mid := fmt.Sprintf("<m%d@test.example>", i)
		msgs = append(msgs, &mail.Message{MessageID: mid, ThreadID: mid, From: mail.Address{Name: fmt.Sprintf("Sender %d", i), Addr: fmt.Sprintf("s%d@test.example", i)},
			Subject: fmt.Sprintf("subject %d", i), Date: now.Add(-time.Duration(i) * time.Minute), Raw: []byte("x")})
	}
	ids, err := d.SaveMessages(ctx, "test", msgs)
	if err != nil {
		tb.Fatal(err)
	}
	for i, id := range ids {
		intent := "support"
		if i%2 == 1 {
			intent = "sales"
		}
		flags := "[]"
		if i%5 == 0 {
			flags = `["payments"]`
		}
		if _, err := d.Writer().ExecContext(ctx, `INSERT INTO triage_results (message_id, intent, confidence, priority, flags, model, created_at)
			VALUES (?, ?, ?, 'normal', ?, 'offline/1', 0)`, id, intent, float64(i)/float64(n), flags); err != nil {
			tb.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := d.Writer().ExecContext(ctx, `INSERT INTO decisions (message_id, action, decided_at) VALUES (?, 'ticket', 0)`, id); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return ids
}

func TestInboxPaging(t *testing.T) {
	d := dbtest.MustOpen(t)
	ids := seedInbox(t, d, 250)
	ctx := context.Background()
	tests := map[string]struct {
		f              db.InboxFilter
		offset, limit  int
		wantTotal      int
		wantFirst      string // id of the first row returned
		wantLen        int
		wantAllMatches func(db.InboxRow) bool
	}{
		"window by date": {offset: 100, limit: 50, wantTotal: 250, wantFirst: ids[100], wantLen: 50},
		"last page":      {offset: 240, limit: 50, wantTotal: 250, wantFirst: ids[240], wantLen: 10},
		"intent": {f: db.InboxFilter{Intent: "sales"}, limit: 10, wantTotal: 125, wantFirst: ids[1], wantLen: 10,
			wantAllMatches: func(r db.InboxRow) bool { return r.Intent == "sales" }},
		"flag": {f: db.InboxFilter{Flag: "payments"}, limit: 100, wantTotal: 50, wantFirst: ids[0], wantLen: 50,
			wantAllMatches: func(r db.InboxRow) bool { return slices.Contains(r.Flags, "payments") }},
		"decision none": {f: db.InboxFilter{Decision: "none"}, limit: 5, wantTotal: 166, wantFirst: ids[1], wantLen: 5,
			wantAllMatches: func(r db.InboxRow) bool { return r.Action == "" }},
		"decision ticket": {f: db.InboxFilter{Decision: "ticket"}, limit: 5, wantTotal: 84, wantFirst: ids[0], wantLen: 5,
			wantAllMatches: func(r db.InboxRow) bool { return r.Action == "ticket" }},
		"search":            {f: db.InboxFilter{Search: `"subject 24"`}, limit: 50, wantTotal: 11, wantFirst: ids[24], wantLen: 11}, // 24 and 240–249
		"search is literal": {f: db.InboxFilter{Search: "subject 2_"}, limit: 50, wantTotal: 0, wantLen: 0},
		"search any case":   {f: db.InboxFilter{Search: `"SUBJECT 24"`}, limit: 50, wantTotal: 11, wantFirst: ids[24], wantLen: 11},
		"search an address": {f: db.InboxFilter{Search: "s13@test"}, limit: 50, wantTotal: 1, wantFirst: ids[13], wantLen: 1},
		"search a name":     {f: db.InboxFilter{Search: "der 249"}, limit: 50, wantTotal: 1, wantFirst: ids[249], wantLen: 1},
		"search short":      {f: db.InboxFilter{Search: "24"}, limit: 50, wantTotal: 13, wantFirst: ids[24], wantLen: 13}, // 24, 124, 224, 240–249
		"search a quote":    {f: db.InboxFilter{Search: `say "hi`}, limit: 50, wantTotal: 0, wantLen: 0},
		"by confidence":     {f: db.InboxFilter{ByConfidence: true}, limit: 3, wantTotal: 250, wantFirst: ids[249], wantLen: 3},
		"untriaged":         {f: db.InboxFilter{Intent: "untriaged"}, limit: 3, wantTotal: 0, wantLen: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			total, err := d.InboxCount(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if total != tc.wantTotal {
				t.Errorf("count = %d, want %d", total, tc.wantTotal)
			}
			rows, err := d.Inbox(ctx, tc.f, db.Page{Offset: tc.offset, Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tc.wantLen {
				t.Fatalf("got %d rows, want %d", len(rows), tc.wantLen)
			}
			if tc.wantLen > 0 && rows[0].ID != tc.wantFirst {
				t.Errorf("first row %s (%s), want %s", rows[0].ID, rows[0].Subject, tc.wantFirst)
			}
			for _, r := range rows {
				if tc.wantAllMatches != nil && !tc.wantAllMatches(r) {
					t.Errorf("row %s does not match the filter: %+v", r.ID, r)
				}
			}
		})
	}
}

// TestInboxKeyset pages through every sort and filter by key — forward
// from the top with After, backward from the end with Last and Before —
// and finds exactly the rows and order that one big page gives, across
// the triaged/untriaged boundary of the confidence sort and across rows
// that share a date.
func TestInboxKeyset(t *testing.T) {
	d := dbtest.MustOpen(t)
	seedInbox(t, d, 120)
	ctx := context.Background()
	// Untriaged mail, three to a date (ties broken by id).
	var msgs []*mail.Message
	for i := range 30 {
		mid := fmt.Sprintf("<u%d@test.example>", i)
		msgs = append(msgs, &mail.Message{MessageID: mid, ThreadID: mid, Subject: fmt.Sprintf("untriaged %d", i),
			Date: time.Date(2026, 11, 20, 10, i/3, 0, 0, time.UTC), Raw: []byte("x")})
	}
	if _, err := d.SaveMessages(ctx, "test", msgs); err != nil {
		t.Fatal(err)
	}
	ids := func(rows []db.InboxRow) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = r.ID
		}
		return out
	}
	tests := map[string]db.InboxFilter{
		"date":              {},
		"confidence":        {ByConfidence: true},
		"intent":            {Intent: "sales"},
		"untriaged":         {Intent: "untriaged"},
		"flag by conf":      {Flag: "payments", ByConfidence: true},
		"decision":          {Decision: "ticket"},
		"search by conf":    {Search: "1", ByConfidence: true},
		"untriaged by conf": {Intent: "untriaged", ByConfidence: true},
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			all, err := d.Inbox(ctx, f, db.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := d.InboxCount(ctx, f); n != len(all) || n == 0 {
				t.Fatalf("count %d, one page %d rows", n, len(all))
			}
			want := ids(all)
			var fwd []db.InboxRow
			var key *db.InboxKey
			for range 100 {
				page, err := d.Inbox(ctx, f, db.Page{After: key, Limit: 17})
				if err != nil {
					t.Fatal(err)
				}
				fwd = append(fwd, page...)
				if len(page) < 17 {
					break
				}
				k := page[len(page)-1].Key()
				key = &k
			}
			if got := ids(fwd); !slices.Equal(got, want) {
				t.Errorf("forward by key:\n got %v\nwant %v", got, want)
			}
			bwd, err := d.Inbox(ctx, f, db.Page{Last: true, Limit: 13})
			if err != nil {
				t.Fatal(err)
			}
			for range 100 {
				k := bwd[0].Key()
				page, err := d.Inbox(ctx, f, db.Page{Before: &k, Limit: 13})
				if err != nil {
					t.Fatal(err)
				}
				bwd = append(page, bwd...)
				if len(page) < 13 {
					break
				}
			}
			if got := ids(bwd); !slices.Equal(got, want) {
				t.Errorf("backward by key:\n got %v\nwant %v", got, want)
			}
			off, err := d.Inbox(ctx, f, db.Page{Offset: 5, Limit: 7})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(off); !slices.Equal(got, want[min(5, len(want)):min(12, len(want))]) {
				t.Errorf("offset 5: %v, want %v", got, want[min(5, len(want)):min(12, len(want))])
			}
		})
	}
}

// TestInboxSearchIndex: a search finds the same messages before the search
// index holds them (read directly), while it holds some, and once it holds
// them all; IndexSearch adds them in chunks, then reports nothing to do.
func TestInboxSearchIndex(t *testing.T) {
	d := dbtest.MustOpen(t)
	seedInbox(t, d, 250)
	ctx := context.Background()
	searches := []string{`"subject 24"`, `"SUBJECT 1"`, "s13@test", `"der 249"`, `"nothing like it"`}
	find := func() map[string][]string {
		out := map[string][]string{}
		for _, s := range searches {
			rows, err := d.Inbox(ctx, db.InboxFilter{Search: s}, db.Page{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			n, err := d.InboxCount(ctx, db.InboxFilter{Search: s})
			if err != nil || n != len(rows) {
				t.Fatalf("%q: count %d (%v), page %d", s, n, err, len(rows))
			}
			for _, r := range rows {
				out[s] = append(out[s], r.ID)
			}
		}
		return out
	}
	before := find()
	if len(before[`"subject 24"`]) != 11 || len(before[`"SUBJECT 1"`]) == 0 || len(before[`"nothing like it"`]) != 0 {
		t.Fatalf("unindexed searches: %v", before)
	}
	if n, err := d.IndexSearch(ctx, 100); err != nil || n != 100 {
		t.Fatalf("first chunk: %d (%v), want 100", n, err)
	}
	if half := find(); !reflect.DeepEqual(half, before) {
		t.Errorf("with 100 of 250 indexed:\n%v\nwant\n%v", half, before)
	}
	for {
		n, err := d.IndexSearch(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if all := find(); !reflect.DeepEqual(all, before) {
		t.Errorf("all indexed:\n%v\nwant\n%v", all, before)
	}
}

// TestInboxCorrections: a person's correction is the intent the inbox
// shows, filters and keeps through a new triage of the email; the review
// queue holds the triaged emails nobody corrected or decided, closest to
// its threshold first; an untriaged email stays in the untriaged filter
// though corrected.
func TestInboxCorrections(t *testing.T) {
	d := dbtest.MustOpen(t)
	ctx := context.Background()
	ids := seedInbox(t, d, 10) // confidence i/10; support even, sales odd
	if err := d.CorrectIntent(ctx, ids[4], "billing", "ann", nil); err != nil {
		t.Fatal(err)
	}
	intents := func(f db.InboxFilter) []string {
		t.Helper()
		rows, err := d.Inbox(ctx, f, db.Page{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s:%s:%v", r.ID, r.Intent, r.Corrected))
		}
		return out
	}
	want := []string{ids[4] + ":billing:true"}
	if got := intents(db.InboxFilter{Intent: "billing"}); !reflect.DeepEqual(got, want) {
		t.Errorf("billing after the correction = %v, want %v", got, want)
	}
	for _, s := range intents(db.InboxFilter{Intent: "support"}) {
		if s[:len(ids[4])] == ids[4] {
			t.Errorf("the corrected email is still listed as support: %s", s)
		}
	}
	// A new triage of the email (the model says support again) keeps the
	// person's word.
	if _, err := d.Writer().ExecContext(ctx, `UPDATE triage_results SET intent = 'support', confidence = 0.95 WHERE message_id = ?`, ids[4]); err != nil {
		t.Fatal(err)
	}
	if got := intents(db.InboxFilter{Intent: "billing"}); !reflect.DeepEqual(got, want) {
		t.Errorf("billing after a new triage = %v, want %v", got, want)
	}
	// The review queue at 0.5: not ids[4] (corrected), not a person's
	// decision (ids[7]), closest to 0.5 first.
	if _, err := d.OverrideNotTicket(ctx, ids[7], "ann"); err != nil {
		t.Fatal(err)
	}
	rows, err := d.Inbox(ctx, db.InboxFilter{Review: 0.5}, db.Page{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.ID)
	}
	if want := []string{ids[5], ids[6], ids[3]}; !reflect.DeepEqual(got, want) {
		t.Errorf("review queue at 0.5 = %v, want %v (0.5, 0.6, 0.3: 0.4 corrected, 0.7 decided by a person)", got, want)
	}
	if n, err := d.InboxCount(ctx, db.InboxFilter{Review: 0.5}); err != nil || n != 8 {
		t.Errorf("review queue count = %d (%v), want 8", n, err)
	}
	// An untriaged email, corrected, is still untriaged.
	fresh := dbtest.SeedMessages(t, d, dbtest.Message("fresh", "new one", time.Date(2026, 11, 20, 13, 0, 0, 0, time.UTC)))
	if err := d.CorrectIntent(ctx, fresh[0], "billing", "ann", nil); err != nil {
		t.Fatal(err)
	}
	if got := intents(db.InboxFilter{Intent: "untriaged"}); !reflect.DeepEqual(got, []string{fresh[0] + "::true"}) {
		t.Errorf("untriaged after correcting an untriaged email = %v", got)
	}
}
