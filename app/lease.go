package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"smista/db"
)

// LeaseOptions tunes the sender lease: only the process that holds the
// store's lease sends, so two processes on one store never deliver an
// event twice; the others wait and take over when the holder is gone.
type LeaseOptions struct {
	// TTL is how long a lease lasts without renewal (default 8 s): a
	// holder killed with -9 is taken over within TTL + Poll.
	TTL time.Duration
	// Renew is how often the holder renews (default TTL/4).
	Renew time.Duration
	// Poll is how often a waiting process tries to take the lease
	// (default 1 s).
	Poll time.Duration
	// Holder says who this process is, for the others' status bar
	// ("smista send"); the pid and host are added.
	Holder string

	host string
	pid  int
}

func (o LeaseOptions) withDefaults() LeaseOptions {
	if o.TTL <= 0 {
		o.TTL = 8 * time.Second
	}
	if o.Renew <= 0 || o.Renew >= o.TTL {
		o.Renew = o.TTL / 4
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	o.host, _ = os.Hostname()
	o.pid = os.Getpid()
	who := o.Holder
	if who == "" {
		who = "smista"
	}
	o.Holder = fmt.Sprintf("%s (pid %d on %s)", who, o.pid, o.host)
	return o
}

// SenderLease reports who sends for the store: this process (Held), or
// another one (Holder says which) while this one waits to take over.
type SenderLease struct {
	Held   bool
	Holder string
}

func (SenderLease) event() {}

// newOwner returns a random lease owner token for one App.
func newOwner() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b[:])
}

// awaitLease blocks until this App holds the sender lease, publishing
// who holds it while it waits. With once it gives up (false) as soon as
// the outbox has nothing pending or retrying: the holder delivered it. It
// fails when ctx ends or the store cannot be read for the whole wait.
func (a *App) awaitLease(ctx context.Context, once bool, kinds []string) (bool, error) {
	lo := a.lease
	req := db.LeaseRequest{Owner: a.owner, Holder: lo.Holder, Host: lo.host, PID: lo.pid, TTL: lo.TTL}
	shown, failed := "", ""
	for {
		l, ok, err := a.db.AcquireLease(ctx, db.LeaseSender, req)
		if err == nil && !ok && abandoned(l, lo) {
			// The holder was a process of this machine that is gone
			// (kill -9): take over now rather than after its TTL.
			r := req
			r.TakeFrom = l.Owner
			l, ok, err = a.db.AcquireLease(ctx, db.LeaseSender, r)
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return false, ctx.Err()
		case err != nil:
			if err.Error() != failed { // once per kind of failure, not every Poll
				failed = err.Error()
				a.notice("send", fmt.Sprintf("sender lease: %v (trying again)", err), true)
			}
		case ok:
			a.bus.Publish(SenderLease{Held: true, Holder: l.Holder})
			return true, nil
		default:
			// Published on every try, not once: a front end that
			// subscribed since learns who sends (the bus keeps the latest).
			a.bus.Publish(SenderLease{Holder: l.Holder})
			if l.Holder != shown {
				shown = l.Holder
				a.notice("send", "another process sends for this store: "+l.Holder+"; waiting to take over", false)
			}
			if once {
				qs, err := a.db.Queues(ctx, kinds)
				if err == nil && len(qs) == 0 {
					return false, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(lo.Poll):
		}
	}
}

// keepLease renews the lease until ctx ends, and calls lost at once when
// another process took it over, or when it could not be renewed before it
// would expire (the store is locked or failing): past that moment
// another process may send, so this one must have stopped.
func (a *App) keepLease(ctx context.Context, lost func()) {
	lo := a.lease
	validUntil := a.now().Add(lo.TTL)
	for {
		wait := max(0, min(lo.Renew, validUntil.Sub(a.now())))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		start := a.now()
		if !start.Before(validUntil) {
			a.notice("send", "sender lease expired before it could be renewed: sending stopped", true)
			lost()
			return
		}
		rctx, cancel := context.WithDeadline(ctx, validUntil)
		ok, err := a.db.RenewLease(rctx, db.LeaseSender, a.owner, lo.TTL)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			continue // tried again until validUntil
		case !ok:
			a.notice("send", "another process took over the sender lease: sending stopped", true)
			lost()
			return
		}
		validUntil = start.Add(lo.TTL)
	}
}

// releaseLease gives the lease up, so a waiting process takes over at
// once rather than after the TTL.
func (a *App) releaseLease(ctx context.Context) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.db.ReleaseLease(rctx, db.LeaseSender, a.owner); err != nil {
		a.notice("send", fmt.Sprintf("sender lease: %v (it expires by itself)", err), true)
	}
	a.bus.Publish(SenderLease{})
}

// SenderHolder returns who holds the store's sender lease now ("" when
// no process sends), for a front end that does not send itself.
func (a *App) SenderHolder(ctx context.Context) (string, error) {
	l, held, err := a.db.CurrentLease(ctx, db.LeaseSender)
	if err != nil || !held {
		return "", err
	}
	return l.Holder, nil
}

// abandoned reports whether l is held by a process of this machine that
// no longer exists. Another process of this pid (a reused pid) keeps it
// held until it expires: never taken too early.
func abandoned(l db.Lease, lo LeaseOptions) bool {
	return l.Host != "" && l.Host == lo.host && l.PID > 0 && l.PID != lo.pid && !processAlive(l.PID)
}
