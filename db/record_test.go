package db_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

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

// BenchmarkRecord measures the group commit alone: b.N delivered attempts
// recorded in batches of 10 to 1000 through the prepared store. Besides
// the time it reports the CPU time of the recording thread per attempt
// (thread-cpu-µs/attempt): the goroutine is locked to its thread and
// SQLite runs on the caller's goroutine, so the figure leaves out what
// other processes and the collector's own workers take, and holds on a
// loaded machine where the time does not.
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
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU(b)
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
	b.StopTimer()
	b.ReportMetric(float64((threadCPU(b)-cpu0).Nanoseconds())/1e3/float64(b.N), "thread-cpu-µs/attempt")
}

// threadCPU is the calling thread's CPU time so far (user and system).
func threadCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestRecordMixesPlainAndFullAttempts: one batch whose attempts alternate
// between the plain shape (no error, the payload sent, no response body)
// and the full one (an error, a response body, a body not the payload)
// logs every field of each exactly — NULL where nothing was stored — in
// the batch's order.
func TestRecordMixesPlainAndFullAttempts(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	ep, err := d.CreateEndpoint(ctx, "http://127.0.0.1:1/hook", "")
	if err != nil {
		t.Fatal(err)
	}
	for range 7 {
		enqueueWebhookEvent(t, d, `{"email_id":"e"}`)
	}
	ps := d.PrepareStore()
	defer ps.Close()
	rows, err := ps.Pending(ctx, webhook.PendingQuery{Queue: ep, Kinds: []string{webhook.KindWebhook}, Limit: 10, RoundLength: 3 * time.Minute})
	if err != nil || len(rows) != 7 {
		t.Fatalf("pending: %d rows, %v", len(rows), err)
	}
	started := time.UnixMilli(1_700_000_000_000)
	type shape struct {
		plain bool
		r     webhook.Result
	}
	mk := func(i int, dl webhook.Delivery) shape {
		r := webhook.Result{Started: started.Add(time.Duration(i) * time.Second), Duration: time.Duration(i+1) * time.Millisecond,
			StatusCode: 200, RequestHeaders: http.Header{"Webhook-Id": {dl.WebhookID}}, RequestBody: dl.Payload,
			ResponseHeaders: http.Header{"X-N": {fmt.Sprint(i)}}}
		switch i {
		case 1:
			r.ResponseBody = []byte("thanks")
		case 2:
			r.StatusCode, r.Class, r.Err = 503, webhook.ClassHTTPStatus, "HTTP 503"
		case 4:
			r.RequestBody = []byte(`{"email_id":"other"}`)
		case 5:
			r.ResponseBody = []byte{} // empty, not absent: stored as such
		}
		return shape{plain: i == 0 || i == 3 || i == 6, r: r}
	}
	var batch []webhook.Outcome
	var shapes []shape
	for i, dl := range rows {
		sh := mk(i, dl)
		st := webhook.StatusDelivered
		if sh.r.Class != "" {
			st = webhook.StatusRetrying
		}
		shapes = append(shapes, sh)
		batch = append(batch, webhook.Outcome{Delivery: dl, Status: st, Deadline: started.Add(3 * time.Minute),
			NextAttemptAt: started.Add(time.Minute), LastError: sh.r.Err, Result: sh.r})
	}
	if _, err := ps.Record(ctx, batch, webhook.DisablePolicy{}); err != nil {
		t.Fatal(err)
	}
	q, err := d.Reader().QueryContext(ctx, `SELECT a.delivery_seq, a.attempt, a.started_at, a.duration_ms, a.status_code, a.error_class, a.error,
		a.request_headers, a.request_body IS NULL, a.request_body, a.response_headers, a.response_body IS NULL, a.response_body
		FROM attempts a ORDER BY a.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	i := 0
	for ; q.Next(); i++ {
		var seq, started, dur int64
		var attempt, code int
		var class, msg, reqH, respH string
		var reqNull, respNull bool
		var reqBody, respBody []byte
		if err := q.Scan(&seq, &attempt, &started, &dur, &code, &class, &msg, &reqH, &reqNull, &reqBody, &respH, &respNull, &respBody); err != nil {
			t.Fatal(err)
		}
		if i >= len(batch) {
			continue
		}
		o, r := batch[i], shapes[i].r
		wantReqNull := string(r.RequestBody) == string(o.Delivery.Payload)
		if seq != o.Delivery.Seq || attempt != 1 || started != r.Started.UnixMilli() || dur != r.Duration.Milliseconds() ||
			code != r.StatusCode || class != r.Class || msg != r.Err || reqNull != wantReqNull ||
			(!wantReqNull && string(reqBody) != string(r.RequestBody)) || respNull != (r.ResponseBody == nil) ||
			string(respBody) != string(r.ResponseBody) || reqH != `{"Webhook-Id":["`+o.Delivery.WebhookID+`"]}` ||
			respH != fmt.Sprintf(`{"X-N":["%d"]}`, i) {
			t.Errorf("attempt row %d (plain %v): seq %d attempt %d started %d dur %d code %d class %q error %q req %q null %v %q resp %q null %v %q",
				i, shapes[i].plain, seq, attempt, started, dur, code, class, msg, reqH, reqNull, reqBody, respH, respNull, respBody)
		}
	}
	if err := q.Err(); err != nil || i != len(batch) {
		t.Fatalf("%d attempt rows (%v), want %d in the batch's order", i, err, len(batch))
	}
}
