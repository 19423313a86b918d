package webhook

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxBody bounds what the receiver reads of a request body.
const maxBody = 1 << 20

// ReceiverOptions configures NewReceiver.
type ReceiverOptions struct {
	// FailFirst answers the first FailFirst requests with 503 (after
	// verifying them), to show retries in a demo.
	FailFirst int
	// Now is the clock for the timestamp tolerance (default time.Now).
	Now func() time.Time
	// Tolerance is the accepted clock skew (default DefaultTolerance).
	Tolerance time.Duration
	// OnRequest, when set, receives every request after it was verified
	// (calls are serialised). Its text is untrusted: whoever prints it
	// sanitises it.
	OnRequest func(Received)
}

// Received is one request a Receiver got.
type Received struct {
	At        time.Time
	WebhookID string
	// Problem is "" for a request whose signature verified, else why it
	// did not ("signature does not match (wrong secret?)").
	Problem string
	Body    []byte
	// Duplicate counts the earlier valid requests with this webhook-id.
	Duplicate int
	// Status is what the receiver answered.
	Status int
}

// Receiver is an http.Handler that verifies Standard Webhooks deliveries
// with its own Verify: what "smista listen" and the demo run. Valid
// requests get 200 (or 503 while failing the first ones), bad signatures
// 400. It is safe for concurrent use.
type Receiver struct {
	secret string
	opts   ReceiverOptions

	mu       sync.Mutex
	seen     map[string]int
	requests int
	valid    int
}

// NewReceiver returns a receiver for a verification key: a whsec_ secret
// (v1) or a whpk_ public key (v1a). It fails with ErrBadSecret on a
// malformed one.
func NewReceiver(secret string, opts ReceiverOptions) (*Receiver, error) {
	if err := ValidateKey(secret); err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Receiver{secret: secret, opts: opts, seen: map[string]int{}}, nil
}

// Stats returns the number of requests received, the number with a valid
// signature, and the distinct webhook-ids among the valid ones.
func (rv *Receiver) Stats() (requests, valid, unique int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.requests, rv.valid, len(rv.seen)
}

// ServeHTTP verifies and reports one delivery.
func (rv *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := rv.opts.Now()
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "body unreadable or over 1 MiB", http.StatusBadRequest)
		return
	}
	rec := Received{At: now, WebhookID: r.Header.Get(HeaderID), Body: body, Status: http.StatusOK}
	verr := Verify(rv.secret, r.Header, body, now, rv.opts.Tolerance)
	rv.mu.Lock()
	rv.requests++
	if verr != nil {
		rec.Problem, rec.Status = describeVerify(verr), http.StatusBadRequest
	} else {
		rv.valid++
		rec.Duplicate = rv.seen[rec.WebhookID]
		rv.seen[rec.WebhookID]++
		if rv.requests <= rv.opts.FailFirst {
			rec.Status = http.StatusServiceUnavailable
		}
	}
	if rv.opts.OnRequest != nil {
		rv.opts.OnRequest(rec)
	}
	rv.mu.Unlock()
	switch rec.Status {
	case http.StatusBadRequest:
		http.Error(w, "invalid webhook signature", http.StatusBadRequest)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "failing on purpose (--flaky)", rec.Status)
	default:
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "ok\n")
	}
}

func describeVerify(err error) string {
	switch {
	case errors.Is(err, ErrNoValidSignature):
		return "signature does not match (wrong secret?)"
	case errors.Is(err, ErrStaleTimestamp):
		return "timestamp too old or too new (replay or clock skew)"
	case errors.Is(err, ErrMissingHeaders):
		return "missing webhook-* headers"
	}
	return err.Error()
}
