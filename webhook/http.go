package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ResponseSnippetSize is how much of a response body the attempt log keeps.
const ResponseSnippetSize = 4 << 10

// ResponseHeadersSize bounds the response headers the attempt log keeps
// (each line counted as "Key: value\r\n"): the first lines in key order,
// then a HeaderTruncated line saying what was left out.
const ResponseHeadersSize = 4 << 10

// MaxResponseHeaderBytes bounds the response header block the transport
// reads at all: a bigger one fails the attempt (class other).
const MaxResponseHeaderBytes = 64 << 10

// HeaderTruncated is added to the stored response headers of an attempt
// whose headers exceeded ResponseHeadersSize. It is not a header the
// receiver sent.
const HeaderTruncated = "Smista-Headers-Truncated"

// bodyWait bounds reading the response body once the status and headers
// are in: they decide the attempt, the body is kept for the log only, and
// a receiver trickling it must not hold its endpoint's queue until the
// attempt's timeout.
const bodyWait = 250 * time.Millisecond

// HTTPTransport delivers webhook deliveries as signed POSTs.
type HTTPTransport struct {
	client    *http.Client
	rt        *http.Transport // client's: attempts go to it directly (see Deliver)
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	signer    signer
	now       func() time.Time
	userAgent string
}

// HTTPOptions configures NewHTTPTransport.
type HTTPOptions struct {
	// Guard checks every dialled address (after DNS resolution).
	Guard Guard
	// Now stamps webhook-timestamp; nil means time.Now.
	Now func() time.Time
	// UserAgent is sent as User-Agent; "" means "smista/dev".
	UserAgent string
	// MaxConnsPerHost bounds idle keep-alive connections per host (0: 64).
	MaxConnsPerHost int
	// TLSConfig is used for https endpoints (nil: system roots).
	TLSConfig *tls.Config
	// Dial, when set, replaces the guarded dialer (tests: a network that
	// fails).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NewHTTPTransport returns a transport whose client never follows
// redirects, never uses a proxy (a proxy would dial on our behalf, past the
// guard) and checks every dialled address with the guard.
func NewHTTPTransport(o HTTPOptions) *HTTPTransport {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UserAgent == "" {
		o.UserAgent = "smista/dev"
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = 64
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: o.Guard.Control}
	dial := dialer.DialContext
	if o.Dial != nil {
		dial = o.Dial
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         dial,
		TLSClientConfig:     o.TLSConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		// A receiver's 10 MB of headers would be read, kept and logged
		// whole: refuse the answer beyond 64 KiB instead.
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    o.MaxConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
		// A receiver's answer is read for the log only (its first 4 KiB):
		// no Accept-Encoding header, no gzip reader per response.
		DisableCompression: true,
	}
	return &HTTPTransport{
		rt: tr,
		client: &http.Client{
			Transport: tr,
			// A 3xx counts as a failure: following redirects would let an
			// endpoint bounce signed payloads to an address we never checked.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		dial:      dial,
		now:       o.Now,
		userAgent: o.UserAgent,
	}
}

// Close releases idle connections.
func (t *HTTPTransport) Close() { t.client.CloseIdleConnections() }

// Deliver POSTs d's payload to its endpoint, signed with the endpoint's
// secrets at the current time, and classifies the outcome.
func (t *HTTPTransport) Deliver(ctx context.Context, d Delivery) Result {
	started := t.now()
	res := Result{Started: started, RequestBody: d.Payload}
	finish := func() Result {
		res.Duration = t.now().Sub(started)
		return res
	}
	prev := ""
	if d.PrevSecret != "" && started.Before(d.PrevSecretUntil) {
		prev = d.PrevSecret // as in Delivery.Secrets, without the slice
	}
	h, err := t.signer.signedHeaders(d.Secret, prev, d.WebhookID, started, d.Payload, t.userAgent)
	if err != nil {
		res.Class, res.Err = ClassOther, "endpoint secret is malformed"
		return finish()
	}
	res.RequestHeaders = h
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		res.Class, res.Err = ClassOther, "bad request: "+err.Error()
		return finish()
	}
	// Shared with the attempt log: the transport does not modify a
	// request's headers.
	req.Header = h
	resp, err := t.roundTrip(req)
	if err != nil {
		res.Class, res.Err = classify(ctx, err)
		res.NetDown = netDown(err)
		return finish()
	}
	defer resp.Body.Close()
	res.StatusCode = resp.StatusCode
	res.ResponseHeaders = capHeaders(resp.Header)
	if resp.ContentLength != 0 {
		// Closing the body interrupts a read blocked on it (HTTP/1.1: the
		// transport closes the connection; HTTP/2: it resets the stream).
		// A context cancelled by this timer would do the same, at the
		// cost of a context per attempt, also for the common empty body.
		stop := time.AfterFunc(bodyWait, func() { resp.Body.Close() })
		res.ResponseBody, _ = readSnippet(resp)
		// Drain a little more so the connection can be reused; a body that
		// has not ended by bodyWait costs the connection instead.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		stop.Stop()
	}
	// The status decides; a slow or broken body does not undo a 2xx.
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Class = ClassRedirect
		res.Err = fmt.Sprintf("HTTP %d redirect not followed (Location: %s)", resp.StatusCode, oneLine(resp.Header.Get("Location"), 200))
	default:
		res.Class = ClassHTTPStatus
		res.Err = fmt.Sprintf("HTTP %d", resp.StatusCode)
		if resp.StatusCode == http.StatusGone {
			res.Disable = "receiver answered 410 Gone"
		}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" && res.Class != "" {
		res.RetryAfter = parseRetryAfter(ra, started)
	}
	return finish()
}

// roundTrip sends req as the client would — redirects are never followed
// (the client's CheckRedirect returns its last response), there is no
// cookie jar and no client timeout — without the client's per-request
// copies (its headers, its URL): straight to the transport, the error
// wrapped in a *url.Error as the client wraps it. A URL with user info
// (ParseURL refuses them) goes through the client, which turns it into
// an Authorization header.
func (t *HTTPTransport) roundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.User != nil {
		return t.client.Do(req)
	}
	resp, err := t.rt.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: err}
	}
	return resp, nil
}

// capHeaders returns h when its lines fit in ResponseHeadersSize, else the
// first lines in key order that fit (the line that overflows cut short)
// and a HeaderTruncated line.
func capHeaders(h http.Header) http.Header {
	total, lines := 0, 0
	for k, vs := range h {
		for _, v := range vs {
			total += len(k) + len(v) + 4
			lines++
		}
	}
	if total <= ResponseHeadersSize {
		return h
	}
	// Room for the HeaderTruncated line itself.
	budget := ResponseHeadersSize - 128
	out := http.Header{}
	kept := 0
fill:
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			n := len(k) + len(v) + 4
			if n > budget {
				if room := budget - len(k) - 4; room >= 16 {
					out[k] = append(out[k], strings.ToValidUTF8(v[:room], "")+"…")
					kept++
				}
				break fill
			}
			out[k] = append(out[k], v)
			budget -= n
			kept++
		}
	}
	out[HeaderTruncated] = []string{fmt.Sprintf("kept %d of %d header lines (%d of %d bytes)",
		kept, lines, ResponseHeadersSize-128-budget, total)}
	return out
}

// readSnippet reads the first ResponseSnippetSize bytes of the body;
// nil, without allocating, for an empty one.
func readSnippet(resp *http.Response) ([]byte, error) {
	switch {
	case resp.ContentLength == 0:
		return nil, nil
	case resp.ContentLength > 0:
		buf := make([]byte, min(resp.ContentLength, ResponseSnippetSize))
		n, err := io.ReadFull(resp.Body, buf)
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return buf[:n], err
	}
	return io.ReadAll(io.LimitReader(resp.Body, ResponseSnippetSize))
}

// classify maps a client error to an error class and a one-line message.
func classify(ctx context.Context, err error) (string, string) {
	msg := oneLine(err.Error(), 300)
	var netErr net.Error
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ClassTimeout, msg
	case strings.Contains(msg, "response headers exceeded"), strings.Contains(msg, "header list larger than advertised limit"):
		// net/http (HTTP/1.1) and its HTTP/2 transport stop reading at
		// MaxResponseHeaderBytes; neither has a typed error for it.
		return ClassOther, fmt.Sprintf("response headers exceed %d KiB: answer refused", MaxResponseHeaderBytes>>10)
	case errors.As(err, &netErr) && netErr.Timeout():
		return ClassTimeout, msg
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert),
		errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalid),
		strings.Contains(msg, "tls: "):
		return ClassTLS, msg
	case errors.As(err, &opErr) && opErr.Op == "dial",
		errors.Is(err, ErrForbiddenAddr), errors.Is(err, ErrPrivateAddr):
		return ClassConnect, msg
	case errors.As(err, new(*net.DNSError)):
		return ClassConnect, msg
	}
	return ClassOther, msg
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
