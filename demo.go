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

	"smista/db"
	"smista/mail"
	"smista/mail/mailtest"
	"smista/triage"
	"smista/webhook"
)

// demoOptions configures the demo pipeline.
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
	// Triage classifies and decides the given new email ids, writing
	// results, decisions, drafts and events. Nil means the real triage
	// pipeline with the offline classifier (no key, no network).
	Triage func(ctx context.Context, d *db.DB, ids []string) error
	// Inspect, when set, sees the environment after the headless pass and
	// before it closes (tests compare the summary with what the receiver
	// and the SMTP sink actually got).
	Inspect func(e *demoEnv)
}

// demoEnv is the running demo: a real IMAP server seeded with the demo
// mailbox, an SMTP sink, a webhook receiver, a temporary store configured
// with the demo account and endpoint, and the outbox sender's wiring. The
// headless pipeline and the TUI both use it; Close stops everything.
type demoEnv struct {
	DB       *db.DB
	IMAP     *mailtest.IMAPServer
	SMTP     *mailtest.SMTPSink
	Receiver *webhook.Receiver
	// ReceiverURL is the demo endpoint's URL.
	ReceiverURL string
	EndpointID  string
	Account     mail.Account
	Syncer      *mail.Syncer
	Approver    *draftApprover
	// Transports are the outbox transports (webhook and smtp) for a
	// webhook.Sender over DB.
	Transports map[string]webhook.Transport
	Retries    []time.Duration

	dir     string
	ownDir  bool
	httpSrv *http.Server
	httpWG  sync.WaitGroup
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

// startDemo starts the demo's servers and store. The caller must Close it.
func startDemo(ctx context.Context, a *App, opts demoOptions) (_ *demoEnv, err error) {
	e := &demoEnv{dir: opts.Dir, Retries: opts.Retries}
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
	if e.Retries == nil {
		e.Retries = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}
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

	secret, err := webhook.GenerateSecret()
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if e.Receiver, err = webhook.NewReceiver(secret, io.Discard, webhook.ReceiverOptions{FailFirst: opts.Flaky}); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	e.ReceiverURL = "http://" + ln.Addr().String() + "/hooks/smista"
	e.httpSrv = &http.Server{Handler: e.Receiver, ReadHeaderTimeout: 5 * time.Second}
	e.httpWG.Add(1)
	go func() {
		defer e.httpWG.Done()
		e.httpSrv.Serve(ln)
	}()

	if e.DB, err = db.Open(ctx, filepath.Join(e.dir, "demo.db")); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if a.Now != nil {
		e.DB.Now = a.Now
	}
	if e.EndpointID, err = e.DB.CreateEndpoint(ctx, e.ReceiverURL, secret); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	e.Account = mail.Account{
		Name: "demo",
		From: mail.Address{Name: "Smista Demo Support", Addr: "demo@smista.example"},
		IMAP: e.IMAP.Config(),
		SMTP: e.SMTP.Config(),
	}
	e.Syncer = &mail.Syncer{Store: e.DB, Account: e.Account, Parse: mail.Parse}
	e.Approver = &draftApprover{db: e.DB, accounts: []mail.Account{e.Account}}
	smtpTr := newSMTPTransport(e.DB, []mail.Account{e.Account})
	smtpTr.Retries = len(e.Retries)
	smtpTr.Logf = func(format string, args ...any) { fmt.Fprintf(a.Stderr, "smista demo: "+format+"\n", args...) }
	e.Transports = map[string]webhook.Transport{
		webhook.KindWebhook: webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: webhook.Guard{AllowPrivate: true}}),
		"smtp":              smtpTr,
	}
	return e, nil
}

// Triage runs the triage pipeline (offline classifier) on the email ids.
func (e *demoEnv) Triage(ctx context.Context, d *db.DB, ids []string) error {
	c, err := triage.NewOffline()
	if err != nil {
		return err
	}
	_, err = triage.Run(ctx, d, c, triage.Options{
		Context: triage.Context{Own: []string{e.Account.From.Addr}, VIP: demoVIP},
		Policy:  triage.DefaultPolicy(),
		IDs:     ids,
	})
	return err
}

// NewSender returns an outbox sender over the demo store and transports.
func (e *demoEnv) NewSender() *webhook.Sender {
	s := webhook.NewSender(e.DB, webhook.Options{Retries: e.Retries, Transports: e.Transports})
	e.Approver.Notify = s.Notify
	return s
}

// Close stops the servers and removes the temporary directory it made.
func (e *demoEnv) Close() error {
	var errs []error
	if e.httpSrv != nil {
		errs = append(errs, ignoreClosed(e.httpSrv.Close()))
		e.httpWG.Wait()
	}
	if e.DB != nil {
		errs = append(errs, e.DB.Close())
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

// runDemoPipeline runs one headless demo pass on the real path: IMAP sync
// of the demo mailbox, triage of the new mail, the outbox delivering
// ticket.suggested events to the local receiver (retries included with
// Flaky) and, with ApproveOne, one approved reply over SMTP. It prints a
// summary whose counts come from the store and from what the receiver and
// the SMTP sink actually got.
func runDemoPipeline(ctx context.Context, a *App, opts demoOptions) error {
	e, err := startDemo(ctx, a, opts)
	if err != nil {
		return err
	}
	defer e.Close()
	sum, err := e.runOnce(ctx, opts)
	if err != nil {
		return err
	}
	sum.print(a.Stdout)
	if opts.Inspect != nil {
		opts.Inspect(e)
	}
	return nil
}

// Ingest syncs the demo mailbox over IMAP and triages the new mail with
// triageFn (nil: the offline pipeline), returning the new email ids. The
// TUI runs it in the background while the sender runs.
func (e *demoEnv) Ingest(ctx context.Context, triageFn func(context.Context, *db.DB, []string) error) ([]string, error) {
	results, err := e.Syncer.Sync(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: sync: %w", err)
	}
	var ids []string
	for _, r := range results {
		ids = append(ids, r.New...)
	}
	if triageFn == nil {
		triageFn = e.Triage
	}
	if err := triageFn(ctx, e.DB, ids); err != nil {
		return ids, fmt.Errorf("demo: triage: %w", err)
	}
	return ids, nil
}

// runOnce ingests, approves (optionally) and drains the outbox.
func (e *demoEnv) runOnce(ctx context.Context, opts demoOptions) (demoSummary, error) {
	var sum demoSummary
	ids, err := e.Ingest(ctx, opts.Triage)
	sum.Synced = len(ids)
	if err != nil {
		return sum, err
	}
	sender := e.NewSender()
	if opts.ApproveOne {
		id, ok, err := firstPendingDraft(ctx, e.DB)
		if err != nil {
			return sum, fmt.Errorf("demo: approve: %w", err)
		}
		if ok {
			if err := e.Approver.ApproveDraft(ctx, id, "human:demo"); err != nil {
				return sum, fmt.Errorf("demo: approve: %w", err)
			}
			sum.RepliesApproved = 1
		}
	}
	if err := sender.Drain(ctx); err != nil {
		return sum, fmt.Errorf("demo: send: %w", err)
	}
	if err := e.count(ctx, &sum); err != nil {
		return sum, fmt.Errorf("demo: summary: %w", err)
	}
	_, sum.ReceiverValid, _ = e.Receiver.Stats()
	sum.SMTPReceived = len(e.SMTP.Messages())
	return sum, nil
}

// count fills in the store's part of the summary.
func (e *demoEnv) count(ctx context.Context, sum *demoSummary) error {
	var err error
	if sum.TicketsSuggested, err = e.DB.CountTickets(ctx); err != nil {
		return err
	}
	webhooks := db.DeliveryFilter{Kind: "webhook", Status: "delivered"}
	if sum.Delivered, err = e.DB.CountDeliveries(ctx, webhooks); err != nil {
		return err
	}
	if sum.DeliveryAttempts, err = e.DB.CountAttempts(ctx, db.AttemptFilter{Kind: "webhook"}); err != nil {
		return err
	}
	drafts, err := e.DB.Drafts(ctx, demoDraftsLimit)
	for _, dr := range drafts {
		if dr.Status == "pending" {
			sum.DraftsWaiting++
		}
	}
	return err
}

// demoDraftsLimit is more drafts than the demo mailbox can make.
const demoDraftsLimit = 10_000

// firstPendingDraft returns the pending draft with the lowest id; false
// when none is pending.
func firstPendingDraft(ctx context.Context, d *db.DB) (int64, bool, error) {
	drafts, err := d.Drafts(ctx, demoDraftsLimit)
	if err != nil {
		return 0, false, err
	}
	var id int64
	for _, dr := range drafts {
		if dr.Status == "pending" && (id == 0 || dr.ID < id) {
			id = dr.ID
		}
	}
	return id, id != 0, nil
}

func (s demoSummary) print(w io.Writer) {
	fmt.Fprintf(w, "messages synced:        %d (from the demo IMAP server)\n", s.Synced)
	fmt.Fprintf(w, "tickets suggested:      %d\n", s.TicketsSuggested)
	fmt.Fprintf(w, "deliveries delivered:   %d (%d attempts; receiver verified %d)\n", s.Delivered, s.DeliveryAttempts, s.ReceiverValid)
	fmt.Fprintf(w, "drafts waiting:         %d (nothing is sent without approval)\n", s.DraftsWaiting)
	fmt.Fprintf(w, "replies sent over SMTP: %d (approved by the demo: %d)\n", s.SMTPReceived, s.RepliesApproved)
}
