package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
)

func TestEnqueueEventOnePerMessage(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	w := d.Writer()
	mustExec(t, w, `INSERT INTO messages (id, message_id, thread_id, date, received_at, size) VALUES ('m1', '<a@b>', 't', 0, 0, 1)`)
	mustExec(t, w, `INSERT INTO endpoints (id, url, secret, enabled, created_at, updated_at) VALUES ('ep1', 'http://127.0.0.1/', 'whsec_x', 1, 1, 1), ('ep2', 'http://127.0.0.1/b', 'whsec_y', 0, 2, 2)`)
	enqueue := func() (string, error) {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		id, err := db.EnqueueEventTx(ctx, tx, 1000, db.NewEvent{Type: "ticket.suggested", MessageID: "m1", Payload: []byte(`{}`)})
		if err != nil {
			return "", err
		}
		return id, tx.Commit()
	}
	id, err := enqueue()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := d.Reader().Query(`SELECT endpoint_id, status, webhook_id, e.url FROM deliveries JOIN endpoints e ON e.id = endpoint_id
		WHERE event_id = ? ORDER BY endpoint_id`, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var ep, st, wid, url string
		rows.Scan(&ep, &st, &wid, &url)
		// An email's ticket: from the email and the receiver's URL.
		if wid != db.WebhookID("m1", url) {
			t.Errorf("webhook_id %s, want %s", wid, db.WebhookID("m1", url))
		}
		got = append(got, ep+":"+st)
	}
	rows.Close()
	if strings.Join(got, ",") != "ep1:pending,ep2:paused" {
		t.Fatalf("deliveries = %v, want ep1 pending and ep2 paused", got)
	}
	if _, err := enqueue(); !errors.Is(err, db.ErrDuplicateEvent) {
		t.Fatalf("second enqueue: %v, want ErrDuplicateEvent", err)
	}
	if db.WebhookID(id, "ep1") == db.WebhookID(id, "ep2") {
		t.Fatal("webhook ids must differ per endpoint")
	}
}

// TestEnqueuerBatch queues several events in one transaction with one
// Enqueuer: a delivery per endpoint, pending or paused by the endpoint's
// state, restricted to one endpoint for a test event; a second event for
// the same message is ErrDuplicateEvent and the transaction goes on.
func TestEnqueuerBatch(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	w := d.Writer()
	for _, q := range []string{
		`INSERT INTO messages (id, message_id, thread_id, date, received_at, size) VALUES ('m1', '<a@b>', 't', 0, 0, 1)`,
		`INSERT INTO endpoints (id, url, secret, enabled, created_at, updated_at) VALUES
			('ep1', 'http://127.0.0.1/', 'whsec_x', 1, 1, 1), ('ep2', 'http://127.0.0.1/b', 'whsec_y', 0, 2, 2)`,
	} {
		if _, err := w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	e, err := db.NewEnqueuer(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.Enqueue(ctx, 1000, db.NewEvent{Type: "ticket.suggested", MessageID: "m1", Payload: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Enqueue(ctx, 1000, db.NewEvent{Type: "ticket.suggested", MessageID: "m1", Payload: []byte(`{"n":2}`)}); !errors.Is(err, db.ErrDuplicateEvent) {
		t.Fatalf("second event for m1: %v, want ErrDuplicateEvent", err)
	}
	second, err := e.Enqueue(ctx, 1001, db.NewEvent{Type: "ticket.suggested", Payload: []byte(`{"n":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	test, err := e.Enqueue(ctx, 1002, db.NewEvent{Type: "ticket.suggested", Payload: []byte(`{}`), Test: true, EndpointID: "ep2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rows, err := d.Reader().Query(`SELECT event_id, endpoint_id, status, webhook_id FROM deliveries ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var ev, ep, st, wid string
		if err := rows.Scan(&ev, &ep, &st, &wid); err != nil {
			t.Fatal(err)
		}
		// An email's ticket derives from the email and the receiver's URL;
		// events of no email (and tests) from the event and the endpoint.
		want := db.EventWebhookID(ev, ep)
		if ev == first {
			want = db.WebhookID("m1", map[string]string{"ep1": "http://127.0.0.1/", "ep2": "http://127.0.0.1/b"}[ep])
		}
		if wid != want {
			t.Errorf("webhook_id %s, want %s", wid, want)
		}
		name := map[string]string{first: "first", second: "second", test: "test"}[ev]
		got = append(got, name+"/"+ep+":"+st)
	}
	want := "first/ep1:pending,first/ep2:paused,second/ep1:pending,second/ep2:paused,test/ep2:paused"
	if strings.Join(got, ",") != want {
		t.Fatalf("deliveries\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}

// TestNewIDTimeOrdered checks the id format (prefix and 24 hex digits) and
// that ids made later sort after earlier ones, so the indexes on them grow
// at their right edge.
func TestNewIDTimeOrdered(t *testing.T) {
	prev := db.NewID("dlv_")
	seen := map[string]bool{prev: true}
	for range 1000 {
		id := db.NewID("dlv_")
		hexPart, ok := strings.CutPrefix(id, "dlv_")
		if !ok || len(hexPart) != 24 || strings.Trim(hexPart, "0123456789abcdef") != "" {
			t.Fatalf("id %q: want dlv_ and 24 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		// The first 12 digits are the millisecond: never decreasing.
		if id[:4+12] < prev[:4+12] {
			t.Fatalf("id %s sorts before the earlier %s", id, prev)
		}
		prev = id
	}
	time.Sleep(2 * time.Millisecond)
	if later := db.NewID("dlv_"); later <= prev {
		t.Fatalf("id made later %s does not sort after %s", later, prev)
	}
}

func enqueueBatch(tb testing.TB, d *db.DB, evs []db.NewEvent) []string {
	tb.Helper()
	ctx := context.Background()
	ids, err := d.EnqueueEvents(ctx, evs...)
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

func enqueueWebhookEvent(tb testing.TB, d *db.DB, payload string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := d.EnqueueEvents(ctx, db.NewEvent{Type: "ticket.suggested", Payload: []byte(payload)}); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkEnqueue measures DB.EnqueueEvents with one event per
// transaction (the triage path) and with 100 events per transaction, for
// one and eight endpoints; ns/op is per event.
func BenchmarkEnqueue(b *testing.B) {
	for _, endpoints := range []int{1, 8} {
		for _, mode := range []string{"tx-per-event", "batch"} {
			b.Run(fmt.Sprintf("endpoints=%d/%s", endpoints, mode), func(b *testing.B) {
				ctx := context.Background()
				d := dbtest.MustOpen(b)
				for i := range endpoints {
					if _, err := d.CreateEndpoint(ctx, fmt.Sprintf("http://127.0.0.1:1/hook%d", i), ""); err != nil {
						b.Fatal(err)
					}
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
				} else {
					for range b.N {
						enqueueWebhookEvent(b, d, string(ev.Payload))
					}
				}
				b.StopTimer()
				var n int
				if err := d.Reader().QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&n); err != nil || n != b.N*endpoints {
					b.Fatalf("%d deliveries (%v), want %d", n, err, b.N*endpoints)
				}
			})
		}
	}
}
