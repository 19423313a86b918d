package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"smista/db"
	"smista/internal/cli"
	"smista/ui"
	"smista/webhook"
)

func runSend(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("send", "[--once]")
	once := fs.Bool("once", false, "exit when no delivery is pending or retrying (waits out scheduled retries)")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	m.tuneSenderGC()
	a, _, err := m.openApp(ctx, wiring{accounts: true, role: "smista send"})
	if err != nil {
		return err
	}
	defer a.Close()
	p := ui.StartPrinter(a.Bus(), m.Stdout, m.Stderr, ui.PrinterOptions{Cmd: "send", Bar: m.IsTerminal})
	err = a.RunSender(ctx, *once)
	p.Stop()
	if errors.Is(err, webhook.ErrOffline) {
		return fmt.Errorf("%w (nothing was lost and no retry was used: run 'smista send --once' again when the network is back)", err)
	}
	if errors.Is(err, webhook.ErrStoreUnavailable) {
		return fmt.Errorf("%w (free disk space or fix the database, then run 'smista send --once' again: nothing was lost)", err)
	}
	if err != nil {
		return err
	}
	p.WriteTally(m.Stderr, a.SendTally())
	return nil
}

var logStatuses = []string{
	webhook.StatusPending, webhook.StatusRetrying, webhook.StatusDelivered,
	webhook.StatusDead, webhook.StatusPaused, webhook.StatusCanceled,
}

func runLog(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("log", "[--json] [--attempts] [--status S] [--endpoint ID] [--since D] [--until D] [--limit N]")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	attempts := fs.Bool("attempts", false, "one line per attempt instead of per delivery")
	status := fs.String("status", "", "only deliveries with this status: pending, retrying, delivered, dead, paused, canceled")
	endpoint := fs.String("endpoint", "", "only this endpoint's deliveries")
	limit := fs.Int("limit", 100, "the most recent N lines")
	var w cli.Window
	w.Flags(fs, "queued (attempts: started)")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	since, until, err := w.Times(m.Now())
	if err != nil {
		return err
	}
	if *status != "" && !slices.Contains(logStatuses, *status) {
		return cli.Usagef("--status %q: want pending, retrying, delivered, dead, paused or canceled", *status)
	}
	if *limit < 1 {
		return cli.Usagef("--limit must be at least 1")
	}
	a, _, err := m.openApp(ctx, wiring{})
	if err != nil {
		return err
	}
	defer a.Close()
	if *attempts {
		f := db.AttemptFilter{Status: *status, EndpointID: *endpoint, Kind: webhook.KindWebhook, Limit: *limit, Since: since, Until: until}
		rows, err := a.Store().Attempts(ctx, f)
		if err != nil {
			return err
		}
		if len(rows) == 0 && !*asJSON {
			fmt.Fprintln(m.Stderr, "no attempts logged yet")
		}
		return ui.WriteAttempts(m.Stdout, rows, *asJSON)
	}
	f := db.DeliveryFilter{Status: *status, EndpointID: *endpoint, Kind: webhook.KindWebhook, Limit: *limit, Since: since, Until: until}
	rows, err := a.Store().Deliveries(ctx, f)
	if err != nil {
		return err
	}
	if len(rows) == 0 && !*asJSON {
		fmt.Fprintln(m.Stderr, "no deliveries yet: a ticket.suggested event is queued when triage decides ticket ('smista triage'), or by 'smista endpoints test ID'")
	}
	// The most recent deliveries, oldest first.
	slices.Reverse(rows)
	return ui.WriteDeliveries(m.Stdout, rows, *asJSON)
}
