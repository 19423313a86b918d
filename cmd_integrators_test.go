package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"smista/db"
	"smista/webhook"
)

// freeAddr returns a 127.0.0.1 address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startListen runs "smista listen args..." until the test ends (its
// context cancelled, as Ctrl-C does) and returns its output and exit.
func startListen(t *testing.T, dbPath string, args ...string) (out, errb *syncBuffer, stop func() int) {
	t.Helper()
	out, errb = &syncBuffer{}, &syncBuffer{}
	a := &Main{Stdout: out, Stderr: errb, Getenv: func(string) string { return "" }, DBPath: dbPath}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- a.Run(ctx, append([]string{"listen"}, args...)) }()
	var once atomic.Bool
	code := 0
	stop = func() int {
		if once.CompareAndSwap(false, true) {
			cancel()
			code = <-done
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return out, errb, stop
}

// post sends body signed with secret to addr, retrying while the
// listener starts, and returns the status.
func post(t *testing.T, addr, secret, id string, body []byte) int {
	t.Helper()
	h, err := webhook.SignedHeaders([]string{secret}, id, time.Now(), body, "test")
	if err != nil {
		t.Fatal(err)
	}
	for range 250 {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
		req.Header = h.Clone()
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

// TestListenForwardsToTheApp: "listen --forward-to --json" verifies each
// request, forwards the exact body and the webhook-* headers to the local
// app, answers with the app's status, and prints one JSON line per
// request (the app's status and latency in it); a request that does not
// verify is not forwarded and its line says why.
func TestListenForwardsToTheApp(t *testing.T) {
	type got struct {
		body []byte
		h    http.Header
	}
	appGot := make(chan got, 4)
	var status atomic.Int64
	status.Store(http.StatusAccepted)
	appSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		appGot <- got{b, r.Header.Clone()}
		w.WriteHeader(int(status.Load()))
	}))
	defer appSrv.Close()
	secret, _ := webhook.GenerateSecret()
	addr := freeAddr(t)
	out, errb, stop := startListen(t, "", "--addr", addr, "--secret", secret, "--forward-to", appSrv.URL+"/hooks", "--json")
	body := []byte(`{"event":"ticket.suggested", "email_id":"e1","subject":"Non funziona"}`)
	if code := post(t, addr, secret, "msg_f1", body); code != http.StatusAccepted {
		t.Errorf("listen answered %d, want the app's 202", code)
	}
	g := <-appGot
	if !bytes.Equal(g.body, body) {
		t.Errorf("app got body %q, want the exact %q", g.body, body)
	}
	if err := webhook.Verify(secret, g.h, g.body, time.Now(), 0); err != nil {
		t.Errorf("the forwarded request does not verify at the app: %v", err)
	}
	status.Store(http.StatusInternalServerError)
	if code := post(t, addr, secret, "msg_f2", body); code != http.StatusInternalServerError {
		t.Errorf("listen answered %d, want the app's 500", code)
	}
	<-appGot
	other, _ := webhook.GenerateSecret()
	if code := post(t, addr, other, "msg_f3", body); code != http.StatusBadRequest {
		t.Errorf("a request signed with another secret: %d, want 400", code)
	}
	if code := stop(); code != 0 {
		t.Fatalf("listen exited %d: %s", code, errb.String())
	}
	select {
	case g := <-appGot:
		t.Errorf("a rejected request reached the app: %s", g.body)
	default:
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("--json line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 {
		t.Fatalf("%d JSON lines, want 3:\n%s", len(lines), out.String())
	}
	if l := lines[0]; l["valid"] != true || l["forward_status"] != float64(202) || l["event"] != "ticket.suggested" ||
		l["webhook_id"] != "msg_f1" || l["payload"].(map[string]any)["email_id"] != "e1" {
		t.Errorf("first line %v", l)
	}
	if l := lines[1]; l["forward_status"] != float64(500) || l["status"] != float64(500) {
		t.Errorf("second line %v", l)
	}
	if l := lines[2]; l["valid"] != false || l["forwarded"] != false || !strings.Contains(l["problem"].(string), "signature does not match") {
		t.Errorf("rejected line %v", l)
	}
}

// TestListenRegisterLeavesNoEndpoint: "listen --register" adds an
// endpoint for itself (v1a here: the receiver holds only the public key),
// deliveries reach it verified, and Ctrl-C removes it.
func TestListenRegisterLeavesNoEndpoint(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	addr := freeAddr(t)
	out, errb, stop := startListen(t, dbPath, "--addr", addr, "--register", "--scheme", "v1a")
	for i := 0; !strings.Contains(errb.String(), "registered endpoint"); i++ {
		if i > 1000 {
			t.Fatalf("listen did not register: %s", errb.String())
		}
		time.Sleep(20 * time.Millisecond) // listen is opening the store
	}
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	eps, _ := d.Endpoints(context.Background())
	d.Close()
	if len(eps) != 1 || eps[0].Scheme != "v1a" || eps[0].URL != "http://"+addr+"/" {
		t.Fatalf("registered endpoints %+v (%s)", eps, errb.String())
	}
	enqueueEvents(t, dbPath, 2)
	if code, stdout, stderr := runApp(t, dbPath, "send", "--once"); code != 0 || strings.Count(stdout, " delivered ") != 2 {
		t.Fatalf("send --once to the registered listener: %d %q %q", code, stdout, stderr)
	}
	if code := stop(); code != 0 {
		t.Fatalf("listen exited %d: %s", code, errb.String())
	}
	if strings.Count(out.String(), "ticket.suggested") != 2 || strings.Contains(out.String(), "REJECTED") {
		t.Errorf("listen output:\n%s", out.String())
	}
	d, err = db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if eps, _ := d.Endpoints(context.Background()); len(eps) != 0 {
		t.Fatalf("endpoints left after Ctrl-C: %+v", eps)
	}
}

// TestReplayCLI: "replay --to" sends a dead delivery's event to another
// URL once, leaving the delivery as it was; "replay --dead --endpoint
// --since" re-queues exactly the matching ones; "verify" explains a
// tampered capture with the store's copy of the body.
func TestReplayCLI(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	rv := newVerifyingReceiver(t)
	rv.status = http.StatusInternalServerError
	code, stdout, stderr := runApp(t, dbPath, "endpoints", "add", rv.srv.URL+"/hook")
	if code != 0 {
		t.Fatal(stderr)
	}
	ep := strings.Fields(stdout)[0]
	rv.secret = strings.Fields(stdout)[1]
	enqueueEvents(t, dbPath, 2)
	now := time.Now()
	// No retries: the deliveries are dead after one attempt.
	cfg := filepath.Join(t.TempDir(), "config.toml")
	writeFile(t, cfg, "[webhook]\nretries = []\n")
	if code, stdout, stderr := runApp(t, dbPath, "--config", cfg, "send", "--once"); code != 0 || strings.Count(stdout, " dead ") != 2 {
		t.Fatalf("send: %d %q %q", code, stdout, stderr)
	}
	dead := logLines(t, dbPath, "--status", "dead")
	if len(dead) != 2 {
		t.Fatalf("%d dead", len(dead))
	}
	target := dead[0]["delivery_id"].(string)
	attemptsBefore := logLines(t, dbPath, "--attempts")

	// replay --to a developer's app, signed with its own secret.
	devSecret, _ := webhook.GenerateSecret()
	var devGot atomic.Int64
	dev := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if webhook.Verify(devSecret, r.Header, b, time.Now(), 0) == nil {
			devGot.Add(1)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer dev.Close()
	secretPath := filepath.Join(t.TempDir(), "secret")
	writeFile(t, secretPath, devSecret+"\n")
	code, stdout, stderr = runApp(t, dbPath, "replay", target, "--to", dev.URL+"/dev", "--secret-file", secretPath)
	if code != 0 || !strings.Contains(stdout, "HTTP 204") || devGot.Load() != 1 {
		t.Fatalf("replay --to: %d %q %q (app verified %d)", code, stdout, stderr, devGot.Load())
	}
	for _, l := range logLines(t, dbPath, "--status", "dead") {
		if l["delivery_id"] == target && l["attempts"] != dead[0]["attempts"] {
			t.Errorf("the original delivery changed: %v", l)
		}
	}
	attemptsAfter := logLines(t, dbPath, "--attempts")
	if len(attemptsAfter) != len(attemptsBefore)+1 {
		t.Errorf("attempts %d → %d, want one more (the try)", len(attemptsBefore), len(attemptsAfter))
	}
	for _, a := range attemptsAfter {
		if a["delivery_id"] == target && a["attempt"].(float64) > 1 {
			t.Errorf("the original delivery got an attempt: %v", a)
		}
	}

	// Bulk: nothing dead since an hour from now; both from an hour ago.
	if code, stdout, _ := runApp(t, dbPath, "replay", "--dead", "--endpoint", ep, "--since", now.Add(time.Hour).Format(time.RFC3339)); code != 0 || !strings.HasPrefix(stdout, "0 dead") {
		t.Errorf("replay --dead --since later: %d %q", code, stdout)
	}
	if code, stdout, _ := runApp(t, dbPath, "replay", "--dead", "--endpoint", ep, "--since", "1h"); code != 0 || !strings.HasPrefix(stdout, "2 dead") {
		t.Errorf("replay --dead --since 1h: %d %q", code, stdout)
	}
	if got := logLines(t, dbPath, "--status", "pending"); len(got) != 2 || got[0]["webhook_id"] != dead[0]["webhook_id"] && got[1]["webhook_id"] != dead[0]["webhook_id"] {
		t.Errorf("pending after the bulk replay: %v", got)
	}
	if code, _, stderr := runApp(t, dbPath, "replay", "--status", "pending"); code != 2 || !strings.Contains(stderr, "already queued") {
		t.Errorf("replay --status pending: %d %q", code, stderr)
	}

	// verify: a capture whose body was changed, diagnosed with the store.
	d, _ := db.Open(context.Background(), dbPath)
	atts, _ := d.Attempts(context.Background(), db.AttemptFilter{DeliveryID: target, Limit: 1})
	d.Close()
	var capture strings.Builder
	capture.WriteString("POST /hook HTTP/1.1\r\n")
	for _, k := range []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"} {
		capture.WriteString(k + ": " + atts[0].RequestHeaders.Get(k) + "\r\n")
	}
	capture.WriteString("\r\n" + strings.Replace(string(atts[0].RequestBody), "e0", "e9", 1))
	capPath := filepath.Join(t.TempDir(), "capture.txt")
	writeFile(t, capPath, capture.String())
	secretFile := filepath.Join(t.TempDir(), "receiver-secret")
	writeFile(t, secretFile, rv.secret)
	code, stdout, stderr = runApp(t, dbPath, "verify", "--secret-file", secretFile, "--at", atts[0].StartedAt.Format(time.RFC3339), capPath)
	if code != 1 || !strings.Contains(stdout, "body altered") || !strings.Contains(stdout, "first differing byte") {
		t.Errorf("verify of a tampered capture: %d %q %q", code, stdout, stderr)
	}
}

// logLines runs "smista log --json args..." and parses its lines.
func logLines(t *testing.T, dbPath string, args ...string) []map[string]any {
	t.Helper()
	code, stdout, stderr := runApp(t, dbPath, append([]string{"log", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("log: %s", stderr)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestListenRegisterSIGINT runs the real binary: "smista listen
// --register" registers its endpoint, and a SIGINT (Ctrl-C) removes it
// before the process exits 0.
func TestListenRegisterSIGINT(t *testing.T) {
	goBin := needTool(t, "go")
	dir := t.TempDir()
	bin := filepath.Join(dir, "smista")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbPath := filepath.Join(dir, "s.db")
	cmd := exec.Command(bin, "--db", dbPath, "listen", "--addr", freeAddr(t), "--register")
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for i := 0; !strings.Contains(errb.String(), "registered endpoint"); i++ {
		if i > 1500 {
			t.Fatalf("listen did not register: %s", errb.String())
		}
		time.Sleep(20 * time.Millisecond) // the process is starting
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("listen after SIGINT: %v: %s", err, errb.String())
	}
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if eps, _ := d.Endpoints(context.Background()); len(eps) != 0 {
		t.Fatalf("endpoints left after SIGINT: %+v", eps)
	}
}
