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
// BatchSize) and records them in one transaction. A batch the store
// refuses is held and written again (see hold); it is never dropped while
// the run lasts.
func (s *Sender) write(ctx context.Context, outcomes <-chan Outcome) {
	policy := s.policy()
	batch := make([]Outcome, 0, s.opts.BatchSize)
	busy := false
	for o := range outcomes {
		batch = append(batch[:0], o)
		closed, expired := false, false
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
			select { // take what is ready
			case o, ok := <-outcomes:
				if !ok {
					closed = true
					break fill
				}
				batch = append(batch, o)
				continue
			default:
			}
			if deadline == nil {
				break fill
			}
			if len(outcomes) == 0 && s.inFlight.Load() == 0 && s.inJobs.Load() == 0 {
				break fill // nothing is being attempted: nothing to wait for
			}
			// Sleep until the deadline, not until the next outcome: a
			// writer woken by each outcome cost a goroutine hand-off per
			// attempt. Workers wake it when nothing is left in flight or
			// the channel fills (wakeWriter).
			select {
			case <-deadline:
				deadline, expired = nil, true // take what is ready, then commit
			case <-s.writerWake:
			}
		}
		if timer != nil {
			timer.Stop()
		}
		// Busy: the batch filled up, or its wait ran out while attempts
		// were still being made (the writer stops waiting as soon as none
		// is). Judged by the size alone, a run of small batches kept the
		// short wait: at a thousand outcomes a second or under load, each
		// 1 ms wait took fewer than busyBatch, so the next waited 1 ms
		// again — a hundred commits of 10 to 40 outcomes at the start of
		// a run, each writing the pages it touched.
		busy = len(batch) >= min(busyBatch, s.opts.BatchSize) || expired
		if err := s.flush(ctx, batch, policy); err != nil {
			closed = s.hold(ctx, batch, policy, outcomes, closed, err)
		}
		if closed {
			return
		}
	}
}

// wakeWriter ends the writer's wait for more outcomes when it has no
// reason to go on: no attempt is in flight or handed out (the last
// outcomes are in), or outcomes is half full. A worker calls it after
// sending an outcome and when its job ends.
func (s *Sender) wakeWriter(outcomes chan<- Outcome) {
	if len(outcomes) >= cap(outcomes)/2 || s.inFlight.Load() == 0 && s.inJobs.Load() == 0 {
		select {
		case s.writerWake <- struct{}{}:
		default:
		}
	}
}

func (s *Sender) policy() DisablePolicy {
	n := s.opts.DisableAfter
	var warn []int
	// Warnings at half and four fifths of the budget (15 and 24 of 30).
	for _, w := range []int{n / 2, n * 4 / 5} {
		if w > 0 && w < n && (len(warn) == 0 || w > warn[len(warn)-1]) {
			warn = append(warn, w)
		}
	}
	return DisablePolicy{
		After:  n,
		Window: s.opts.DisableWindow,
		Reason: fmt.Sprintf("auto-disabled: %d failed attempts in %s", n, fmtDuration(s.opts.DisableWindow)),
		WarnAt: warn,
	}
}

// hold keeps a batch the store refused and writes it again — the write,
// never the attempts: they happened — after StoreRetry, doubling up to
// StoreRetryMax, until the store records it or the run ends. Outcomes
// still arriving join the batch. Meanwhile the sender is paused: workers
// start no attempt and the scheduler hands out no job, so a store that
// cannot record never turns into a stream of POSTs; the held deliveries
// stay blocked (a failed one) or skipped (a delivered one) in the
// scheduler until the commit. It returns whether outcomes was closed.
func (s *Sender) hold(ctx context.Context, batch []Outcome, policy DisablePolicy, outcomes <-chan Outcome, closed bool, err error) bool {
	delay := s.opts.StoreRetry
	s.setPaused(s.opts.Now(), err)
	s.queueImportant(Notice{Kind: NoticeError, At: s.opts.Now(), StorePaused: true, Error: pausedText(len(batch), delay, err)})
	for {
		if !closed {
			batch, closed = collect(batch, outcomes, s.opts.After(delay))
		}
		err = s.flush(ctx, batch, policy)
		if err == nil {
			s.setPaused(time.Time{}, nil)
			s.queueImportant(Notice{Kind: NoticeResumed, At: s.opts.Now()})
			return closed
		}
		if closed {
			// The run is over: these attempts stay unrecorded, their
			// deliveries as the store last had them; the next run sends
			// them again, with the same webhook-id, when they are due.
			s.queueImportant(Notice{Kind: NoticeError, At: s.opts.Now(), StorePaused: true, Error: fmt.Sprintf(
				"store cannot record: %d attempts made were not recorded; their deliveries stay as they were and the next run sends them again: %v", len(batch), err)})
			return true
		}
		delay = min(2*delay, s.opts.StoreRetryMax)
		s.mu.Lock()
		s.storeErr = err
		s.mu.Unlock()
		s.progress(Notice{Kind: NoticeError, At: s.opts.Now(), StorePaused: true, Error: pausedText(len(batch), delay, err)})
	}
}

func pausedText(held int, next time.Duration, err error) string {
	return fmt.Sprintf("store cannot record: sending paused (%d attempts held, next write in %s): %v", held, fmtDuration(next), err)
}

// collect adds the outcomes arriving before timer fires to batch; it
// reports whether outcomes was closed (which ends the wait at once).
func collect(batch []Outcome, outcomes <-chan Outcome, timer <-chan time.Time) ([]Outcome, bool) {
	for {
		select {
		case o, ok := <-outcomes:
			if !ok {
				return batch, true
			}
			batch = append(batch, o)
		case <-timer:
			return batch, false
		}
	}
}

// setPaused records that the store refused to record since since (zero:
// it records again), wakes the scheduler, and lets Paused report it.
func (s *Sender) setPaused(since time.Time, err error) {
	s.mu.Lock()
	s.pausedSince, s.storeErr = since, err
	s.mu.Unlock()
	s.paused.Store(!since.IsZero())
	s.poke()
}

// Paused reports whether sending is paused because the store cannot
// record attempts: no attempt is made until it records again (a
// NoticeResumed follows). Safe to call from any goroutine.
func (s *Sender) Paused() bool { return s.paused.Load() }

// flush records batch in one transaction. On success it hands the commit
// to the scheduler and reports the outcomes; on failure it changes
// nothing and returns the store's error.
func (s *Sender) flush(ctx context.Context, batch []Outcome, policy DisablePolicy) error {
	disabled, err := s.active.Record(ctx, batch, policy)
	if err != nil {
		return err // the store says what failed
	}
	var c commit
	for _, o := range batch {
		c.ids = append(c.ids, o.Delivery.ID)
		if o.Status != StatusDelivered {
			c.queues = append(c.queues, o.Delivery.Queue)
		}
	}
	for _, d := range disabled {
		if !d.Warning {
			c.disabled = append(c.disabled, d.EndpointID)
		}
	}
	s.mu.Lock()
	s.committed = append(s.committed, c)
	s.mu.Unlock()
	s.poke()
	isDisabled := map[string]bool{}
	for _, d := range disabled {
		isDisabled[d.EndpointID] = isDisabled[d.EndpointID] || !d.Warning
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
			s.tally.delivered.Add(1)
		case o.Status == StatusDead:
			n.Kind = NoticeDead
			s.tally.dead.Add(1)
		case isDisabled[d.EndpointID] || r.Disable != "":
			n.Kind = NoticePaused
			s.tally.failed.Add(1)
		default:
			n.Kind, n.NextAttemptAt = NoticeFailed, o.NextAttemptAt
			if r.Class != ClassOffline {
				s.tally.failed.Add(1)
			}
		}
		s.progress(n)
	}
	for _, d := range disabled {
		if !d.Warning {
			s.tally.disabled.Add(1)
		}
		if d.Warning {
			s.queueImportant(Notice{Kind: NoticeWarning, At: d.At, EndpointID: d.EndpointID, Failures: d.Failures,
				Budget: policy.After, Error: fmt.Sprintf("%d of %d failed attempts in %s: disabled at %d",
					d.Failures, policy.After, fmtDuration(policy.Window), policy.After)})
			continue
		}
		s.queueImportant(Notice{Kind: NoticeDisabled, At: d.At, EndpointID: d.EndpointID, Error: d.Reason})
	}
	return nil
}

// Tally reports what this sender's runs recorded so far. Safe to call
// from any goroutine; exact once Run or Drain has returned.
func (s *Sender) Tally() Tally {
	return Tally{Delivered: int(s.tally.delivered.Load()), Failed: int(s.tally.failed.Load()),
		Dead: int(s.tally.dead.Load()), Disabled: int(s.tally.disabled.Load())}
}

// queueImportant queues a notice that must not be dropped (see forward).
func (s *Sender) queueImportant(n Notice) {
	s.mu.Lock()
	s.important = append(s.important, n)
	s.mu.Unlock()
	select {
	case s.impWake <- struct{}{}:
	default:
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
