package webhook

import (
	"context"
	"net"
	"time"
)

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
	// BatchSize bounds the outcomes written per group commit (default 4096).
	BatchSize int
	// FlushDelay is how long the writer waits for more outcomes before
	// committing a batch that is not full (default 1ms; negative: never).
	// Under load (the previous batch held at least 64 outcomes, or its
	// wait ran out while attempts were being made) it waits up to
	// BusyFlushDelay instead (default 100 × FlushDelay). Bigger batches
	// amortise the transaction and write each touched page once — the
	// deliveries of all endpoints share the table's pages, so a page
	// holds rows of every queue and is written again by each commit that
	// touches one — and nothing waits on the commit of a delivered
	// attempt, so the delay costs no throughput. The writer stops waiting
	// as soon as no attempt is in flight or handed to a worker: no outcome
	// is coming.
	FlushDelay     time.Duration
	BusyFlushDelay time.Duration
	// Prefetch is how many deliveries per queue are read ahead (default 256).
	Prefetch int
	// Poll, when positive, rescans the outbox at this interval as well, for
	// deliveries enqueued by other processes (which cannot call Notify).
	Poll time.Duration
	// StoreRetry is the first wait before the writer tries again to
	// record outcomes the store refused (default 1s); each failure doubles
	// it, up to StoreRetryMax (default 30s). Meanwhile no attempt is made.
	StoreRetry    time.Duration
	StoreRetryMax time.Duration
	// StoreTimeout is how long Drain waits for a store that cannot record
	// the attempts (or cannot be read) before it gives up with an error
	// wrapping ErrStoreUnavailable (default 30s). Run waits forever.
	StoreTimeout time.Duration
	// Mono is the monotonic clock, which stops while the machine sleeps
	// (default: time since NewSender); the wall clock running ahead of it
	// is a sleep. Tests inject it beside Now.
	Mono func() time.Duration
	// Dial, when set, replaces the default transport's dialer (and its
	// address guard): tests inject a network that fails.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// OfflineProbe is the first wait between probes while offline
	// (default 5s), doubling up to OfflineProbeMax (default 1m).
	OfflineProbe, OfflineProbeMax time.Duration
	// OfflineTimeout is how long Drain waits for the network before it
	// gives up with an error wrapping ErrOffline (default 2m). Run waits
	// forever.
	OfflineTimeout time.Duration
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
		o.BatchSize = 4096
	}
	if o.FlushDelay == 0 {
		o.FlushDelay = time.Millisecond
	}
	if o.BusyFlushDelay == 0 {
		o.BusyFlushDelay = 100 * o.FlushDelay
	}
	if o.Prefetch <= 0 {
		o.Prefetch = 256
	}
	if o.StoreRetry <= 0 {
		o.StoreRetry = time.Second
	}
	if o.StoreRetryMax <= 0 {
		o.StoreRetryMax = 30 * time.Second
	}
	o.StoreRetryMax = max(o.StoreRetryMax, o.StoreRetry)
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = 30 * time.Second
	}
	if o.Mono == nil {
		base := time.Now()
		o.Mono = func() time.Duration { return time.Since(base) }
	}
	if o.OfflineProbe <= 0 {
		o.OfflineProbe = 5 * time.Second
	}
	if o.OfflineProbeMax <= 0 {
		o.OfflineProbeMax = time.Minute
	}
	o.OfflineProbeMax = max(o.OfflineProbeMax, o.OfflineProbe)
	if o.OfflineTimeout <= 0 {
		o.OfflineTimeout = 2 * time.Minute
	}
	return o
}

// NoticeKind says what a Notice reports.
type NoticeKind string

// Notice kinds. Disabled and resumed notices, and the error notices that
// change StorePaused, are never dropped; the others are progress and are
// dropped when the subscriber falls behind.
const (
	NoticeDelivered NoticeKind = "delivered"
	NoticeFailed    NoticeKind = "failed" // will be retried
	NoticeDead      NoticeKind = "dead"
	NoticePaused    NoticeKind = "paused" // failed; its endpoint is disabled
	NoticeDisabled  NoticeKind = "disabled"
	NoticeError     NoticeKind = "error" // the store failed; work is retried
	// NoticeResumed: the store records again after a NoticeError with
	// StorePaused; sending has resumed.
	NoticeResumed NoticeKind = "resumed"
	// NoticeWarning: an endpoint reached a warning threshold of the
	// auto-disable budget (Failures of the policy's After).
	NoticeWarning NoticeKind = "warning"
	// NoticeOffline: no endpoint is reachable (or the machine slept);
	// Waiting deliveries wait, nothing counts, probes go on. NoticeOnline
	// follows when one answers: sending resumes by itself.
	NoticeOffline NoticeKind = "offline"
	NoticeOnline  NoticeKind = "online"
)

// Tally counts what a sender recorded: attempts delivered, failed (the
// machine's offline failures aside: they use up nothing), deliveries
// given up (dead) and endpoints disabled. Unlike the notices, which a
// subscriber that falls behind may miss, it is exact.
type Tally struct{ Delivered, Failed, Dead, Disabled int }

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
	// StorePaused is set on a NoticeError when the store cannot record
	// attempts: sending is paused (no attempt is made) until a
	// NoticeResumed. Error says why and when the next write is tried.
	StorePaused bool
	// Waiting is the deliveries the sender holds (NoticeOffline).
	Waiting int
	// Failures and Budget are a NoticeWarning's count of failed attempts
	// and the count that disables the endpoint.
	Failures, Budget int
}
