package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/triage"
)

func seedTriage(tb testing.TB, d *db.DB, endpoints int) []string {
	tb.Helper()
	ctx := context.Background()
	var msgs []*mail.Message
	for i, mid := range []string{"<a@x.example>", "<b@x.example>", "<c@x.example>"} {
		msgs = append(msgs, &mail.Message{ID: mail.EmailID(mid), MessageID: mid, ThreadID: mail.EmailID(mid),
			From: mail.Address{Addr: "c@x.example"}, Subject: "s", Text: "t", Raw: []byte("Subject: s\n\nt"),
			Date: time.Unix(int64(1000+i), 0)})
	}
	ids, err := d.SaveMessages(ctx, "test", msgs)
	if err != nil || len(ids) != 3 {
		tb.Fatalf("save messages: %v %v", ids, err)
	}
	for i := range endpoints {
		if _, err := d.Writer().ExecContext(ctx, `INSERT INTO endpoints (id, url, secret, enabled, created_at, updated_at)
			VALUES (?, ?, 'whsec_x', ?, ?, ?)`, "ep"+string(rune('0'+i)), "http://127.0.0.1:1/", i == 0, i, i); err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

func count(tb testing.TB, d *db.DB, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func ticketRecord(id string) triage.Record {
	return triage.Record{
		EmailID: id,
		Result: triage.Result{Intent: triage.IntentSupport, Confidence: 0.93, Priority: triage.PriorityHigh,
			Summary: "s", Language: "en", Model: triage.OfflineModel, Draft: "Hi"},
		Decision: triage.Decision{Action: triage.ActionTicket, Reasons: []string{"intent: support", "confidence 0.93 > 0.80"}},
		Payload:  []byte(`{"event":"ticket.suggested"}`),
	}
}

func TestSaveTriageTicketOneTransaction(t *testing.T) {
	d := dbtest.MustOpen(t)
	ctx := context.Background()
	ids := seedTriage(t, d, 2)
	saved, err := d.SaveTriage(ctx, ticketRecord(ids[0]))
	if err != nil || !saved.Queued {
		t.Fatalf("save: %+v %v", saved, err)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM triage_results WHERE message_id = ? AND intent = 'support'`, ids[0]); n != 1 {
		t.Errorf("results: %d", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM decisions WHERE message_id = ? AND action = 'ticket' AND decided_by = 'engine'
		AND json_extract(reasons, '$[0]') = 'intent: support' AND json_extract(reasons, '$[1]') = 'confidence 0.93 > 0.80'
		AND json_array_length(reasons) = 2`, ids[0]); n != 1 {
		t.Errorf("decisions: %d", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM events WHERE message_id = ? AND type = 'ticket.suggested' AND payload = ?`,
		ids[0], []byte(`{"event":"ticket.suggested"}`)); n != 1 {
		t.Errorf("events: %d", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM deliveries`); n != 2 {
		t.Errorf("deliveries: %d, want one per endpoint (2)", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM drafts`); n != 0 {
		t.Errorf("a ticket made %d drafts", n)
	}

	// re-triage: same verdict, never a second event
	for range 2 {
		saved, err = d.SaveTriage(ctx, ticketRecord(ids[0]))
		if err != nil || saved.Queued {
			t.Fatalf("re-triage: %+v %v", saved, err)
		}
	}
	if n := count(t, d, `SELECT COUNT(*) FROM events`); n != 1 {
		t.Errorf("events after re-triage: %d", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM deliveries`); n != 2 {
		t.Errorf("deliveries after re-triage: %d", n)
	}
}

func TestSaveTriageRollsBack(t *testing.T) {
	d := dbtest.MustOpen(t)
	ctx := context.Background()
	ids := seedTriage(t, d, 2)
	rec := ticketRecord(ids[0])
	rec.Payload = nil // events.payload is NOT NULL: the last insert fails
	if _, err := d.SaveTriage(ctx, rec); err == nil {
		t.Fatal("no error")
	}
	for _, table := range []string{"triage_results", "decisions", "events", "deliveries", "drafts"} {
		if n := count(t, d, `SELECT COUNT(*) FROM `+table); n != 0 {
			t.Errorf("%s: %d rows after a failed save", table, n)
		}
	}
	bad := ticketRecord(ids[1])
	bad.Decision.Action = "bogus" // CHECK constraint on decisions
	if _, err := d.SaveTriage(ctx, bad); err == nil {
		t.Fatal("bogus action: no error")
	}
	if n := count(t, d, `SELECT COUNT(*) FROM triage_results`); n != 0 {
		t.Errorf("result kept after a failed decision insert: %d", n)
	}
}

func TestSaveTriageKeepsHumanDecision(t *testing.T) {
	d := dbtest.MustOpen(t)
	ctx := context.Background()
	ids := seedTriage(t, d, 1)
	if _, err := d.Writer().ExecContext(ctx, `INSERT INTO decisions (message_id, action, reasons, decided_by, decided_at)
		VALUES (?, 'suggest', '["human"]', 'human:ann', 1)`, ids[0]); err != nil {
		t.Fatal(err)
	}
	saved, err := d.SaveTriage(ctx, ticketRecord(ids[0]))
	if err != nil {
		t.Fatal(err)
	}
	if saved.Queued || saved.HumanDecision != "human:ann" || saved.HumanAction != triage.ActionSuggest {
		t.Errorf("saved %+v", saved)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM decisions WHERE decided_by = 'human:ann' AND action = 'suggest' AND reasons = '["human"]'`); n != 1 {
		t.Errorf("human decision overwritten")
	}
	if n := count(t, d, `SELECT COUNT(*) FROM events`); n != 0 {
		t.Errorf("events: %d despite a human decision", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM triage_results WHERE message_id = ?`, ids[0]); n != 1 {
		t.Errorf("result not stored")
	}
}

func TestSaveTriageDraft(t *testing.T) {
	d := dbtest.MustOpen(t)
	ctx := context.Background()
	ids := seedTriage(t, d, 1)
	rec := ticketRecord(ids[1])
	rec.Decision = triage.Decision{Action: triage.ActionDraft, Reasons: []string{"confidence 0.62 ≤ 0.80"}, Suggestion: "reply"}
	rec.Payload = nil
	for range 3 {
		if saved, err := d.SaveTriage(ctx, rec); err != nil || saved.Queued {
			t.Fatalf("%+v %v", saved, err)
		}
	}
	if n := count(t, d, `SELECT COUNT(*) FROM drafts WHERE message_id = ? AND status = 'pending' AND body = 'Hi'`, ids[1]); n != 1 {
		t.Errorf("pending drafts: %d, want 1", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM events`); n != 0 {
		t.Errorf("events: %d", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM decisions WHERE action = 'draft' AND suggestion = 'reply'`); n != 1 {
		t.Errorf("decision: %d", n)
	}
}

func TestTriageQueue(t *testing.T) {
	d := dbtest.MustOpen(t)
	ctx := context.Background()
	ids := seedTriage(t, d, 0)
	got, err := d.TriageQueue(ctx, false)
	if err != nil || len(got) != 3 || got[0] != ids[0] || got[2] != ids[2] {
		t.Fatalf("queue %v %v, want %v", got, err, ids)
	}
	rec := ticketRecord(ids[1])
	rec.Decision = triage.Decision{Action: triage.ActionSuggest}
	if _, err := d.SaveTriage(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.TriageQueue(ctx, false); len(got) != 2 || got[0] != ids[0] || got[1] != ids[2] {
		t.Errorf("untriaged %v", got)
	}
	if got, _ := d.TriageQueue(ctx, true); len(got) != 3 {
		t.Errorf("all %v", got)
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
