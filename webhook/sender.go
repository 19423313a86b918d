package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotFound is wrapped by Store.Delivery when no delivery has the id.
var ErrNotFound = errors.New("not found")

// ErrRunning is returned by Run when the sender is already running.
var ErrRunning = errors.New("sender already running")

// Options configures a Sender; zero fields take the DESIGN.md defaults.
type Options struct {
	// Timeout bounds one attempt (default 5s).
	Timeout time.Duration
	// Retries are the delays before each retry (default 30s, 60s, 90s);
	// after the last one fails the delivery is dead.
	Retries []time.Duration
	// DisableAfter failed attempts within DisableWindow disable an
	// endpoint (defaults 30 and 30m).
	DisableAfter  int
	DisableWindow time.Duration
	// Workers bounds attempts in flight across queues (default 8).
	Workers int
	// Now is the clock (default time.Now); After makes the timer that wakes
	// the sender for the next scheduled retry (default time.After). Tests
	// inject both and never sleep.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Transports maps an outbox kind to its transport. A nil map gets a
	// webhook HTTPTransport built from Guard and UserAgent; kinds without a
	// transport are left alone.
	Transports map[string]Transport
	Guard      Guard
	UserAgent  string
	// BatchSize bounds the outcomes written per group commit (default 1024).
	BatchSize int
	// FlushDelay is how long the writer waits for more outcomes before
	// committing a batch that is not full (default 1ms; negative: never).
	// Under load (the previous batch held at least 64 outcomes) it waits
	// up to BusyFlushDelay instead (default 5 × FlushDelay). Bigger
	// batches amortise the transaction and write each touched page once;
	// nothing waits on the commit of a delivered attempt, so the delay
	// costs no throughput.
	FlushDelay     time.Duration
	BusyFlushDelay time.Duration
	// Prefetch is how many deliveries per queue are read ahead (default 256).
	Prefetch int
	// Poll, when positive, rescans the outbox at this interval as well, for
	// deliveries enqueued by other processes (which cannot call Notify).
	Poll time.Duration
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Retries == nil {
		o.Retries = []time.Duration{30 * time.Second, 60 * time.Second, 90 * time.Second}
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = 30
	}
	if o.DisableWindow <= 0 {
		o.DisableWindow = 30 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1024
	}
	if o.FlushDelay == 0 {
		o.FlushDelay = time.Millisecond
	}
	if o.BusyFlushDelay == 0 {
		o.BusyFlushDelay = 5 * o.FlushDelay
	}
	if o.Prefetch <= 0 {
		o.Prefetch = 256
	}
	return o
}

// NoticeKind says what a Notice reports.
type NoticeKind string

// Notice kinds. Disabled notices are never dropped; the others are
// progress and are dropped when the subscriber falls behind.
const (
	NoticeDelivered NoticeKind = "delivered"
	NoticeFailed    NoticeKind = "failed" // will be retried
	NoticeDead      NoticeKind = "dead"
	NoticePaused    NoticeKind = "paused" // failed; its endpoint is disabled
	NoticeDisabled  NoticeKind = "disabled"
	NoticeError     NoticeKind = "error" // the store failed; work is retried
)

// Notice is a progress report for the UI and "smista send", sent after the
// attempt was committed to the log.
type Notice struct {
	Kind          NoticeKind
	At            time.Time
	DeliveryID    string
	EndpointID    string
	WebhookID     string
	URL           string
	Test          bool
	Attempt       int
	StatusCode    int
	Duration      time.Duration
	ErrorClass    string
	Error         string // failure text, or the disable reason
	NextAttemptAt time.Time
}

// Sender is the outbox worker: one goroutine scheduling, a bounded pool of
// attempt workers, and one writer goroutine that group-commits the attempt
// log. It is owned by the caller, who runs Run and cancels its context.
type Sender struct {
	own    *HTTPTransport // the default transport, closed when Run returns
	store  Store
	active Store // the store of the current run (prepared when possible)
	opts   Options
	kinds  []string
	round  time.Duration

	wake   chan struct{} // Notify: something new in the outbox, rescan
	tick   chan struct{} // an attempt finished or a batch was committed
	events chan Notice

	// Stats: read-ahead not yet handed to a worker, handed over but not yet
	// attempted, attempts running.
	waiting  atomic.Int64
	inJobs   atomic.Int64
	inFlight atomic.Int64

	mu        sync.Mutex
	running   bool
	finished  []finish
	committed []commit
	stop      map[string]bool // queues whose running job must stop
	important []Notice
	impWake   chan struct{}
}

// busyBatch is the batch size from which the writer considers itself
// under load and waits BusyFlushDelay for the next batch.
const busyBatch = 64

// runLength bounds the deliveries of one queue handed to a worker at once,
// so that with more queues than workers every queue gets its turn.
const runLength = 64

// job is a run of one queue's due deliveries, in order.
type job struct {
	queue string
	items []Delivery
}

// finish reports one attempt (id set) or the end of a job (done, with the
// deliveries it did not attempt).
type finish struct {
	queue     string
	id        string
	seq       int64
	delivered bool
	done      bool
	stopped   bool // the scheduler stopped the job: rest is stale
	rest      []Delivery
}

type commit struct {
	ids      []string
	queues   []string // queues whose head was not delivered
	disabled []string
	failed   bool
}

// NewSender returns a sender over store. Call Run to start it.
func NewSender(store Store, opts Options) *Sender {
	opts = opts.withDefaults()
	var own *HTTPTransport
	if opts.Transports == nil {
		own = NewHTTPTransport(HTTPOptions{Guard: opts.Guard, Now: opts.Now, UserAgent: opts.UserAgent})
		opts.Transports = map[string]Transport{KindWebhook: own}
	}
	s := &Sender{
		own:     own,
		store:   store,
		opts:    opts,
		wake:    make(chan struct{}, 1),
		tick:    make(chan struct{}, 1),
		events:  make(chan Notice, 1024),
		impWake: make(chan struct{}, 1),
		stop:    map[string]bool{},
	}
	for k := range opts.Transports {
		s.kinds = append(s.kinds, k)
	}
	for _, r := range opts.Retries {
		s.round += r
	}
	return s
}

// Notify wakes the sender after an enqueue, an enable or a replay. It never
// blocks.
func (s *Sender) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sender) poke() {
	select {
	case s.tick <- struct{}{}:
	default:
	}
}

// Stats reports, cheaply (atomics, no query), the deliveries the sender
// holds waiting for their turn — read from the outbox, due or scheduled,
// at most Options.Prefetch per queue, so a lower bound of the backlog —
// and the attempts in flight now. Safe to call from any goroutine.
func (s *Sender) Stats() (queued, inFlight int) {
	return int(s.waiting.Load() + s.inJobs.Load()), int(s.inFlight.Load())
}

// Events returns the notice channel. It is closed when Run returns.
func (s *Sender) Events() <-chan Notice { return s.events }

// Run delivers until ctx is cancelled, then waits for the attempts in
// flight (each bounded by Options.Timeout), flushes the attempt log and
// returns nil. It returns ErrRunning if called twice.
func (s *Sender) Run(ctx context.Context) error { return s.run(ctx, false) }

// Drain delivers until no delivery is pending or retrying — waiting out
// scheduled retries — or ctx is cancelled, then shuts down like Run.
func (s *Sender) Drain(ctx context.Context) error { return s.run(ctx, true) }

func (s *Sender) run(ctx context.Context, once bool) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrRunning
	}
	s.running = true
	s.mu.Unlock()
	defer close(s.events)
	s.active = s.store
	if p, ok := s.store.(Preparer); ok {
		ps := p.PrepareStore()
		defer ps.Close()
		s.active = ps
	}

	bg := context.WithoutCancel(ctx)
	jobs := make(chan job, s.opts.Workers)
	outcomes := make(chan Outcome, s.opts.BatchSize)
	var workers, writer sync.WaitGroup
	for range s.opts.Workers {
		workers.Go(func() { s.work(ctx, bg, jobs, outcomes) })
	}
	writer.Go(func() { s.write(bg, outcomes) })
	fwdStop := make(chan struct{})
	var fwd sync.WaitGroup
	fwd.Go(func() { s.forward(fwdStop) })

	err := s.schedule(ctx, jobs, once)
	s.waiting.Store(0) // the read-ahead is dropped

	close(jobs)
	workers.Wait()
	close(outcomes)
	writer.Wait()
	close(fwdStop)
	fwd.Wait()
	if s.own != nil {
		s.own.Close()
	}
	return err
}

// schedule is the scheduler loop; it owns the queue state.
func (s *Sender) schedule(ctx context.Context, jobs chan<- job, once bool) error {
	st := &schedState{queues: map[string]*queueState{}, sent: map[string]string{}}
	scanAll := true
	inflight := 0
	var timerAt time.Time
	var timerC <-chan time.Time
	var errBackoff time.Duration
	var lastScan time.Time
	fail := func(err error) {
		if ctx.Err() != nil {
			return // shutting down: the query was cancelled, not broken
		}
		s.progress(Notice{Kind: NoticeError, At: s.opts.Now(), Error: err.Error()})
		scanAll = true
		errBackoff = min(max(2*errBackoff, 100*time.Millisecond), 5*time.Second)
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		if scanAll {
			if err := s.scanAll(ctx, st); err != nil {
				fail(err)
			} else {
				scanAll, errBackoff, lastScan = false, 0, s.opts.Now()
			}
		}
		now := s.opts.Now()
		var next time.Time
		for q, qs := range st.queues {
			if qs.busy || qs.blocked {
				continue
			}
			qs.dropSent(st.sent)
			if len(qs.list) == 0 && !qs.complete {
				if err := s.reload(ctx, st, q); err != nil {
					fail(err)
					continue
				}
			}
			if len(qs.list) == 0 {
				if qs.complete && qs.nSent == 0 {
					delete(st.queues, q)
				}
				continue
			}
			head := qs.list[0]
			if head.NextAttemptAt.After(now) {
				if next.IsZero() || head.NextAttemptAt.Before(next) {
					next = head.NextAttemptAt
				}
				continue
			}
			if inflight >= s.opts.Workers {
				continue
			}
			// Hand over a run of the queue: the worker goes on to the next
			// delivery as soon as one is delivered, without a round trip
			// through this loop.
			n := min(len(qs.list), runLength)
			qs.busy = true
			inflight++
			s.inJobs.Add(int64(n))
			jobs <- job{queue: q, items: qs.list[:n:n]}
			qs.list = qs.list[n:]
		}
		waiting := 0
		for _, qs := range st.queues {
			waiting += len(qs.list)
		}
		s.waiting.Store(int64(waiting))
		if once && inflight == 0 && len(st.queues) == 0 && len(st.sent) == 0 && !scanAll {
			// Confirm with the store: something may have been queued behind
			// what this sender read.
			qs, err := s.active.Queues(ctx, s.kinds)
			if err != nil {
				fail(err)
			} else if len(qs) == 0 {
				return nil
			} else {
				scanAll = true
				continue
			}
		}
		if s.opts.Poll > 0 {
			if at := lastScan.Add(s.opts.Poll); next.IsZero() || at.Before(next) {
				next = at
			}
		}
		if errBackoff > 0 {
			if at := now.Add(errBackoff); next.IsZero() || at.Before(next) {
				next = at
			}
		}
		if next.IsZero() {
			timerAt, timerC = time.Time{}, nil
		} else if !next.Equal(timerAt) {
			timerAt, timerC = next, s.opts.After(next.Sub(now))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
			scanAll = true
		case <-s.tick:
		case <-timerC:
			timerAt, timerC = time.Time{}, nil
			if s.opts.Poll > 0 {
				scanAll = true
			}
		}
		s.mu.Lock()
		fin, com := s.finished, s.committed
		s.finished, s.committed = nil, nil
		s.mu.Unlock()
		for _, f := range fin {
			qs := st.queue(f.queue)
			if f.done {
				inflight--
				qs.busy = false
				if !qs.blocked && !f.stopped && len(f.rest) > 0 {
					qs.list = append(f.rest, qs.list...)
				}
				continue
			}
			if f.delivered {
				st.sent[f.id] = f.queue
				qs.nSent++
				qs.maxSent = max(qs.maxSent, f.seq)
			} else {
				qs.blocked = true
			}
		}
		for _, c := range com {
			for _, id := range c.ids {
				if q, ok := st.sent[id]; ok {
					delete(st.sent, id)
					qs := st.queue(q)
					if qs.nSent--; qs.nSent == 0 {
						qs.maxSent = 0
					}
				}
			}
			for _, q := range append(c.queues, c.disabled...) {
				qs := st.queue(q)
				qs.blocked, qs.complete, qs.list = false, false, nil
			}
			if c.failed {
				scanAll = true
			}
		}
	}
}

type queueState struct {
	list     []Delivery // read ahead, not dispatched, seq order
	complete bool       // list held the whole queue when read
	busy     bool       // an attempt is in flight
	blocked  bool       // the head failed; wait for its outcome's commit
	// nSent deliveries of the queue were delivered but are not committed
	// yet; maxSent is the highest seq among them. Reads skip up to it.
	nSent   int
	maxSent int64
}

func (q *queueState) dropSent(sent map[string]string) {
	for len(q.list) > 0 {
		if _, ok := sent[q.list[0].ID]; !ok {
			return
		}
		q.list = q.list[1:]
	}
}

type schedState struct {
	queues map[string]*queueState
	sent   map[string]string // delivered, commit pending: id → queue
}

func (st *schedState) queue(q string) *queueState {
	qs := st.queues[q]
	if qs == nil {
		qs = &queueState{}
		st.queues[q] = qs
	}
	return qs
}

// scanAll finds the queues with work. Idle queues are read; a queue with a
// read-ahead in progress only learns that more may follow it.
func (s *Sender) scanAll(ctx context.Context, st *schedState) error {
	queues, err := s.active.Queues(ctx, s.kinds)
	if err != nil {
		return fmt.Errorf("scan outbox: %w", err)
	}
	active := make(map[string]bool, len(queues))
	for _, q := range queues {
		active[q] = true
	}
	for q, qs := range st.queues {
		if active[q] {
			continue
		}
		// Nothing waits in this queue any more: its endpoint was disabled
		// or removed, perhaps by another process. Forget the read-ahead and
		// stop a running job after its current attempt.
		qs.list, qs.complete = nil, false
		if qs.busy {
			s.mu.Lock()
			s.stop[q] = true
			s.mu.Unlock()
		}
	}
	for _, q := range queues {
		qs := st.queue(q)
		if qs.busy || qs.blocked || len(qs.list) > 0 {
			qs.complete = false
			continue
		}
		if err := s.reload(ctx, st, q); err != nil {
			return err
		}
	}
	return nil
}

// reload reads a queue's next deliveries, after those delivered but not
// yet committed.
func (s *Sender) reload(ctx context.Context, st *schedState, q string) error {
	qs := st.queue(q)
	rows, err := s.active.Pending(ctx, PendingQuery{
		Queue: q, Kinds: s.kinds, AfterSeq: qs.maxSent, Limit: s.opts.Prefetch, RoundLength: s.round,
	})
	if err != nil {
		return fmt.Errorf("read queue %s: %w", q, err)
	}
	qs.complete = len(rows) < s.opts.Prefetch
	qs.list = rows
	qs.dropSent(st.sent)
	return nil
}

// work runs jobs until jobs is closed. A job stops at the first delivery
// not delivered (its queue waits for the retry state to be committed), at
// one not due yet, or when the sender stops; attempts themselves run on
// bg, so a stop never cuts one short.
func (s *Sender) work(ctx, bg context.Context, jobs <-chan job, outcomes chan<- Outcome) {
	for j := range jobs {
		var rest []Delivery
		stopped := false
		attempted := 0
		for i, d := range j.items {
			s.mu.Lock()
			stopped = s.stop[j.queue]
			s.mu.Unlock()
			if stopped || ctx.Err() != nil || d.NextAttemptAt.After(s.opts.Now()) {
				rest = j.items[i:]
				break
			}
			s.inFlight.Add(1)
			s.inJobs.Add(-1)
			attempted++
			o := s.attempt(bg, d)
			s.inFlight.Add(-1)
			delivered := o.Status == StatusDelivered
			s.mu.Lock()
			s.finished = append(s.finished, finish{queue: j.queue, id: d.ID, seq: d.Seq, delivered: delivered})
			s.mu.Unlock()
			outcomes <- o
			if !delivered {
				break
			}
		}
		// What was not attempted goes back to the scheduler (rest) or is
		// read again after the failure's commit.
		s.inJobs.Add(-int64(len(j.items) - attempted))
		s.mu.Lock()
		delete(s.stop, j.queue)
		s.finished = append(s.finished, finish{queue: j.queue, done: true, stopped: stopped, rest: rest})
		s.mu.Unlock()
		s.poke()
	}
}

// attempt runs one attempt with the timeout and decides the next state.
func (s *Sender) attempt(ctx context.Context, d Delivery) Outcome {
	tr := s.opts.Transports[d.Kind]
	actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	res := tr.Deliver(actx, d)
	cancel()
	return s.decide(d, res)
}

// decide applies the retry policy to an attempt's result.
func (s *Sender) decide(d Delivery, r Result) Outcome {
	o := Outcome{Delivery: d, Result: r, Deadline: d.Deadline, LastError: r.Err}
	if o.Deadline.IsZero() {
		o.Deadline = r.Started.Add(s.round)
	}
	if r.OK() {
		o.Status = StatusDelivered
		return o
	}
	n := d.RoundAttempts // retries already scheduled in this round
	if r.Permanent || n >= len(s.opts.Retries) {
		o.Status = StatusDead
		return o
	}
	done := r.Started.Add(r.Duration)
	delay := s.opts.Retries[n]
	if r.RetryAfter > delay {
		// Honour Retry-After, but only up to the next step of the schedule
		// (or the round's deadline for the last retry): a receiver cannot
		// stretch the give-up time.
		hi := o.Deadline.Sub(done)
		if n+1 < len(s.opts.Retries) {
			hi = min(hi, s.opts.Retries[n+1])
		}
		delay = max(delay, min(r.RetryAfter, hi))
	}
	o.Status = StatusRetrying
	o.NextAttemptAt = done.Add(delay)
	return o
}

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

// DeliverNow makes one attempt of delivery id right away, whatever its
// schedule, records it and returns the outcome ("smista endpoints test").
// It fails when the delivery does not exist, has no transport, or the log
// cannot be written. Do not call it for a delivery a running sender holds.
func (s *Sender) DeliverNow(ctx context.Context, id string) (Outcome, error) {
	d, err := s.store.Delivery(ctx, id, s.round)
	if err != nil {
		return Outcome{}, fmt.Errorf("deliver %s: %w", id, err)
	}
	if _, ok := s.opts.Transports[d.Kind]; !ok {
		return Outcome{}, fmt.Errorf("deliver %s: no transport for kind %q", id, d.Kind)
	}
	s.inFlight.Add(1)
	o := s.attempt(ctx, d)
	s.inFlight.Add(-1)
	policy := DisablePolicy{
		After:  s.opts.DisableAfter,
		Window: s.opts.DisableWindow,
		Reason: fmt.Sprintf("auto-disabled: %d failed attempts in %s", s.opts.DisableAfter, fmtDuration(s.opts.DisableWindow)),
	}
	if _, err := s.store.Record(context.WithoutCancel(ctx), []Outcome{o}, policy); err != nil {
		return o, fmt.Errorf("deliver %s: %w", id, err)
	}
	return o, nil
}

// fmtDuration prints 30m rather than 30m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	for _, suf := range []string{"m0s", "h0m"} {
		if len(s) > len(suf) && s[len(s)-len(suf):] == suf {
			s = s[:len(s)-len(suf)+1]
		}
	}
	return s
}
