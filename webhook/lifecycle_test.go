package webhook_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

func TestRotationSignsWithBothSecretsDuringGrace(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	ep, oldSecret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	newSecret, _ := webhook.GenerateSecret()
	ctx := context.Background()
	if err := d.RotateEndpointSecret(ctx, ep, newSecret, clk.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// During the grace period every delivery verifies with the old AND the new secret.
	rv.setSecrets(oldSecret, newSecret)
	dbtest.SeedEvents(t, d, `{"email_id":"during"}`)
	if err := webhook.NewSender(d, fastOptions(clk)).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	rv.checkSignatures(t)
	got := rv.requests()
	if len(got) != 1 || len(strings.Fields(got[0].Signature)) != 2 {
		t.Fatalf("during grace: %+v, want one request with two signatures", got)
	}
	// After the grace period only the new secret signs.
	clk.Advance(24*time.Hour + time.Second)
	rv.setSecrets(newSecret)
	dbtest.SeedEvents(t, d, `{"email_id":"after"}`)
	if err := webhook.NewSender(d, fastOptions(clk)).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	rv.checkSignatures(t)
	got = rv.requests()
	if len(got) != 2 || len(strings.Fields(got[1].Signature)) != 1 {
		t.Fatalf("after grace: %+v, want a second request with one signature", got)
	}
	if err := verifyIndependently(oldSecret, []byte(got[1].Body), http.Header{
		"Webhook-Id": {got[1].ID}, "Webhook-Timestamp": {got[1].Timestamp}, "Webhook-Signature": {got[1].Signature},
	}, clk.Now); err == nil {
		t.Fatal("the old secret still verifies after the grace period")
	}
}

func TestRetryAfterWithinScheduleBounds(t *testing.T) {
	tests := map[string]struct {
		retryAfter string
		wantDelay  time.Duration
	}{
		"shorter than the schedule is ignored": {"5", 30 * time.Second},
		"between two steps is honoured":        {"45", 45 * time.Second},
		"beyond the next step is clamped":      {"3600", 60 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			d := mustOpenDB(t, clk.Now)
			rv := newReceiver(t, clk.Now)
			rv.respond = func(_ int, w http.ResponseWriter, _ *http.Request) int {
				w.Header().Set("Retry-After", tc.retryAfter)
				return http.StatusTooManyRequests
			}
			_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
			rv.setSecrets(secret)
			dbtest.SeedEvents(t, d, `{"email_id":"e1"}`)
			r := startSender(t, d, fastOptions(clk))
			n := r.next(t, webhook.NoticeFailed)
			if got := n.NextAttemptAt.Sub(clk.Now()); got != tc.wantDelay {
				t.Errorf("Retry-After %s: retry in %s, want %s", tc.retryAfter, got, tc.wantDelay)
			}
			r.stop()
			rv.checkSignatures(t)
		})
	}
}

func TestReplayDeadDelivery(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	fail := true
	rv.respond = func(int, http.ResponseWriter, *http.Request) int {
		if fail {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	rv.setSecrets(secret)
	dbtest.SeedEvents(t, d, `{"email_id":"e1"}`)
	opts := fastOptions(clk)
	opts.Retries = []time.Duration{} // give up at once: dead after one attempt
	ctx := context.Background()
	if err := webhook.NewSender(d, opts).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	dead := must(d.Deliveries(ctx, db.DeliveryFilter{Status: webhook.StatusDead, Kind: "webhook"}))
	if len(dead) != 1 {
		t.Fatalf("%d dead, want 1", len(dead))
	}
	rv.mu.Lock()
	fail = false
	rv.mu.Unlock()
	clk.Advance(10 * time.Second)
	if err := d.Replay(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Replay(ctx, dead[0].ID); err == nil {
		t.Error("replaying a delivery that is already pending succeeded")
	}
	if err := webhook.NewSender(d, opts).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	rv.checkSignatures(t)
	got := rv.requests()
	if len(got) != 2 || got[0].ID != got[1].ID || got[0].Signature == got[1].Signature {
		t.Fatalf("replay requests %+v: want the same webhook-id with a fresh signature", got)
	}
	after := must(d.Deliveries(ctx, db.DeliveryFilter{Kind: "webhook"}))
	if after[0].Status != webhook.StatusDelivered || after[0].Attempts != 2 {
		t.Fatalf("after replay %+v, want delivered with attempt 2", after[0])
	}
	atts := must(d.Attempts(ctx, db.AttemptFilter{Kind: "webhook"}))
	if len(atts) != 2 || atts[1].Attempt != 2 {
		t.Fatalf("attempt numbering %+v, want 1 then 2", atts)
	}
}

// TestShutdownWaitsAndLeavesNoGoroutine cancels the sender while an attempt
// is in flight: the attempt completes, is logged, and every goroutine the
// sender started is gone.
func TestShutdownWaitsAndLeavesNoGoroutine(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	entered := make(chan struct{})
	release := make(chan struct{})
	rv := newReceiver(t, clk.Now)
	rv.respond = func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n == 0 {
			close(entered)
			<-release
		}
		return http.StatusOK
	}
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	rv.setSecrets(secret)
	dbtest.SeedEvents(t, d, `{"email_id":"e1"}`)
	before := runtime.NumGoroutine()

	opts := fastOptions(clk) // the sender's own transport: Run must close it
	ctx, cancel := context.WithCancel(context.Background())
	s := webhook.NewSender(d, opts)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-entered
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := <-s.Events(); ok {
		// Drain what is buffered; the channel must end closed.
		for range s.Events() {
		}
	}
	delivered := must(d.Deliveries(context.Background(), db.DeliveryFilter{Status: webhook.StatusDelivered, Kind: "webhook"}))
	if len(delivered) != 1 {
		t.Fatalf("the in-flight attempt was not completed and logged: %d delivered", len(delivered))
	}
	// Bounded polling: goroutines of closed connections take a moment.
	var now int
	for range 200 {
		now = runtime.NumGoroutine()
		if now <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("goroutines: %d before, %d after shutdown\n%s", before, now, buf[:runtime.Stack(buf, true)])
}

func TestDeliverNowTestEvent(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	ep, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	dbtest.SeedEndpoint(t, d, rv.srv.URL+"/other") // must not receive the test
	rv.setSecrets(secret)
	ctx := context.Background()
	id, err := d.EnqueueTestEvent(ctx, ep, webhook.SamplePayload(clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	o, err := webhook.NewSender(d, fastOptions(clk)).DeliverNow(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Result.OK() || o.Status != webhook.StatusDelivered {
		t.Fatalf("test delivery %+v", o.Result)
	}
	rv.checkSignatures(t)
	logs := must(d.Deliveries(ctx, db.DeliveryFilter{Kind: "webhook"}))
	if len(logs) != 1 || !logs[0].Test || logs[0].Status != webhook.StatusDelivered || logs[0].EventType != "ticket.suggested" {
		t.Fatalf("log %+v: want one delivered test ticket.suggested", logs)
	}
	if got := rv.requests(); len(got) != 1 || !strings.Contains(got[0].Body, `"event":"ticket.suggested"`) {
		t.Fatalf("requests %+v", got)
	}
}

// TestDisableStopsARunningQueue disables an endpoint while the sender is
// in the middle of its queue: the attempt in flight completes, nothing
// after it is sent, the rest waits paused.
func TestDisableStopsARunningQueue(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	entered := make(chan struct{})
	release := make(chan struct{})
	rv := newReceiver(t, clk.Now)
	rv.respond = func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n == 0 {
			close(entered)
			<-release
		}
		return http.StatusOK
	}
	ep, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	rv.setSecrets(secret)
	for range 10 {
		dbtest.SeedEvents(t, d, `{"email_id":"e"}`)
	}
	r := startSender(t, d, fastOptions(clk))
	<-entered
	if _, err := d.DisableEndpoint(context.Background(), ep, "disabled by user"); err != nil {
		t.Fatal(err)
	}
	r.s.Notify()
	// Give the scheduler time to see the disable before the receiver
	// answers; the assertion does not depend on how long that takes.
	time.Sleep(100 * time.Millisecond)
	close(release)
	r.next(t, webhook.NoticeDelivered)
	r.stop()
	rv.checkSignatures(t)
	if got := len(rv.requests()); got != 1 {
		t.Errorf("receiver saw %d requests after the disable, want only the one in flight", got)
	}
	paused := must(d.Deliveries(context.Background(), db.DeliveryFilter{Status: webhook.StatusPaused, Kind: "webhook"}))
	if len(paused) != 9 {
		t.Errorf("%d paused, want 9", len(paused))
	}
}
