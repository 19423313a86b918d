package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// errDiskFull is what the failing store answers, as SQLite would.
var errDiskFull = errors.New("database or disk is full (13)")

// failingStore is the real store whose writes (Record, the only write of
// webhook.Store) fail while failWrites is set, and whose reads fail while
// failReads is set. It is not a Preparer, so every call goes through it.
type failingStore struct {
	db         *db.DB
	failWrites atomic.Bool
	failReads  atomic.Bool
	records    atomic.Int64 // Record calls
}

var _ webhook.Store = (*failingStore)(nil)

func (f *failingStore) Queues(ctx context.Context, kinds []string) ([]string, error) {
	if f.failReads.Load() {
		return nil, errDiskFull
	}
	return f.db.Queues(ctx, kinds)
}

func (f *failingStore) Pending(ctx context.Context, q webhook.PendingQuery) ([]webhook.Delivery, error) {
	if f.failReads.Load() {
		return nil, errDiskFull
	}
	return f.db.Pending(ctx, q)
}

func (f *failingStore) Record(ctx context.Context, outcomes []webhook.Outcome, policy webhook.DisablePolicy) ([]webhook.Disabled, error) {
	f.records.Add(1)
	if f.failWrites.Load() {
		return nil, errDiskFull
	}
	return f.db.Record(ctx, outcomes, policy)
}

func (f *failingStore) Delivery(ctx context.Context, id string, roundLength time.Duration) (webhook.Delivery, error) {
	return f.db.Delivery(ctx, id, roundLength)
}

// notices collects every notice of a sender until its channel closes.
type notices struct {
	mu  sync.Mutex
	got []webhook.Notice
	wg  sync.WaitGroup
}

// collectNotices reads s's notices in the background; wg ends when the
// sender has stopped.
func collectNotices(s *webhook.Sender) *notices {
	n := &notices{}
	n.wg.Go(func() {
		for x := range s.Events() {
			n.mu.Lock()
			n.got = append(n.got, x)
			n.mu.Unlock()
		}
	})
	return n
}

func (n *notices) count(match func(webhook.Notice) bool) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, x := range n.got {
		if match(x) {
			c++
		}
	}
	return c
}

func storePaused(n webhook.Notice) bool {
	return n.Kind == webhook.NoticeError && n.StorePaused
}

// waitFor polls cond every few milliseconds, failing after a generous
// real-time bound; between polls it runs step (nil: nothing).
func waitFor(tb testing.TB, what string, cond func() bool, step func()) {
	tb.Helper()
	for range 4000 {
		if cond() {
			return
		}
		if step != nil {
			step()
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("%s: not within 20s", what)
}

// perID counts the requests a receiver saw for each webhook-id.
func perID(rv *receiver) map[string]int {
	m := map[string]int{}
	for _, g := range rv.requests() {
		m[g.ID]++
	}
	return m
}

// TestStoreCannotRecordPausesSending: the store refuses every write. The
// sender makes each delivery's attempt at most once, then pauses: through
// several write retries and past the retry schedule, no request reaches
// the receivers (a resend storm before). It says so (a StorePaused error
// notice, Paused). When writes succeed again, the held outcomes are
// recorded, sending resumes, and every delivery ends delivered — or, for
// the failing endpoint, retried on its schedule — each attempt logged once.
func TestStoreCannotRecordPausesSending(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	ok := newReceiver(t, clk.Now)
	bad := newReceiver(t, clk.Now)
	bad.respond = func(int, http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError }
	okEP, s1 := dbtest.SeedEndpoint(t, d, ok.srv.URL)
	badEP, s2 := dbtest.SeedEndpoint(t, d, bad.srv.URL)
	ok.setSecrets(s1)
	bad.setSecrets(s2)
	const events = 5
	for i := range events {
		dbtest.SeedEvents(t, d, fmt.Sprintf(`{"email_id":"e%d"}`, i))
	}
	store := &failingStore{db: d}
	store.failWrites.Store(true)
	t0 := clk.Now()
	opts := fastOptions(clk)
	opts.StoreRetry, opts.StoreRetryMax = time.Second, 4*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	s := webhook.NewSender(store, opts)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { stop() })
	ns := collectNotices(s)

	bounded := func(stage string) { checkBounded(t, stage, ok, bad, events) }
	waitFor(t, "the first refused write", func() bool { return store.records.Load() >= 1 }, nil)
	waitFor(t, "Paused", s.Paused, nil)
	// Eight more refused writes (1s, 2s, then every 4s of the injected
	// clock): 27s, under the first retry (30s after the failed attempt).
	for round := range 8 {
		nextWriteRetry(t, store, clk)
		bounded(fmt.Sprintf("after %d refused writes", round+2))
		if !s.Paused() {
			t.Fatal("Paused() = false while the store refuses writes")
		}
	}
	// Past the failing head's retry time: still nothing while paused.
	clk.Advance(t0.Add(40 * time.Second).Sub(clk.Now()))
	s.Notify()
	nextWriteRetry(t, store, clk)
	bounded("past the retry time")
	if ns.count(storePaused) == 0 {
		t.Error("no NoticeError with StorePaused while the store cannot record")
	}
	if n := len(must(d.Attempts(context.Background(), db.AttemptFilter{}))); n != 0 {
		t.Fatalf("%d attempts logged by a store that refuses writes", n)
	}

	// Space returns: the held outcomes are written, sending resumes.
	store.failWrites.Store(false)
	waitFor(t, "resumed", func() bool {
		return !s.Paused() && ns.count(func(n webhook.Notice) bool { return n.Kind == webhook.NoticeResumed }) == 1
	}, func() { clk.Advance(250 * time.Millisecond) })
	delivered := func() int {
		return len(must(d.Deliveries(context.Background(), db.DeliveryFilter{EndpointID: okEP, Status: webhook.StatusDelivered})))
	}
	waitFor(t, "every delivery to the healthy endpoint delivered", func() bool { return delivered() == events }, nil)
	// The failing head was retried once its recorded schedule allowed
	// (its retry was due at +30s), and is waiting for the next one. The
	// clock moves on meanwhile, as a real one does: a sender that set its
	// timer from a reading of the clock taken just before the last
	// advance would otherwise wait for an advance that never comes. Steps
	// of 100 ms cannot reach the next retry (60 s later) before the check.
	waitFor(t, "the failing head's recorded retry", func() bool {
		l := must(d.Deliveries(context.Background(), db.DeliveryFilter{EndpointID: badEP, Status: webhook.StatusRetrying}))
		return len(l) == 1 && l[0].Attempts == 2
	}, func() { clk.Advance(100 * time.Millisecond) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkAfterRecovery(t, d, ok, bad, badEP, events, t0)
}

// checkBounded: while the store cannot record, each delivery to the
// healthy endpoint was sent at most once and the failing head once.
func checkBounded(t *testing.T, stage string, ok, bad *receiver, events int) {
	t.Helper()
	for id, n := range perID(ok) {
		if n > 1 {
			t.Fatalf("%s: webhook-id %s sent %d times while the store cannot record", stage, id, n)
		}
	}
	if n := len(ok.requests()); n > events {
		t.Fatalf("%s: %d requests for %d deliveries", stage, n, events)
	}
	if n := len(bad.requests()); n > 1 {
		t.Fatalf("%s: the failing endpoint's head was sent %d times before its retry was recorded", stage, n)
	}
}

// nextWriteRetry advances the injected clock until the sender tries once
// more to write what the store refused.
func nextWriteRetry(t *testing.T, store *failingStore, clk *fakeClock) {
	t.Helper()
	before := store.records.Load()
	waitFor(t, "the next write retry", func() bool { return store.records.Load() > before },
		func() { clk.Advance(250 * time.Millisecond) })
}

// checkAfterRecovery: each delivery to the healthy endpoint was sent once;
// the failing endpoint's head twice, its retry no earlier than its
// schedule; every attempt made was logged, once.
func checkAfterRecovery(t *testing.T, d *db.DB, ok, bad *receiver, badEP string, events int, t0 time.Time) {
	t.Helper()
	ok.checkSignatures(t)
	bad.checkSignatures(t)
	for id, n := range perID(ok) {
		if n != 1 {
			t.Errorf("webhook-id %s sent %d times, want once", id, n)
		}
	}
	if got := bad.requests(); len(got) != 2 || got[0].ID != got[1].ID {
		t.Errorf("failing endpoint saw %d requests, want its head twice (first attempt, then the retry)", len(got))
	}
	logs := must(d.Attempts(context.Background(), db.AttemptFilter{}))
	if len(logs) != events+2 {
		t.Errorf("%d attempts logged, want %d (each attempt made, once)", len(logs), events+2)
	}
	for _, l := range must(d.Attempts(context.Background(), db.AttemptFilter{EndpointID: badEP})) {
		if l.Attempt == 2 && l.StartedAt.Before(t0.Add(30*time.Second)) {
			t.Errorf("retry started at +%s, before its schedule (+30s)", l.StartedAt.Sub(t0))
		}
	}
}

// TestDrainGivesUpWhenStoreStaysUnwritable: "smista send --once" on a
// store that never records again ends, after StoreTimeout, with an error
// wrapping ErrStoreUnavailable and the store's error, having sent each
// delivery at most once. Nothing is lost: the deliveries are still
// pending, and a later run delivers them all.
func TestDrainGivesUpWhenStoreStaysUnwritable(t *testing.T) {
	d := mustOpenDB(t, nil)
	rv := newReceiver(t, nil)
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	rv.setSecrets(secret)
	const events = 4
	for i := range events {
		dbtest.SeedEvents(t, d, fmt.Sprintf(`{"email_id":"e%d"}`, i))
	}
	store := &failingStore{db: d}
	store.failWrites.Store(true)
	opts := webhook.Options{Guard: webhook.Guard{AllowPrivate: true}, Timeout: 2 * time.Second,
		StoreRetry: 5 * time.Millisecond, StoreRetryMax: 20 * time.Millisecond, StoreTimeout: 300 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := webhook.NewSender(store, opts)
	ns := collectNotices(s)
	done := make(chan error, 1)
	go func() { done <- s.Drain(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("Drain still running after 20s on an unwritable store; %d requests sent", len(rv.requests()))
	}
	if !errors.Is(err, webhook.ErrStoreUnavailable) || !errors.Is(err, errDiskFull) {
		t.Fatalf("Drain = %v, want an error wrapping ErrStoreUnavailable and the store's error", err)
	}
	t.Logf("Drain: %v", err)
	for id, n := range perID(rv) {
		if n > 1 {
			t.Errorf("webhook-id %s sent %d times", id, n)
		}
	}
	ns.wg.Wait()
	if ns.count(storePaused) == 0 {
		t.Error("no StorePaused notice")
	}
	pending := must(d.Deliveries(context.Background(), db.DeliveryFilter{Status: webhook.StatusPending}))
	if len(pending) != events {
		t.Fatalf("%d deliveries pending after the failed run, want all %d", len(pending), events)
	}

	store.failWrites.Store(false)
	if err := webhook.NewSender(store, opts).Drain(ctx); err != nil {
		t.Fatalf("Drain with a writable store: %v", err)
	}
	rv.checkSignatures(t)
	delivered := must(d.Deliveries(context.Background(), db.DeliveryFilter{Status: webhook.StatusDelivered}))
	if len(delivered) != events {
		t.Fatalf("%d delivered, want %d", len(delivered), events)
	}
	for id, n := range perID(rv) {
		if n > 2 {
			t.Errorf("webhook-id %s sent %d times over two runs, want at most 2", id, n)
		}
	}
}

// TestDrainGivesUpWhenStoreUnreadable: a store whose reads fail ends a
// Drain the same way.
func TestDrainGivesUpWhenStoreUnreadable(t *testing.T) {
	d := mustOpenDB(t, nil)
	store := &failingStore{db: d}
	store.failReads.Store(true)
	opts := webhook.Options{Guard: webhook.Guard{AllowPrivate: true}, StoreTimeout: 300 * time.Millisecond}
	s := webhook.NewSender(store, opts)
	collectNotices(s)
	done := make(chan error, 1)
	go func() { done <- s.Drain(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, webhook.ErrStoreUnavailable) || !errors.Is(err, errDiskFull) {
			t.Fatalf("Drain = %v, want ErrStoreUnavailable", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Drain still running after 20s on an unreadable store")
	}
}
