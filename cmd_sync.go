package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"sync"
	"time"

	"smista/db"
	"smista/mail"
	"smista/triage"
	"smista/ui/safe"
)

// errNoAccounts is returned by sync when the configuration has no account.
var errNoAccounts = errors.New("no [[account]] in the configuration: add one (see README.md, Configuration)")

func runSync(ctx context.Context, a *App, args []string) error {
	fs := a.flagSet("sync", "[--watch] [--account NAME]")
	watch := fs.Bool("watch", false, "keep syncing: IDLE on INBOX, reconnect after network loss")
	account := fs.String("account", "", "sync only the account `NAME`")
	idleRefresh := fs.Duration("idle-refresh", 25*time.Minute, "restart IDLE after this `duration` (servers drop it after 29m)")
	noTriage := fs.Bool("no-triage", false, "store new mail without triaging it (run 'smista triage' later)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	accounts, err := mailAccounts(cfg, a.Getenv, *account)
	if err != nil {
		return err
	}
	d, err := a.OpenDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	hook := &newMailHook{a: a, d: d}
	if !*noTriage {
		if hook.classifier, err = classifierFor(cfg.Triage, a.Getenv, d); err != nil {
			return err
		}
		hook.opts = triageOptions(cfg)
	}

	if !*watch {
		return a.syncOnce(ctx, d, accounts, hook)
	}
	var wg sync.WaitGroup
	for _, acct := range accounts {
		w := &mail.Watcher{
			Syncer:      a.newSyncer(d, acct),
			IdleRefresh: *idleRefresh,
			OnNew:       func(ids []string) { hook.run(ctx, acct.Name, ids) },
			OnEvent:     func(ev mail.WatchEvent) { a.reportWatch(acct.Name, ev) },
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.Run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// syncOnce syncs every account once and prints one line per mailbox.
func (a *App) syncOnce(ctx context.Context, d *db.DB, accounts []mail.Account, hook *newMailHook) error {
	var errs []error
	for _, acct := range accounts {
		results, err := a.newSyncer(d, acct).Sync(ctx)
		for _, r := range results {
			fmt.Fprintf(a.Stdout, "%s/%s: %d new, %d fetched, %d removed, %d flag changes%s\n",
				safe.String(acct.Name), safe.String(r.Mailbox), len(r.New), r.Fetched, r.Removed, r.FlagChanges,
				map[bool]string{true: " (UIDVALIDITY changed: resynced)"}[r.Reset])
			if len(r.New) > 0 {
				hook.run(ctx, acct.Name, r.New)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s: %w", acct.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (a *App) newSyncer(d *db.DB, acct mail.Account) *mail.Syncer {
	s := &mail.Syncer{
		Store:   d,
		Account: acct,
		Parse:   mail.Parse,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(a.Stderr, "smista sync: %s: %s\n", safe.String(acct.Name), safe.String(fmt.Sprintf(format, args...)))
		},
	}
	if a.IsTerminal {
		bar := &progressBar{w: a.Stderr}
		s.Progress = bar.update
	}
	return s
}

// newMailHook is where synced mail flows: straight into the triage
// pipeline (unless --no-triage). Watchers of several accounts may call it
// concurrently; triage runs are serialised.
type newMailHook struct {
	a          *App
	d          *db.DB
	classifier triage.Classifier // nil: do not triage
	opts       triage.Options
	mu         sync.Mutex
}

// run triages ids and reports what happened on stderr; failures are
// reported, never fatal (the messages stay queued for "smista triage").
func (h *newMailHook) run(ctx context.Context, account string, ids []string) {
	w := h.a.Stderr
	if h.classifier == nil {
		fmt.Fprintf(w, "smista sync: %s: %d new message(s) (not triaged: --no-triage)\n", safe.String(account), len(ids))
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	opts := h.opts
	opts.IDs = ids
	outs, err := triage.Run(ctx, h.d, h.classifier, opts)
	tally := map[triage.Action]int{}
	for _, o := range outs {
		if o.Err == nil {
			tally[o.Decision.Action]++
		}
	}
	fmt.Fprintf(w, "smista sync: %s: %d new message(s) triaged: %d ticket, %d draft, %d suggest\n", safe.String(account),
		len(ids), tally[triage.ActionTicket], tally[triage.ActionDraft], tally[triage.ActionSuggest])
	if err != nil {
		fmt.Fprintf(w, "smista sync: %s: triage: %s (run 'smista triage' to retry)\n", safe.String(account), safe.String(oneLine(err.Error())))
	}
}

func (a *App) reportWatch(account string, ev mail.WatchEvent) {
	switch ev.Kind {
	case "connected":
		fmt.Fprintf(a.Stderr, "smista sync: %s: connected, watching\n", safe.String(account))
	case "error":
		fmt.Fprintf(a.Stderr, "smista sync: %s: %s (retrying in %s)\n", safe.String(account), safe.String(oneLine(ev.Err.Error())), ev.Delay)
	}
}

// progressBar draws "mailbox [=====     ] n/N" on one terminal line.
type progressBar struct {
	w io.Writer
}

func (p *progressBar) update(pr mail.Progress) {
	if pr.Total == 0 {
		return
	}
	const width = 30
	filled := width * pr.Done / pr.Total
	fmt.Fprintf(p.w, "\r%s/%s [%s%s] %d/%d", safe.String(pr.Account), safe.String(pr.Mailbox),
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pr.Done, pr.Total)
	if pr.Done == pr.Total {
		fmt.Fprintln(p.w)
	}
}

// mailAccounts converts the configured accounts (all, or the one named)
// into mail accounts, checking what the config parser cannot.
func mailAccounts(cfg Config, getenv func(string) string, only string) ([]mail.Account, error) {
	if len(cfg.Accounts) == 0 {
		return nil, errNoAccounts
	}
	var out []mail.Account
	for _, ac := range cfg.Accounts {
		if only != "" && ac.Name != only {
			continue
		}
		acct, err := mailAccount(ac, getenv)
		if err != nil {
			return nil, err
		}
		out = append(out, acct)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no account named %q in the configuration", only)
	}
	return out, nil
}

func mailAccount(ac AccountConfig, getenv func(string) string) (mail.Account, error) {
	acct := mail.Account{
		Name:        ac.Name,
		Mailboxes:   ac.Mailboxes,
		SentMailbox: ac.SentBox,
		IMAP:        serverConfig(ac.IMAP, getenv),
		SMTP:        serverConfig(ac.SMTP, getenv),
	}
	if ac.From != "" {
		a, err := netmail.ParseAddress(ac.From)
		if err != nil {
			return acct, fmt.Errorf("account %q: from %q: %w", ac.Name, ac.From, err)
		}
		acct.From = mail.Address{Name: a.Name, Addr: a.Address}
	} else if strings.Contains(ac.IMAP.Username, "@") {
		acct.From = mail.Address{Addr: ac.IMAP.Username}
	}
	if err := acct.IMAP.Check(); err != nil {
		return acct, fmt.Errorf("account %q: imap: %w", ac.Name, err)
	}
	if ac.SMTP.Host != "" {
		if err := acct.SMTP.Check(); err != nil {
			return acct, fmt.Errorf("account %q: smtp: %w", ac.Name, err)
		}
	}
	return acct, nil
}

func serverConfig(sc ServerConfig, getenv func(string) string) mail.ServerConfig {
	return mail.ServerConfig{
		Host: sc.Host, Port: sc.Port, TLS: sc.TLS, Username: sc.Username,
		Password: mail.Secret{Cmd: sc.PasswordCmd, Env: sc.PasswordEnv},
		Auth:     sc.Auth,
		Token:    mail.Secret{Cmd: sc.TokenCmd},
		Getenv:   getenv,
	}
}
