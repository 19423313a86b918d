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

// ErrStoreUnavailable is wrapped by the error Drain returns when the store
// could not record attempts (or be read) for Options.StoreTimeout, e.g. a
// full disk; the store's own error is wrapped too.
var ErrStoreUnavailable = errors.New("store unavailable")

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

	// tally: what the writer recorded (see Tally).
	tally struct{ delivered, failed, dead, disabled atomic.Int64 }
	// Stats: read-ahead not yet handed to a worker, handed over but not yet
	// attempted, attempts running.
	waiting  atomic.Int64
	inJobs   atomic.Int64
	inFlight atomic.Int64
	// paused: the store refused a batch the writer holds; no attempt
	// starts until it records again.
	paused atomic.Bool
	// offline: no endpoint is reachable (or the machine just slept); no
	// attempt starts until a probe reaches one. net holds the details,
	// probes the probe goroutines of the run.
	offline atomic.Bool
	net     netState
	probes  sync.WaitGroup

	mu          sync.Mutex
	pausedSince time.Time // with paused: the first refusal
	storeErr    error     // with paused: the last refusal
	running     bool
	finished    []finish
	committed   []commit
	stop        map[string]bool // queues whose running job must stop
	important   []Notice
	impWake     chan struct{}
	// writerWake ends the writer's wait for outcomes early (wakeWriter).
	writerWake chan struct{}
}

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
}

// NewSender returns a sender over store. Call Run to start it.
func NewSender(store Store, opts Options) *Sender {
	opts = opts.withDefaults()
	var own *HTTPTransport
	if opts.Transports == nil {
		own = NewHTTPTransport(HTTPOptions{Guard: opts.Guard, Now: opts.Now, UserAgent: opts.UserAgent, Dial: opts.Dial})
		opts.Transports = map[string]Transport{KindWebhook: own}
	}
	s := &Sender{
		own:        own,
		store:      store,
		opts:       opts,
		wake:       make(chan struct{}, 1),
		tick:       make(chan struct{}, 1),
		events:     make(chan Notice, 1024),
		impWake:    make(chan struct{}, 1),
		writerWake: make(chan struct{}, 1),
		stop:       map[string]bool{},
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
	s.probes.Wait()    // cancelled with ctx, or bounded by probeWait

	close(jobs)
	workers.Wait()
	close(outcomes)
	select { // a writer asleep in its flush delay sees the close
	case s.writerWake <- struct{}{}:
	default:
	}
	writer.Wait()
	close(fwdStop)
	fwd.Wait()
	if s.own != nil {
		s.own.Close()
	}
	return err
}

// schedule is the scheduler loop; it owns the queue state. (Over 80 lines:
// one select loop whose steps share its timers and error state.)
func (s *Sender) schedule(ctx context.Context, jobs chan<- job, once bool) error {
	st := &schedState{queues: map[string]*queueState{}, sent: map[string]string{}}
	scanAll := true
	var timerAt time.Time
	var timerC <-chan time.Time
	var errBackoff time.Duration
	var lastScan time.Time
	var readDown time.Time // the first of the reads failing since
	var readErr error
	ckptAsked := false
	fail := func(err error) {
		if ctx.Err() != nil {
			return // shutting down: the query was cancelled, not broken
		}
		s.progress(Notice{Kind: NoticeError, At: s.opts.Now(), Error: err.Error()})
		scanAll = true
		errBackoff = min(max(2*errBackoff, 100*time.Millisecond), 5*time.Second)
		if readDown.IsZero() {
			readDown = s.opts.Now()
		}
		readErr = err
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		if scanAll {
			if err := s.scanAll(ctx, st); err != nil {
				fail(err)
			} else {
				scanAll, errBackoff, lastScan, readDown = false, 0, s.opts.Now(), time.Time{}
			}
		}
		now := s.look()
		var next time.Time
		if !s.paused.Load() && !s.offline.Load() {
			// While the store cannot record, or no endpoint is reachable,
			// no job goes out: the writer (or a probe) pokes this loop
			// when that is over.
			next = s.dispatch(ctx, st, jobs, now, fail)
		}
		if once && !ckptAsked && !scanAll && st.allRead() {
			// Everything left is read ahead: copy the log written so far
			// into the store's file while the last attempts run, so that
			// closing the store copies (and syncs) only the last commits.
			ckptAsked = true
			if c, ok := s.active.(Checkpointer); ok {
				c.CheckpointSoon()
			}
		}
		probeAt, err := s.offlineTick(ctx, now, once)
		if err != nil {
			return err
		}
		next = earliest(next, probeAt)
		waiting := 0
		for _, qs := range st.queues {
			waiting += len(qs.list)
		}
		s.waiting.Store(int64(waiting))
		if once {
			giveUp, err := s.storeOutage(now, readDown, readErr)
			if err != nil {
				return err
			}
			next = earliest(next, giveUp)
		}
		if once && st.inflight == 0 && len(st.queues) == 0 && len(st.sent) == 0 && !scanAll {
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
			next = earliest(next, lastScan.Add(s.opts.Poll))
		}
		if errBackoff > 0 {
			next = earliest(next, now.Add(errBackoff))
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
		st.apply(fin, com)
	}
}

// earliest returns the earlier of two times, a zero time meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// dispatch hands every idle queue's due head, and a run of deliveries
// behind it, to a worker while workers are free; it reads queues whose
// read-ahead ran out. It returns the earliest time a head not yet due
// becomes due (zero: none).
func (s *Sender) dispatch(ctx context.Context, st *schedState, jobs chan<- job, now time.Time, fail func(error)) time.Time {
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
		if at := qs.list[0].NextAttemptAt; at.After(now) {
			next = earliest(next, at)
			continue
		}
		if st.inflight >= s.opts.Workers {
			continue
		}
		// Hand over a run of the queue: the worker goes on to the next
		// delivery as soon as one is delivered, without a round trip
		// through the scheduler.
		n := min(len(qs.list), runLength)
		qs.busy = true
		st.inflight++
		s.inJobs.Add(int64(n))
		jobs <- job{queue: q, items: qs.list[:n:n]}
		qs.list = qs.list[n:]
	}
	return next
}

// storeOutage returns when a Drain gives up on an unusable store, and
// once that time has come the error to give up with: the store has
// refused to record since the sender paused, or every read has failed
// since readDown. Zero and nil when the store is fine.
func (s *Sender) storeOutage(now, readDown time.Time, readErr error) (time.Time, error) {
	s.mu.Lock()
	since, werr := s.pausedSince, s.storeErr
	s.mu.Unlock()
	var at time.Time
	if !since.IsZero() && werr != nil {
		at = since.Add(s.opts.StoreTimeout)
		if !now.Before(at) {
			return at, fmt.Errorf("drain: nothing recorded for %s, sending paused: %w: %w", fmtDuration(s.opts.StoreTimeout), ErrStoreUnavailable, werr)
		}
	}
	if !readDown.IsZero() && readErr != nil {
		rat := readDown.Add(s.opts.StoreTimeout)
		if !now.Before(rat) {
			return rat, fmt.Errorf("drain: outbox unreadable for %s: %w: %w", fmtDuration(s.opts.StoreTimeout), ErrStoreUnavailable, readErr)
		}
		at = earliest(at, rat)
	}
	return at, nil
}

// apply takes in what the workers and the writer reported: finished
// attempts and jobs, and committed batches. A batch the store refused is
// never reported: its delivered deliveries stay skipped and its failed
// ones keep their queue blocked until the writer records them.
func (st *schedState) apply(fin []finish, com []commit) {
	for _, f := range fin {
		qs := st.queue(f.queue)
		if f.done {
			st.inflight--
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
	queues   map[string]*queueState
	sent     map[string]string // delivered, commit pending: id → queue
	inflight int               // jobs handed to workers, not done
}

// allRead reports whether every queue with work was read to its end.
func (st *schedState) allRead() bool {
	for _, qs := range st.queues {
		if !qs.complete {
			return false
		}
	}
	return len(st.queues) > 0
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
	if len(rows) > 0 {
		s.remember(rows[0], Result{}, time.Time{})
	}
	qs.dropSent(st.sent)
	return nil
}

// work runs jobs until jobs is closed. A job stops at the first delivery
// not delivered (its queue waits for the retry state to be committed), at
// one not due yet, or when the sender stops; attempts themselves run on
// bg, so a stop never cuts one short.
func (s *Sender) work(ctx, bg context.Context, jobs <-chan job, outcomes chan<- Outcome) {
	clock := newAttemptClock(bg, s.opts.Timeout)
	defer clock.close()
	for j := range jobs {
		var rest []Delivery
		stopped := false
		attempted := 0
		for i, d := range j.items {
			s.mu.Lock()
			stopped = s.stop[j.queue]
			s.mu.Unlock()
			// A pause (the store cannot record) returns the rest to the
			// queue like a delivery not due yet: nothing is sent until the
			// held outcomes are recorded.
			if stopped || ctx.Err() != nil || s.paused.Load() || s.offline.Load() || d.NextAttemptAt.After(s.opts.Now()) {
				rest = j.items[i:]
				break
			}
			s.inFlight.Add(1)
			s.inJobs.Add(-1)
			attempted++
			o := s.attempt(clock, d)
			s.inFlight.Add(-1)
			delivered := o.Status == StatusDelivered
			s.mu.Lock()
			s.finished = append(s.finished, finish{queue: j.queue, id: d.ID, seq: d.Seq, delivered: delivered})
			s.mu.Unlock()
			outcomes <- o
			s.wakeWriter(outcomes)
			if !delivered {
				break
			}
		}
		// What was not attempted goes back to the scheduler (rest) or is
		// read again after the failure's commit.
		s.inJobs.Add(-int64(len(j.items) - attempted))
		s.wakeWriter(outcomes)
		s.mu.Lock()
		delete(s.stop, j.queue)
		s.finished = append(s.finished, finish{queue: j.queue, done: true, stopped: stopped, rest: rest})
		s.mu.Unlock()
		s.poke()
	}
}

// attempt runs one attempt with the timeout and decides the next state.
// A failure that is this machine's (offline, asleep) is logged as class
// offline: it uses up no retry and does not count toward auto-disable.
// The clock (one per worker) bounds it; its parent is the attempts' context.
func (s *Sender) attempt(clock *attemptClock, d Delivery) Outcome {
	ctx := clock.parent
	res := s.opts.Transports[d.Kind].Deliver(clock.start(), d)
	clock.stop()
	s.remember(d, res, res.Started)
	// A sleep during the attempt is seen by the look after it (or by
	// another goroutine's meanwhile): either way at or after its start.
	if s.offlineFailure(ctx, d, res, res.Started) {
		res.Class, res.Err = ClassOffline, oneLine("offline (not counted): "+res.Err, 300)
	}
	return s.decide(d, res)
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
	clock := newAttemptClock(ctx, s.opts.Timeout)
	defer clock.close()
	s.inFlight.Add(1)
	o := s.attempt(clock, d)
	s.inFlight.Add(-1)
	if _, err := s.store.Record(context.WithoutCancel(ctx), []Outcome{o}, s.policy()); err != nil {
		return o, fmt.Errorf("deliver %s: %w", id, err)
	}
	return o, nil
}
