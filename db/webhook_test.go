package db_test

import (
	"context"
	"errors"
	"testing"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

var _ webhook.Store = (*db.DB)(nil)

func enqueueWebhookEvent(tb testing.TB, d *db.DB, payload string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := d.EnqueueEvents(ctx, db.NewEvent{Type: "ticket.suggested", Payload: []byte(payload)}); err != nil {
		tb.Fatal(err)
	}
}

func TestOutboxQueuesAndPending(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	a, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/a", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/b", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		enqueueWebhookEvent(t, d, `{"event":"ticket.suggested"}`)
	}
	if _, err := d.DisableEndpoint(ctx, b, "test"); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		kinds []string
		want  []string
	}{
		"webhook queues with work": {kinds: []string{"webhook"}, want: []string{a}},
		"no transport for webhook": {kinds: []string{"smtp"}, want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := d.Queues(ctx, tc.kinds)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Fatalf("queues %v, want %v (a disabled endpoint's queue is paused, not pending)", got, tc.want)
			}
		})
	}
	rows, err := d.Pending(ctx, webhook.PendingQuery{Queue: a, Kinds: []string{"webhook"}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Seq >= rows[1].Seq || rows[0].URL != "http://127.0.0.1:1/a" || len(rows[0].Payload) == 0 {
		t.Fatalf("pending %+v: want the first 3 in seq order with URL and payload", rows)
	}
	after, err := d.Pending(ctx, webhook.PendingQuery{Queue: a, Kinds: []string{"webhook"}, Limit: 10, AfterSeq: rows[2].Seq})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || after[0].Seq <= rows[2].Seq {
		t.Fatalf("after seq %d: %d rows", rows[2].Seq, len(after))
	}
}

func TestRemoveEndpointKeepsTheLog(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	ep, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/a", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	enqueueWebhookEvent(t, d, `{}`)
	if _, err := d.RemoveEndpoint(ctx, ep, false); !errors.Is(err, db.ErrEndpointBusy) {
		t.Fatalf("rm with a pending delivery: %v, want ErrEndpointBusy", err)
	}
	n, err := d.RemoveEndpoint(ctx, ep, true)
	if err != nil || n != 1 {
		t.Fatalf("rm --force: %d, %v", n, err)
	}
	logs, err := d.Deliveries(ctx, db.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].Status != webhook.StatusCanceled || logs[0].EndpointID != ep {
		t.Fatalf("log after rm: %+v, want the delivery kept as canceled", logs)
	}
	if err := d.Replay(ctx, logs[0].ID); !errors.Is(err, db.ErrNotReplayable) {
		t.Fatalf("replay to a removed endpoint: %v", err)
	}
	if _, err := d.Endpoint(ctx, ep); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("endpoint after rm: %v", err)
	}
}
