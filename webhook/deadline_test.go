package webhook

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitDone waits for ctx to be done, failing after a bound far above the
// timeouts used here.
func waitDone(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt's context never expired")
	}
}

// TestAttemptClockExpiresLikeWithTimeout: an attempt's context expires
// after the timeout and reads as a context.WithTimeout's would (Err,
// Cause, Deadline); the next attempt gets a live context, which expires
// in turn; one that was stopped in time is reused, and its timer is
// armed again for the attempt after it.
func TestAttemptClockExpiresLikeWithTimeout(t *testing.T) {
	const timeout = 20 * time.Millisecond
	c := newAttemptClock(context.Background(), timeout)
	defer c.close()
	before := time.Now()
	ctx := c.start()
	if d, ok := ctx.Deadline(); !ok || d.Before(before.Add(timeout)) || d.After(time.Now().Add(timeout)) {
		t.Errorf("Deadline() = %v, %v; want about %v", d, ok, before.Add(timeout))
	}
	waitDone(t, ctx)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("expired: Err %v, Cause %v; want context.DeadlineExceeded", ctx.Err(), context.Cause(ctx))
	}
	c.stop()

	for i := range 3 {
		next := c.start()
		if err := next.Err(); err != nil {
			t.Fatalf("attempt %d after an expired one starts done: %v", i, err)
		}
		first := c.ctx
		c.stop()
		if c.ctx != nil && c.ctx != first {
			t.Fatalf("attempt %d: stop replaced a live context", i)
		}
	}
	ctx = c.start()
	waitDone(t, ctx)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("a reused context: Err %v, want context.DeadlineExceeded (the timer was not armed again)", ctx.Err())
	}
	c.stop()
	if c.ctx != nil {
		t.Error("an expired context is kept for the next attempt")
	}
}

// TestAttemptClockFollowsItsParent: the parent's cancellation ends the
// attempt, with the parent's error, not a timeout.
func TestAttemptClockFollowsItsParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c := newAttemptClock(parent, time.Hour)
	defer c.close()
	ctx := c.start()
	cancel()
	waitDone(t, ctx)
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("Err %v, want context.Canceled", ctx.Err())
	}
	c.stop()
	if c.ctx != nil {
		t.Error("a context its parent ended is kept for the next attempt")
	}
}
