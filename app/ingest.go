package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"smista/mail"
)

// SyncOptions selects what Sync and Watch do.
type SyncOptions struct {
	// Account syncs only the account with this name ("" = every account).
	Account string
	// NoTriage stores new mail without triaging it.
	NoTriage bool
	// IdleRefresh restarts IDLE after this long (Watch; 0 = 25 minutes).
	IdleRefresh time.Duration
}

// MailboxSync is one mailbox's sync.
type MailboxSync struct {
	Account string
	mail.SyncResult
}

// SyncReport is what Sync did: each mailbox, and the triage of the new
// mail (zero with NoTriage).
type SyncReport struct {
	Mailboxes []MailboxSync
	Triage    TriageSummary
}

// New returns the email ids Sync stored for the first time.
func (r SyncReport) New() []string {
	var ids []string
	for _, m := range r.Mailboxes {
		ids = append(ids, m.New...)
	}
	return ids
}

// syncAccounts returns the accounts o selects.
func (a *App) syncAccounts(o SyncOptions) ([]mail.Account, error) {
	if len(a.accounts) == 0 {
		return nil, ErrNoAccounts
	}
	if o.Account == "" {
		return a.accounts, nil
	}
	acct, ok := a.account(o.Account)
	if !ok {
		return nil, fmt.Errorf("no account named %q in the configuration", o.Account)
	}
	return []mail.Account{acct}, nil
}

// syncer returns a Syncer for acct that reports on the bus and, with feed,
// hands each stored batch on to triage. It parses the header fields only:
// the store keeps the raw mail, and triage parses the body of the messages
// it is handed (raw mail in hand, no second read of the store) one batch
// at a time, so a batch's bodies are never all held at once.
func (a *App) syncer(acct mail.Account, feed func([]*mail.Message)) *mail.Syncer {
	s := &mail.Syncer{
		Store:   a.db,
		Account: acct,
		Parse:   mail.ParseHeader,
		Progress: func(p mail.Progress) {
			a.bus.Publish(SyncProgress{Account: p.Account, Mailbox: p.Mailbox, Done: p.Done, Total: p.Total})
		},
		Logf: func(format string, args ...any) {
			a.notice("sync", acct.Name+": "+fmt.Sprintf(format, args...), false)
		},
	}
	s.Stored = feed
	return s
}

// ingestStream is the triage of new mail behind a sync: the Syncer hands
// each stored batch to feed, and a triage run classifies and stores it
// while the next batches are fetched. Close it to wait for the run.
type ingestStream struct {
	in   chan []*mail.Message
	done chan struct{}
	sum  TriageSummary
	err  error
}

// startIngest starts a streamed triage run. live runs (a watcher's) tell
// the bus what each burst of new mail became, as it goes.
func (a *App) startIngest(ctx context.Context, account string, live bool) *ingestStream {
	st := &ingestStream{in: make(chan []*mail.Message), done: make(chan struct{})}
	r := &triageRun{a: a}
	if live {
		r.burst = func(sum TriageSummary, failed error) {
			a.notice("triage", fmt.Sprintf("%s: %d new message(s) triaged: %d ticket, %d draft, %d suggest",
				account, sum.Total-sum.Failed, sum.Ticket, sum.Draft, sum.Suggest), false)
			if failed != nil && ctx.Err() == nil {
				a.notice("triage", fmt.Sprintf("%s: %v (run 'smista triage' to retry)", account, failed), true)
			}
		}
	}
	go func() {
		defer close(st.done)
		st.sum, st.err = r.run(ctx, st.in)
	}()
	return st
}

// feed hands a stored batch to the run; it waits while the run is a batch
// behind (the sync slows down rather than buffer), never past ctx.
func (st *ingestStream) feed(ctx context.Context) func([]*mail.Message) {
	return func(msgs []*mail.Message) {
		select {
		case st.in <- msgs:
		case <-ctx.Done():
		}
	}
}

// close ends the run once every batch fed is triaged.
func (st *ingestStream) close() (TriageSummary, error) {
	close(st.in)
	<-st.done
	return st.sum, st.err
}

// Sync syncs the selected accounts once and triages the new mail behind
// the sync, as each batch is stored (the ingest loop: store → triage →
// wake the sender). Progress and problems go to the bus; the returned
// error joins the accounts that failed (the others were synced).
func (a *App) Sync(ctx context.Context, o SyncOptions) (SyncReport, error) {
	var rep SyncReport
	accounts, err := a.syncAccounts(o)
	if err != nil {
		return rep, err
	}
	var stream *ingestStream
	var feed func([]*mail.Message)
	if !o.NoTriage {
		stream = a.startIngest(ctx, "", false)
		feed = stream.feed(ctx)
	}
	var errs []error
	for _, acct := range accounts {
		if !o.NoTriage {
			a.probeClaims(ctx, acct)
		}
		results, err := a.syncer(acct, feed).Sync(ctx)
		var n int
		for _, r := range results {
			rep.Mailboxes = append(rep.Mailboxes, MailboxSync{Account: acct.Name, SyncResult: r})
			n += len(r.New)
		}
		sp := SyncProgress{Account: acct.Name, Done: n, Total: n, Finished: true}
		if err != nil {
			sp.Err = err.Error()
			errs = append(errs, fmt.Errorf("account %s: %w", acct.Name, err))
		}
		a.bus.Publish(sp)
		if n > 0 {
			a.changed(TopicMessages)
		}
	}
	if stream != nil {
		sum, err := stream.close()
		rep.Triage = sum
		if err != nil && ctx.Err() == nil { // a canceled sync says so already
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// Watch keeps the selected accounts in sync until ctx ends: a full sync on
// connect, then IDLE, reconnecting with backoff after any failure. New
// mail is triaged as it is stored (unless NoTriage) and every step is
// reported on the bus.
func (a *App) Watch(ctx context.Context, o SyncOptions) error {
	accounts, err := a.syncAccounts(o)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, acct := range accounts {
		var feed func([]*mail.Message)
		if !o.NoTriage {
			stream := a.startIngest(ctx, acct.Name, true)
			feed = stream.feed(ctx)
			defer stream.close()
		}
		w := &mail.Watcher{
			Syncer:      a.syncer(acct, feed),
			IdleRefresh: o.IdleRefresh,
			OnNew:       func(ids []string) { a.ingested(acct.Name, ids, o.NoTriage) },
			OnEvent:     func(ev mail.WatchEvent) { a.watchEvent(acct.Name, ev) },
		}
		wg.Go(func() {
			if !o.NoTriage {
				a.probeClaims(ctx, acct)
			}
			w.Run(ctx)
		})
	}
	wg.Wait()
	return nil
}

func (a *App) watchEvent(account string, ev mail.WatchEvent) {
	switch ev.Kind {
	case "connected":
		a.notice("sync", account+": connected, watching", false)
	case "synced":
		a.bus.Publish(SyncProgress{Account: account, Mailbox: ev.Result.Mailbox, Done: ev.Result.Fetched,
			Total: ev.Result.Fetched, Finished: true})
		if ev.Result.Fetched > 0 || ev.Result.Removed > 0 || ev.Result.FlagChanges > 0 {
			a.changed(TopicMessages)
		}
	case "error":
		a.bus.Publish(SyncProgress{Account: account, Finished: true,
			Err: fmt.Sprintf("%v (retrying in %s)", ev.Err, ev.Delay.Round(time.Second))})
	}
}

// ingested announces newly stored mail of account; its triage (unless
// noTriage) is already under way behind the sync.
func (a *App) ingested(account string, ids []string, noTriage bool) {
	a.changed(TopicMessages)
	if noTriage {
		a.notice("sync", fmt.Sprintf("%s: %d new message(s) (not triaged: --no-triage)", account, len(ids)), false)
	}
}

// Import stores .eml files, mbox files, Maildir folders and directories
// of raw messages. Broken messages are reported to opts.OnFailure and
// skipped. It fails when a path cannot be read or the store cannot write.
func (a *App) Import(ctx context.Context, paths []string, opts mail.ImportOptions) (mail.ImportStats, error) {
	stats, err := mail.Import(ctx, a.db, paths, opts)
	if stats.New > 0 {
		a.changed(TopicMessages)
	}
	return stats, err
}

// searchChunk is how many messages one IndexSearch adds to the header
// index (about 80 ms of the writer's time at a stretch; the bodies go
// 1,000 at a time, parsed before their transaction), so that other
// writes (a triage batch, the sender's commits) interleave.
const searchChunk = 5000

// keepSearchIndexed brings the store's search index up to date now and
// each time stored messages change, until ctx ends: a sync does not index
// (it would double its cost), the front ends that search do it in the
// background. A search is right meanwhile, only slower.
func (a *App) keepSearchIndexed(ctx context.Context) {
	sub := a.bus.Subscribe()
	defer sub.Close()
	index := func() {
		for ctx.Err() == nil {
			n, err := a.db.IndexSearch(ctx, searchChunk)
			if err != nil {
				if ctx.Err() == nil {
					a.notice("search", err.Error(), true)
				}
				return
			}
			if n == 0 {
				return
			}
		}
	}
	index()
	for {
		select {
		case e := <-sub.C():
			if c, ok := e.(Changed); ok && c.Topics&TopicMessages != 0 {
				index()
			}
		case <-ctx.Done():
			return
		}
	}
}

// RunOptions selects the background work of Run.
type RunOptions struct {
	// Send runs the outbox sender.
	Send bool
	// Sync syncs every account, then (with Watch) keeps it in IDLE.
	Sync, Watch bool
}

// Run does the background work a long-running front end (the TUI, the
// team server) wants, until ctx ends: the sender, sync → triage of every
// account, and the search index kept up to date. Problems are reported on
// the bus, never returned: the work goes on (the watcher reconnects, the
// sender backs off).
func (a *App) Run(ctx context.Context, o RunOptions) {
	var wg sync.WaitGroup
	wg.Go(func() { a.keepSearchIndexed(ctx) })
	if o.Send {
		wg.Go(func() {
			if err := a.RunSender(ctx, false); err != nil && ctx.Err() == nil {
				a.notice("error", err.Error(), true)
			}
		})
	}
	if o.Sync && len(a.accounts) > 0 {
		wg.Go(func() {
			if o.Watch {
				_ = a.Watch(ctx, SyncOptions{})
				return
			}
			if _, err := a.Sync(ctx, SyncOptions{}); err != nil && ctx.Err() == nil {
				a.notice("sync", err.Error(), true)
			}
		})
	}
	wg.Wait()
}
