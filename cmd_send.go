package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"smista/db"
	"smista/ui"
	"smista/ui/safe"
	"smista/webhook"
)

func runSend(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("send", "[--once]")
	once := fs.Bool("once", false, "exit when no delivery is pending or retrying (waits out scheduled retries)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	a, _, err := m.openApp(ctx, wiring{accounts: true, role: "smista send"})
	if err != nil {
		return err
	}
	defer a.Close()
	p := ui.StartPrinter(a.Bus(), m.Stdout, m.Stderr, ui.PrinterOptions{Cmd: "send", Bar: m.IsTerminal})
	err = a.RunSender(ctx, *once)
	p.Stop()
	if errors.Is(err, webhook.ErrStoreUnavailable) {
		return fmt.Errorf("%w (free disk space or fix the database, then run 'smista send --once' again: nothing was lost)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "send: %d delivered, %d failed attempts, %d dead, %d endpoints disabled\n",
		p.Tally.Delivered, p.Tally.Failed, p.Tally.Dead, p.Tally.Disabled)
	return nil
}

var logStatuses = []string{
	webhook.StatusPending, webhook.StatusRetrying, webhook.StatusDelivered,
	webhook.StatusDead, webhook.StatusPaused, webhook.StatusCanceled,
}

func runLog(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("log", "[--json] [--attempts] [--status S] [--endpoint ID] [--limit N]")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	attempts := fs.Bool("attempts", false, "one line per attempt instead of per delivery")
	status := fs.String("status", "", "only deliveries with this status: pending, retrying, delivered, dead, paused, canceled")
	endpoint := fs.String("endpoint", "", "only this endpoint's deliveries")
	limit := fs.Int("limit", 100, "the most recent N lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *status != "" && !slices.Contains(logStatuses, *status) {
		return fmt.Errorf("%w: --status %q: want pending, retrying, delivered, dead, paused or canceled", errUsage, *status)
	}
	if *limit < 1 {
		return fmt.Errorf("%w: --limit must be at least 1", errUsage)
	}
	a, _, err := m.openApp(ctx, wiring{})
	if err != nil {
		return err
	}
	defer a.Close()
	if *attempts {
		f := db.AttemptFilter{Status: *status, EndpointID: *endpoint, Kind: webhook.KindWebhook, Limit: *limit}
		return printAttempts(ctx, m, a.Store(), f, *asJSON)
	}
	f := db.DeliveryFilter{Status: *status, EndpointID: *endpoint, Kind: webhook.KindWebhook, Limit: *limit}
	return printDeliveries(ctx, m, a.Store(), f, *asJSON)
}

func printAttempts(ctx context.Context, m *Main, d *db.DB, f db.AttemptFilter, asJSON bool) error {
	rows, err := d.Attempts(ctx, f)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(m.Stdout)
	for _, l := range rows {
		if asJSON {
			if err := enc.Encode(struct {
				DeliveryID      string `json:"delivery_id"`
				Attempt         int    `json:"attempt"`
				StartedAt       string `json:"started_at"`
				DurationMS      int64  `json:"duration_ms"`
				StatusCode      int    `json:"status_code"`
				ErrorClass      string `json:"error_class"`
				ResponseSnippet string `json:"response_snippet"`
			}{l.DeliveryID, l.Attempt, fmtTime(l.StartedAt), l.Duration.Milliseconds(), l.StatusCode, l.ErrorClass, string(l.ResponseBody)}); err != nil {
				return err
			}
			continue
		}
		outcome := fmt.Sprintf("HTTP %d", l.StatusCode)
		if l.ErrorClass != "" {
			outcome = l.ErrorClass + ": " + l.Error
		}
		fmt.Fprintf(m.Stdout, "%s  %s #%d  %s  %s  %s\n", l.StartedAt.Local().Format("2006-01-02 15:04:05"),
			l.DeliveryID, l.Attempt, l.WebhookID, ui.FmtLatency(l.Duration), safe.String(outcome))
		fmt.Fprintf(m.Stdout, "    signature: %s\n", safe.String(l.RequestHeaders.Get(webhook.HeaderSignature)))
		if len(l.ResponseBody) > 0 {
			fmt.Fprintf(m.Stdout, "    response:  %s\n", safe.String(string(l.ResponseBody[:min(len(l.ResponseBody), 200)])))
		}
	}
	if len(rows) == 0 && !asJSON {
		fmt.Fprintln(m.Stderr, "no attempts logged yet")
	}
	return nil
}

// printDeliveries prints the most recent deliveries matching f, oldest
// first, as JSON lines or one line each.
func printDeliveries(ctx context.Context, m *Main, d *db.DB, f db.DeliveryFilter, asJSON bool) error {
	rows, err := d.Deliveries(ctx, f)
	if err != nil {
		return err
	}
	slices.Reverse(rows)
	enc := json.NewEncoder(m.Stdout)
	for _, l := range rows {
		if asJSON {
			if err := enc.Encode(struct {
				DeliveryID     string `json:"delivery_id"`
				WebhookID      string `json:"webhook_id"`
				EndpointID     string `json:"endpoint_id"`
				URL            string `json:"url"`
				Event          string `json:"event"`
				EmailID        string `json:"email_id"`
				Test           bool   `json:"test"`
				Status         string `json:"status"`
				Attempts       int    `json:"attempts"`
				LastStatusCode int    `json:"last_status_code"`
				LastError      string `json:"last_error"`
				NextAttemptAt  any    `json:"next_attempt_at"`
				CreatedAt      string `json:"created_at"`
				UpdatedAt      string `json:"updated_at"`
			}{l.ID, l.WebhookID, l.EndpointID, l.URL, l.EventType, l.EmailID, l.Test, l.Status, l.Attempts,
				l.LastStatusCode, l.LastError, jsonTime(l.NextAttemptAt), fmtTime(l.CreatedAt), fmtTime(l.UpdatedAt)}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(m.Stdout, deliveryLine(l))
	}
	if len(rows) == 0 && !asJSON {
		fmt.Fprintln(m.Stderr, "no deliveries yet: a ticket.suggested event is queued when triage decides ticket ('smista triage'), or by 'smista endpoints test ID'")
	}
	return nil
}

func deliveryLine(l db.DeliveryItem) string {
	what := l.EventType
	if l.Test {
		what += " (test)"
	}
	url := l.URL
	if url == "" {
		url = "(removed endpoint " + l.EndpointID + ")"
	}
	line := fmt.Sprintf("%s  %s  %-9s  %s → %s  attempts %d", l.CreatedAt.Local().Format("2006-01-02 15:04:05"),
		l.ID, l.Status, what, safe.String(url), l.Attempts)
	if l.LastStatusCode != 0 {
		line += fmt.Sprintf("  HTTP %d", l.LastStatusCode)
	}
	if l.LastError != "" && l.Status != webhook.StatusDelivered && l.LastError != fmt.Sprintf("HTTP %d", l.LastStatusCode) {
		line += "  " + safe.String(l.LastError)
	}
	if !l.NextAttemptAt.IsZero() {
		line += "  next " + l.NextAttemptAt.Local().Format("15:04:05")
	}
	return line
}

func runReplay(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("replay", "DELIVERY_ID")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: replay takes one DELIVERY_ID (see 'smista log')", errUsage)
	}
	a, _, err := m.openApp(ctx, wiring{})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Replay(ctx, pos[0]); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("%w (see 'smista log')", err)
		}
		return err
	}
	fmt.Fprintf(m.Stdout, "%s queued again (same webhook-id, fresh signature); 'smista send' or the TUI delivers it\n", pos[0])
	return nil
}
