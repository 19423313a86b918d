package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"smista/webhook"
)

func TestSignatureInteroperates(t *testing.T) {
	secret, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := webhook.ValidateSecret(secret); err != nil {
		t.Fatalf("generated secret invalid: %v", err)
	}
	now := time.Now()
	body := []byte(`{"event":"ticket.suggested","email_id":"abc"}`)
	h, err := webhook.SignedHeaders([]string{secret}, "msg_1", now, body, "smista/test")
	if err != nil {
		t.Fatal(err)
	}
	lib, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := lib.Verify(body, h); err != nil {
		t.Fatalf("library rejects our signature: %v", err)
	}
	libSig, err := lib.Sign("msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get(webhook.HeaderSignature); got != libSig {
		t.Fatalf("signature %s, library computes %s", got, libSig)
	}
	other, _ := webhook.GenerateSecret()
	tests := map[string]struct {
		secret  string
		mutate  func(h http.Header, body []byte) []byte
		wantErr error
	}{
		"valid":            {secret: secret},
		"wrong secret":     {secret: other, wantErr: webhook.ErrNoValidSignature},
		"tampered body":    {secret: secret, mutate: func(_ http.Header, b []byte) []byte { return bytes.Replace(b, []byte("abc"), []byte("abd"), 1) }, wantErr: webhook.ErrNoValidSignature},
		"stale timestamp":  {secret: secret, mutate: func(h http.Header, b []byte) []byte { h.Set(webhook.HeaderTimestamp, "1000"); return b }, wantErr: webhook.ErrStaleTimestamp},
		"missing id":       {secret: secret, mutate: func(h http.Header, b []byte) []byte { h.Del(webhook.HeaderID); return b }, wantErr: webhook.ErrMissingHeaders},
		"malformed secret": {secret: "whsec_short", wantErr: webhook.ErrBadSecret},
		"second signature of two": {secret: other, mutate: func(h http.Header, b []byte) []byte {
			both, _ := webhook.SignatureHeader([]string{secret, other}, "msg_1", now, b)
			h.Set(webhook.HeaderSignature, both)
			return b
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			hh := h.Clone()
			b := append([]byte(nil), body...)
			if tc.mutate != nil {
				b = tc.mutate(hh, b)
			}
			err := webhook.Verify(tc.secret, hh, b, now, 0)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Verify: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestValidateSecret(t *testing.T) {
	tests := map[string]struct {
		secret string
		ok     bool
	}{
		"24 bytes":       {"whsec_" + strings.Repeat("A", 32), true},
		"no prefix":      {strings.Repeat("A", 44), false},
		"not base64":     {"whsec_!!!!" + strings.Repeat("A", 40), false},
		"too short":      {"whsec_AAAA", false},
		"empty":          {"", false},
		"65 bytes (max)": {"whsec_" + strings.Repeat("A", 88), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := webhook.ValidateSecret(tc.secret)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateSecret(%q) = %v, want ok=%v", tc.secret, err, tc.ok)
			}
		})
	}
}

func TestGuard(t *testing.T) {
	tests := map[string]struct {
		addr        string
		allowed     bool // with AllowPrivate
		privateOnly bool // refused only when AllowPrivate is false
	}{
		"public v4":         {addr: "93.184.216.34", allowed: true},
		"loopback":          {addr: "127.0.0.1", allowed: true, privateOnly: true},
		"private 10/8":      {addr: "10.1.2.3", allowed: true, privateOnly: true},
		"ula v6":            {addr: "fd12::1", allowed: true, privateOnly: true},
		"link-local v4":     {addr: "169.254.1.1"},
		"aws metadata":      {addr: "169.254.169.254"},
		"link-local v6":     {addr: "fe80::1"},
		"ec2 metadata v6":   {addr: "fd00:ec2::254"},
		"mapped link-local": {addr: "::ffff:169.254.169.254"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.addr)
			if err := (webhook.Guard{AllowPrivate: true}).CheckAddr(ip); (err == nil) != tc.allowed {
				t.Errorf("allow_private=true: %v, want allowed=%v", err, tc.allowed)
			}
			err := (webhook.Guard{AllowPrivate: false}).CheckAddr(ip)
			if want := tc.allowed && !tc.privateOnly; (err == nil) != want {
				t.Errorf("allow_private=false: %v, want allowed=%v", err, want)
			}
		})
	}
	urls := map[string]error{
		"ftp://example.com/":            webhook.ErrBadURL,
		"http://user:pw@127.0.0.1/":     webhook.ErrBadURL,
		"http:///nohost":                webhook.ErrBadURL,
		"http://169.254.169.254/latest": webhook.ErrForbiddenAddr,
		"http://[fe80::1]:8080/":        webhook.ErrForbiddenAddr,
		"http://127.0.0.1:8787/hook":    nil,
	}
	for u, want := range urls {
		_, err := (webhook.Guard{AllowPrivate: true}).CheckURL(context.Background(), nil, u)
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("CheckURL(%s) = %v, want %v", u, err, want)
		}
	}
}

// TestGuardAtDialTime: a URL that passed the check can still not reach a
// forbidden address when dialled (DNS rebinding), because the dialer
// checks the resolved address.
func TestGuardAtDialTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	secret, _ := webhook.GenerateSecret()
	tr := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: webhook.Guard{AllowPrivate: false}})
	defer tr.Close()
	res := tr.Deliver(context.Background(), webhook.Delivery{URL: srv.URL, Secret: secret, WebhookID: "msg_x", Payload: []byte("{}")})
	if res.Class != webhook.ClassConnect || !strings.Contains(res.Err, "private") {
		t.Fatalf("dial to loopback with allow_private=false: class %q err %q, want connect refused by the guard", res.Class, res.Err)
	}
}

func TestReceiver(t *testing.T) {
	secret, _ := webhook.GenerateSecret()
	other, _ := webhook.GenerateSecret()
	var got []webhook.Received
	rv, err := webhook.NewReceiver(secret, webhook.ReceiverOptions{FailFirst: 1,
		OnRequest: func(r webhook.Received) { got = append(got, r) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	body := []byte(`{"event":"ticket.suggested","subject":"Login \u001b[31mbroken","email_id":"e1"}`)
	post := func(secret string) int {
		t.Helper()
		h, err := webhook.SignedHeaders([]string{secret}, "msg_r1", time.Now(), body, "test")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(secret); got != http.StatusServiceUnavailable {
		t.Errorf("first valid request (fail-first 1): %d, want 503", got)
	}
	if got := post(secret); got != http.StatusOK {
		t.Errorf("second valid request: %d, want 200", got)
	}
	if got := post(other); got != http.StatusBadRequest {
		t.Errorf("wrong secret: %d, want 400", got)
	}
	reqs, valid, unique := rv.Stats()
	if reqs != 3 || valid != 2 || unique != 1 {
		t.Errorf("stats %d/%d/%d, want 3/2/1", reqs, valid, unique)
	}
	if len(got) != 3 {
		t.Fatalf("OnRequest saw %d requests, want 3", len(got))
	}
	for i, want := range []struct {
		status, dup int
		rejected    bool
	}{{http.StatusServiceUnavailable, 0, false}, {http.StatusOK, 1, false}, {http.StatusBadRequest, 0, true}} {
		r := got[i]
		if r.Status != want.status || r.Duplicate != want.dup || (r.Problem != "") != want.rejected || r.WebhookID != "msg_r1" {
			t.Errorf("request %d: %+v, want status %d, duplicate %d, rejected %v", i, r, want.status, want.dup, want.rejected)
		}
	}
	if !bytes.Equal(got[1].Body, body) {
		t.Errorf("body %q, want %q", got[1].Body, body)
	}
}

// TestTransportSignatures checks the transport's cached keyed hashes: every
// attempt carries the signature SignatureHeader computes, for the current
// and previous secrets, and the independent library verifies it, attempt
// after attempt on the same transport.
func TestTransportSignatures(t *testing.T) {
	cur, _ := webhook.GenerateSecret()
	prev, _ := webhook.GenerateSecret()
	now := time.Now() // the library checks the timestamp against its clock
	body := []byte(`{"event":"ticket.suggested","email_id":"abc"}`)
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer srv.Close()
	tr := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: webhook.Guard{AllowPrivate: true}, Now: func() time.Time { return now }})
	defer tr.Close()
	tests := map[string]struct {
		secret, prev string
		until        time.Time
		want         []string // secrets expected to sign, in order
		wantClass    string
	}{
		"current only":           {secret: cur, want: []string{cur}},
		"rotation grace":         {secret: cur, prev: prev, until: now.Add(time.Hour), want: []string{cur, prev}},
		"grace over":             {secret: cur, prev: prev, until: now, want: []string{cur}},
		"previous as current":    {secret: prev, want: []string{prev}},
		"malformed secret":       {secret: "whsec_short", wantClass: webhook.ClassOther},
		"malformed previous one": {secret: cur, prev: "whsec_!!", until: now.Add(time.Hour), wantClass: webhook.ClassOther},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for attempt := range 3 { // the second and third use the cached keys
				d := webhook.Delivery{ID: "dlv_1", WebhookID: "msg_t", URL: srv.URL, Secret: tc.secret,
					PrevSecret: tc.prev, PrevSecretUntil: tc.until, Payload: body}
				res := tr.Deliver(context.Background(), d)
				if res.Class != tc.wantClass {
					t.Fatalf("attempt %d: class %q (%s), want %q", attempt, res.Class, res.Err, tc.wantClass)
				}
				if tc.wantClass != "" {
					if strings.Contains(res.Err, tc.secret) || res.RequestHeaders != nil {
						t.Fatalf("attempt %d: a failed signing leaks %q / %v", attempt, res.Err, res.RequestHeaders)
					}
					continue
				}
				h := <-got
				want, err := webhook.SignatureHeader(tc.want, "msg_t", now, body)
				if err != nil {
					t.Fatal(err)
				}
				if sig := h.Get(webhook.HeaderSignature); sig != want || res.RequestHeaders.Get(webhook.HeaderSignature) != want {
					t.Fatalf("attempt %d: signature %q (logged %q), want %q", attempt, sig, res.RequestHeaders.Get(webhook.HeaderSignature), want)
				}
				for _, s := range tc.want {
					lib, err := standardwebhooks.NewWebhook(s)
					if err != nil {
						t.Fatal(err)
					}
					if err := lib.Verify(body, h); err != nil {
						t.Fatalf("attempt %d: the library rejects the signature of %s: %v", attempt, name, err)
					}
				}
			}
		})
	}
}
