package webhook

import (
	"context"
	"time"
)

// attemptClock bounds a worker's attempts by Options.Timeout each with one
// cancellable context and one timer, both reused from attempt to attempt:
// a context.WithTimeout per attempt cost a context, a runtime timer, a
// done channel and an entry in its parent's children (about 500 bytes
// and 3 % of the sender's CPU at 20,000 attempts a second). The timer
// cancels the context with context.DeadlineExceeded as its cause, which
// is what net/http reports (it returns context.Cause); a context the
// timer fired on is not reused. Not safe for concurrent use: one per
// worker.
type attemptClock struct {
	parent  context.Context
	timeout time.Duration
	ctx     context.Context // nil: none yet, or the last one expired
	cancel  context.CancelCauseFunc
	timer   *time.Timer
}

func newAttemptClock(parent context.Context, timeout time.Duration) *attemptClock {
	return &attemptClock{parent: parent, timeout: timeout}
}

// start returns the context of an attempt starting now: done when the
// timeout passes (Err and Cause then say context.DeadlineExceeded, as a
// context.WithTimeout's would) or the parent is done. Call stop when the
// attempt returns.
func (c *attemptClock) start() context.Context {
	deadline := time.Now().Add(c.timeout)
	if c.ctx == nil {
		ctx, cancel := context.WithCancelCause(c.parent)
		c.ctx, c.cancel = ctx, cancel
		c.timer = time.AfterFunc(c.timeout, func() { cancel(context.DeadlineExceeded) })
	} else {
		c.timer.Reset(c.timeout)
	}
	return &deadlineCtx{Context: c.ctx, deadline: deadline}
}

// stop ends the attempt that start began. When the timer has fired (or
// is firing) its context is spent: the next attempt gets a new one.
func (c *attemptClock) stop() {
	if c.timer.Stop() && c.ctx.Err() == nil {
		return
	}
	c.cancel(context.DeadlineExceeded)
	c.ctx, c.cancel, c.timer = nil, nil, nil
}

// close releases the context and the timer.
func (c *attemptClock) close() {
	if c.ctx != nil {
		c.timer.Stop()
		c.cancel(context.Canceled)
		c.ctx, c.cancel, c.timer = nil, nil, nil
	}
}

// deadlineCtx is an attempt's context: the worker's cancellable context
// with the attempt's own deadline (a transport may set its connection's
// deadline from it, as the SMTP transport does), and Err saying
// context.DeadlineExceeded once the timer expired it. It adds no
// cancellation of its own, so a context derived from it registers
// directly with the worker's.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if p, ok := c.Context.Deadline(); ok && p.Before(c.deadline) {
		return p, true
	}
	return c.deadline, true
}

func (c *deadlineCtx) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}
