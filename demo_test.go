package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"smista/app/demo"
)

// demoSummaryCounts reads the numbers of the headless summary.
func demoSummaryCounts(t *testing.T, out string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, re := range []struct{ key, pattern string }{
		{"synced", `messages synced:\s+(\d+)`},
		{"tickets", `tickets suggested:\s+(\d+)`},
		{"delivered", `deliveries delivered:\s+(\d+)`},
		{"attempts", `\((\d+) attempts;`},
		{"verified", `receiver verified (\d+)`},
		{"drafts", `drafts waiting:\s+(\d+)`},
		{"smtp", `replies sent over SMTP:\s+(\d+)`},
	} {
		m := regexp.MustCompile(re.pattern).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("summary has no %s line:\n%s", re.key, out)
		}
		got[re.key], _ = strconv.Atoi(m[1])
	}
	return got
}

func TestDemoPipelineHeadless(t *testing.T) {
	for name, flaky := range map[string]int{"steady receiver": 0, "flaky receiver": 2} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Now: time.Now}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			opts := demo.Options{
				Flaky: flaky, Dir: t.TempDir(), Now: time.Now,
				Retries: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond},
			}
			var e *demo.Env
			var requests, valid, unique, sink, pending int
			inspect := func(env *demo.Env) error {
				e = env
				requests, valid, unique = env.Receiver.Stats()
				sink = len(env.SMTP.Messages())
				c, err := env.App.Store().Counts(context.Background())
				pending = c.DraftsPending
				return err
			}
			env, err := demo.Start(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			if err := m.demoPass(ctx, env, inspect); err != nil {
				t.Fatalf("demo: %v; stderr: %s", err, stderr.String())
			}
			if e == nil {
				t.Fatal("Inspect not called")
			}
			t.Logf("summary:\n%s", stdout.String())
			got := demoSummaryCounts(t, stdout.String())
			if got["synced"] == 0 || got["tickets"] == 0 {
				t.Fatalf("demo did nothing: %v", got)
			}
			if got["delivered"] != unique || got["verified"] != valid {
				t.Fatalf("summary says %d delivered / %d verified, receiver saw %d unique / %d valid", got["delivered"], got["verified"], unique, valid)
			}
			if got["delivered"] != got["tickets"] {
				t.Fatalf("%d tickets but %d delivered", got["tickets"], got["delivered"])
			}
			if got["attempts"] != requests || requests != got["tickets"]+flaky {
				t.Fatalf("attempts %d, receiver requests %d, want tickets+flaky = %d", got["attempts"], requests, got["tickets"]+flaky)
			}
			if got["smtp"] != sink || sink != 1 {
				t.Fatalf("summary says %d replies sent, sink got %d, want 1", got["smtp"], sink)
			}
			if got["drafts"] != pending {
				t.Fatalf("summary says %d drafts waiting, store has %d", got["drafts"], pending)
			}
		})
	}
}
