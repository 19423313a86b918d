package triage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// callInfoKey carries a *callInfo in a request's context, so the transport
// can report the status of the one request a model call makes whatever
// the provider's client does with it (they turn statuses into plain
// strings, and ollama's ignores an error status with an empty body).
type callInfoKey struct{}

// callInfo is written by the transport during the synchronous Do of one
// model call and read after it returns.
type callInfo struct {
	status     int
	retryAfter time.Duration
	// fields are set on the request's JSON body (read-only here).
	fields bodyFields
}

// observingTransport records the response status of each request whose
// context carries a *callInfo, and adds a bearer token where the provider's
// client has no notion of one (ollama behind an authenticating proxy).
type observingTransport struct {
	base   http.RoundTripper
	bearer string
}

func (t *observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	info, _ := req.Context().Value(callInfoKey{}).(*callInfo)
	if t.bearer != "" && req.Header.Get("Authorization") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.bearer)
	}
	if info != nil && len(info.fields) > 0 && req.Body != nil {
		var err error
		if req, err = withFields(req, info.fields); err != nil {
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(req)
	if info != nil && resp != nil {
		info.status = resp.StatusCode
		info.retryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	return resp, err
}

// retryAfter parses a Retry-After in seconds; dates and junk give 0.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// observedClient returns a copy of hc (or a plain client) whose transport
// records statuses for the LLM classifier.
func observedClient(hc *http.Client, bearer bool, key string) *http.Client {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	t := &observingTransport{base: base}
	if bearer {
		t.bearer = key
	}
	c.Transport = t
	return c
}

// withFields returns a copy of req whose JSON object body has fields set
// (replacing any of the same name). The original body is consumed and
// closed, as a transport does.
func withFields(req *http.Request, fields bodyFields) (*http.Request, error) {
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("model request body: %w", err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("model request body: %w", err)
	}
	for k, v := range fields {
		body[k] = v
	}
	if raw, err = json.Marshal(body); err != nil {
		return nil, fmt.Errorf("model request body: %w", err)
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(raw))
	out.ContentLength = int64(len(raw))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	return out, nil
}
