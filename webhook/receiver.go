package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"smista/ui/safe"
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
}

// Receiver is an http.Handler that verifies Standard Webhooks deliveries
// with its own Verify and pretty-prints each event to out: what "smista
// listen" and the demo run. Valid requests get 200 (or 503 while failing
// the first ones), bad signatures 400. It is safe for concurrent use.
type Receiver struct {
	secret string
	out    io.Writer
	opts   ReceiverOptions

	mu       sync.Mutex
	seen     map[string]int
	requests int
	valid    int
}

// NewReceiver returns a receiver for secret, printing to out. It fails
// with ErrBadSecret on a malformed secret.
func NewReceiver(secret string, out io.Writer, opts ReceiverOptions) (*Receiver, error) {
	if err := ValidateSecret(secret); err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Receiver{secret: secret, out: out, opts: opts, seen: map[string]int{}}, nil
}

// Stats returns the number of requests received, the number with a valid
// signature, and the distinct webhook-ids among the valid ones.
func (rv *Receiver) Stats() (requests, valid, unique int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.requests, rv.valid, len(rv.seen)
}

// ServeHTTP verifies and prints one delivery.
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
	id := r.Header.Get(HeaderID)
	verr := Verify(rv.secret, r.Header, body, now, rv.opts.Tolerance)
	rv.mu.Lock()
	rv.requests++
	n := rv.requests
	dup := 0
	if verr == nil {
		rv.valid++
		dup = rv.seen[id]
		rv.seen[id]++
	}
	rv.mu.Unlock()
	if verr != nil {
		fmt.Fprintf(rv.out, "%s  REJECTED  %s  %s\n", now.Format("15:04:05"), safe.String(id), describeVerify(verr))
		http.Error(w, "invalid webhook signature", http.StatusBadRequest)
		return
	}
	status := http.StatusOK
	if n <= rv.opts.FailFirst {
		status = http.StatusServiceUnavailable
	}
	rv.print(now, id, body, dup, status)
	if status != http.StatusOK {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "failing on purpose (--flaky)", status)
		return
	}
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "ok\n")
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

// print writes one event as a readable block; every value is untrusted.
func (rv *Receiver) print(now time.Time, id string, body []byte, dup, status int) {
	var b strings.Builder
	var fields map[string]any
	event := "?"
	if json.Unmarshal(body, &fields) == nil {
		if e, ok := fields["event"].(string); ok {
			event = e
		}
	}
	fmt.Fprintf(&b, "%s  %s  %s", now.Format("15:04:05"), safe.String(event), safe.String(id))
	if dup > 0 {
		fmt.Fprintf(&b, "  (duplicate #%d: deduplicate on webhook-id)", dup)
	}
	if status != http.StatusOK {
		fmt.Fprintf(&b, "  → answered %d on purpose", status)
	}
	b.WriteString("\n")
	if fields == nil {
		fmt.Fprintf(&b, "    (body is not a JSON object: %s)\n", safe.String(string(body[:min(len(body), 200)])))
	} else {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			if k != "event" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := json.Marshal(fields[k])
			val := string(v)
			if s, ok := fields[k].(string); ok {
				val = s
			}
			fmt.Fprintf(&b, "    %-14s %s\n", safe.String(k), safe.String(val))
		}
	}
	rv.mu.Lock()
	io.WriteString(rv.out, b.String())
	rv.mu.Unlock()
}
