package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"smista/app"
	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// receiver counts the requests per webhook-id.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	ids map[string]int
	n   int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{ids: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.ids[req.Header.Get("webhook-id")]++
		r.n++
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) counts() (requests, distinct int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, len(r.ids)
}

// leaseApp opens an App on the store at path with a quick lease.
func leaseApp(t *testing.T, path, holder string) (*app.App, *db.DB) {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{Store: d,
		Sender: webhook.Options{Guard: webhook.Guard{AllowPrivate: true}},
		Lease:  app.LeaseOptions{TTL: 3 * time.Second, Renew: 50 * time.Millisecond, Poll: 20 * time.Millisecond, Holder: holder}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, d
}

// waitFor polls cond every 10 ms for up to 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOneSenderPerStore: two "smista send" and a TUI on one store, 1,000
// events queued before and while they run, and the holder stopped half
// way: every event is delivered exactly once (1,000 requests, 1,000
// webhook-ids), the lease handed over without a duplicate.
func TestOneSenderPerStore(t *testing.T) {
	const events = 1000
	rcv := newReceiver(t)
	path := filepath.Join(t.TempDir(), "s.db")
	sendA, d := leaseApp(t, path, "send A")
	sendB, _ := leaseApp(t, path, "send B")
	tui, _ := leaseApp(t, path, "tui")
	ctx := context.Background()
	if _, err := sendA.AddEndpoint(ctx, rcv.srv.URL+"/hook", ""); err != nil {
		t.Fatal(err)
	}
	seed := func(from, to int) {
		var ps []string
		for i := from; i < to; i++ {
			ps = append(ps, fmt.Sprintf(`{"event":"ticket.suggested","email_id":"e%d"}`, i))
		}
		dbtest.SeedEvents(t, d, ps...)
	}
	seed(0, events/2)

	type runner struct {
		a      *app.App
		cancel context.CancelFunc
		done   chan struct{}
	}
	start := func(a *app.App, run func(ctx context.Context)) *runner {
		rctx, cancel := context.WithCancel(ctx)
		r := &runner{a: a, cancel: cancel, done: make(chan struct{})}
		go func() { defer close(r.done); run(rctx) }()
		return r
	}
	runners := []*runner{
		start(sendA, func(ctx context.Context) { _ = sendA.RunSender(ctx, false) }),
		start(sendB, func(ctx context.Context) { _ = sendB.RunSender(ctx, false) }),
		start(tui, func(ctx context.Context) { tui.Run(ctx, app.RunOptions{Send: true}) }),
	}
	defer func() {
		for _, r := range runners {
			r.cancel()
			<-r.done
		}
	}()
	for i := events / 2; i < events; i += 50 {
		seed(i, i+50)
	}
	delivered := func(n int) func() bool {
		return func() bool { return dbtest.Count(t, d, "deliveries:delivered") >= n }
	}
	waitFor(t, "300 deliveries", delivered(300))
	// Who sends is read for every runner before any stops: once the
	// holder quits another takes over at once, and would be counted too.
	var holders []*runner
	for _, r := range runners {
		if r.a.Sending() {
			holders = append(holders, r)
		}
	}
	if len(holders) > 1 {
		t.Errorf("%d processes were sending at once", len(holders))
	}
	for _, r := range holders {
		r.cancel() // the holder quits: another takes over
		<-r.done
	}
	waitFor(t, "every delivery", delivered(events))
	req, distinct := rcv.counts()
	if req != events || distinct != events {
		t.Errorf("receiver got %d requests with %d webhook-ids, want %d and %d", req, distinct, events, events)
	}
}

// TestLostLeaseStopsSending: when another process takes the lease (the
// holder hung past its TTL), the holder stops sending at once, says who
// sends now, and takes over again once the lease is free.
func TestLostLeaseStopsSending(t *testing.T) {
	rcv := newReceiver(t)
	path := filepath.Join(t.TempDir(), "s.db")
	a, d := leaseApp(t, path, "send A")
	ctx := context.Background()
	if _, err := a.AddEndpoint(ctx, rcv.srv.URL+"/hook", ""); err != nil {
		t.Fatal(err)
	}
	sub := a.Bus().Subscribe()
	defer sub.Close()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunSender(rctx, false) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	lease := func(want func(app.SenderLease) bool) app.SenderLease {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case e := <-sub.C():
				if l, ok := e.(app.SenderLease); ok && want(l) {
					return l
				}
			case <-deadline:
				t.Fatal("timed out waiting for a SenderLease event")
			}
		}
	}
	lease(func(l app.SenderLease) bool { return l.Held })

	// Another process whose clock is past the lease's expiry takes it.
	thief, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()
	thief.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, ok, err := thief.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "thief", Holder: "thief", TTL: 2 * time.Hour}); err != nil || !ok {
		t.Fatalf("thief: ok=%v err=%v", ok, err)
	}
	l := lease(func(l app.SenderLease) bool { return !l.Held && l.Holder != "" })
	if !strings.Contains(l.Holder, "thief") {
		t.Errorf("after the takeover the sender is %q, want the thief", l.Holder)
	}
	if a.Sending() {
		t.Error("A still runs a sender after losing the lease")
	}
	dbtest.SeedEvents(t, d, `{"n":1}`)
	if err := thief.ReleaseLease(ctx, db.LeaseSender, "thief"); err != nil {
		t.Fatal(err)
	}
	lease(func(l app.SenderLease) bool { return l.Held })
	waitFor(t, "the delivery after taking over", func() bool { n, _ := rcv.counts(); return n == 1 })
}
