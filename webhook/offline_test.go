package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// network is the dialer of the offline tests: a real one, except for the
// addresses it is told are down (all of them while everything is down),
// which fail as a machine without a route does.
type network struct {
	mu    sync.Mutex
	all   bool
	down  map[string]bool
	fails atomic.Int64
}

func (n *network) set(all bool, down ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.all, n.down = all, map[string]bool{}
	for _, a := range down {
		n.down[a] = true
	}
}

func (n *network) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	fail := n.all || n.down[addr]
	n.mu.Unlock()
	if fail {
		n.fails.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// offlineSetup holds endpoints on receivers of their own, events to each
// of them, and sender options on the fake clock and the network.
func offlineSetup(t *testing.T, endpoints, events int) (*fakeClock, *db.DB, *network, []*receiver, []string, webhook.Options) {
	t.Helper()
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	var rvs []*receiver
	var eps []string
	for range endpoints {
		rv := newReceiver(t, clk.Now)
		ep, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL+"/hook")
		rv.setSecrets(secret)
		rvs, eps = append(rvs, rv), append(eps, ep)
	}
	for i := range events {
		dbtest.SeedEvents(t, d, fmt.Sprintf(`{"event":"ticket.suggested","email_id":"e%d"}`, i))
	}
	nw := &network{}
	start := clk.Now()
	opts := fastOptions(clk)
	opts.Dial = nw.dial
	opts.Mono = func() time.Duration { return clk.Now().Sub(start) } // awake all along
	return clk, d, nw, rvs, eps, opts
}

// TestOfflineOutageThenRecovery: with every address unreachable for 30
// minutes, the sender goes offline at the first failures, probes, makes
// no other attempt, and when the network is back delivers every event to
// every endpoint: no dead delivery, no disabled endpoint, and only the
// failures of the first attempts logged, as class offline.
func TestOfflineOutageThenRecovery(t *testing.T) {
	const endpoints, events = 3, 10 // 40 failures an endpoint if each counted
	clk, d, nw, rvs, eps, opts := offlineSetup(t, endpoints, events)
	nw.set(true)
	r := startSender(t, d, opts)
	off := r.next(t, webhook.NoticeOffline)
	if off.Waiting == 0 {
		t.Errorf("offline notice says %d deliveries waiting", off.Waiting)
	}
	if !r.s.Offline() {
		t.Fatal("sender not offline after the notice")
	}
	for minute := 1; minute <= 30; minute++ {
		before := nw.fails.Load()
		clk.Advance(time.Minute)
		r.s.Notify()
		// A probe dials; then the scheduler arms the timer for the next.
		// The timer pending may be the writer's flush delay instead, and
		// the probe's armed only after the clock moved: then the probe
		// comes a minute later, as on a real clock, so the clock moves
		// on now and then until it does (bounded by waitFor's steps).
		steps := 0
		waitFor(t, fmt.Sprintf("the probe of minute %d", minute), func() bool {
			return nw.fails.Load() > before && clk.pending() > 0
		}, func() {
			if steps++; steps%40 == 0 {
				clk.Advance(time.Minute)
				r.s.Notify()
			}
		})
	}
	nw.set(false)
	minute := func() { clk.Advance(time.Minute); r.s.Notify() }
	stepUntil(t, r, minute, webhook.NoticeOnline)
	delivered := 0
	for delivered < endpoints*events {
		// The clock moves while nothing comes: a delivery whose one
		// failed attempt set its next attempt past the clock's last move
		// waits for the clock, as it would on a real one.
		n := stepUntil(t, r, minute, webhook.NoticeDelivered, webhook.NoticeDead, webhook.NoticeFailed, webhook.NoticeDisabled)
		if n.Kind != webhook.NoticeDelivered {
			t.Fatalf("after recovery: %s notice %+v", n.Kind, n)
		}
		delivered++
	}
	for i, rv := range rvs {
		rv.checkSignatures(t)
		ids := map[string]bool{}
		for _, g := range rv.requests() {
			ids[g.ID] = true
		}
		if len(ids) != events {
			t.Errorf("receiver %d got %d distinct events, want %d", i, len(ids), events)
		}
	}
	if n := dbtest.Count(t, d, "webhook deliveries:dead"); n != 0 {
		t.Errorf("%d dead deliveries after the outage", n)
	}
	for _, ep := range eps {
		e, err := d.Endpoint(context.Background(), ep)
		if err != nil || !e.Enabled {
			t.Errorf("endpoint %s after the outage: enabled=%v (%v)", ep, e.Enabled, err)
		}
	}
	logs, err := d.Attempts(context.Background(), db.AttemptFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, l := range logs {
		switch l.ErrorClass {
		case "":
		case webhook.ClassOffline:
			failed++
		default:
			t.Errorf("attempt %s #%d failed with class %q, want offline", l.DeliveryID, l.Attempt, l.ErrorClass)
		}
	}
	if failed == 0 || failed > endpoints {
		t.Errorf("%d failed attempts logged, want one per endpoint at most (the ones that found the network down)", failed)
	}
}

// TestBadEndpointAmongGoodIsDisabled: one endpoint unreachable while two
// others answer. Its failures are its own (a probe reaches the others),
// so they count: warnings at 15 and 24, disabled at 30.
func TestBadEndpointAmongGoodIsDisabled(t *testing.T) {
	clk, d, nw, rvs, eps, opts := offlineSetup(t, 3, 8)
	bad := rvs[0].srv.Listener.Addr().String()
	nw.set(false, bad)
	opts.Retries = []time.Duration{time.Minute, time.Minute, time.Minute}
	r := startSender(t, d, opts)
	var warnings []int
	counted := 0
	for disabled := false; !disabled; {
		n := r.next(t, webhook.NoticeFailed, webhook.NoticeDead, webhook.NoticePaused, webhook.NoticeWarning,
			webhook.NoticeDisabled, webhook.NoticeOffline)
		switch {
		case n.Kind == webhook.NoticeOffline:
			// The very first failure may come before any other endpoint
			// answered: then a probe finds them and sending resumes. A
			// probe that ran before the scheduler knew the good endpoints
			// failed and set the next one a wait later, on the fake clock:
			// move it until one succeeds.
			waitFor(t, "a probe finding the good endpoints", func() bool { return !r.s.Offline() },
				func() { clk.Advance(time.Minute); r.s.Notify() })
			continue
		case n.Kind == webhook.NoticeWarning:
			if n.EndpointID != eps[0] || n.Budget != 30 {
				t.Errorf("warning %+v", n)
			}
			warnings = append(warnings, n.Failures)
		case n.Kind == webhook.NoticeDisabled:
			disabled = true
		case n.EndpointID != eps[0]:
			t.Fatalf("a good endpoint failed: %+v", n)
		case n.ErrorClass != webhook.ClassOffline:
			counted++
		}
		if n.Kind == webhook.NoticeFailed || n.Kind == webhook.NoticeOffline {
			clk.Advance(time.Minute)
			r.s.Notify()
		}
		if counted > 40 {
			t.Fatal("40 failures and the bad endpoint is still enabled")
		}
	}
	if counted != 30 {
		t.Errorf("disabled after %d counted failures, want 30", counted)
	}
	if fmt.Sprint(warnings) != "[15 24]" {
		t.Errorf("warnings at %v failures, want [15 24]", warnings)
	}
	for _, ep := range eps[1:] {
		if e, _ := d.Endpoint(context.Background(), ep); !e.Enabled || e.Delivered != 8 {
			t.Errorf("good endpoint %s: enabled=%v delivered=%d", ep, e.Enabled, e.Delivered)
		}
	}
}

// sleepyTransport delivers; its first attempt lasts while the machine
// sleeps an hour (the wall clock moves, the monotonic one does not) and
// fails without an answer, as a connection cut by the suspend does.
type sleepyTransport struct {
	clk   *fakeClock
	slept *atomic.Int64
	n     atomic.Int64
}

func (s *sleepyTransport) Deliver(_ context.Context, d webhook.Delivery) webhook.Result {
	start := s.clk.Now()
	if s.n.Add(1) == 1 {
		s.slept.Add(int64(time.Hour))
		s.clk.Advance(time.Hour)
		return webhook.Result{Started: start, Duration: s.clk.Now().Sub(start), Class: webhook.ClassTimeout, Err: "context deadline exceeded"}
	}
	return webhook.Result{Started: start, StatusCode: http.StatusOK}
}

// TestSleepDuringAttemptIsNotCounted: an attempt that spans a suspend
// fails without using a retry or counting toward auto-disable; the
// sender goes offline, probes, and delivers.
func TestSleepDuringAttemptIsNotCounted(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	ep, _ := dbtest.SeedEndpoint(t, d, "http://127.0.0.1:9/hook")
	dbtest.SeedEvents(t, d, `{"event":"ticket.suggested"}`)
	var slept atomic.Int64
	start := clk.Now()
	opts := fastOptions(clk)
	opts.Mono = func() time.Duration { return clk.Now().Sub(start) - time.Duration(slept.Load()) }
	opts.Transports = map[string]webhook.Transport{webhook.KindWebhook: &sleepyTransport{clk: clk, slept: &slept}}
	r := startSender(t, d, opts)
	// The offline notice and the attempt's come in either order.
	for seen := 0; seen < 2; seen++ {
		n := r.next(t, webhook.NoticeFailed, webhook.NoticeDead, webhook.NoticeDelivered, webhook.NoticeOffline)
		if n.Kind != webhook.NoticeOffline && (n.Kind != webhook.NoticeFailed || n.ErrorClass != webhook.ClassOffline) {
			t.Fatalf("attempt across the sleep: %s class %q, want failed class offline", n.Kind, n.ErrorClass)
		}
	}
	stepUntil(t, r, func() { clk.Advance(time.Minute); r.s.Notify() }, webhook.NoticeOnline)
	n := r.next(t, webhook.NoticeDelivered, webhook.NoticeFailed, webhook.NoticeDead)
	if n.Kind != webhook.NoticeDelivered {
		t.Fatalf("after the wake-up: %+v", n)
	}
	dl, err := d.Delivery(context.Background(), n.DeliveryID, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if dl.Attempts != 2 {
		t.Errorf("%d attempts logged, want 2", dl.Attempts)
	}
	if e, _ := d.Endpoint(context.Background(), ep); !e.Enabled {
		t.Error("endpoint disabled")
	}
}

// TestDrainGivesUpOffline: "send --once" while offline waits
// OfflineTimeout, then returns an error wrapping ErrOffline; nothing is
// dead, the deliveries wait for the next run.
func TestDrainGivesUpOffline(t *testing.T) {
	clk, d, nw, _, _, opts := offlineSetup(t, 2, 3)
	nw.set(true)
	s := webhook.NewSender(d, opts)
	offline := make(chan struct{})
	go func() {
		for n := range s.Events() {
			if n.Kind == webhook.NoticeOffline {
				close(offline)
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- s.Drain(context.Background()) }()
	select {
	case <-offline:
	case <-time.After(20 * time.Second):
		t.Fatal("no offline notice")
	}
	for i := 0; ; i++ {
		clk.Advance(time.Minute)
		s.Notify()
		select {
		case err := <-done:
			if !errors.Is(err, webhook.ErrOffline) {
				t.Fatalf("Drain offline: %v, want ErrOffline", err)
			}
			if n := dbtest.Count(t, d, "webhook deliveries:dead"); n != 0 {
				t.Errorf("%d dead deliveries", n)
			}
			if n := dbtest.Count(t, d, "webhook deliveries:delivered"); n != 0 {
				t.Errorf("%d delivered while offline", n)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if i > 400 {
			t.Fatal("Drain did not give up offline")
		}
	}
}

// stepUntil waits for a notice of one of kinds, skipping others; while
// none comes it runs step (the clock moves, the sender is woken), so a
// timer armed from a reading of the clock just before a move cannot
// strand the test. Bounded: 400 steps.
func stepUntil(t *testing.T, r *running, step func(), kinds ...webhook.NoticeKind) webhook.Notice {
	t.Helper()
	for range 400 {
		select {
		case n, ok := <-r.s.Events():
			if !ok {
				t.Fatal("events channel closed")
			}
			if n.Kind == webhook.NoticeError {
				t.Fatalf("sender error: %s", n.Error)
			}
			if slices.Contains(kinds, n.Kind) {
				return n
			}
			continue
		case <-time.After(50 * time.Millisecond):
		}
		step()
	}
	t.Fatalf("no %v notice after 400 steps", kinds)
	return webhook.Notice{}
}
