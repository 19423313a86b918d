package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"smista/db"
	"smista/webhook"
)

// exampleReceiver is one of the receivers of docs/receivers, running as a
// process of its own.
type exampleReceiver struct {
	name string
	addr string
	mu   sync.Mutex
	out  []string // JSON lines of accepted events
}

func (r *exampleReceiver) accepted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.out...)
}

// needTool returns the path of a program the test needs: in CI its
// absence fails the test, elsewhere it skips it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed by the receiver examples (.ci/run installs it)", name)
		}
		t.Skipf("no %s", name)
	}
	return p
}

// startReceiver runs cmd with env (PORT=0: any free port) and reads the
// port from its first line; later lines are the events it accepted.
func startReceiver(t *testing.T, name string, cmd *exec.Cmd, env ...string) *exampleReceiver {
	t.Helper()
	cmd.Env = append(os.Environ(), append(env, "PORT=0")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	r := &exampleReceiver{name: name}
	sc := bufio.NewScanner(stdout)
	first := make(chan string, 1)
	go func() {
		for sc.Scan() {
			line := sc.Text()
			if addr, ok := strings.CutPrefix(line, "listening on "); ok && r.addr == "" {
				first <- addr
				continue
			}
			r.mu.Lock()
			r.out = append(r.out, line)
			r.mu.Unlock()
		}
		close(first)
	}()
	select {
	case addr, ok := <-first:
		if !ok {
			t.Fatalf("%s exited before listening: %s", name, stderr.String())
		}
		r.addr = addr
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start listening within 60s: %s", name, stderr.String())
	}
	return r
}

// TestReceiverExamples runs the receivers of docs/receivers — Go with
// the official Standard Webhooks library (v1) and crypto/ed25519 (v1a),
// Node with the standardwebhooks package (v1) and node:crypto (v1a),
// Python with its standard library (v1) — against real deliveries: emails
// imported and triaged by smista, the tickets sent by "smista send". Each
// accepts every event once, acknowledges a redelivery, and rejects the
// same request with one byte of its body changed.
func TestReceiverExamples(t *testing.T) {
	goBin := needTool(t, "go")
	dir := t.TempDir()
	bin := filepath.Join(dir, "go-receiver")
	if out, err := exec.Command(goBin, "build", "-o", bin, "./docs/receivers/go").CombinedOutput(); err != nil {
		t.Fatalf("build the Go receiver: %v\n%s", err, out)
	}
	hm, _ := webhook.GenerateSecret()
	sk, pk, _ := webhook.GenerateKeyPair()
	type endpoint struct {
		rv     *exampleReceiver
		secret string // what smista signs with
	}
	var eps []endpoint
	eps = append(eps, endpoint{startReceiver(t, "go v1", exec.Command(bin), "WEBHOOK_SECRET="+hm), hm},
		endpoint{startReceiver(t, "go v1a", exec.Command(bin), "WEBHOOK_PUBLIC_KEY="+pk), sk})
	node := needTool(t, "node")
	if _, err := os.Stat("docs/receivers/node/node_modules/standardwebhooks"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("run 'npm install' in docs/receivers/node first (.ci/run does)")
		}
		t.Skip("docs/receivers/node: no node_modules (npm install)")
	}
	eps = append(eps, endpoint{startReceiver(t, "node v1", exec.Command(node, "docs/receivers/node/receiver.js"), "WEBHOOK_SECRET="+hm), hm},
		endpoint{startReceiver(t, "node v1a", exec.Command(node, "docs/receivers/node/receiver.js"), "WEBHOOK_PUBLIC_KEY="+pk), sk})
	py := needTool(t, "python3")
	eps = append(eps, endpoint{startReceiver(t, "python v1", exec.Command(py, "docs/receivers/python/receiver.py"), "WEBHOOK_SECRET="+hm), hm})

	dbPath := filepath.Join(dir, "s.db")
	ids := map[string]*exampleReceiver{}
	for _, ep := range eps {
		sf := filepath.Join(dir, "secret")
		writeFile(t, sf, ep.secret)
		code, stdout, stderr := runApp(t, dbPath, "endpoints", "add", "http://"+ep.rv.addr+"/hook", "--secret-file", sf)
		if code != 0 {
			t.Fatalf("endpoints add for %s: %s", ep.rv.name, stderr)
		}
		ids[strings.Fields(stdout)[0]] = ep.rv
	}
	if code, _, stderr := runApp(t, dbPath, "import", "mail/demodata"); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	if code, _, stderr := runApp(t, dbPath, "triage"); code != 0 {
		t.Fatalf("triage: %s", stderr)
	}
	code, stdout, stderr := runApp(t, dbPath, "send", "--once")
	if code != 0 {
		t.Fatalf("send --once: %d %s %s", code, stdout, stderr)
	}
	tickets := len(logLines(t, dbPath)) / len(eps)
	if tickets == 0 || strings.Count(stdout, " delivered ") != tickets*len(eps) {
		t.Fatalf("%d tickets; send delivered:\n%s", tickets, stdout)
	}
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for id, rv := range ids {
		got := rv.accepted()
		if len(got) != tickets {
			t.Errorf("%s accepted %d events, want %d: %v", rv.name, len(got), tickets, got)
		}
		for _, l := range got {
			var ev map[string]string
			if err := json.Unmarshal([]byte(l), &ev); err != nil || ev["event"] != "ticket.suggested" || ev["email_id"] == "" {
				t.Errorf("%s printed %q", rv.name, l)
			}
		}
		atts, err := d.Attempts(context.Background(), db.AttemptFilter{EndpointID: id, Limit: 1})
		if err != nil || len(atts) != 1 {
			t.Fatalf("attempts of %s: %v %v", id, atts, err)
		}
		send := func(body []byte) int {
			req, _ := http.NewRequest(http.MethodPost, "http://"+rv.addr+"/hook", bytes.NewReader(body))
			for _, k := range []string{"Content-Type", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"} {
				req.Header.Set(k, atts[0].RequestHeaders.Get(k))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", rv.name, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		body := atts[0].RequestBody
		if code := send(body); code/100 != 2 {
			t.Errorf("%s answered a redelivery with %d, want 2xx (acknowledged once more)", rv.name, code)
		}
		tampered := bytes.Replace(body, []byte(`"priority":"`), []byte(`"priority":"X`), 1)
		if bytes.Equal(tampered, body) {
			t.Fatalf("no priority in %s", body)
		}
		if code := send(tampered); code != http.StatusBadRequest {
			t.Errorf("%s answered a tampered body with %d, want 400", rv.name, code)
		}
		if n := len(rv.accepted()); n != tickets {
			t.Errorf("%s accepted %d events after the redelivery and the tampered one, want %d", rv.name, n, tickets)
		}
	}
}
