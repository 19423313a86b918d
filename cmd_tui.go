package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"smista/db"
	"smista/mail"
	"smista/triage"
	"smista/ui"
	"smista/ui/actions"
	"smista/ui/safe"
	"smista/webhook"
)

// errNoTerminal is returned by the TUI when stdout is not a terminal.
var errNoTerminal = errors.New("stdout is not a terminal (for scripts use the listing commands, e.g. smista log --json)")

func runTUI(ctx context.Context, a *App, args []string) error {
	fs := a.flagSet("tui", "[--no-send] [--no-sync]")
	noSend := fs.Bool("no-send", false, "do not run the outbox sender (webhooks, approved replies) inside the TUI")
	noSync := fs.Bool("no-sync", false, "do not sync (and watch) the configured accounts inside the TUI")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: tui takes no arguments", errUsage)
	}
	if !a.IsTerminal {
		return errNoTerminal
	}
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	accounts, err := mailAccounts(cfg, a.Getenv, "")
	if err != nil && !errors.Is(err, errNoAccounts) {
		return err
	}
	d, err := a.OpenDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	s := tuiSetup{cfg: cfg, d: d, send: !*noSend, accounts: accounts, watch: true, triageOpts: triageOptions(cfg)}
	if s.classifier, err = classifierFor(cfg.Triage, a.Getenv, d); err != nil {
		return err
	}
	if !*noSync {
		for _, acct := range accounts {
			s.syncers = append(s.syncers, &mail.Syncer{Store: d, Account: acct, Parse: mail.Parse})
		}
	}
	return a.runTUIWith(ctx, s, tea.WithInput(a.Stdin), tea.WithOutput(a.Stdout))
}

// tuiSetup is what the TUI runs on: the store, and the background machinery
// that the user's configuration (or the demo) provides.
type tuiSetup struct {
	cfg Config
	d   *db.DB
	// send runs the outbox sender in the process.
	send bool
	// accounts provide SMTP for approved replies (none: approval is "not
	// available"; webhooks still go out).
	accounts []mail.Account
	// transports and approver replace those built from accounts (the demo).
	transports map[string]webhook.Transport
	approver   *draftApprover
	// retries replace the configured retry schedule (the demo's are short).
	retries []time.Duration
	// syncers are synced in the background; new mail is triaged with
	// classifier, which also regenerates drafts. With watch, each account
	// then stays in IDLE.
	syncers    []*mail.Syncer
	watch      bool
	classifier triage.Classifier
	triageOpts triage.Options
}

// runTUIWith runs the UI; the sender, sync and triage run in the same
// process and stream their progress into the status bar. Quitting cancels
// them and waits: in-flight attempts finish or stay pending in the outbox,
// never lost.
func (a *App) runTUIWith(ctx context.Context, s tuiSetup, progOpts ...tea.ProgramOption) error {
	bg, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	live := make(chan any, 64)
	var closers []func() // run once every background goroutine has stopped
	defer func() {
		cancel()
		wg.Wait()
		close(live) // every writer has stopped; ends the UI's reader
		for _, c := range closers {
			c()
		}
	}()
	// post hands a progress message to the UI; it gives up when the UI is
	// gone, so no background goroutine blocks on a closed screen.
	post := func(v any) {
		select {
		case live <- v:
		case <-bg.Done():
		}
	}

	var wake actions.Waker
	var approver ui.DraftApprover
	if s.send {
		opts := a.senderOptions(s.cfg)
		if s.retries != nil {
			opts.Retries = s.retries
		}
		// Other processes ("smista triage", "smista replay") enqueue
		// without a way to wake this one: look at the outbox every second.
		opts.Poll = time.Second
		transports, ap := s.transports, s.approver
		if transports == nil {
			var closeTransports func()
			transports, closeTransports = a.outboxTransports(s.d, s.accounts, opts, func(format string, args ...any) {
				select {
				case live <- ui.Notice{Kind: "smtp", Text: safe.String(fmt.Sprintf(format, args...)), Error: true}:
				default: // the UI is behind: drop the log line, the outbox row keeps the error
				}
			})
			closers = append(closers, closeTransports)
			if len(s.accounts) > 0 {
				ap = &draftApprover{db: s.d, accounts: s.accounts}
			}
		}
		opts.Transports = transports
		sender := webhook.NewSender(s.d, opts)
		if ap != nil {
			ap.Notify = sender.Notify
			approver = ap
		}
		wake = sender
		wg.Add(2)
		go func() {
			defer wg.Done()
			// Its error is the context's on quit; store errors reach the
			// status bar as notices.
			_ = sender.Run(bg)
		}()
		go func() {
			defer wg.Done()
			forwardNotices(bg, s.d, sender, live)
		}()
	}
	if len(s.syncers) > 0 && s.classifier != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.backgroundSync(bg, s, wake, post)
		}()
	}
	deps := a.tuiDeps(s.cfg, s.d, wake, live)
	deps.Approver = approver
	if s.classifier != nil {
		deps.Regen = &draftRegenerator{d: s.d, c: s.classifier, ctx: s.triageOpts.Context}
	}
	return ui.Run(bg, deps, progOpts...)
}

// draftRegenerator replaces a pending draft's body with the classifier's
// suggestion again: the offline classifier's template for the email's
// intent and language, or the model's reply (LLM answers are cached per
// message, model and prompt version, so this never re-bills).
type draftRegenerator struct {
	d   *db.DB
	c   triage.Classifier
	ctx triage.Context
}

// RegenerateDraft rewrites draft id; it fails with db.ErrDraftNotPending
// when the draft was approved, sent or discarded meanwhile.
func (r *draftRegenerator) RegenerateDraft(ctx context.Context, id int64) error {
	dr, err := r.d.Draft(ctx, id)
	if err != nil {
		return fmt.Errorf("regenerate: %w", err)
	}
	if dr.Status != "pending" {
		return fmt.Errorf("regenerate draft %d: %w", id, db.ErrDraftNotPending)
	}
	m, err := r.d.Message(ctx, dr.MessageID)
	if err != nil {
		return fmt.Errorf("regenerate: %w", err)
	}
	res, err := r.c.Classify(ctx, m, r.ctx)
	if err != nil {
		return fmt.Errorf("regenerate draft %d: %w", id, err)
	}
	if strings.TrimSpace(res.Draft) == "" {
		return fmt.Errorf("regenerate draft %d: the classifier suggested no reply for this email", id)
	}
	return r.d.EditDraft(ctx, id, res.Draft)
}

// backgroundSync syncs every account, triages what is new and, with
// s.watch, keeps each account in IDLE; progress goes to the status bar.
func (a *App) backgroundSync(ctx context.Context, s tuiSetup, wake actions.Waker, post func(any)) {
	var triageMu sync.Mutex // one triage run at a time across accounts
	triageNew := func(ids []string) {
		if len(ids) == 0 {
			return
		}
		triageMu.Lock()
		defer triageMu.Unlock()
		opts := s.triageOpts
		opts.IDs = ids
		opts.Progress = func(done, total int) { post(ui.TriageProgress{Working: done < total, Done: done, Total: total}) }
		if wake != nil {
			opts.OnQueued = wake.Notify
		}
		post(ui.TriageProgress{Working: true, Total: len(ids)})
		if _, err := triage.Run(ctx, s.d, s.classifier, opts); err != nil && ctx.Err() == nil {
			post(ui.Notice{Kind: "error", Text: "triage: " + safe.String(oneLine(err.Error())) + " (run 'smista triage' to retry)", Error: true})
		}
		post(ui.TriageProgress{Done: len(ids), Total: len(ids)})
	}
	var wg sync.WaitGroup
	for _, sy := range s.syncers {
		sy.Progress = func(p mail.Progress) {
			post(ui.SyncProgress{Account: p.Account, Mailbox: p.Mailbox, Done: p.Done, Total: p.Total})
		}
		sy.Logf = func(format string, args ...any) {
			post(ui.Notice{Kind: "sync", Text: safe.String(fmt.Sprintf(format, args...))})
		}
		name := sy.Account.Name
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !s.watch {
				results, err := sy.Sync(ctx)
				var ids []string
				for _, r := range results {
					ids = append(ids, r.New...)
				}
				sp := ui.SyncProgress{Account: name, Done: len(ids), Total: len(ids), Finished: true}
				if err != nil && ctx.Err() == nil {
					sp.Err = safe.String(oneLine(err.Error()))
				}
				post(sp)
				triageNew(ids)
				return
			}
			w := &mail.Watcher{
				Syncer: sy,
				OnNew:  triageNew,
				OnEvent: func(ev mail.WatchEvent) {
					switch ev.Kind {
					case "synced":
						post(ui.SyncProgress{Account: name, Mailbox: ev.Result.Mailbox, Done: ev.Result.Fetched, Total: ev.Result.Fetched, Finished: true})
					case "error":
						post(ui.SyncProgress{Account: name, Finished: true,
							Err: fmt.Sprintf("%s (retrying in %s)", safe.String(oneLine(ev.Err.Error())), ev.Delay.Round(time.Second))})
					}
				},
			}
			w.Run(ctx)
		}()
	}
	wg.Wait()
}

// tuiDeps builds what the UI needs from the store and the machinery;
// actions without an implementation stay nil and the UI answers "not
// available".
func (a *App) tuiDeps(cfg Config, d *db.DB, wake actions.Waker, live <-chan any) ui.Deps {
	act := &actions.Actions{
		DB: d, Wake: wake, RawEmailURL: cfg.Triage.RawEmailURL,
		RotationGrace: cfg.Webhook.RotationGrace.Duration, Now: a.Now,
	}
	return ui.Deps{
		Store:     d,
		Drafts:    d,
		Overrides: act,
		Replay:    act,
		Endpoints: act,
		Tester:    act,
		Live:      live,
		User:      a.Getenv("USER"),
		Editor:    a.Getenv("EDITOR"),
		NoColor:   a.Getenv("NO_COLOR") != "",
		Now:       a.Now,
	}
}

// noticeSource is what forwardNotices reads from a running sender.
type noticeSource interface {
	Events() <-chan webhook.Notice
	Stats() (queued, inFlight int)
}

// forwardNotices turns the sender's notices into UI messages, with the
// outbox depth and the attempts in flight at start and after each notice,
// until the events channel closes or ctx ends.
func forwardNotices(ctx context.Context, d *db.DB, sender noticeSource, out chan<- any) {
	send := func(v any) bool {
		select {
		case out <- v:
			return true
		case <-ctx.Done():
			return false
		}
	}
	depth := func() ui.SenderStats {
		var q int
		for _, st := range []string{"pending", "retrying"} {
			if c, err := d.CountDeliveries(ctx, db.DeliveryFilter{Status: st}); err == nil {
				q += c
			}
		}
		_, inFlight := sender.Stats()
		return ui.SenderStats{Queue: q, InFlight: inFlight}
	}
	if !send(depth()) {
		return
	}
	for n := range sender.Events() {
		un := ui.Notice{Kind: string(n.Kind), EndpointID: n.EndpointID}
		switch n.Kind {
		case webhook.NoticeDelivered:
			un.Text = fmt.Sprintf("delivered %s to %s (%d)", n.DeliveryID, safe.String(n.URL), n.StatusCode)
		case webhook.NoticeFailed, webhook.NoticePaused:
			un.Text = fmt.Sprintf("attempt %d of %s failed: %s", n.Attempt, n.DeliveryID, safe.String(n.Error))
		case webhook.NoticeDead:
			un.Text, un.Error = fmt.Sprintf("delivery %s is dead: %s (r replays it)", n.DeliveryID, safe.String(n.Error)), true
		case webhook.NoticeDisabled:
			un.Text, un.Error = fmt.Sprintf("endpoint %s %s", n.EndpointID, safe.String(n.Error)), true
		default:
			un.Text, un.Error = "sender: "+safe.String(n.Error), n.Error != ""
		}
		if !send(un) || !send(depth()) {
			return
		}
	}
}
