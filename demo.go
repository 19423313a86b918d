package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// demoVIP is the demo account's VIP list: the demo mailbox has a mail from
// the CEO of this customer.
var demoVIP = []string{"bigclient.example"}

// demoOptions configures the demo.
type demoOptions struct {
	// Flaky makes the demo receiver answer its first Flaky requests with
	// 503, so the retry path shows.
	Flaky int
	// ApproveOne approves the first reply draft (as "human:demo") so the
	// SMTP path shows; otherwise every draft waits for a human.
	ApproveOne bool
	// Dir holds the temporary database; "" makes (and removes) a temp dir.
	Dir string
	// Retries are the outbox retry delays; nil means short demo delays.
	Retries []time.Duration
	// Inspect, when set, sees the environment after the headless pass and
	// before it closes (tests compare the summary with what the receiver
	// and the SMTP sink actually got).
	Inspect func(e *demoEnv)
}

// demoEnv is the running demo: a real IMAP server seeded with the demo
// mailbox, an SMTP sink, a webhook receiver, and an App on a temporary
// store configured with the demo account and endpoint. The headless pass
// and the TUI both use it; Close stops everything.
type demoEnv struct {
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

// startDemo starts the demo's servers, store and App. The caller must
// Close it.
func startDemo(ctx context.Context, m *Main, opts demoOptions) (_ *demoEnv, err error) {
	e := &demoEnv{dir: opts.Dir}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.dir == "" {
		if e.dir, err = os.MkdirTemp("", "smista-demo-"); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		e.ownDir = true
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
	d, err := db.Open(ctx, filepath.Join(e.dir, "demo.db"))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.Now = m.Now
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
			Context: triage.Context{Own: []string{account.From.Addr}, VIP: demoVIP},
			Policy:  triage.DefaultPolicy(),
		},
		Sender: webhook.Options{Retries: retries, Guard: webhook.Guard{AllowPrivate: true}},
		Now:    m.Now,
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
func (e *demoEnv) startReceiver(flaky int) (string, error) {
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

// Close stops the servers and removes the temporary directory it made.
func (e *demoEnv) Close() error {
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

// demoSummary is what one headless demo pass did.
type demoSummary struct {
	Synced           int
	TicketsSuggested int
	Delivered        int
	DeliveryAttempts int
	ReceiverValid    int
	DraftsWaiting    int
	RepliesApproved  int
	SMTPReceived     int
}

// runDemoPipeline runs one headless demo pass on the real path: IMAP sync
// of the demo mailbox, triage of the new mail, the outbox delivering
// ticket.suggested events to the local receiver (retries included with
// Flaky) and, with ApproveOne, one approved reply over SMTP. It prints a
// summary whose counts come from the store and from what the receiver and
// the SMTP sink actually got.
func runDemoPipeline(ctx context.Context, m *Main, opts demoOptions) error {
	e, err := startDemo(ctx, m, opts)
	if err != nil {
		return err
	}
	defer e.Close()
	sum, err := e.runOnce(ctx, opts)
	if err != nil {
		return err
	}
	sum.print(m.Stdout)
	if opts.Inspect != nil {
		opts.Inspect(e)
	}
	return nil
}

// runOnce syncs and triages, approves one draft (optionally) and drains
// the outbox.
func (e *demoEnv) runOnce(ctx context.Context, opts demoOptions) (demoSummary, error) {
	var sum demoSummary
	rep, err := e.App.Sync(ctx, app.SyncOptions{})
	sum.Synced = len(rep.New())
	if err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	d := e.App.Store()
	if opts.ApproveOne {
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

func (s demoSummary) print(w io.Writer) {
	fmt.Fprintf(w, "messages synced:        %d (from the demo IMAP server)\n", s.Synced)
	fmt.Fprintf(w, "tickets suggested:      %d\n", s.TicketsSuggested)
	fmt.Fprintf(w, "deliveries delivered:   %d (%d attempts; receiver verified %d)\n", s.Delivered, s.DeliveryAttempts, s.ReceiverValid)
	fmt.Fprintf(w, "drafts waiting:         %d (nothing is sent without approval)\n", s.DraftsWaiting)
	fmt.Fprintf(w, "replies sent over SMTP: %d (approved by the demo: %d)\n", s.SMTPReceived, s.RepliesApproved)
}
