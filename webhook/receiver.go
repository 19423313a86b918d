package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
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
	// (and forwarded; calls are serialised). Its text is untrusted:
	// whoever prints it sanitises it.
	OnRequest func(Received)
	// Lookup, when set, tells the signature doctor what the store knows
	// of a webhook-id (nil: nothing), for the REJECTED lines.
	Lookup func(webhookID string) *Known
	// ForwardTo, when set, is the URL of a local app each verified request
	// is forwarded to — the exact body and the Standard Webhooks headers —
	// and whose answer (status, then body) the receiver returns.
	ForwardTo string
	// ForwardTimeout bounds a forward (default 10s).
	ForwardTimeout time.Duration
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
	// Forwarded is set when the request went to ForwardTo: the app's
	// status (0 when it did not answer, ForwardErr says why) and latency.
	Forwarded       bool
	ForwardStatus   int
	ForwardDuration time.Duration
	ForwardErr      string
	// Header is the request's headers.
	Header http.Header
}

// Receiver is an http.Handler that verifies Standard Webhooks deliveries
// with its own Verify: what "smista listen" and the demo run. Valid
// requests get 200 (or 503 while failing the first ones), bad signatures
// 400. It is safe for concurrent use.
type Receiver struct {
	secret string
	opts   ReceiverOptions
	client *http.Client

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
	if opts.ForwardTimeout <= 0 {
		opts.ForwardTimeout = 10 * time.Second
	}
	client := &http.Client{
		Timeout: opts.ForwardTimeout,
		// The app's redirect is its answer, passed back as is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Receiver{secret: secret, opts: opts, seen: map[string]int{}, client: client}, nil
}

// Serve serves rv on ln ("smista listen") until ctx ends, then shuts the
// server down, waiting up to 2 s for the requests in flight. It fails when
// the server stops on its own or does not shut down in time.
func (rv *Receiver) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: rv, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	<-done
	return nil
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
	rec := Received{At: now, WebhookID: r.Header.Get(HeaderID), Body: body, Status: http.StatusOK, Header: r.Header}
	verr := Verify(rv.secret, r.Header, body, now, rv.opts.Tolerance)
	var answer []byte
	if verr != nil {
		var known *Known
		if rv.opts.Lookup != nil && rec.WebhookID != "" {
			known = rv.opts.Lookup(rec.WebhookID)
		}
		rec.Problem = Diagnose(Capture{Header: r.Header, Body: body}, []string{rv.secret}, known, now, rv.opts.Tolerance).Verdict
	} else if rv.opts.ForwardTo != "" {
		answer = rv.forward(r.Context(), r.Header, body, &rec)
	}
	rv.mu.Lock()
	rv.requests++
	if verr != nil {
		rec.Status = http.StatusBadRequest
	} else {
		rv.valid++
		rec.Duplicate = rv.seen[rec.WebhookID]
		rv.seen[rec.WebhookID]++
		switch {
		case rv.requests <= rv.opts.FailFirst:
			rec.Status = http.StatusServiceUnavailable
		case rec.Forwarded && rec.ForwardStatus == 0:
			rec.Status = http.StatusBadGateway
		case rec.Forwarded:
			rec.Status = rec.ForwardStatus
		}
	}
	if rv.opts.OnRequest != nil {
		rv.opts.OnRequest(rec)
	}
	rv.mu.Unlock()
	switch {
	case verr != nil:
		http.Error(w, "invalid webhook signature", http.StatusBadRequest)
	case rec.Status == http.StatusServiceUnavailable && !rec.Forwarded:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "failing on purpose (--flaky)", rec.Status)
	case rec.Forwarded && rec.ForwardStatus == 0:
		http.Error(w, "forward failed: "+rec.ForwardErr, rec.Status)
	case rec.Forwarded:
		w.WriteHeader(rec.Status)
		w.Write(answer)
	default:
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "ok\n")
	}
}

// forwardHeaders are the request headers a forward carries: the Standard
// Webhooks ones and what describes the body.
var forwardHeaders = []string{HeaderID, HeaderTimestamp, HeaderSignature, "Content-Type", "User-Agent"}

// forward POSTs the exact body and the Standard Webhooks headers to
// ForwardTo and records the app's answer in rec; it returns the answer's
// body (its first 64 KiB).
func (rv *Receiver) forward(ctx context.Context, h http.Header, body []byte, rec *Received) []byte {
	rec.Forwarded = true
	start := rv.opts.Now()
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, rv.opts.ForwardTo, bytes.NewReader(body))
	if err != nil {
		rec.ForwardErr = oneLine(err.Error(), 200)
		return nil
	}
	for _, k := range forwardHeaders {
		if v := h.Values(k); len(v) > 0 {
			req.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	resp, err := rv.client.Do(req)
	rec.ForwardDuration = rv.opts.Now().Sub(start)
	if err != nil {
		rec.ForwardErr = oneLine(err.Error(), 200)
		return nil
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	rec.ForwardStatus = resp.StatusCode
	rec.ForwardDuration = rv.opts.Now().Sub(start)
	return answer
}
