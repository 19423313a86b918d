package db

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"smista/mail"
)

// TestInboxQueryPlans pins the index each inbox page and count reads:
// every sort and filter the TUI offers walks an index (no scan of the
// 100,000-row messages table but for a search shorter than a trigram),
// and the search reads the trigram index. SQLite uses a partial index
// only when it proves the query implies its condition, which an edit of a
// query can silently break.
func TestInboxQueryPlans(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	k := &InboxKey{Date: 1, ID: "x", Confidence: 0.5}
	tests := map[string]struct {
		f    InboxFilter
		p    Page
		want []string // each in some line of the page's plan
	}{
		"date":             {want: []string{"SCAN m USING COVERING INDEX messages_date"}},
		"date after a key": {p: Page{After: k}, want: []string{"SEARCH m USING COVERING INDEX messages_date ((date,id)<(?,?))"}},
		"date last page":   {p: Page{Last: true}, want: []string{"SCAN m USING COVERING INDEX messages_date"}},
		"confidence": {f: InboxFilter{ByConfidence: true},
			want: []string{"USING INDEX messages_confidence", "USING INDEX messages_undecided"}},
		"confidence after a key": {f: InboxFilter{ByConfidence: true}, p: Page{After: k},
			want: []string{"messages_confidence ((confidence,date,id)<(?,?,?))", "USING INDEX messages_undecided"}},
		"intent":        {f: InboxFilter{Intent: "support"}, want: []string{"INDEX messages_intent (intent=?)"}},
		"untriaged":     {f: InboxFilter{Intent: "untriaged"}, want: []string{"USING INDEX messages_undecided"}},
		"flag":          {f: InboxFilter{Flag: "legal"}, want: []string{"INDEX messages_flags (flags=?)"}},
		"intent, flag":  {f: InboxFilter{Intent: "spam", Flag: "legal"}, want: []string{"INDEX messages_flags (flags=?)"}},
		"decision":      {f: InboxFilter{Decision: "draft"}, want: []string{"INDEX messages_action (action=?)"}},
		"decision none": {f: InboxFilter{Decision: "none"}, want: []string{"USING INDEX messages_undecided"}},
		"search":        {f: InboxFilter{Search: "login"}, want: []string{"SEARCH m USING INTEGER PRIMARY KEY (rowid=?)", "VIRTUAL TABLE INDEX", "SEARCH messages USING INTEGER PRIMARY KEY (rowid>?)"}},
		// A common word: the list's index in order, each row tested.
		"search common":         {f: InboxFilter{Search: "the", plan: planWalk}, want: []string{"SCAN m USING COVERING INDEX messages_date", "VIRTUAL TABLE INDEX"}},
		"search in most bodies": {f: InboxFilter{Search: "the", plan: planProbe}, want: []string{"SCAN m USING COVERING INDEX messages_date", "CORRELATED SCALAR SUBQUERY", "VIRTUAL TABLE INDEX"}},
		"unread":                {f: InboxFilter{Unread: true}, want: []string{"USING COVERING INDEX messages_unread"}},
		"dates":                 {f: InboxFilter{After: time.Unix(1, 0), Before: time.Unix(9, 0)}, want: []string{"USING COVERING INDEX messages_date (date>? AND date<?)"}},
		"from":                  {f: InboxFilter{From: "anna"}, want: []string{"SEARCH m USING INTEGER PRIMARY KEY (rowid=?)", "VIRTUAL TABLE INDEX"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.p.Limit = 120
			q, args := pageQuery(tc.f, tc.p)
			plan := queryPlan(t, d, q, args)
			for _, w := range tc.want {
				if !strings.Contains(plan, w) {
					t.Errorf("page plan lacks %q:\n%s", w, plan)
				}
			}
			if strings.Contains(plan, "SCAN m\n") {
				t.Errorf("page scans messages:\n%s", plan)
			}
			conds, cargs := inboxWhere(tc.f)
			cq := `SELECT COUNT(*) FROM messages m`
			if len(conds) > 0 {
				cq += " WHERE " + strings.Join(conds, " AND ")
			}
			if plan := queryPlan(t, d, cq, cargs); strings.Contains(plan, "SCAN m\n") && len(conds) > 0 {
				t.Errorf("count scans messages:\n%s", plan)
			}
		})
	}
	// The inbox row's draft check reads drafts by message, not every
	// pending draft (SQLite's choice without statistics).
	page, args := pageQuery(InboxFilter{}, Page{Limit: 1})
	row := `WITH page(seq) AS (` + page + `) SELECT EXISTS (SELECT 1 FROM drafts dr INDEXED BY drafts_message
		WHERE dr.message_id = m.id AND dr.status = 'pending') FROM page JOIN messages m ON m.seq = page.seq`
	if plan := queryPlan(t, d, row, args); !strings.Contains(plan, "drafts_message") {
		t.Errorf("draft check:\n%s", plan)
	}
}

func queryPlan(t *testing.T, d *DB, q string, args []any) string {
	t.Helper()
	rows, err := d.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestInboxWalkSameRows: a page read by walking the list's index (a
// common word) holds the rows, in the order, that reading the matches
// does, for every sort and a page after a key.
func TestInboxWalkSameRows(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var msgs []*mail.Message
	for i := range 60 {
		body := "nothing here"
		if i%3 != 0 {
			body = "the word we want"
		}
		mid := fmt.Sprintf("<w%d@x>", i)
		msgs = append(msgs, &mail.Message{MessageID: mid, ThreadID: mid, Subject: fmt.Sprintf("s%d", i%7),
			Date: time.Unix(int64(1000+i%10), 0), Text: body})
	}
	if _, err := d.SaveMessages(ctx, "test", msgs); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := d.IndexSearch(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	seqs := func(f InboxFilter, p Page) []int64 {
		t.Helper()
		q, args := pageQuery(f, p)
		rows, err := d.r.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	k := &InboxKey{Date: 1005000, ID: "zzzz", Confidence: -1}
	for _, f := range []InboxFilter{{Search: "word"}, {Search: "want s3"}, {Search: "we word"}, {Search: "word", ByConfidence: true}} {
		for _, p := range []Page{{Limit: 7}, {Limit: 100}, {Limit: 5, After: k}, {Limit: 5, Last: true}} {
			want := seqs(f, p)
			for _, plan := range []int{planWalk, planProbe} {
				w := f
				w.plan = plan
				if got := seqs(w, p); len(want) == 0 || !slices.Equal(got, want) {
					t.Errorf("%+v %+v: plan %d %v, reading the matches %v", f, p, plan, got, want)
				}
			}
		}
	}
}
