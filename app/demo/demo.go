// Package demo is smista's embedded demo: a real IMAP server on 127.0.0.1
// seeded with the demo mailbox, an SMTP sink, a webhook receiver that
// verifies signatures, and an App on a temporary store wired to them —
// no account, no key, no network.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"smista/app"
	"smista/db"
	"smista/mail"
	"smista/mail/mailtest"
	"smista/triage"
	"smista/webhook"
)

// VIP is the demo account's VIP list: the demo mailbox has a mail from the
// CEO of this customer.
var VIP = []string{"bigclient.example"}

// Options configures the demo.
type Options struct {
	// Flaky makes the demo receiver answer its first Flaky requests with
	// 503, so the retry path shows.
	Flaky int
	// Dir holds the temporary database; "" makes a temp dir, which Close
	// removes unless Keep.
	Dir  string
	Keep bool
	// Retries are the outbox retry delays; nil means short demo delays.
	Retries []time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Env is the running demo: a real IMAP server seeded with the demo
// mailbox, an SMTP sink, a webhook receiver, and an App on a temporary
// store configured with the demo account and endpoint. The headless pass
// and the TUI both use it; Close stops everything.
type Env struct {
	App      *app.App
	IMAP     *mailtest.IMAPServer
	SMTP     *mailtest.SMTPSink
	Receiver *webhook.Receiver
	// ReceiverURL is the demo endpoint's URL.
	ReceiverURL string
	EndpointID  string

	dir     string
	ownDir  bool
	httpSrv *http.Server
	httpWG  sync.WaitGroup
}

// Start starts the demo's servers, store and App. The caller must Close
// it.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Env{dir: opts.Dir}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.dir == "" {
		if e.dir, err = os.MkdirTemp("", "smista-demo-"); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		e.ownDir = !opts.Keep
	}
	// The demo mailbox lives on a real IMAP server: sync takes the same
	// path as for a user's account.
	if e.IMAP, err = mailtest.StartIMAP("demo@smista.example", "demo"); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	raws, err := mail.DemoCorpus()
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for _, raw := range raws {
		if err := e.IMAP.Append("INBOX", raw); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if e.SMTP, err = mailtest.StartSMTP(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	secret, err := e.startReceiver(opts.Flaky)
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, e.DBPath())
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.Now = opts.Now
	account := mail.Account{
		Name: "demo",
		From: mail.Address{Name: "Smista Demo Support", Addr: "demo@smista.example"},
		IMAP: e.IMAP.Config(),
		SMTP: e.SMTP.Config(),
	}
	retries := opts.Retries
	if retries == nil {
		retries = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}
	}
	if e.App, err = app.New(app.Options{
		Store:    d,
		Accounts: []mail.Account{account},
		Triage: triage.Options{
			Context: triage.Context{Own: []string{account.From.Addr}, VIP: VIP},
			Policy:  triage.DefaultPolicy(),
		},
		Sender: webhook.Options{Retries: retries, Guard: webhook.Guard{AllowPrivate: true}},
		// One installation on its own in-process mailbox: nothing to claim.
		NoClaims: true,
		Now:      opts.Now,
	}); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	ep, err := e.App.AddEndpoint(ctx, e.ReceiverURL, secret)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	e.EndpointID = ep.ID
	return e, nil
}

// startReceiver serves the demo's webhook receiver on 127.0.0.1 and
// returns its secret.
func (e *Env) startReceiver(flaky int) (string, error) {
	secret, err := webhook.GenerateSecret()
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	if e.Receiver, err = webhook.NewReceiver(secret, webhook.ReceiverOptions{FailFirst: flaky}); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	e.ReceiverURL = "http://" + ln.Addr().String() + "/hooks/smista"
	e.httpSrv = &http.Server{Handler: e.Receiver, ReadHeaderTimeout: 5 * time.Second}
	e.httpWG.Go(func() { e.httpSrv.Serve(ln) })
	return secret, nil
}

// DBPath is the demo database's path.
func (e *Env) DBPath() string { return filepath.Join(e.dir, "demo.db") }

// Close stops the servers and removes the temporary directory it made.
func (e *Env) Close() error {
	var errs []error
	if e.httpSrv != nil {
		errs = append(errs, ignoreClosed(e.httpSrv.Close()))
		e.httpWG.Wait()
	}
	if e.App != nil {
		errs = append(errs, e.App.Close())
	}
	if e.SMTP != nil {
		errs = append(errs, e.SMTP.Close())
	}
	if e.IMAP != nil {
		errs = append(errs, e.IMAP.Close())
	}
	if e.ownDir && e.dir != "" {
		errs = append(errs, os.RemoveAll(e.dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: close: %w", err)
	}
	return nil
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Summary is what one headless demo pass did.
type Summary struct {
	Synced           int
	TicketsSuggested int
	Delivered        int
	DeliveryAttempts int
	ReceiverValid    int
	DraftsWaiting    int
	RepliesApproved  int
	SMTPReceived     int
}

// RunOnce is one headless demo pass on the real path: IMAP sync of the
// demo mailbox, triage of the new mail, the outbox delivering
// ticket.suggested events to the local receiver (retries included with
// Flaky) and, with approveOne, one approved reply over SMTP. The summary's
// counts come from the store and from what the receiver and the SMTP sink
// actually got.
func (e *Env) RunOnce(ctx context.Context, approveOne bool) (Summary, error) {
	var sum Summary
	rep, err := e.App.Sync(ctx, app.SyncOptions{})
	sum.Synced = len(rep.New())
	if err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	d := e.App.Store()
	if approveOne {
		drafts, err := d.Drafts(ctx, 1)
		if err != nil {
			return sum, fmt.Errorf("demo: %w", err)
		}
		if len(drafts) > 0 && drafts[0].Status == "pending" {
			if err := e.App.ApproveDraft(ctx, drafts[0].ID, "demo"); err != nil {
				return sum, fmt.Errorf("demo: approve: %w", err)
			}
			sum.RepliesApproved = 1
		}
	}
	if err := e.App.RunSender(ctx, true); err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	c, err := d.Counts(ctx)
	if err != nil {
		return sum, fmt.Errorf("demo: summary: %w", err)
	}
	sum.TicketsSuggested, sum.Delivered, sum.DeliveryAttempts = c.Tickets, c.WebhooksDelivered, c.WebhookAttempts
	sum.DraftsWaiting = c.DraftsPending
	_, sum.ReceiverValid, _ = e.Receiver.Stats()
	sum.SMTPReceived = len(e.SMTP.Messages())
	return sum, nil
}
