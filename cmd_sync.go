package main

import (
	"context"
	"time"

	"smista/app"
	"smista/internal/cli"
	"smista/ui"
)

func runSync(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("sync", "[--watch] [--account NAME] [--no-triage]")
	watch := fs.Bool("watch", false, "keep syncing: IDLE on INBOX, reconnect after network loss")
	account := fs.String("account", "", "sync only the account `NAME`")
	idleRefresh := fs.Duration("idle-refresh", 25*time.Minute, "restart IDLE after this `duration` (servers drop it after 29m)")
	noTriage := fs.Bool("no-triage", false, "store new mail without triaging it (run 'smista triage' later)")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	a, _, err := m.openApp(ctx, wiring{classifier: !*noTriage, accounts: true, requireAccounts: true, account: *account})
	if err != nil {
		return err
	}
	m.limitMemory()
	defer a.Close()
	o := app.SyncOptions{Account: *account, NoTriage: *noTriage, IdleRefresh: *idleRefresh}
	// A one-shot sync returns its errors, for the one line on stderr.
	p := ui.StartPrinter(a.Bus(), m.Stdout, m.Stderr, ui.PrinterOptions{Cmd: "sync", Bar: m.IsTerminal, QuietSyncErrors: !*watch})
	if *watch {
		err := a.Watch(ctx, o)
		p.Stop()
		return err
	}
	rep, err := a.Sync(ctx, o)
	p.Stop()
	ui.WriteSyncReport(m.Stdout, m.Stderr, rep, *noTriage)
	return err
}
