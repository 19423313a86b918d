package webhook

import (
	"context"
	"net/http"
	"time"
)

// Delivery statuses, as stored in the outbox.
const (
	StatusPending   = "pending"
	StatusRetrying  = "retrying"
	StatusDelivered = "delivered"
	StatusDead      = "dead"
	StatusPaused    = "paused"
	StatusCanceled  = "canceled"
)

// Error classes of a failed attempt ("" for a success).
const (
	ClassTimeout    = "timeout"
	ClassConnect    = "connect"
	ClassTLS        = "tls"
	ClassHTTPStatus = "http_status"
	ClassRedirect   = "redirect"
	ClassOther      = "other"
	// ClassOffline is a failure while this machine was offline or asleep:
	// it uses up no retry and does not count toward auto-disable.
	ClassOffline = "offline"
)

// KindWebhook is the outbox kind this package's HTTP transport delivers.
const KindWebhook = "webhook"

// Delivery is one outbox row ready for an attempt, joined with what the
// transport needs (endpoint URL and secrets, event body).
type Delivery struct {
	ID         string
	Seq        int64
	Kind       string // "webhook" or "smtp"
	Queue      string // FIFO group: the endpoint id for webhooks
	EndpointID string
	EventID    string
	EventType  string
	WebhookID  string
	// Ref is the row another transport delivers (an smtp delivery's
	// draft); webhook deliveries leave it zero.
	Ref    int64
	Status string
	Test   bool
	// Attempts is the number of attempts logged so far (all rounds);
	// RoundAttempts those since the current round began (a replay or a
	// re-enable starts a new round with the full retry schedule).
	Attempts      int
	RoundAttempts int
	NextAttemptAt time.Time // zero: due now
	Deadline      time.Time // zero: the round has not started
	CreatedAt     time.Time // zero when read by Store.Pending

	URL             string
	Secret          string
	PrevSecret      string
	PrevSecretUntil time.Time
	Payload         []byte
}

// Secrets returns the secrets that sign an attempt at now: the current one,
// then the previous one while its rotation grace period lasts.
func (d Delivery) Secrets(now time.Time) []string {
	s := []string{d.Secret}
	if d.PrevSecret != "" && now.Before(d.PrevSecretUntil) {
		s = append(s, d.PrevSecret)
	}
	return s
}

// Result is what a transport reports for one attempt.
type Result struct {
	Started  time.Time
	Duration time.Duration
	// StatusCode is the HTTP status (0 when no response arrived).
	StatusCode int
	// Class is "" on success, else one of the Class constants.
	Class string
	// Err is a one-line description of the failure, never containing a secret.
	Err string
	// RetryAfter is the receiver's Retry-After, 0 when absent.
	RetryAfter time.Duration
	// Disable, when set, disables the endpoint with this reason (410 Gone).
	Disable string
	// Permanent marks a failure that no retry can fix (an SMTP 5xx
	// reply): the delivery is dead at once, the attempt logged as usual.
	Permanent bool
	// NetDown marks a failure that may be this machine's network rather
	// than the endpoint's: no route, no reachable resolver, a dial that
	// timed out. The sender then checks whether it is offline.
	NetDown bool

	RequestHeaders  http.Header
	RequestBody     []byte
	ResponseHeaders http.Header
	ResponseBody    []byte // first 4 KiB
}

// OK reports whether the attempt succeeded.
func (r Result) OK() bool { return r.Class == "" }

// Transport delivers one attempt of one outbox kind. Deliver never returns
// an error: every failure is classified in the Result. The context carries
// the attempt's timeout.
type Transport interface {
	Deliver(ctx context.Context, d Delivery) Result
}

// Outcome is an attempt and the delivery's new state, written by the store
// in one group-commit transaction.
type Outcome struct {
	Delivery Delivery
	Result   Result
	// Status is delivered, retrying or dead. The store turns retrying into
	// paused when the endpoint is (or becomes) disabled.
	Status        string
	NextAttemptAt time.Time // retrying only
	Deadline      time.Time
	LastError     string
}

// DisablePolicy is the auto-disable rule the store applies while recording:
// an endpoint with After failed attempts started within Window (and after
// its last disable) is disabled with Reason. Attempts of class offline do
// not count.
type DisablePolicy struct {
	After  int
	Window time.Duration
	Reason string
	// WarnAt are counts below After at which the store reports a warning
	// (Disabled with Warning set) when a batch brings the count to them.
	WarnAt []int
}

// Disabled is an endpoint the store disabled while recording outcomes or,
// with Warning set, one whose count of failed attempts reached one of the
// policy's WarnAt (it stays enabled).
type Disabled struct {
	EndpointID string
	Reason     string
	At         time.Time
	Warning    bool
	// Failures is the count of failed attempts in the window (warnings).
	Failures int
}

// PendingQuery selects the deliveries of one queue for the sender.
type PendingQuery struct {
	Queue string
	Kinds []string // outbox kinds with a transport
	// AfterSeq skips pending rows up to this seq (the sender already holds
	// them); retrying rows are always returned.
	AfterSeq int64
	// Limit bounds the rows returned, first by seq.
	Limit int
	// RoundLength is the sum of the retry delays: a round began at
	// deadline - RoundLength, which lets the store count RoundAttempts.
	RoundLength time.Duration
}

// Store is the outbox the sender works on; db.DB implements it.
type Store interface {
	// Queues returns the queues holding a pending or retrying delivery of
	// one of kinds.
	Queues(ctx context.Context, kinds []string) ([]string, error)
	// Pending returns a queue's pending and retrying deliveries in seq
	// order, as selected by q.
	Pending(ctx context.Context, q PendingQuery) ([]Delivery, error)
	// Record writes the attempts and new states of outcomes in one
	// transaction, disables endpoints per policy (and per Result.Disable),
	// pausing their deliveries, and returns the endpoints it disabled.
	Record(ctx context.Context, outcomes []Outcome, policy DisablePolicy) ([]Disabled, error)
	// Delivery returns one delivery by id, whatever its status, or an
	// error wrapping ErrNotFound.
	Delivery(ctx context.Context, id string, roundLength time.Duration) (Delivery, error)
}

// Preparer is implemented by a store that can keep its statements prepared
// for the length of a sender run. Run uses the PreparedStore in place of
// the store and closes it when it returns.
type Preparer interface {
	PrepareStore() PreparedStore
}

// Checkpointer is a Store that can copy what it has committed so far into
// its main file in the background (a WAL checkpoint), so that closing it
// has less left to copy. A draining sender asks once, when it has read
// the last deliveries it will send.
type Checkpointer interface {
	CheckpointSoon()
}

// PreparedStore is a Store holding prepared statements until Close.
type PreparedStore interface {
	Store
	Close() error
}
