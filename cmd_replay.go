package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"time"

	"smista/app"
	"smista/app/config"
	"smista/db"
	"smista/ui"
	"smista/webhook"
)

const replaySynopsis = "DELIVERY_ID [--to URL [--secret-file F|-]] | --dead|--status S [--endpoint ID] [--since D] [--until D]"

// window is the --since and --until flags of a listing or a bulk replay.
type window struct{ since, until string }

func (w *window) flags(fs *flag.FlagSet, what string) {
	fs.StringVar(&w.since, "since", "", "only those "+what+" since `D`: a duration back from now (90m, 2h, 7d) or a time (2026-03-01, 2026-03-01T14:00:00Z)")
	fs.StringVar(&w.until, "until", "", "only those "+what+" before `D` (same forms as --since)")
}

// times returns the window's bounds at now (zero: unbounded).
func (w window) times(now time.Time) (since, until time.Time, err error) {
	if since, err = config.ParseWhen(w.since, now); err != nil {
		return since, until, fmt.Errorf("%w: --since: %v", errUsage, err)
	}
	if until, err = config.ParseWhen(w.until, now); err != nil {
		return since, until, fmt.Errorf("%w: --until: %v", errUsage, err)
	}
	return since, until, nil
}

func runReplay(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("replay", replaySynopsis)
	to := fs.String("to", "", "send the delivery's event once to `URL` instead (a developer's app), signed afresh; the delivery itself is not touched")
	secretFile := fs.String("secret-file", "", "with --to: sign with the secret in `file` (- for stdin) instead of the endpoint's")
	dead := fs.Bool("dead", false, "replay every dead delivery (with --endpoint, --since, --until to narrow)")
	status := fs.String("status", "", "replay every delivery with this status: dead, delivered or canceled")
	endpoint := fs.String("endpoint", "", "with --dead or --status: only this endpoint's deliveries")
	var w window
	w.flags(fs, "queued")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	bulk := *dead || *status != ""
	switch {
	case *dead && *status != "" && *status != webhook.StatusDead:
		return fmt.Errorf("%w: give --dead or --status, not both", errUsage)
	case bulk && len(pos) > 0:
		return fmt.Errorf("%w: --dead and --status replay every matching delivery: no DELIVERY_ID", errUsage)
	case bulk && *to != "":
		return fmt.Errorf("%w: --to replays one delivery: give its DELIVERY_ID", errUsage)
	case !bulk && (*endpoint != "" || w.since != "" || w.until != ""):
		return fmt.Errorf("%w: --endpoint, --since and --until narrow --dead or --status", errUsage)
	case !bulk && len(pos) != 1:
		return fmt.Errorf("%w: replay takes one DELIVERY_ID, or --dead/--status (see 'smista log')", errUsage)
	case *secretFile != "" && *to == "":
		return fmt.Errorf("%w: --secret-file signs a replay --to", errUsage)
	}
	if *dead {
		*status = webhook.StatusDead
	}
	if bulk && !slices.Contains([]string{webhook.StatusDead, webhook.StatusDelivered, webhook.StatusCanceled}, *status) {
		return fmt.Errorf("%w: --status %q: want dead, delivered or canceled (pending, retrying and paused ones are already queued)", errUsage, *status)
	}
	since, until, err := w.times(m.Now())
	if err != nil {
		return err
	}
	secret, err := m.secretFlag("", *secretFile)
	if err != nil {
		return err
	}
	a, _, err := m.openApp(ctx, wiring{})
	if err != nil {
		return err
	}
	defer a.Close()
	switch {
	case bulk:
		res, err := a.ReplayMatching(ctx, db.DeliveryFilter{Status: *status, EndpointID: *endpoint, Since: since, Until: until})
		if err != nil {
			return err
		}
		ui.WriteReplayed(m.Stdout, m.Stderr, "", *status, res)
		return nil
	case *to != "":
		return replayTo(ctx, m, a, pos[0], *to, secret)
	}
	if err := a.Replay(ctx, pos[0]); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("%w (see 'smista log')", err)
		}
		return err
	}
	ui.WriteReplayed(m.Stdout, m.Stderr, pos[0], "", db.ReplayResult{})
	return nil
}

// replayTo sends one delivery's event to url and prints the outcome.
func replayTo(ctx context.Context, m *Main, a *app.App, id, url, secret string) error {
	try, err := a.ReplayTo(ctx, id, url, secret)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("%w (see 'smista log')", err)
	}
	if errors.Is(err, app.ErrNoSecret) {
		return fmt.Errorf("%w: --secret-file F", err)
	}
	if err != nil {
		return err
	}
	ui.WriteReplayTo(m.Stdout, m.Stderr, id, try)
	if r := try.Outcome.Result; !r.OK() {
		return fmt.Errorf("replay --to failed (%s); 'smista log --attempts' shows the answer", r.Class)
	}
	return nil
}
