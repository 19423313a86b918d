package webhook_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"smista/db/dbtest"
	"smista/webhook"
)

// TestWriterCommitsWhenNothingIsInFlight: the writer waits for more
// outcomes to batch only while attempts are running or handed to a
// worker. With an hour's flush delay a drain still ends as soon as its
// last attempt is made: the commit does not wait out the delay.
func TestWriterCommitsWhenNothingIsInFlight(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL+"/hook")
	rv.setSecrets(secret)
	dbtest.SeedEvents(t, d, `{"email_id":"e1"}`, `{"email_id":"e2"}`, `{"email_id":"e3"}`)
	opts := fastOptions(clk)
	opts.FlushDelay, opts.BusyFlushDelay = time.Hour, time.Hour
	// The bound only ends the test if the writer does wait: the drain
	// itself takes milliseconds.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := webhook.NewSender(d, opts).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the drain ran until its context ended: the writer waited out its flush delay")
	}
	if n := dbtest.Count(t, d, "webhook deliveries:delivered"); n != 3 {
		t.Errorf("%d delivered, want 3", n)
	}
}

// TestTallyCountsWhatNoticesDrop: nobody reads the notices of a drain of
// more deliveries than the notice channel holds, so most progress notices
// are dropped; the tally still counts every delivery recorded.
func TestTallyCountsWhatNoticesDrop(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL+"/hook")
	rv.setSecrets(secret)
	const n = 1500 // the notice channel holds 1024
	payloads := make([]string, n)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"email_id":"e%d"}`, i)
	}
	dbtest.SeedEvents(t, d, payloads...)
	s := webhook.NewSender(d, fastOptions(clk))
	if err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	notices := 0
	for range s.Events() {
		notices++
	}
	if notices >= n {
		t.Fatalf("%d notices kept of %d: none dropped, the test shows nothing", notices, n)
	}
	if got := s.Tally(); got != (webhook.Tally{Delivered: n}) {
		t.Errorf("tally %+v, want %d delivered (%d notices kept)", got, n, notices)
	}
	if got := dbtest.Count(t, d, "webhook deliveries:delivered"); got != n {
		t.Errorf("%d delivered in the store, want %d", got, n)
	}
}

// countingStore counts the group commits of the store it wraps.
type countingStore struct {
	webhook.Store
	commits atomic.Int64
}

func (c *countingStore) Record(ctx context.Context, outcomes []webhook.Outcome, policy webhook.DisablePolicy) ([]webhook.Disabled, error) {
	c.commits.Add(1)
	return c.Store.Record(ctx, outcomes, policy)
}

// slowTransport delivers every attempt after a pause.
type slowTransport struct{ pause time.Duration }

func (s slowTransport) Deliver(ctx context.Context, d webhook.Delivery) webhook.Result {
	started := time.Now()
	time.Sleep(s.pause)
	return webhook.Result{Started: started, Duration: time.Since(started), StatusCode: 200}
}

// TestWriterStaysBusyWhileAttemptsContinue: outcomes arriving one every
// 2 ms fill a 5 ms flush delay with a few each, never the 64 that mark a
// busy writer by size; a wait that runs out while attempts are still being
// made marks it busy all the same, so the next batch waits the (here
// endless) busy delay until no attempt is left, and 120 deliveries are
// recorded in a handful of commits, not one every 5 ms.
func TestWriterStaysBusyWhileAttemptsContinue(t *testing.T) {
	d := mustOpenDB(t, time.Now)
	dbtest.SeedEndpoint(t, d, "http://127.0.0.1:1/hook")
	const n = 120
	payloads := make([]string, n)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"email_id":"e%d"}`, i)
	}
	dbtest.SeedEvents(t, d, payloads...)
	store := &countingStore{Store: d}
	opts := webhook.Options{Workers: 1, FlushDelay: 5 * time.Millisecond, BusyFlushDelay: time.Hour,
		Transports: map[string]webhook.Transport{webhook.KindWebhook: slowTransport{pause: 2 * time.Millisecond}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := webhook.NewSender(store, opts).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the drain ran until its context ended")
	}
	if got := dbtest.Count(t, d, "webhook deliveries:delivered"); got != n {
		t.Fatalf("%d delivered, want %d", got, n)
	}
	// One batch per job (runLength 64: two jobs) and the first, short one:
	// about 3. Sized by count alone, a commit every 5 ms: about 50.
	if c := store.commits.Load(); c > 8 {
		t.Errorf("%d commits for %d outcomes arriving one every 2 ms: the writer never waited the busy delay", c, n)
	}
}
