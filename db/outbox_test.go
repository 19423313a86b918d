package db_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

var _ webhook.Preparer = (*db.DB)(nil)

// TestEnqueuerBatch queues several events in one transaction with one
// Enqueuer: a delivery per endpoint, pending or paused by the endpoint's
// state, restricted to one endpoint for a test event; a second event for
// the same message is ErrDuplicateEvent and the transaction goes on.
func TestEnqueuerBatch(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	w := d.Writer()
	for _, q := range []string{
		`INSERT INTO messages (id, message_id, thread_id, date, received_at, size, raw) VALUES ('m1', '<a@b>', 't', 0, 0, 1, x'00')`,
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
		if wid != db.WebhookID(ev, ep) {
			t.Errorf("webhook_id %s, want %s", wid, db.WebhookID(ev, ep))
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

// TestPreparedStoreRecordsLikeTheDB records attempts through the prepared
// store, several batches on the same statements, with headers that need
// JSON escaping, and reads them back from the log exactly.
func TestPreparedStoreRecordsLikeTheDB(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	ep, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		enqueueWebhookEvent(t, d, `{"email_id":"e"}`)
	}
	ps := d.PrepareStore()
	defer ps.Close()
	rows, err := ps.Pending(ctx, webhook.PendingQuery{Queue: ep, Kinds: []string{webhook.KindWebhook}, Limit: 10, RoundLength: 3 * time.Minute})
	if err != nil || len(rows) != 4 {
		t.Fatalf("pending: %d rows, %v", len(rows), err)
	}
	if rows[0].URL != "http://127.0.0.1:1/hook" || rows[0].Secret == "" || string(rows[0].Payload) != `{"email_id":"e"}` {
		t.Fatalf("pending row without its endpoint or payload: %+v", rows[0])
	}
	odd := http.Header{
		"X-Quote":   {`a "quoted" \ value`, "second"},
		"X-Control": {"tab\there\x01bell\nline"},
		"X-Utf8":    {"caffè ☕", "bad\xffbyte"},
		"X-Html":    {"<b>&</b>"},
	}
	started := time.UnixMilli(1_700_000_000_000)
	for i, dl := range rows {
		status, class := webhook.StatusDelivered, ""
		if i == 3 {
			status, class = webhook.StatusRetrying, webhook.ClassHTTPStatus
		}
		o := webhook.Outcome{Delivery: dl, Status: status, Deadline: started.Add(3 * time.Minute), NextAttemptAt: started.Add(30 * time.Second),
			Result: webhook.Result{Started: started, Duration: 5 * time.Millisecond, StatusCode: 200 + 300*(i/3), Class: class,
				RequestHeaders: odd, RequestBody: dl.Payload, ResponseHeaders: http.Header{"Content-Type": {"text/plain"}}, ResponseBody: []byte("ok")}}
		if i == 2 {
			o.Result.RequestBody = []byte(`{"email_id":"changed"}`) // not the event's payload: stored as sent
		}
		if _, err := ps.Record(ctx, []webhook.Outcome{o}, webhook.DisablePolicy{After: 30, Window: 30 * time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	logs, err := d.Attempts(ctx, db.AttemptFilter{})
	if err != nil || len(logs) != 4 {
		t.Fatalf("attempt log: %d, %v", len(logs), err)
	}
	want := http.Header{
		"X-Quote":   {`a "quoted" \ value`, "second"},
		"X-Control": {"tab\there\x01bell\nline"},
		"X-Utf8":    {"caffè ☕", "bad\uFFFDbyte"},
		"X-Html":    {"<b>&</b>"},
	}
	for _, l := range logs {
		if fmt.Sprint(l.RequestHeaders) != fmt.Sprint(want) {
			t.Errorf("headers read back\n got %q\nwant %q", l.RequestHeaders, want)
		}
		if l.Attempt != 1 || string(l.ResponseBody) != "ok" || l.ResponseHeaders.Get("Content-Type") != "text/plain" {
			t.Errorf("attempt %+v", l)
		}
	}
	// The body sent is the event's payload, stored once in events, unless
	// it differed.
	for i, l := range logs {
		want := `{"email_id":"e"}`
		if i == 2 {
			want = `{"email_id":"changed"}`
		}
		if string(l.RequestBody) != want {
			t.Errorf("attempt %d request body %q, want %q", i, l.RequestBody, want)
		}
	}
	var bodies int
	if err := d.Reader().QueryRow(`SELECT COUNT(*) FROM attempts WHERE request_body IS NOT NULL`).Scan(&bodies); err != nil || bodies != 1 {
		t.Errorf("%d attempt rows hold a body (%v), want 1: the payload is not copied per attempt", bodies, err)
	}
	dls, err := d.Deliveries(ctx, db.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, l := range dls {
		statuses = append(statuses, fmt.Sprintf("%s/%d", l.Status, l.Attempts))
	}
	if got := strings.Join(statuses, ","); got != "retrying/1,delivered/1,delivered/1,delivered/1" {
		t.Fatalf("delivery states %s", got)
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

// BenchmarkRecord measures the group commit alone: b.N delivered attempts
// recorded in batches of 10 to 1000 through the prepared store.
func BenchmarkRecord(b *testing.B) {
	for _, size := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { benchRecord(b, size) })
	}
}

func benchRecord(b *testing.B, size int) {
	ctx := context.Background()
	d := dbtest.MustOpen(b)
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
	for i := 0; i < len(rows); i += size {
		var batch []webhook.Outcome
		for _, dl := range rows[i:min(i+size, len(rows))] {
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

// TestRecordLargeMixedBatch records one batch of 301 outcomes — written in
// chunks of every statement shape — with every kind of outcome, through
// the prepared store and the plain DB, and checks each delivery and
// attempt row against its own outcome.
func TestRecordLargeMixedBatch(t *testing.T) {
	for _, prepared := range []bool{true, false} {
		t.Run(fmt.Sprintf("prepared=%v", prepared), func(t *testing.T) {
			ctx := context.Background()
			d := dbtest.MustOpen(t)
			ep, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/hook", "")
			if err != nil {
				t.Fatal(err)
			}
			evs := make([]db.NewEvent, 301)
			for i := range evs {
				evs[i] = db.NewEvent{Type: "ticket.suggested", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))}
			}
			enqueueBatch(t, d, evs)
			var store webhook.Store = d
			if prepared {
				ps := d.PrepareStore()
				defer ps.Close()
				store = ps
			}
			rows, err := store.Pending(ctx, webhook.PendingQuery{Queue: ep, Kinds: []string{webhook.KindWebhook}, Limit: 400, RoundLength: 3 * time.Minute})
			if err != nil || len(rows) != len(evs) {
				t.Fatalf("pending: %d rows, %v", len(rows), err)
			}
			started := time.UnixMilli(1_700_000_000_000)
			statuses := []string{webhook.StatusDelivered, webhook.StatusRetrying, webhook.StatusDead}
			var batch []webhook.Outcome
			for i, dl := range rows {
				st := statuses[i%3]
				code, class := 200+i%5, "" // delivered with several codes: one statement per code
				if st != webhook.StatusDelivered {
					code, class = 500+i%3, webhook.ClassHTTPStatus
				}
				o := webhook.Outcome{Delivery: dl, Status: st, Deadline: started.Add(3 * time.Minute), LastError: fmt.Sprintf("err %d", i),
					Result: webhook.Result{Started: started.Add(time.Duration(i) * time.Millisecond), Duration: time.Duration(i) * time.Millisecond,
						StatusCode: code, Class: class, RequestHeaders: http.Header{"Webhook-Id": {dl.WebhookID}},
						RequestBody: dl.Payload, ResponseBody: []byte(fmt.Sprintf("resp %d", i))}}
				if st == webhook.StatusRetrying {
					o.NextAttemptAt = started.Add(30*time.Second + time.Duration(i)*time.Millisecond)
				}
				batch = append(batch, o)
			}
			// A delivery twice in a batch is recorded once.
			batch = append(batch, batch[7])
			if _, err := store.Record(ctx, batch, webhook.DisablePolicy{}); err != nil {
				t.Fatal(err)
			}
			for i, dl := range rows {
				o := batch[i]
				got, err := d.Delivery(ctx, dl.ID, 3*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				var code int
				var lastErr string
				if err := d.Reader().QueryRow(`SELECT last_status_code, last_error FROM deliveries WHERE id = ?`, dl.ID).Scan(&code, &lastErr); err != nil {
					t.Fatal(err)
				}
				wantErr := o.LastError
				if o.Status == webhook.StatusDelivered {
					wantErr = "" // a delivered row carries no error
				}
				if code != o.Result.StatusCode || lastErr != wantErr {
					t.Errorf("delivery %d: last status %d %q, want %d %q", i, code, lastErr, o.Result.StatusCode, wantErr)
				}
				wantDeadline := o.Deadline
				if o.Status == webhook.StatusDelivered {
					wantDeadline = time.Time{} // no retry round left
				}
				if !got.Deadline.Equal(wantDeadline) {
					t.Errorf("delivery %d (%s): deadline %v, want %v", i, o.Status, got.Deadline, wantDeadline)
				}
				if got.Status != o.Status || got.Attempts != 1 || !got.NextAttemptAt.Equal(o.NextAttemptAt) {
					t.Errorf("delivery %d: status %s, %d attempts, next %v; want %s, 1, %v", i, got.Status, got.Attempts, got.NextAttemptAt, o.Status, o.NextAttemptAt)
				}
			}
			logs, err := d.Attempts(ctx, db.AttemptFilter{Limit: 1000})
			if err != nil || len(logs) != len(rows) {
				t.Fatalf("%d attempts logged (%v), want %d", len(logs), err, len(rows))
			}
			byID := map[string]db.AttemptItem{}
			for _, l := range logs {
				byID[l.DeliveryID] = l
			}
			for i, dl := range rows {
				l, r := byID[dl.ID], batch[i].Result
				if l.Attempt != 1 || l.StatusCode != r.StatusCode || l.ErrorClass != r.Class || !l.StartedAt.Equal(r.Started) ||
					l.Duration != r.Duration || string(l.ResponseBody) != string(r.ResponseBody) ||
					string(l.RequestBody) != string(dl.Payload) || l.RequestHeaders.Get("Webhook-Id") != dl.WebhookID {
					t.Errorf("attempt of delivery %d = %+v, want the fields of %+v", i, l, r)
				}
			}
		})
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
