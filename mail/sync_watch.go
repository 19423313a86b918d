package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// WatchEvent is something a Watcher reports: "connected", "idle" (an IDLE
// command started), "synced" (Result holds the sync), "error" (Err holds
// it, Delay the wait before reconnecting).
type WatchEvent struct {
	Kind   string
	Result SyncResult
	Err    error
	Delay  time.Duration
}

// Watcher keeps an account in sync: a full sync on connect, then an IDLE
// connection on one mailbox and a second connection for the sync commands
// IDLE cannot share. It re-IDLEs before the server's 29-minute timeout and
// reconnects with capped exponential backoff after any failure.
type Watcher struct {
	Syncer *Syncer
	// Mailbox is watched with IDLE; "" means INBOX.
	Mailbox string
	// IdleRefresh restarts IDLE after this long; 0 means 25 minutes (RFC
	// 2177 servers may drop an IDLE after 30).
	IdleRefresh time.Duration
	// MinBackoff and MaxBackoff bound the reconnect delay; 0 means 1 s and
	// 5 min.
	MinBackoff, MaxBackoff time.Duration
	// Sleep waits d or until ctx is done; nil means a real timer. Tests
	// inject an instant one.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnNew receives the email ids of newly stored messages (to triage them).
	OnNew func(ids []string)
	// OnEvent, when set, receives every WatchEvent.
	OnEvent func(WatchEvent)
}

func (w *Watcher) event(ev WatchEvent) {
	if w.OnEvent != nil {
		ev.Err = w.Syncer.redact(ev.Err)
		w.OnEvent(ev)
	}
}

func (w *Watcher) mailbox() string {
	if w.Mailbox == "" {
		return "INBOX"
	}
	return w.Mailbox
}

// Backoff returns the delay before reconnect attempt n (0-based): min
// doubled n times, capped at max.
func Backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// Run watches until ctx is done, then returns nil. Failures are reported
// as "error" events and retried forever with backoff; a session that got
// as far as a full sync resets the backoff.
func (w *Watcher) Run(ctx context.Context) error {
	minB, maxB := w.MinBackoff, w.MaxBackoff
	if minB <= 0 {
		minB = time.Second
	}
	if maxB <= 0 {
		maxB = 5 * time.Minute
	}
	sleep := w.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	attempt := 0
	for {
		err := w.session(ctx, func() { attempt = 0 })
		if ctx.Err() != nil {
			return nil
		}
		d := Backoff(attempt, minB, maxB)
		attempt++
		w.event(WatchEvent{Kind: "error", Err: err, Delay: d})
		if sleep(ctx, d) != nil {
			return nil
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// session runs one connected period; it always returns an error (or ctx's).
// It is the IDLE state machine of one connection: the select on its
// channels is the whole logic, and reads best in one place.
func (w *Watcher) session(ctx context.Context, connected func()) error {
	s := w.Syncer
	cmd, err := s.Dial(ctx)
	if err != nil {
		return err
	}
	defer cmd.Close()

	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	opts := imapclient.Options{}
	if s.Options != nil {
		opts = *s.Options
	}
	opts.UnilateralDataHandler = &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) { poke() },
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				poke()
			}
		},
		Fetch: func(*imapclient.FetchMessageData) { poke() },
	}
	idleConn, err := s.dial(ctx, &opts)
	if err != nil {
		return err
	}
	defer idleConn.Close()
	if _, err := idleConn.Select(w.mailbox(), &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return fmt.Errorf("watch select %s: %w", w.mailbox(), err)
	}
	w.event(WatchEvent{Kind: "connected"})

	syncAll := func(mailboxes []string) error {
		for _, mb := range mailboxes {
			r, err := s.SyncMailbox(ctx, cmd, mb)
			if err != nil {
				return err
			}
			w.event(WatchEvent{Kind: "synced", Result: r})
			if len(r.New) > 0 && w.OnNew != nil {
				w.OnNew(r.New)
			}
		}
		return nil
	}
	if err := syncAll(s.Account.SyncMailboxes()); err != nil {
		return err
	}
	connected()

	refresh := w.IdleRefresh
	if refresh <= 0 {
		refresh = 25 * time.Minute
	}
	stopOnCancel := context.AfterFunc(ctx, func() { idleConn.Close() })
	defer stopOnCancel()
	for {
		idle, err := idleConn.Idle()
		if err != nil {
			return fmt.Errorf("idle: %w", err)
		}
		w.event(WatchEvent{Kind: "idle"})
		timer := time.NewTimer(refresh)
		var woke bool
		select {
		case <-wake:
			woke = true
		case <-timer.C:
		case <-ctx.Done():
		case <-idleConn.Closed():
		}
		timer.Stop()
		if err := idle.Close(); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
		if err := idle.Wait(); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-idleConn.Closed():
			return errors.New("idle connection closed")
		default:
		}
		// New mail in the watched mailbox syncs it at once; each refresh
		// also resyncs every mailbox (cheap when nothing changed), so the
		// ones without IDLE and flag changes IDLE did not report catch up.
		mailboxes := s.Account.SyncMailboxes()
		if woke {
			mailboxes = []string{w.mailbox()}
		}
		if err := syncAll(mailboxes); err != nil {
			return err
		}
	}
}
