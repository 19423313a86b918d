package app

import (
	"sync"
	"time"

	"smista/webhook"
)

// Event is what the bus carries: Changed, SyncProgress, TriageProgress,
// SenderStats, Notice or DeliveryNotice. Text in events is untrusted (it
// may come from a mail server, a model or a receiver): front ends strip
// control sequences before they draw it.
type Event interface{ event() }

// Topic names a kind of stored data whose change a screen may care about.
type Topic uint16

// The topics of Changed. A screen reloads when one of its topics changed.
const (
	TopicMessages   Topic = 1 << iota // messages stored, seen flags
	TopicTriage                       // triage results and decisions
	TopicDrafts                       // reply drafts
	TopicDeliveries                   // outbox rows and attempts
	TopicEndpoints                    // endpoints and their counts

	TopicAll = TopicMessages | TopicTriage | TopicDrafts | TopicDeliveries | TopicEndpoints
)

// Changed says that stored data of Topics changed in this process.
type Changed struct{ Topics Topic }

// SyncProgress reports an account's sync: Done of Total messages of
// Mailbox, then Finished (with Err when it failed).
type SyncProgress struct {
	Account, Mailbox string
	Done, Total      int
	Finished         bool
	Err              string
}

// TriageProgress reports the classifier at work.
type TriageProgress struct {
	Working     bool
	Done, Total int
	Model       string
}

// SenderStats reports the outbox sender: the deliveries it holds waiting
// and the attempts in flight (the sender's own counters, no query).
type SenderStats struct {
	Queue, InFlight int
	// Running is false when no sender runs in this process.
	Running bool
	// Paused is true while the store cannot record attempts (a full
	// disk): nothing is sent until it can.
	Paused bool
	// Offline is true while no endpoint is reachable (the network is
	// down, or the machine just woke up): Queue deliveries wait, no retry
	// is used up, and sending resumes by itself.
	Offline bool
}

// Notice is something worth telling the user, as one line of text: a sync
// or triage failure, a reply filed in Sent or not.
type Notice struct {
	Kind  string // "sync", "triage", "smtp", "error", ...
	Text  string
	Error bool
	At    time.Time
}

// DeliveryNotice is the sender's report of one attempt, a dead delivery or
// a disabled endpoint, after it was committed to the log.
type DeliveryNotice struct{ webhook.Notice }

func (Changed) event()        {}
func (SyncProgress) event()   {}
func (TriageProgress) event() {}
func (SenderStats) event()    {}
func (Notice) event()         {}
func (DeliveryNotice) event() {}

// noticeBacklog bounds the notices a slow subscriber may fall behind by;
// beyond it progress notices are dropped (the log keeps them), never a
// disabled endpoint, a dead delivery or an error.
const noticeBacklog = 1024

// Bus fans events out to any number of subscribers: the CLI's printer, a
// TUI, or one TUI per SSH session. Publish never blocks. Each subscriber
// has its own queue in which Changed topics merge and progress keeps only
// its latest value, so a slow subscriber sees fewer events, never stale
// ones, and never slows the publisher or the other subscribers.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// NewBus returns a bus without subscribers.
func NewBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Publish hands e to every subscriber.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.push(e)
	}
}

// Subscribe returns a new subscription; Close it when done.
func (b *Bus) Subscribe() *Subscription {
	s := &Subscription{bus: b, c: make(chan Event), done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go s.pump()
	return s
}

// Subscription is one subscriber's view of the bus.
type Subscription struct {
	bus  *Bus
	c    chan Event
	done chan struct{}

	mu       sync.Mutex
	cond     *sync.Cond
	closed   bool
	draining bool // Finish: deliver what is queued, then close
	changed  Topic
	sync     map[string]SyncProgress // by account: the latest
	triage   *TriageProgress
	sender   *SenderStats
	presence *Presence
	lease    *SenderLease
	notices  []Event        // Notice, DeliveryNotice, Activity..., in order
	finished []SyncProgress // finished syncs are never merged away
}

// C returns the channel the subscriber reads; it is closed by Close.
func (s *Subscription) C() <-chan Event { return s.c }

// Close ends the subscription at once and closes C; queued events are
// dropped. It is safe to call twice.
func (s *Subscription) Close() {
	s.leave()
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Finish stops the subscription from receiving new events; C still
// delivers every event queued so far, then closes. A reader that reads C
// to its end after Finish has seen everything published before it.
func (s *Subscription) Finish() {
	s.leave()
	s.mu.Lock()
	s.draining = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

func (s *Subscription) leave() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()
}

func (s *Subscription) push(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch v := e.(type) {
	case Changed:
		s.changed |= v.Topics
	case SyncProgress:
		if v.Finished {
			s.finished = append(s.finished, v)
			delete(s.sync, v.Account)
			break
		}
		if s.sync == nil {
			s.sync = map[string]SyncProgress{}
		}
		s.sync[v.Account] = v
	case TriageProgress:
		s.triage = &v
	case SenderStats:
		s.sender = &v
	case Presence:
		s.presence = &v // a snapshot: the latest is all that matters
	case SenderLease:
		s.lease = &v
	case DeliveryNotice:
		if len(s.notices) >= noticeBacklog && !important(v) {
			break
		}
		s.notices = append(s.notices, e)
	default:
		s.notices = append(s.notices, e)
	}
	s.cond.Signal()
}

// important reports whether a sender notice must reach every subscriber.
func important(n DeliveryNotice) bool {
	switch n.Kind {
	case webhook.NoticeDisabled, webhook.NoticeDead, webhook.NoticeError, webhook.NoticeResumed,
		webhook.NoticeWarning, webhook.NoticeOffline, webhook.NoticeOnline:
		return true
	}
	return false
}

// pop takes the next event, notices first (in order), then finished
// syncs, progress, and the merged Changed last so that a screen reloads
// after it has seen why.
func (s *Subscription) pop() (Event, bool) {
	switch {
	case len(s.notices) > 0:
		e := s.notices[0]
		s.notices[0] = nil
		s.notices = s.notices[1:]
		return e, true
	case len(s.finished) > 0:
		e := s.finished[0]
		s.finished = s.finished[1:]
		return e, true
	case len(s.sync) > 0:
		for k, v := range s.sync {
			delete(s.sync, k)
			return v, true
		}
	case s.triage != nil:
		e := *s.triage
		s.triage = nil
		return e, true
	case s.sender != nil:
		e := *s.sender
		s.sender = nil
		return e, true
	case s.presence != nil:
		e := *s.presence
		s.presence = nil
		return e, true
	case s.lease != nil:
		e := *s.lease
		s.lease = nil
		return e, true
	case s.changed != 0:
		e := Changed{s.changed}
		s.changed = 0
		return e, true
	}
	return nil, false
}

// pump moves events from the queue to C, one at a time, until Close.
func (s *Subscription) pump() {
	defer close(s.c)
	for {
		s.mu.Lock()
		var e Event
		ok := false
		for !s.closed {
			if e, ok = s.pop(); ok || s.draining {
				break
			}
			s.cond.Wait()
		}
		s.mu.Unlock()
		if !ok {
			return
		}
		select {
		case s.c <- e:
		case <-s.done:
			return
		}
	}
}
