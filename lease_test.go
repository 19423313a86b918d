package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
)

// TestTwoSendsKill9Takeover runs two real "smista send" on one store with
// 1,000 events: only the lease holder sends; kill -9 of the holder mid-way
// and the other takes over and delivers the rest. Every event is answered,
// under one webhook-id; the only duplicates are attempts the killed
// process had made but not recorded, and they share their event's id.
func TestTwoSendsKill9Takeover(t *testing.T) {
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
	ids := map[string]map[string]int{} // email_id → webhook-id → requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			EmailID string `json:"email_id"`
		}
		_ = json.Unmarshal(body, &ev)
		time.Sleep(2 * time.Millisecond) // keeps the holder busy when it is killed
		mu.Lock()
		if ids[ev.EmailID] == nil {
			ids[ev.EmailID] = map[string]int{}
		}
		ids[ev.EmailID][r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer srv.Close()

	ctx := context.Background()
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.CreateEndpoint(ctx, srv.URL+"/hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
		t.Fatal(err)
	}
	enqueueEvents(t, dbPath, events)

	env := append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "SMISTA_DB=")
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--db", dbPath, "send")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	holder := func() int {
		l, held, err := d.CurrentLease(ctx, db.LeaseSender)
		if err != nil || !held {
			return 0
		}
		return l.PID
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	a := start()
	wait("the first send to hold the lease", func() bool { return holder() == a.Process.Pid })
	b := start()
	defer func() {
		_ = b.Process.Signal(syscall.SIGTERM)
		_ = b.Wait()
	}()
	wait("200 deliveries", func() bool { return dbtest.Count(t, d, "deliveries:delivered") >= 200 })
	if h := holder(); h != a.Process.Pid {
		t.Fatalf("lease held by pid %d, want the first send (%d): the second must wait", h, a.Process.Pid)
	}
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = a.Wait()
	wait("the second send to take over", func() bool { return holder() == b.Process.Pid })
	takeover := time.Since(killed)
	wait("every delivery", func() bool { return dbtest.Count(t, d, "deliveries:delivered") == events })

	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for i := range events {
		got := ids["e"+itoa(i)]
		if len(got) != 1 {
			t.Errorf("event e%d arrived under %d webhook-ids: %v", i, len(got), got)
		}
		for _, n := range got {
			dups += n - 1
		}
	}
	t.Logf("takeover %v after kill -9; %d duplicates (attempts made but not recorded by the killed holder)", takeover.Round(time.Millisecond), dups)
}
