package mail_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"smista/db/dbtest"
	"smista/mail"
	"smista/mail/mailtest"
)

// watchRun starts a Watcher in the background; the returned stop cancels
// it and waits for it.
func watchRun(tb testing.TB, w *mail.Watcher) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("watch: %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Error("watcher did not stop within 10s")
		}
	}
	tb.Cleanup(stop)
	return stop
}

// watchWaitFor receives from ch until ok returns true or the bound passes.
func watchWaitFor[T any](tb testing.TB, ch <-chan T, within time.Duration, what string, ok func(T) bool) T {
	tb.Helper()
	deadline := time.After(within)
	for {
		select {
		case v := <-ch:
			if ok(v) {
				return v
			}
		case <-deadline:
			tb.Fatalf("no %s within %v", what, within)
		}
	}
}

func TestWatchIdleDeliversNewMail(t *testing.T) {
	for name, start := range map[string]func(testing.TB) imapPeer{
		"in-process": startMemIMAP,
		"dovecot":    func(tb testing.TB) imapPeer { p, _ := startDovecot(tb); return p },
	} {
		t.Run(name, func(t *testing.T) {
			p := start(t)
			d := dbtest.MustOpen(t)
			c := adminClient(t, p)
			imapAppendN(t, c, "INBOX", 0, 2)
			events := make(chan mail.WatchEvent, 100)
			newIDs := make(chan []string, 10)
			w := &mail.Watcher{
				Syncer:  newSyncer(d, p),
				OnNew:   func(ids []string) { newIDs <- ids },
				OnEvent: func(ev mail.WatchEvent) { events <- ev },
			}
			watchRun(t, w)
			watchWaitFor(t, newIDs, 10*time.Second, "initial sync", func(ids []string) bool { return len(ids) == 2 })
			watchWaitFor(t, events, 10*time.Second, "IDLE", func(ev mail.WatchEvent) bool { return ev.Kind == "idle" })
			bound := time.Second
			if syncRaceEnabled {
				bound = 5 * time.Second
			}
			imapAppendN(t, c, "INBOX", 2, 3)
			ids := watchWaitFor(t, newIDs, bound, "new message through IDLE", func([]string) bool { return true })
			if len(ids) != 1 || ids[0] != mail.EmailID("<m2@example.org>") {
				t.Fatalf("new ids %v, want the appended message", ids)
			}
		})
	}
}

func TestWatchReIdlesAndReconnects(t *testing.T) {
	p := startMemIMAP(t)
	px, err := mailtest.StartProxy(p.cfg.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	viaProxy := p
	viaProxy.cfg.Host, viaProxy.cfg.Port = splitHostPort(t, px.Addr)
	d := dbtest.MustOpen(t)
	c := adminClient(t, p)

	var mu sync.Mutex
	var delays []time.Duration
	events := make(chan mail.WatchEvent, 1000)
	newIDs := make(chan []string, 10)
	w := &mail.Watcher{
		Syncer:      newSyncer(d, viaProxy),
		IdleRefresh: 20 * time.Millisecond,
		MinBackoff:  time.Second,
		MaxBackoff:  4 * time.Second,
		Sleep: func(ctx context.Context, dl time.Duration) error {
			mu.Lock()
			delays = append(delays, dl)
			mu.Unlock()
			return ctx.Err()
		},
		OnNew:   func(ids []string) { newIDs <- ids },
		OnEvent: func(ev mail.WatchEvent) { events <- ev },
	}
	watchRun(t, w)
	// Several IDLE commands on one connection: the refresh works.
	idles := 0
	watchWaitFor(t, events, 10*time.Second, "three IDLEs", func(ev mail.WatchEvent) bool {
		if ev.Kind == "idle" {
			idles++
		}
		return idles == 3
	})
	if px.Accepted() != 2 {
		t.Fatalf("%d connections, want 2 (IDLE + commands): re-IDLE must not reconnect", px.Accepted())
	}
	// Network loss: the watcher reconnects and still delivers new mail.
	px.DropAll()
	watchWaitFor(t, events, 10*time.Second, "reconnect", func(ev mail.WatchEvent) bool { return ev.Kind == "connected" })
	watchWaitFor(t, events, 10*time.Second, "IDLE after reconnect", func(ev mail.WatchEvent) bool { return ev.Kind == "idle" })
	imapAppendN(t, c, "INBOX", 0, 1)
	watchWaitFor(t, newIDs, 5*time.Second, "new mail after reconnect", func(ids []string) bool { return len(ids) == 1 })
	mu.Lock()
	defer mu.Unlock()
	if len(delays) == 0 || delays[0] != time.Second {
		t.Fatalf("backoff delays %v, want the first to be 1s", delays)
	}
}

func TestBackoff(t *testing.T) {
	for name, tc := range map[string]struct {
		n    int
		want time.Duration
	}{
		"first":  {0, time.Second},
		"second": {1, 2 * time.Second},
		"fourth": {3, 8 * time.Second},
		"capped": {30, time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			if got := mail.Backoff(tc.n, time.Second, time.Minute); got != tc.want {
				t.Fatalf("Backoff(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}
