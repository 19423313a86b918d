package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"smista/app"
	"smista/db"
	"smista/internal/cli"
	"smista/ui"
	"smista/webhook"
)

const replaySynopsis = "DELIVERY_ID [--to URL [--secret-file F|-]] | --dead|--status S [--endpoint ID] [--since D] [--until D]"

func runReplay(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("replay", replaySynopsis)
	to := fs.String("to", "", "send the delivery's event once to `URL` instead (a developer's app), signed afresh; the delivery itself is not touched")
	secretFile := fs.String("secret-file", "", "with --to: sign with the secret in `file` (- for stdin) instead of the endpoint's")
	dead := fs.Bool("dead", false, "replay every dead delivery (with --endpoint, --since, --until to narrow)")
	status := fs.String("status", "", "replay every delivery with this status: dead, delivered or canceled")
	endpoint := fs.String("endpoint", "", "with --dead or --status: only this endpoint's deliveries")
	var w cli.Window
	w.Flags(fs, "queued")
	pos, err := cli.ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	bulk := *dead || *status != ""
	switch {
	case *dead && *status != "" && *status != webhook.StatusDead:
		return cli.Usagef("give --dead or --status, not both")
	case bulk && len(pos) > 0:
		return cli.Usagef("--dead and --status replay every matching delivery: no DELIVERY_ID")
	case bulk && *to != "":
		return cli.Usagef("--to replays one delivery: give its DELIVERY_ID")
	case !bulk && (*endpoint != "" || w.Since != "" || w.Until != ""):
		return cli.Usagef("--endpoint, --since and --until narrow --dead or --status")
	case !bulk && len(pos) != 1:
		return cli.Usagef("replay takes one DELIVERY_ID, or --dead/--status (see 'smista log')")
	case *secretFile != "" && *to == "":
		return cli.Usagef("--secret-file signs a replay --to")
	}
	if *dead {
		*status = webhook.StatusDead
	}
	if bulk && !slices.Contains([]string{webhook.StatusDead, webhook.StatusDelivered, webhook.StatusCanceled}, *status) {
		return cli.Usagef("--status %q: want dead, delivered or canceled (pending, retrying and paused ones are already queued)", *status)
	}
	since, until, err := w.Times(m.Now())
	if err != nil {
		return err
	}
	secret, err := cli.Secret(m.Stdin, "", *secretFile)
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
