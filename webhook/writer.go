package webhook

import (
	"context"
	"fmt"
	"time"
)

// busyBatch is the batch size from which the writer considers itself
// under load and waits BusyFlushDelay for the next batch.
const busyBatch = 64

// write is the group-commit writer: it takes every outcome available (up to
// BatchSize) and records them in one transaction.
func (s *Sender) write(ctx context.Context, outcomes <-chan Outcome) {
	policy := DisablePolicy{
		After:  s.opts.DisableAfter,
		Window: s.opts.DisableWindow,
		Reason: fmt.Sprintf("auto-disabled: %d failed attempts in %s", s.opts.DisableAfter, fmtDuration(s.opts.DisableWindow)),
	}
	batch := make([]Outcome, 0, s.opts.BatchSize)
	busy := false
	for o := range outcomes {
		batch = append(batch[:0], o)
		closed := false
		var timer *time.Timer
		var deadline <-chan time.Time // nil: take only what is ready
		if wait := s.opts.FlushDelay; wait > 0 {
			if busy {
				wait = max(wait, s.opts.BusyFlushDelay)
			}
			timer = time.NewTimer(wait)
			deadline = timer.C
		}
	fill:
		for len(batch) < s.opts.BatchSize {
			if deadline == nil {
				select {
				case o, ok := <-outcomes:
					if !ok {
						closed = true
						break fill
					}
					batch = append(batch, o)
					continue
				default:
					break fill
				}
			}
			select {
			case o, ok := <-outcomes:
				if !ok {
					closed = true
					break fill
				}
				batch = append(batch, o)
			case <-deadline:
				break fill
			}
		}
		if timer != nil {
			timer.Stop()
		}
		busy = len(batch) >= min(busyBatch, s.opts.BatchSize)
		s.flush(ctx, batch, policy)
		if closed {
			return
		}
	}
}

func (s *Sender) flush(ctx context.Context, batch []Outcome, policy DisablePolicy) {
	disabled, err := s.active.Record(ctx, batch, policy)
	c := commit{failed: err != nil}
	for _, o := range batch {
		c.ids = append(c.ids, o.Delivery.ID)
		if o.Status != StatusDelivered {
			c.queues = append(c.queues, o.Delivery.Queue)
		}
	}
	for _, d := range disabled {
		c.disabled = append(c.disabled, d.EndpointID)
	}
	s.mu.Lock()
	s.committed = append(s.committed, c)
	s.mu.Unlock()
	s.poke()
	if err != nil {
		s.progress(Notice{Kind: NoticeError, At: s.opts.Now(), Error: fmt.Sprintf("record %d attempts: %v (they will be retried)", len(batch), err)})
		return
	}
	isDisabled := map[string]bool{}
	for _, d := range disabled {
		isDisabled[d.EndpointID] = true
	}
	for _, o := range batch {
		d, r := o.Delivery, o.Result
		n := Notice{
			At: r.Started.Add(r.Duration), DeliveryID: d.ID, EndpointID: d.EndpointID, WebhookID: d.WebhookID,
			URL: d.URL, Test: d.Test, Attempt: d.Attempts + 1, StatusCode: r.StatusCode, Duration: r.Duration,
			ErrorClass: r.Class, Error: r.Err,
		}
		switch {
		case o.Status == StatusDelivered:
			n.Kind = NoticeDelivered
		case o.Status == StatusDead:
			n.Kind = NoticeDead
		case isDisabled[d.EndpointID] || r.Disable != "":
			n.Kind = NoticePaused
		default:
			n.Kind, n.NextAttemptAt = NoticeFailed, o.NextAttemptAt
		}
		s.progress(n)
	}
	for _, d := range disabled {
		s.mu.Lock()
		s.important = append(s.important, Notice{Kind: NoticeDisabled, At: d.At, EndpointID: d.EndpointID, Error: d.Reason})
		s.mu.Unlock()
		select {
		case s.impWake <- struct{}{}:
		default:
		}
	}
}

// progress sends a notice that may be dropped when nobody keeps up.
func (s *Sender) progress(n Notice) {
	select {
	case s.events <- n:
	default:
	}
}

// importantGrace bounds how long a stopping sender keeps handing over the
// notices that must not be dropped: a subscriber that stopped reading must
// not hold the shutdown.
const importantGrace = time.Second

// forward delivers the notices that must not be dropped, blocking until
// the subscriber takes them. When the sender stops, every such notice is
// already queued (the writer has returned): forward hands over those left,
// within importantGrace, then returns.
func (s *Sender) forward(stop <-chan struct{}) {
	var grace <-chan time.Time // set when stop closes
	for {
		s.mu.Lock()
		var n Notice
		ok := len(s.important) > 0
		if ok {
			n, s.important = s.important[0], s.important[1:]
		}
		s.mu.Unlock()
		if !ok {
			if stop == nil {
				return // stopped, and everything handed over
			}
			select {
			case <-s.impWake:
			case <-stop:
				stop, grace = nil, time.After(importantGrace)
			}
			continue
		}
		for sent := false; !sent; {
			select {
			case s.events <- n:
				sent = true
			case <-stop:
				stop, grace = nil, time.After(importantGrace)
			case <-grace:
				return
			}
		}
	}
}
