package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// verifyingReceiver is a 127.0.0.1 receiver that checks every request with
// the independent standard-webhooks library and answers status.
type verifyingReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	ids    []string
	bad    int
	status int
}

func newVerifyingReceiver(t *testing.T) *verifyingReceiver {
	t.Helper()
	rv := &verifyingReceiver{status: http.StatusOK}
	rv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rv.mu.Lock()
		defer rv.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(rv.secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		if err != nil {
			rv.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rv.ids = append(rv.ids, r.Header.Get("webhook-id"))
		w.WriteHeader(rv.status)
	}))
	t.Cleanup(rv.srv.Close)
	return rv
}

func (rv *verifyingReceiver) seen() ([]string, int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]string(nil), rv.ids...), rv.bad
}

func enqueueEvents(t *testing.T, dbPath string, n int) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	payloads := make([]string, n)
	for i := range n {
		body, _ := json.Marshal(map[string]any{"event": "ticket.suggested", "email_id": "e" + itoa(i)})
		payloads[i] = string(body)
	}
	dbtest.SeedEvents(t, d, payloads...)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestEndpointsCLI(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	rv := newVerifyingReceiver(t)

	refused := map[string]struct {
		args []string
		want string
	}{
		"not http":       {[]string{"endpoints", "add", "ftp://example.com/"}, "http"},
		"link-local":     {[]string{"endpoints", "add", "http://169.254.169.254/latest"}, "link-local"},
		"bad secret":     {[]string{"endpoints", "add", rv.srv.URL, "--secret", "hunter2"}, "whsec_"},
		"no subcommand":  {[]string{"endpoints"}, "subcommand"},
		"unknown id":     {[]string{"endpoints", "enable", "ep_nope"}, "not found"},
		"missing url":    {[]string{"endpoints", "add"}, "argument"},
		"unknown status": {[]string{"log", "--status", "lost"}, "--status"},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runApp(t, dbPath, tc.args...)
			if code == 0 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 && code == 1 {
				t.Fatalf("exit %d, stderr %q: want a one-line error mentioning %q", code, stderr, tc.want)
			}
		})
	}

	code, stdout, stderr := runApp(t, dbPath, "endpoints", "add", rv.srv.URL+"/hook")
	if code != 0 {
		t.Fatalf("add: %d %s", code, stderr)
	}
	lines := strings.Fields(stdout)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ep_") || webhook.ValidateSecret(lines[1]) != nil {
		t.Fatalf("add printed %q: want the id and a generated whsec_ secret", stdout)
	}
	id := lines[0]
	rv.secret = lines[1]

	code, stdout, _ = runApp(t, dbPath, "endpoints", "list", "--json")
	var ep map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &ep) != nil {
		t.Fatalf("list --json: %d %q", code, stdout)
	}
	for _, k := range []string{"id", "url", "enabled", "disabled_reason", "created_at"} {
		if _, ok := ep[k]; !ok {
			t.Errorf("list --json lacks %q: %s", k, stdout)
		}
	}
	if strings.Contains(stdout, rv.secret) {
		t.Error("list prints the secret")
	}

	code, stdout, stderr = runApp(t, dbPath, "endpoints", "test", id)
	if code != 0 || !strings.Contains(stdout, "delivered: HTTP 200") {
		t.Fatalf("test: %d %q %q", code, stdout, stderr)
	}
	if ids, bad := rv.seen(); len(ids) != 1 || bad != 0 {
		t.Fatalf("receiver: %d verified, %d rejected", len(ids), bad)
	}

	// Rotation: the new secret verifies; so does the old one (grace period).
	code, stdout, _ = runApp(t, dbPath, "endpoints", "rotate", id)
	newSecret := strings.TrimSpace(stdout)
	if code != 0 || webhook.ValidateSecret(newSecret) != nil || newSecret == rv.secret {
		t.Fatalf("rotate: %d %q", code, stdout)
	}
	for _, s := range []string{rv.secret, newSecret} {
		rv.mu.Lock()
		rv.secret = s
		rv.mu.Unlock()
		if code, stdout, stderr := runApp(t, dbPath, "endpoints", "test", id); code != 0 {
			t.Fatalf("test after rotate with secret %d: %d %q %q", len(s), code, stdout, stderr)
		}
	}

	// Disable: new events wait paused; rm refuses to drop them.
	if code, _, stderr := runApp(t, dbPath, "endpoints", "disable", id); code != 0 {
		t.Fatalf("disable: %s", stderr)
	}
	enqueueEvents(t, dbPath, 3)
	if code, stdout, _ := runApp(t, dbPath, "send", "--once"); code != 0 || strings.Contains(stdout, "delivered") {
		t.Fatalf("send --once with a disabled endpoint: %d %q", code, stdout)
	}
	code, stdout, _ = runApp(t, dbPath, "log", "--json", "--status", "paused")
	if code != 0 || strings.Count(stdout, "\n") != 3 {
		t.Fatalf("log --status paused: %d %q", code, stdout)
	}
	if code, _, stderr := runApp(t, dbPath, "endpoints", "rm", id); code == 0 || !strings.Contains(stderr, "--force") {
		t.Fatalf("rm with paused deliveries: %d %q", code, stderr)
	}
	if code, stdout, _ := runApp(t, dbPath, "endpoints", "enable", id); code != 0 || !strings.Contains(stdout, "3 paused") {
		t.Fatalf("enable: %d %q", code, stdout)
	}
	code, stdout, _ = runApp(t, dbPath, "send", "--once")
	if code != 0 || strings.Count(stdout, " delivered ") != 3 {
		t.Fatalf("send --once: %d %q", code, stdout)
	}
	if _, bad := rv.seen(); bad != 0 {
		t.Fatalf("%d deliveries failed independent verification", bad)
	}

	// The log: the JSON contract's fields.
	code, stdout, _ = runApp(t, dbPath, "log", "--json")
	if code != 0 {
		t.Fatal(stdout)
	}
	var dlvs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		dlvs = append(dlvs, m)
	}
	if len(dlvs) != 6 {
		t.Fatalf("%d log lines, want 6 (3 tests, 3 events)", len(dlvs))
	}
	for _, k := range []string{"delivery_id", "webhook_id", "endpoint_id", "url", "event", "email_id", "status",
		"attempts", "last_status_code", "last_error", "next_attempt_at", "created_at", "updated_at"} {
		if _, ok := dlvs[0][k]; !ok {
			t.Errorf("log --json lacks %q", k)
		}
	}
	if dlvs[0]["test"] != true || dlvs[5]["test"] != false || dlvs[5]["status"] != "delivered" {
		t.Errorf("log lines: first %v, last %v", dlvs[0], dlvs[5])
	}
	code, stdout, _ = runApp(t, dbPath, "log", "--attempts", "--json", "--endpoint", id, "--limit", "2")
	if code != 0 || strings.Count(stdout, "\n") != 2 {
		t.Fatalf("log --attempts --limit 2: %d %q", code, stdout)
	}
	for _, k := range []string{"delivery_id", "attempt", "started_at", "duration_ms", "status_code", "error_class", "response_snippet"} {
		if !strings.Contains(stdout, `"`+k+`":`) {
			t.Errorf("log --attempts --json lacks %q", k)
		}
	}

	// Replay: same webhook-id again.
	last := dlvs[5]["delivery_id"].(string)
	if code, _, stderr := runApp(t, dbPath, "replay", last); code != 0 {
		t.Fatalf("replay: %s", stderr)
	}
	if code, _, _ := runApp(t, dbPath, "send", "--once"); code != 0 {
		t.Fatal("send after replay")
	}
	ids, _ := rv.seen()
	if ids[len(ids)-1] != dlvs[5]["webhook_id"] {
		t.Errorf("replayed webhook-id %s, want %v", ids[len(ids)-1], dlvs[5]["webhook_id"])
	}

	if code, stdout, stderr := runApp(t, dbPath, "endpoints", "rm", id); code != 0 || !strings.Contains(stdout, "log is kept") {
		t.Fatalf("rm: %d %q %q", code, stdout, stderr)
	}
	if code, stdout, _ := runApp(t, dbPath, "log", "--json"); code != 0 || strings.Count(stdout, "\n") != 6 {
		t.Fatalf("the log after rm: %d %q", code, stdout)
	}
}

func TestSendPrintsAutoDisable(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	rv := newVerifyingReceiver(t)
	rv.status = http.StatusGone
	code, stdout, _ := runApp(t, dbPath, "endpoints", "add", rv.srv.URL)
	if code != 0 {
		t.Fatal(stdout)
	}
	rv.secret = strings.Fields(stdout)[1]
	enqueueEvents(t, dbPath, 2)
	code, stdout, stderr := runApp(t, dbPath, "send", "--once")
	if code != 0 || !strings.Contains(stdout, "ENDPOINT DISABLED") || !strings.Contains(stdout, "410") {
		t.Fatalf("send --once against a 410: %d %q %q", code, stdout, stderr)
	}
}

func TestListenVerifiesAndPrints(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	secret, _ := webhook.GenerateSecret()
	var out, errb syncBuffer
	a := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- a.Run(ctx, []string{"listen", "--addr", addr, "--secret", secret}) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("listen exited %d: %s", code, errb.String())
		}
	}()
	body := []byte(`{"event":"ticket.suggested","subject":"hello","email_id":"e1"}`)
	post := func(s string) int {
		h, _ := webhook.SignedHeaders([]string{s}, "msg_l1", time.Now(), body, "test")
		for range 100 {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
			req.Header = h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				time.Sleep(20 * time.Millisecond) // the listener is starting
				continue
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		t.Fatal("listen never answered")
		return 0
	}
	if got := post(secret); got != http.StatusOK {
		t.Errorf("valid: %d", got)
	}
	other, _ := webhook.GenerateSecret()
	if got := post(other); got != http.StatusBadRequest {
		t.Errorf("bad signature: %d, want 400", got)
	}
	if s := out.String(); !strings.Contains(s, "ticket.suggested") || !strings.Contains(s, "hello") || !strings.Contains(s, "REJECTED") {
		t.Errorf("listen output:\n%s", s)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
