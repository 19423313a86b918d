package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// fakeClock is the injected clock: Now and After never depend on real time.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newClock() *fakeClock {
	// Start at the real time so the verifier's 5-minute tolerance holds for
	// short schedules; longer ones fall back to an exact timestamp check.
	return &fakeClock{t: time.Now().Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.t.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.t) {
			w.ch <- c.t
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// mustOpenDB opens a store in a temp dir with the clock (nil: the wall
// clock).
func mustOpenDB(tb testing.TB, now func() time.Time) *db.DB {
	tb.Helper()
	d := dbtest.MustOpen(tb)
	if now != nil {
		d.Now = now
	}
	return d
}

// received is one request seen by a receiver.
type received struct {
	ID        string
	Timestamp string
	Signature string
	Body      string
	Status    int
	UA        string
}

// receiver is a real net/http server on 127.0.0.1 that verifies every
// request with the independent standard-webhooks verifier, for each of its
// secrets, and answers with respond's status.
type receiver struct {
	tb      testing.TB
	srv     *httptest.Server
	clock   func() time.Time
	mu      sync.Mutex
	secrets []string
	got     []received
	bad     []string
	respond func(n int, w http.ResponseWriter, r *http.Request) int
}

func newReceiver(tb testing.TB, clock func() time.Time, secrets ...string) *receiver {
	tb.Helper()
	rv := &receiver{tb: tb, clock: clock, secrets: secrets}
	rv.srv = httptest.NewServer(http.HandlerFunc(rv.serve))
	tb.Cleanup(rv.srv.Close)
	return rv
}

func (rv *receiver) setSecrets(s ...string) {
	rv.mu.Lock()
	rv.secrets = s
	rv.mu.Unlock()
}

func (rv *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	secrets := rv.secrets
	respond := rv.respond
	n := len(rv.got)
	rv.mu.Unlock()
	for _, s := range secrets {
		if err := verifyIndependently(s, body, r.Header, rv.clock); err != nil {
			rv.mu.Lock()
			rv.bad = append(rv.bad, err.Error())
			rv.mu.Unlock()
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
	}
	status := http.StatusOK
	if respond != nil {
		status = respond(n, w, r)
	}
	rv.mu.Lock()
	rv.got = append(rv.got, received{
		ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
		Signature: r.Header.Get("webhook-signature"), Body: string(body), Status: status, UA: r.Header.Get("User-Agent"),
	})
	rv.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
	}
}

// verifyIndependently runs the standard-webhooks library. When the injected
// clock has moved past the library's 5-minute tolerance (which reads the
// real clock), it checks the signature without the tolerance and the
// timestamp exactly against the injected clock instead.
func verifyIndependently(secret string, body []byte, h http.Header, clock func() time.Time) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	err = wh.Verify(body, h)
	if !errors.Is(err, standardwebhooks.ErrMessageTooOld) && !errors.Is(err, standardwebhooks.ErrMessageTooNew) {
		return err
	}
	if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
		return err
	}
	ts, _ := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if clock == nil || ts != clock().Unix() {
		return errors.New("timestamp is neither fresh nor the injected clock's")
	}
	return nil
}

func (rv *receiver) requests() []received {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]received(nil), rv.got...)
}

func (rv *receiver) checkSignatures(tb testing.TB) {
	tb.Helper()
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if len(rv.bad) > 0 {
		tb.Fatalf("independent verifier rejected %d deliveries: %v", len(rv.bad), rv.bad)
	}
}

// running is a sender started in the background, stopped at cleanup.
type running struct {
	s      *webhook.Sender
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startSender(tb testing.TB, d *db.DB, opts webhook.Options) *running {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := webhook.NewSender(d, opts)
	r := &running{s: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	tb.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.once.Do(func() {
		r.cancel()
		<-r.done
	})
}

// next returns the next notice of one of kinds (others are skipped),
// failing after a generous real-time bound.
func (r *running) next(tb testing.TB, kinds ...webhook.NoticeKind) webhook.Notice {
	tb.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case n, ok := <-r.s.Events():
			if !ok {
				tb.Fatal("events channel closed")
			}
			if n.Kind == webhook.NoticeError {
				tb.Fatalf("sender error: %s", n.Error)
			}
			for _, k := range kinds {
				if n.Kind == k {
					return n
				}
			}
		case <-deadline:
			tb.Fatalf("no %v notice within 20s", kinds)
		}
	}
}

func fastOptions(c *fakeClock) webhook.Options {
	return webhook.Options{Now: c.Now, After: c.After, Timeout: 2 * time.Second, Guard: webhook.Guard{AllowPrivate: true}}
}

// pending returns how many timers wait on the clock.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}
