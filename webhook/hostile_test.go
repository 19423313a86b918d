package webhook_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// storedAttemptBytes is the size of everything the attempt log keeps of
// the receivers' answers: headers and body of every attempt.
func storedAttemptBytes(tb testing.TB, d *db.DB) (headers, body int64) {
	tb.Helper()
	atts, err := d.Attempts(context.Background(), db.AttemptFilter{Limit: 1 << 30})
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range atts {
		// The log stores headers as this JSON (sorted keys, arrays).
		h, _ := json.Marshal(a.ResponseHeaders)
		headers += int64(len(h))
		body += int64(len(a.ResponseBody))
	}
	return headers, body
}

// padHeaders sets n response headers of size bytes each.
func padHeaders(w http.ResponseWriter, n, size int) {
	v := strings.Repeat("x", size)
	for i := range n {
		w.Header().Set(fmt.Sprintf("X-Pad-%05d", i), v)
	}
}

// TestResponseHeadersAreCapped: a receiver answering with big headers
// cannot grow the attempt log (or the sender's memory) with them. Under
// the transport's limit the answer counts and at most ResponseHeadersSize
// of its headers is stored, marked truncated; over it (10 MB) the attempt
// fails with class other.
func TestResponseHeadersAreCapped(t *testing.T) {
	tests := map[string]struct {
		n, size   int
		wantClass string
		wantError string
	}{
		"60 KiB of headers: delivered, 4 KiB stored": {n: 600, size: 90},
		"10 MB of headers: refused":                  {n: 1000, size: 10 << 10, wantClass: webhook.ClassOther, wantError: "response headers exceed 64 KiB"},
		"one 60 KiB header: delivered, cut short":    {n: 1, size: 60 << 10},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			d := mustOpenDB(t, clk.Now)
			rv := newReceiver(t, clk.Now)
			rv.respond = func(_ int, w http.ResponseWriter, _ *http.Request) int {
				padHeaders(w, tc.n, tc.size)
				return http.StatusOK
			}
			_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
			rv.setSecrets(secret)
			for i := range 5 {
				dbtest.SeedEvents(t, d, fmt.Sprintf(`{"email_id":"e%d"}`, i))
			}
			opts := fastOptions(clk)
			opts.Retries = []time.Duration{} // one attempt each
			if err := webhook.NewSender(d, opts).Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			rv.checkSignatures(t)
			logs := must(d.Attempts(context.Background(), db.AttemptFilter{}))
			if len(logs) != 5 {
				t.Fatalf("%d attempts logged, want 5", len(logs))
			}
			for _, l := range logs {
				if l.ErrorClass != tc.wantClass || !strings.Contains(l.Error, tc.wantError) {
					t.Errorf("attempt: class %q error %q, want %q containing %q", l.ErrorClass, l.Error, tc.wantClass, tc.wantError)
				}
				size := 0
				for k, vs := range l.ResponseHeaders {
					for _, v := range vs {
						size += len(k) + len(v) + 4
					}
				}
				if size > webhook.ResponseHeadersSize {
					t.Errorf("stored response headers: %d bytes, want at most %d", size, webhook.ResponseHeadersSize)
				}
				if tc.wantClass == "" && l.ResponseHeaders[webhook.HeaderTruncated] == nil {
					t.Errorf("truncated headers not marked: %v", l.ResponseHeaders[webhook.HeaderTruncated])
				}
			}
			// JSON encoding of the stored headers adds a little; 5 attempts
			// stay far below one receiver's 60 KiB.
			if h, _ := storedAttemptBytes(t, d); h > 5*(webhook.ResponseHeadersSize+512) {
				t.Errorf("the attempt log holds %d bytes of response headers for 5 attempts", h)
			}
		})
	}
}

// TestSmallResponseHeadersStoredWhole: headers under the cap are kept as
// sent, with no truncation mark.
func TestSmallResponseHeadersStoredWhole(t *testing.T) {
	srv := newReceiver(t, nil)
	srv.respond = func(_ int, w http.ResponseWriter, _ *http.Request) int {
		w.Header().Set("X-Request-Id", "r-1")
		return http.StatusAccepted
	}
	tr := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: webhook.Guard{AllowPrivate: true}})
	defer tr.Close()
	secret, _ := webhook.GenerateSecret()
	res := tr.Deliver(context.Background(), webhook.Delivery{URL: srv.srv.URL, Secret: secret, WebhookID: "msg_1", Payload: []byte("{}")})
	if !res.OK() || res.ResponseHeaders.Get("X-Request-Id") != "r-1" || res.ResponseHeaders.Get(webhook.HeaderTruncated) != "" {
		t.Fatalf("result %+v", res)
	}
}

// TestTrickledBodyDoesNotHoldTheQueue: a receiver that answers 200 at
// once and then trickles its body forever. The status decides: the
// attempt is a success, and the next delivery of the queue goes out
// without waiting for the attempt's timeout (here an hour, so the old
// behaviour would never get there).
func TestTrickledBodyDoesNotHoldTheQueue(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	release := make(chan struct{})
	rv.respond = func(n int, w http.ResponseWriter, r *http.Request) int {
		if n > 0 {
			return http.StatusOK
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return 0
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return 0
			case <-release:
				return 0
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	rv.setSecrets(secret)
	dbtest.SeedEvents(t, d, `{"email_id":"trickled"}`)
	dbtest.SeedEvents(t, d, `{"email_id":"next"}`)
	opts := fastOptions(clk)
	opts.Timeout = time.Hour
	r := startSender(t, d, opts)
	t.Cleanup(func() { close(release) }) // runs before the sender stops
	for i := range 2 {
		n := r.next(t, webhook.NoticeDelivered, webhook.NoticeFailed)
		if n.Kind != webhook.NoticeDelivered {
			t.Fatalf("delivery %d: %+v, want delivered", i+1, n)
		}
	}
	logs := must(d.Attempts(context.Background(), db.AttemptFilter{}))
	for _, l := range logs {
		if len(l.ResponseBody) > webhook.ResponseSnippetSize {
			t.Errorf("stored %d bytes of body", len(l.ResponseBody))
		}
	}
}

// TestTrickledBodyEndsTheAttempt: at the transport, over HTTP/1.1 and
// HTTP/2, a 2xx whose body never ends is a success once the short body
// wait is over, however long the attempt's own timeout.
func TestTrickledBodyEndsTheAttempt(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http/1.1", true: "http/2"}[h2], func(t *testing.T) {
			release := make(chan struct{})
			proto := make(chan int, 1)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				proto <- r.ProtoMajor
				w.WriteHeader(http.StatusOK)
				for {
					if _, err := w.Write([]byte("x")); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-release:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}))
			var tlsConf *tls.Config
			if h2 {
				srv.EnableHTTP2 = true
				srv.StartTLS()
				tlsConf = srv.Client().Transport.(*http.Transport).TLSClientConfig
			} else {
				srv.Start()
			}
			defer srv.Close()
			defer close(release)
			tr := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: webhook.Guard{AllowPrivate: true}, TLSConfig: tlsConf})
			defer tr.Close()
			secret, _ := webhook.GenerateSecret()
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			got := make(chan webhook.Result, 1)
			go func() {
				got <- tr.Deliver(ctx, webhook.Delivery{URL: srv.URL, Secret: secret, WebhookID: "msg_1", Payload: []byte("{}")})
			}()
			select {
			case res := <-got:
				if !res.OK() || res.StatusCode != http.StatusOK || len(res.ResponseBody) == 0 {
					t.Fatalf("trickled 200: class %q (%s), status %d, %d body bytes; want a success with the body's start",
						res.Class, res.Err, res.StatusCode, len(res.ResponseBody))
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the attempt still reads a trickled body after 20s")
			}
			if p := <-proto; p != map[bool]int{false: 1, true: 2}[h2] {
				t.Errorf("request went over HTTP/%d", p)
			}
		})
	}
}

// TestTrickledHeadersTimeOut: a receiver that sends its status line and
// then its headers one byte at a time never completes the answer: the
// attempt ends at its timeout with class timeout.
func TestTrickledHeadersTimeOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		c.Write([]byte("HTTP/1.1 200 OK\r\n"))
		for {
			if _, err := c.Write([]byte("X")); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	tr := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: webhook.Guard{AllowPrivate: true}})
	defer tr.Close()
	secret, _ := webhook.GenerateSecret()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res := tr.Deliver(ctx, webhook.Delivery{URL: "http://" + ln.Addr().String() + "/", Secret: secret, WebhookID: "msg_1", Payload: []byte("{}")})
	if res.Class != webhook.ClassTimeout {
		t.Fatalf("trickled headers: class %q (%s), want timeout", res.Class, res.Err)
	}
}

// TestStoredAttemptsHoldNoSecret: whatever the attempt log keeps of a
// request (headers, body) never contains the endpoint's secrets, during a
// rotation as well, and the signature in it is not the key.
func TestStoredAttemptsHoldNoSecret(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	rv.respond = func(n int, w http.ResponseWriter, r *http.Request) int {
		// A receiver echoing what it got cannot make the log hold more.
		w.Header().Set("X-Echo", r.Header.Get("webhook-signature"))
		return http.StatusOK
	}
	ep, oldSecret := dbtest.SeedEndpoint(t, d, rv.srv.URL)
	newSecret, _ := webhook.GenerateSecret()
	if err := d.RotateEndpointSecret(context.Background(), ep, newSecret, clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rv.setSecrets(oldSecret, newSecret)
	dbtest.SeedEvents(t, d, `{"email_id":"e1"}`)
	if err := webhook.NewSender(d, fastOptions(clk)).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	rv.checkSignatures(t)
	atts, err := d.Attempts(context.Background(), db.AttemptFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := len(atts)
	for _, a := range atts {
		reqH, _ := json.Marshal(a.RequestHeaders)
		respH, _ := json.Marshal(a.ResponseHeaders)
		cols := [][]byte{reqH, a.RequestBody, respH, a.ResponseBody, []byte(a.Error)}
		for _, s := range []string{oldSecret, newSecret} {
			key := strings.TrimPrefix(s, "whsec_")
			raw, _ := base64.StdEncoding.DecodeString(key)
			for i, c := range cols {
				if strings.Contains(string(c), key) || strings.Contains(string(c), string(raw)) || strings.Contains(string(c), "whsec_") {
					t.Errorf("column %d of a stored attempt holds a secret: %s", i, c)
				}
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d attempts stored, want 1", n)
	}
}
