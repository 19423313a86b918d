package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendTunesTheCollector: "smista send" asks for senderGCPercent with
// the heap bounded by batchMemory, unless GOGC or GOMEMLIMIT is set; the
// tally line counts the deliveries made.
func TestSendTunesTheCollector(t *testing.T) {
	for _, env := range []string{"", "GOGC", "GOMEMLIMIT"} {
		t.Run("env="+env, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "s.db")
			rv := newVerifyingReceiver(t)
			code, stdout, _ := runApp(t, dbPath, "endpoints", "add", rv.srv.URL)
			if code != 0 {
				t.Fatal(stdout)
			}
			rv.secret = strings.Fields(stdout)[1]
			enqueueEvents(t, dbPath, 3)
			vars := map[string]string{"HOME": t.TempDir()}
			if env != "" {
				vars[env] = "100"
			}
			gc, limit := -1, int64(-1)
			var out, errb bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] },
				SetGCPercent:   func(p int) int { gc = p; return 100 },
				SetMemoryLimit: func(l int64) int64 { limit = l; return 0 }}
			if code := m.Run(context.Background(), []string{"--db", dbPath, "send", "--once"}); code != 0 {
				t.Fatalf("send --once: %d %s", code, errb.String())
			}
			if env == "" && (gc != senderGCPercent || limit != batchMemory) {
				t.Errorf("GC percent %d, memory limit %d: want %d and %d", gc, limit, senderGCPercent, batchMemory)
			}
			if env != "" && (gc != -1 || limit != -1) {
				t.Errorf("with %s set: GC percent %d, memory limit %d were changed", env, gc, limit)
			}
			if !strings.Contains(errb.String(), "send: 3 delivered, 0 failed attempts") {
				t.Errorf("tally: %q", errb.String())
			}
		})
	}
}
