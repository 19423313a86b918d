package db_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"smista/db"
	"smista/webhook"
)

func enqueueBatch(tb testing.TB, d *db.DB, evs []db.NewEvent) []string {
	tb.Helper()
	ctx := context.Background()
	tx, err := d.Writer().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	e, err := db.NewEnqueuer(ctx, tx)
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, ev := range evs {
		id, err := e.Enqueue(ctx, time.Now().UnixMilli(), ev)
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := e.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return ids
}

// BenchmarkRecord measures the group commit alone: b.N delivered attempts
// recorded in batches of 100 through the prepared store.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	d := openWebhookDB(b)
	if _, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/hook", ""); err != nil {
		b.Fatal(err)
	}
	var evs []db.NewEvent
	for range b.N {
		evs = append(evs, db.NewEvent{Type: "ticket.suggested", Payload: []byte(`{"event":"ticket.suggested","email_id":"abc123","subject":"Non funziona il login","summary":"Problema di accesso segnalato dal cliente"}`)})
	}
	for i := 0; i < len(evs); i += 1000 {
		enqueueBatch(b, d, evs[i:min(i+1000, len(evs))])
	}
	ps := d.PrepareStore()
	defer ps.Close()
	rows, err := ps.Pending(ctx, webhook.PendingQuery{Queue: mustQueue(b, ps), Kinds: []string{"webhook"}, Limit: b.N + 1, RoundLength: 3 * time.Minute})
	if err != nil || len(rows) != b.N {
		b.Fatalf("%d pending, %v", len(rows), err)
	}
	reqH := http.Header{"Webhook-Id": {"msg_x"}, "Webhook-Timestamp": {"1700000000"}, "Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
		"Content-Type": {"application/json"}, "User-Agent": {"smista/dev"}}
	respH := http.Header{"Date": {"Sat, 21 Nov 2026 06:00:00 GMT"}, "Content-Length": {"0"}}
	b.ResetTimer()
	for i := 0; i < len(rows); i += 100 {
		var batch []webhook.Outcome
		for _, dl := range rows[i:min(i+100, len(rows))] {
			batch = append(batch, webhook.Outcome{Delivery: dl, Status: webhook.StatusDelivered, Deadline: time.Now().Add(3 * time.Minute),
				Result: webhook.Result{Started: time.Now(), Duration: time.Millisecond, StatusCode: 200, RequestHeaders: reqH,
					RequestBody: dl.Payload, ResponseHeaders: respH}})
		}
		if _, err := ps.Record(ctx, batch, webhook.DisablePolicy{After: 30, Window: 30 * time.Minute}); err != nil {
			b.Fatal(err)
		}
	}
}

func mustQueue(tb testing.TB, s webhook.Store) string {
	tb.Helper()
	qs, err := s.Queues(context.Background(), []string{"webhook"})
	if err != nil || len(qs) != 1 {
		tb.Fatalf("queues %v, %v", qs, err)
	}
	return qs[0]
}

// BenchmarkEnqueue measures db.EnqueueEventTx in one transaction per event
// (the triage path) and the Enqueuer with 100 events per transaction.
func BenchmarkEnqueue(b *testing.B) {
	for _, mode := range []string{"tx-per-event", "batch"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			d := openWebhookDB(b)
			if _, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/hook", ""); err != nil {
				b.Fatal(err)
			}
			ev := db.NewEvent{Type: "ticket.suggested", Payload: []byte(`{"event":"ticket.suggested","email_id":"abc123"}`)}
			b.ResetTimer()
			if mode == "batch" {
				for i := 0; i < b.N; i += 100 {
					evs := make([]db.NewEvent, min(100, b.N-i))
					for j := range evs {
						evs[j] = ev
					}
					enqueueBatch(b, d, evs)
				}
				return
			}
			for range b.N {
				enqueueWebhookEvent(b, d, string(ev.Payload))
			}
		})
	}
}

var _ = errors.New
var _ = fmt.Sprint
