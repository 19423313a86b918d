package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

var _ webhook.Store = (*db.DB)(nil)

var _ webhook.Preparer = (*db.DB)(nil)

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

// TestPendingMergesRetryingAndPending reads a queue where one delivery is
// retrying and the read-ahead already holds some pending ones: the
// retrying row comes back in seq order with the pending rows after
// AfterSeq, through the DB and through the prepared store alike.
func TestPendingMergesRetryingAndPending(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	ep, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		enqueueWebhookEvent(t, d, `{"email_id":"e"}`)
	}
	q := webhook.PendingQuery{Queue: ep, Kinds: []string{webhook.KindWebhook}, Limit: 10, RoundLength: 3 * time.Minute}
	all, err := d.Pending(ctx, q)
	if err != nil || len(all) != 4 {
		t.Fatalf("pending: %d, %v", len(all), err)
	}
	started := time.Now()
	fail := webhook.Outcome{Delivery: all[1], Status: webhook.StatusRetrying, Deadline: started.Add(3 * time.Minute),
		NextAttemptAt: started.Add(30 * time.Second), LastError: "HTTP 500",
		Result: webhook.Result{Started: started, StatusCode: 500, Class: webhook.ClassHTTPStatus, Err: "HTTP 500"}}
	if _, err := d.Record(ctx, []webhook.Outcome{fail}, webhook.DisablePolicy{}); err != nil {
		t.Fatal(err)
	}
	ps := d.PrepareStore()
	defer ps.Close()
	stores := map[string]webhook.Store{"db": d, "prepared": ps}
	tests := map[string]struct {
		afterSeq int64
		limit    int
		want     []int // indexes into all
	}{
		"from the start":             {afterSeq: 0, limit: 10, want: []int{0, 1, 2, 3}},
		"after the read-ahead":       {afterSeq: all[2].Seq, limit: 10, want: []int{1, 3}},
		"limit cuts after the merge": {afterSeq: all[2].Seq, limit: 1, want: []int{1}},
	}
	for sname, s := range stores {
		for name, tc := range tests {
			t.Run(sname+"/"+name, func(t *testing.T) {
				qq := q
				qq.AfterSeq, qq.Limit = tc.afterSeq, tc.limit
				got, err := s.Pending(ctx, qq)
				if err != nil {
					t.Fatal(err)
				}
				var gotIdx []int
				for _, g := range got {
					for i, a := range all {
						if g.ID == a.ID {
							gotIdx = append(gotIdx, i)
						}
					}
					if g.URL == "" || g.Secret == "" || g.Queue != ep {
						t.Errorf("row %s without its endpoint: %+v", g.ID, g)
					}
					if g.ID == all[1].ID && (g.Status != webhook.StatusRetrying || g.RoundAttempts != 1 || g.Attempts != 1) {
						t.Errorf("retrying row %+v: want retrying, 1 attempt in the round", g)
					}
				}
				if fmt.Sprint(gotIdx) != fmt.Sprint(tc.want) {
					t.Fatalf("rows %v, want %v", gotIdx, tc.want)
				}
			})
		}
	}
}

// TestPendingSharesEvents reads the queues of two endpoints that carry
// the same events, through the prepared store (the second queue's events
// come from its cache) and the plain DB: every delivery has its own
// event's type, test flag and payload.
func TestPendingSharesEvents(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	var eps []string
	for i := range 2 {
		ep, err := d.CreateEndpoint(ctx, fmt.Sprintf("http://127.0.0.1:1/hook%d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, ep)
	}
	evs := make([]db.NewEvent, 300)
	for i := range evs {
		evs[i] = db.NewEvent{Type: fmt.Sprintf("type.%d", i%3), Test: i%2 == 0, Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	ids := enqueueBatch(t, d, evs)
	ps := d.PrepareStore()
	defer ps.Close()
	for _, store := range []webhook.Store{ps, d} {
		for _, ep := range eps {
			rows, err := store.Pending(ctx, webhook.PendingQuery{Queue: ep, Kinds: []string{webhook.KindWebhook}, Limit: 400, RoundLength: 3 * time.Minute})
			if err != nil || len(rows) != len(evs) {
				t.Fatalf("pending %s: %d rows, %v", ep, len(rows), err)
			}
			for i, dl := range rows {
				ev := evs[i]
				if dl.EventID != ids[i] || dl.EventType != ev.Type || dl.Test != ev.Test || string(dl.Payload) != string(ev.Payload) {
					t.Fatalf("queue %s row %d: event %s %q test=%v %s; want %s %q test=%v %s", ep, i,
						dl.EventID, dl.EventType, dl.Test, dl.Payload, ids[i], ev.Type, ev.Test, ev.Payload)
				}
			}
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

// BenchmarkPending measures the sender's read-ahead: b.N rows read 256 at
// a time through the prepared store.
func BenchmarkPending(b *testing.B) {
	ctx := context.Background()
	d := dbtest.MustOpen(b)
	ep, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/hook", "")
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]db.NewEvent, 256)
	for i := range evs {
		evs[i] = db.NewEvent{Type: "ticket.suggested", Payload: []byte(`{"event":"ticket.suggested","email_id":"abc123","subject":"Non funziona il login"}`)}
	}
	enqueueBatch(b, d, evs)
	ps := d.PrepareStore()
	defer ps.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i += 256 {
		rows, err := ps.Pending(ctx, webhook.PendingQuery{Queue: ep, Kinds: []string{webhook.KindWebhook}, Limit: 256, RoundLength: 3 * time.Minute})
		if err != nil || len(rows) != 256 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
}
