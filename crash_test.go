package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"smista/db"
	"smista/db/dbtest"
)

// TestSendSurvivesKill9 builds the real binary, starts "smista send" and
// SIGKILLs it at random points while it delivers 1,000 events, at least ten
// times, then runs a clean "send --once": every event must have been
// answered 2xx at least once, every duplicate must carry the event's one
// webhook-id, and nothing may be left pending.
func TestSendSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary; skipped with -short")
	}
	const events = 1000
	dir := t.TempDir()
	bin := filepath.Join(dir, "smista")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbPath := filepath.Join(dir, "smista.db")

	var mu sync.Mutex
	idsByEmail := map[string]map[string]int{} // email_id → webhook-id → 2xx answers
	bad := 0
	var secret string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		s := secret
		mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(s)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		var ev struct {
			EmailID string `json:"email_id"`
		}
		if err == nil {
			err = json.Unmarshal(body, &ev)
		}
		if err != nil {
			mu.Lock()
			bad++
			mu.Unlock()
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		// A little work per request keeps the sender busy long enough to be
		// killed mid-delivery many times.
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		if idsByEmail[ev.EmailID] == nil {
			idsByEmail[ev.EmailID] = map[string]int{}
		}
		idsByEmail[ev.EmailID][r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	ctx := context.Background()
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	mu.Lock()
	secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	mu.Unlock()
	if _, err := d.CreateEndpoint(ctx, srv.URL+"/hook", secret); err != nil {
		t.Fatal(err)
	}
	enqueueEvents(t, dbPath, events)
	pending := func() int {
		return dbtest.Count(t, d, "deliveries:pending") + dbtest.Count(t, d, "deliveries:retrying")
	}

	env := append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "SMISTA_DB=")
	midDelivery := 0
	for run := 0; midDelivery < 10 && run < 40; run++ {
		cmd := exec.Command(bin, "--db", dbPath, "send")
		cmd.Env = env
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(40+rand.IntN(120)) * time.Millisecond) // a random kill point
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		left := pending()
		if left > 0 && left < events {
			midDelivery++
		}
		if errb.Len() > 0 {
			t.Logf("run %d stderr: %.300q", run, errb.String())
		}
	}
	if midDelivery < 10 {
		t.Fatalf("only %d kills landed mid-delivery, want 10", midDelivery)
	}

	final := exec.Command(bin, "--db", dbPath, "send", "--once")
	final.Env = env
	done := make(chan error, 1)
	if err := final.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- final.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("final send --once: %v", err)
		}
	case <-time.After(2 * time.Minute):
		_ = final.Process.Kill()
		t.Fatal("final send --once did not finish within 2 minutes")
	}

	mu.Lock()
	defer mu.Unlock()
	if bad > 0 {
		t.Errorf("%d requests failed independent verification", bad)
	}
	dups := 0
	for i := range events {
		ids := idsByEmail["e"+itoa(i)]
		if len(ids) == 0 {
			t.Errorf("event e%d never answered 2xx", i)
			continue
		}
		if len(ids) != 1 {
			t.Errorf("event e%d arrived under %d webhook-ids: %v", i, len(ids), ids)
		}
		for _, n := range ids {
			dups += n - 1
		}
	}
	if left := pending(); left != 0 {
		t.Errorf("%d deliveries still pending or retrying", left)
	}
	if delivered := dbtest.Count(t, d, "deliveries:delivered"); delivered != events {
		t.Errorf("%d delivered, want %d", delivered, events)
	}
	t.Logf("%d kills mid-delivery; %d duplicate deliveries (same webhook-id) after the crashes", midDelivery, dups)
}
