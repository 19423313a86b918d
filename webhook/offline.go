package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// ErrOffline is wrapped by the error Drain returns when the network stayed
// down for Options.OfflineTimeout: nothing was lost, the deliveries wait.
var ErrOffline = errors.New("offline")

// Prober is a transport that can tell whether an endpoint's host answers
// at all — a connection, nothing sent — so the sender can tell "this
// machine is offline" from "this endpoint is down".
type Prober interface {
	Reachable(ctx context.Context, d Delivery) error
}

// jumpThreshold is how far the wall clock may run ahead of the monotonic
// clock between two looks before the sender takes it for a sleep (the
// monotonic clock stops while the machine is suspended; NTP corrections
// are far smaller).
const jumpThreshold = 3 * time.Second

// wakeGrace is how long after a wake-up a failure without an answer is
// put down to the network coming back rather than to the endpoint.
const wakeGrace = 30 * time.Second

// contactFresh is how long an answer from any endpoint proves the network
// up: within it, a failure of another endpoint is that endpoint's.
const contactFresh = 30 * time.Second

// maxTargets bounds the endpoints remembered for probing, and probeFan
// those probed at once.
const (
	maxTargets = 256
	probeFan   = 3
	probeWait  = 3 * time.Second
)

// netState is the sender's view of this machine's network: the clocks'
// last look (sleep detection), the last answer from any endpoint, the
// endpoints it can probe, and whether it is offline.
type netState struct {
	mu       sync.Mutex
	wall     time.Time // wall clock at the last look (monotonic stripped)
	mono     time.Duration
	wokeAt   time.Time // the last wake-up seen (zero: none)
	contact  time.Time // the last answer from any endpoint
	targets  map[string]Delivery
	offline  bool
	since    time.Time // offline since
	why      string
	delay    time.Duration // between probes while offline
	probeAt  time.Time
	probing  bool
	probeGen int
}

// look reads both clocks and returns the wall time; when the wall clock
// ran ahead of the monotonic one since the last look, the machine slept:
// wokeAt is set.
func (s *Sender) look() time.Time {
	w, m := s.opts.Now().Round(0), s.opts.Mono()
	n := &s.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.wall.IsZero() && w.Sub(n.wall)-(m-n.mono) > jumpThreshold {
		n.wokeAt = w
	}
	n.wall, n.mono = w, m
	return w
}

// remember keeps an endpoint to probe later; an answer (any status)
// proves the network up. The scheduler remembers the endpoints of the
// queues it reads (no answer yet), so that the first failure already
// knows the other endpoints it can probe.
func (s *Sender) remember(d Delivery, r Result, at time.Time) {
	if _, ok := s.opts.Transports[d.Kind].(Prober); !ok || d.URL == "" {
		return
	}
	n := &s.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if r.StatusCode != 0 {
		n.contact = at
	}
	if t, ok := n.targets[d.Queue]; ok && t.URL == d.URL {
		return // the common case: one map read per attempt
	}
	if n.targets == nil || len(n.targets) >= maxTargets {
		n.targets = map[string]Delivery{}
	}
	n.targets[d.Queue] = Delivery{Kind: d.Kind, Queue: d.Queue, EndpointID: d.EndpointID, URL: d.URL}
}

// offlineFailure reports whether a failed attempt, started at start and
// ended at end, is this machine's failure rather than the endpoint's: it
// overlapped a sleep, or followed a wake-up closely without an answer, or
// the network looks down (no endpoint answers). The sender goes offline
// then. A failure with an answer is always the endpoint's.
func (s *Sender) offlineFailure(ctx context.Context, d Delivery, r Result, start time.Time) bool {
	if r.OK() || r.StatusCode != 0 || r.Permanent {
		return false
	}
	end := s.look()
	n := &s.net
	n.mu.Lock()
	woke, offline, contact := n.wokeAt, n.offline, n.contact
	n.mu.Unlock()
	switch {
	case offline:
		return true
	case !woke.IsZero() && !woke.Before(start):
		s.goOffline(end, "the machine slept during an attempt")
		return true
	case !woke.IsZero() && start.Sub(woke) < wakeGrace:
		s.goOffline(end, "the machine just woke up: "+r.Err)
		return true
	case !r.NetDown:
		return false
	case !contact.IsZero() && end.Sub(contact) < contactFresh:
		return false // another endpoint answered just now
	}
	if s.anyReachable(ctx, d.Queue) {
		return false
	}
	s.goOffline(end, r.Err)
	return true
}

// anyReachable probes up to probeFan remembered endpoints other than
// skip's (all of them unknown: none) and reports whether one answered.
func (s *Sender) anyReachable(ctx context.Context, skip string) bool {
	n := &s.net
	n.mu.Lock()
	var ds []Delivery
	for q, d := range n.targets {
		if q != skip && len(ds) < probeFan {
			ds = append(ds, d)
		}
	}
	n.mu.Unlock()
	for _, d := range ds {
		p, ok := s.opts.Transports[d.Kind].(Prober)
		if !ok {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, probeWait)
		err := p.Reachable(pctx, d)
		cancel()
		if err == nil {
			n.mu.Lock()
			n.contact = s.opts.Now()
			n.mu.Unlock()
			return true
		}
	}
	return false
}

// goOffline enters the offline state (once): no job goes out until a
// probe reaches an endpoint; a NoticeOffline says so.
func (s *Sender) goOffline(at time.Time, why string) {
	n := &s.net
	n.mu.Lock()
	if n.offline {
		n.mu.Unlock()
		return
	}
	n.offline, n.since, n.why = true, at, oneLine(why, 200)
	n.delay = s.opts.OfflineProbe
	n.probeAt = at.Add(n.delay)
	n.mu.Unlock()
	s.offline.Store(true)
	queued, _ := s.Stats()
	s.queueImportant(Notice{Kind: NoticeOffline, At: at, Error: n.why, Waiting: queued})
	s.poke()
}

// goOnline leaves the offline state: sending resumes.
func (s *Sender) goOnline(at time.Time) {
	n := &s.net
	n.mu.Lock()
	if !n.offline {
		n.mu.Unlock()
		return
	}
	since := n.since
	n.offline, n.contact = false, at
	n.probeGen++
	n.mu.Unlock()
	s.offline.Store(false)
	s.queueImportant(Notice{Kind: NoticeOnline, At: at, Error: "offline for " + fmtDuration(at.Sub(since).Round(time.Second))})
	s.poke()
}

// Offline reports whether the sender holds its deliveries because this
// machine is offline (a NoticeOnline follows when it is back). Safe to
// call from any goroutine.
func (s *Sender) Offline() bool { return s.offline.Load() }

// offlineTick is the scheduler's part while offline: it starts a probe
// when one is due and returns when the next is, and, for a Drain, gives
// up after OfflineTimeout.
func (s *Sender) offlineTick(ctx context.Context, now time.Time, once bool) (time.Time, error) {
	n := &s.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.offline {
		return time.Time{}, nil
	}
	if once && now.Sub(n.since) >= s.opts.OfflineTimeout {
		return time.Time{}, fmt.Errorf("drain: no endpoint reachable for %s (%s): %w", fmtDuration(s.opts.OfflineTimeout), n.why, ErrOffline)
	}
	if n.probing || now.Before(n.probeAt) {
		return n.probeAt, nil
	}
	n.probing = true
	gen := n.probeGen
	s.probes.Go(func() {
		ok := s.probeAll(ctx)
		at := s.opts.Now()
		n.mu.Lock()
		n.probing = false
		if !ok && gen == n.probeGen {
			n.delay = min(2*n.delay, s.opts.OfflineProbeMax)
			n.probeAt = at.Add(n.delay)
		}
		n.mu.Unlock()
		if ok {
			s.goOnline(at)
		}
		s.poke()
	})
	return time.Time{}, nil
}

// probeAll reports whether any remembered endpoint answers; without a
// transport that can probe, the network is taken to be back.
func (s *Sender) probeAll(ctx context.Context) bool {
	n := &s.net
	n.mu.Lock()
	none := len(n.targets) == 0
	n.mu.Unlock()
	if none {
		return true
	}
	return s.anyReachable(ctx, "")
}

// Reachable implements Prober: it opens (and closes) a connection to d's
// host through the guarded dialer; DNS resolution included.
func (t *HTTPTransport) Reachable(ctx context.Context, d Delivery) error {
	u, err := url.Parse(d.URL)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	c, err := t.dial(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return c.Close()
}

// netDown reports whether a client error may be this machine's network
// rather than the endpoint: no route or interface, a resolver that does
// not answer (a name that does not exist is the endpoint's fault), a
// connection that timed out. A refused or reset connection is an answer.
func netDown(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound
	}
	for _, e := range []error{syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN, syscall.EADDRNOTAVAIL} {
		if errors.Is(err, e) {
			return true
		}
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout()
}
