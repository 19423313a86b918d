package db_test

import (
	"context"
	"errors"
	"fmt"
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
		"search":            {f: db.InboxFilter{Search: "subject 24"}, limit: 50, wantTotal: 11, wantFirst: ids[24], wantLen: 11}, // 24 and 240–249
		"search is literal": {f: db.InboxFilter{Search: "subject 2_"}, limit: 50, wantTotal: 0, wantLen: 0},
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
			rows, err := d.Inbox(ctx, tc.f, tc.offset, tc.limit)
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

func insertEndpoint(tb testing.TB, d *db.DB, id string, enabled bool, reason string) {
	tb.Helper()
	if _, err := d.Writer().Exec(`INSERT INTO endpoints (id, url, secret, enabled, disabled_reason, created_at, updated_at)
		VALUES (?, 'https://h.example/' || ?, 'whsec_x', ?, ?, 0, 0)`, id, id, enabled, reason); err != nil {
		tb.Fatal(err)
	}
}

func TestOverrides(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	ids := seedInbox(t, d, 3)
	insertEndpoint(t, d, "ep_a", true, "")
	insertEndpoint(t, d, "ep_b", false, "disabled by user")

	evID, err := d.OverrideTicket(ctx, ids[1], "alice", []byte(`{"event":"ticket.suggested"}`))
	if err != nil {
		t.Fatal(err)
	}
	md, err := d.MessageDetail(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if md.Triage == nil || md.Triage.Action != "ticket" || md.Triage.DecidedBy != "human:alice" {
		t.Fatalf("decision = %+v, want ticket by human:alice", md.Triage)
	}
	var by string
	if err := d.Reader().QueryRow(`SELECT decided_by FROM events WHERE id = ?`, evID).Scan(&by); err != nil || by != "human:alice" {
		t.Fatalf("event decided_by = %q, %v", by, err)
	}
	statuses := map[string]string{}
	for _, dl := range md.Deliveries {
		statuses[dl.EndpointID] = dl.Status
	}
	if statuses["ep_a"] != "pending" || statuses["ep_b"] != "paused" {
		t.Fatalf("deliveries = %v, want ep_a pending and ep_b paused", statuses)
	}
	if _, err := d.OverrideTicket(ctx, ids[1], "alice", []byte(`{}`)); !errors.Is(err, db.ErrDuplicateEvent) {
		t.Fatalf("second override: err = %v, want ErrDuplicateEvent", err)
	}

	n, err := d.OverrideNotTicket(ctx, ids[1], "bob")
	if err != nil || n != 2 {
		t.Fatalf("not a ticket: canceled %d, %v; want 2", n, err)
	}
	md, _ = d.MessageDetail(ctx, ids[1])
	for _, dl := range md.Deliveries {
		if dl.Status != "canceled" {
			t.Errorf("delivery %s is %s, want canceled", dl.ID, dl.Status)
		}
	}
	if md.Triage.Action != "suggest" || md.Triage.DecidedBy != "human:bob" {
		t.Errorf("decision = %+v, want suggest by human:bob", md.Triage)
	}

	// Once an attempt was made, "not a ticket" is refused and changes nothing.
	if _, err := d.OverrideTicket(ctx, ids[2], "alice", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Writer().Exec(`UPDATE deliveries SET attempts = 1, status = 'retrying' WHERE endpoint_id = 'ep_a'
		AND event_id IN (SELECT id FROM events WHERE message_id = ?)`, ids[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OverrideNotTicket(ctx, ids[2], "bob"); !errors.Is(err, db.ErrDeliveryStarted) {
		t.Fatalf("err = %v, want ErrDeliveryStarted", err)
	}
	md, _ = d.MessageDetail(ctx, ids[2])
	if md.Triage.Action != "ticket" {
		t.Errorf("decision changed to %q after a refused override", md.Triage.Action)
	}
}

func TestDraftEdits(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	ids := seedInbox(t, d, 1)
	for _, st := range []string{"pending", "sent"} {
		if _, err := d.Writer().Exec(`INSERT INTO drafts (message_id, body, status, created_at, updated_at) VALUES (?, 'b', ?, 0, 0)`, ids[0], st); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.EditDraft(ctx, 1, "new body"); err != nil {
		t.Fatal(err)
	}
	if err := d.EditDraft(ctx, 2, "x"); !errors.Is(err, db.ErrDraftNotPending) {
		t.Errorf("saving a sent draft: err = %v, want ErrDraftNotPending", err)
	}
	drafts, err := d.Drafts(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(drafts) != 2 || drafts[0].ID != 1 || drafts[0].Body != "new body" {
		t.Fatalf("drafts = %+v, want the pending one first with the new body", drafts)
	}
	if err := d.DiscardDraft(ctx, 1); err != nil {
		t.Fatal(err)
	}
	drafts, _ = d.Drafts(ctx, 10)
	if len(drafts) != 1 || drafts[0].ID != 2 {
		t.Errorf("after discard drafts = %+v, want only the sent one", drafts)
	}
}

func TestEndpointAutoDisabled(t *testing.T) {
	tests := map[string]struct {
		e    db.Endpoint
		want bool
	}{
		"enabled":       {db.Endpoint{Enabled: true}, false},
		"by user":       {db.Endpoint{DisabledReason: "disabled by user"}, false},
		"auto":          {db.Endpoint{DisabledReason: "auto-disabled: 30 failed attempts in 30m"}, true},
		"gone":          {db.Endpoint{DisabledReason: "410 Gone"}, true},
		"manual":        {db.Endpoint{DisabledReason: "manual"}, false},
		"no reason yet": {db.Endpoint{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.e.AutoDisabled(); got != tc.want {
				t.Errorf("AutoDisabled() = %v, want %v", got, tc.want)
			}
		})
	}
}
