package app

import (
	"context"
	"fmt"
	"time"

	"smista/webhook"
)

// KindSMTP is the outbox kind of approved replies.
const KindSMTP = "smtp"

// pollEvery is how often a long-running sender looks at the outbox for
// deliveries that other processes ("smista triage", "smista replay")
// enqueued without a way to wake it.
const pollEvery = time.Second

// RunSender runs the outbox sender — signed webhooks and approved SMTP
// replies — until ctx ends or, with once, until no delivery is pending or
// retrying (waiting out scheduled retries). Only the holder of the store's
// sender lease sends: while another process holds it, RunSender waits
// (publishing SenderLease) and takes over when it is released or expires;
// a lost lease stops sending at once and RunSender waits again. With once,
// a wait ends as soon as the holder has delivered everything. Every
// attempt, dead delivery and disabled endpoint is published on the bus as
// a DeliveryNotice, with SenderStats and Changed. It fails with
// webhook.ErrRunning when a sender already runs in this App.
func (a *App) RunSender(ctx context.Context, once bool) error {
	opts := a.sendOpts
	if !once {
		opts.Poll = pollEvery
	}
	transports, closeTransports := a.transports(opts)
	defer closeTransports()
	opts.Transports = transports
	kinds := make([]string, 0, len(transports))
	for k := range transports {
		kinds = append(kinds, k)
	}
	// One run per App, checked before the lease: a second run would share
	// this App's lease token, and release it under the first on its way out.
	a.mu.Lock()
	if a.senderRun {
		a.mu.Unlock()
		return fmt.Errorf("send: %w", webhook.ErrRunning)
	}
	a.senderRun = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.senderRun = false
		a.mu.Unlock()
	}()
	for {
		held, err := a.awaitLease(ctx, once, kinds)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("send: %w", err)
		}
		if !held {
			return nil // once: another process delivered everything
		}
		lctx, lose := context.WithCancel(ctx)
		keeper := make(chan struct{})
		go func() {
			defer close(keeper)
			a.keepLease(lctx, lose)
		}()
		err = a.runSender(lctx, once, opts)
		lost := lctx.Err() != nil && ctx.Err() == nil
		lose()
		<-keeper
		if !lost {
			a.releaseLease(ctx)
			return err
		}
		a.bus.Publish(SenderLease{})
	}
}

// runSender runs one sender while this App holds the lease.
func (a *App) runSender(ctx context.Context, once bool, opts webhook.Options) error {
	s := webhook.NewSender(a.db, opts)

	a.mu.Lock()
	if a.sender != nil {
		a.mu.Unlock()
		return fmt.Errorf("send: %w", webhook.ErrRunning)
	}
	a.sender = s
	a.mu.Unlock()
	defer func() {
		t := s.Tally()
		a.mu.Lock()
		a.sender = nil
		a.sent.Delivered += t.Delivered
		a.sent.Failed += t.Failed
		a.sent.Dead += t.Dead
		a.sent.Disabled += t.Disabled
		a.mu.Unlock()
		a.bus.Publish(SenderStats{})
	}()

	done := make(chan struct{})
	go func() {
		defer close(done)
		a.forwardNotices(s)
	}()
	a.bus.Publish(SenderStats{Running: true})
	var err error
	if once {
		err = s.Drain(ctx)
	} else {
		expCtx, stopExpiry := context.WithCancel(ctx)
		expired := make(chan struct{})
		go func() {
			defer close(expired)
			a.expireSecrets(expCtx)
		}()
		err = s.Run(ctx)
		stopExpiry()
		<-expired
	}
	<-done // Events is closed when the run returns
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// expiryEvery is how often a long-running sender erases the previous
// secrets whose rotation grace period ended (opening the store does it too).
const expiryEvery = 10 * time.Minute

// expireSecrets erases expired previous secrets every expiryEvery until
// ctx ends.
func (a *App) expireSecrets(ctx context.Context) {
	t := time.NewTicker(expiryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.db.ExpireSecrets(ctx); err != nil && ctx.Err() == nil {
				a.notice("error", err.Error(), true)
			} else if n > 0 {
				a.changed(TopicEndpoints)
			}
		}
	}
}

// SendTally reports what the sender runs of this App that have ended
// recorded, all runs added up ("smista send"'s closing line): exact,
// where the notices a slow subscriber prints may have been thinned.
func (a *App) SendTally() webhook.Tally {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sent
}

// Sending reports whether a sender runs in this App.
func (a *App) Sending() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sender != nil
}

// forwardNotices publishes the sender's notices with its own counters
// until its events channel closes. The topics changed and the counters
// (snapshots: a subscriber keeps the latest) follow the last notice of a
// burst, not each of its thousands.
func (a *App) forwardNotices(s *webhook.Sender) {
	var topics Topic
	events := s.Events()
	for n := range events {
		a.bus.Publish(DeliveryNotice{n})
		topics |= TopicDeliveries
		if n.Kind == webhook.NoticeDisabled || n.Kind == webhook.NoticeDead || n.Kind == webhook.NoticeWarning {
			topics |= TopicEndpoints
		}
		if len(events) > 0 {
			continue // more of the burst is queued
		}
		a.changed(topics)
		topics = 0
		queued, inFlight := s.Stats()
		a.bus.Publish(SenderStats{Queue: queued, InFlight: inFlight, Running: true, Paused: s.Paused(), Offline: s.Offline()})
	}
}

// transports returns the sender's transports: opts.Transports when set,
// else signed HTTP POSTs for webhooks and, with accounts, SMTP for
// approved replies (one outbox, one sender). The closer releases them.
func (a *App) transports(opts webhook.Options) (map[string]webhook.Transport, func()) {
	if opts.Transports != nil {
		return opts.Transports, func() {}
	}
	h := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: opts.Guard, Now: a.now, UserAgent: opts.UserAgent, Dial: opts.Dial})
	ts := map[string]webhook.Transport{webhook.KindWebhook: h}
	if len(a.accounts) > 0 {
		retries := len(opts.Retries)
		if opts.Retries == nil {
			retries = 3
		}
		ts[KindSMTP] = &smtpTransport{app: a, retries: retries}
	}
	return ts, h.Close
}

// DeliverNow makes one attempt of a delivery right away, records it and
// returns the outcome ("smista endpoints test"). It fails when the
// delivery does not exist or the log cannot be written. A sender running
// in this App holds its deliveries: then the delivery is only woken.
func (a *App) DeliverNow(ctx context.Context, deliveryID string) (webhook.Outcome, error) {
	opts := a.sendOpts
	transports, closeTransports := a.transports(opts)
	defer closeTransports()
	opts.Transports = transports
	o, err := webhook.NewSender(a.db, opts).DeliverNow(ctx, deliveryID)
	a.changed(TopicDeliveries | TopicEndpoints)
	if err != nil {
		return o, fmt.Errorf("deliver now: %w", err)
	}
	return o, nil
}
