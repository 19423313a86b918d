package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"smista/app"
	"smista/db"
	"smista/internal/cli"
	"smista/ui"
	"smista/webhook"
)

const endpointsSynopsis = "add URL [--secret-file F|-] [--scheme v1|v1a] | list [--json] | enable ID | disable ID | test ID | rotate ID [--scheme v1|v1a] | rm ID [--force] | backfill"

func runEndpoints(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := m.flagSet("endpoints", endpointsSynopsis)
		if err := cli.Parse(fs, args); err != nil {
			return err
		}
		return cli.Usagef("want a subcommand: %s", endpointsSynopsis)
	}
	sub, args := args[0], args[1:]
	fs := m.flagSet("endpoints "+sub, endpointsSynopsis)
	secret, secretFile, scheme := "", "", ""
	asJSON, force := false, false
	if sub == "add" || sub == "rotate" {
		fs.StringVar(&scheme, "scheme", "", "signing `scheme` of a generated secret: v1 (HMAC-SHA256, the receiver gets the whsec_ secret; default) or v1a (Ed25519, the receiver gets only the whpk_ public key)")
	}
	switch sub {
	case "add":
		fs.StringVar(&secretFile, "secret-file", "", "read the signing secret whsec_… from `file` (- for stdin); generated when absent")
		fs.StringVar(&secret, "secret", "", "the signing secret on the command line (visible to other users in ps: prefer --secret-file)")
	case "list":
		fs.BoolVar(&asJSON, "json", false, "one JSON object per line")
	case "rm":
		fs.BoolVar(&force, "force", false, "remove even with undelivered deliveries (they become canceled, kept in the log)")
	case "enable", "disable", "test", "rotate", "backfill":
		// rotate's --scheme is above.
	default:
		return cli.Usagef("unknown subcommand %q: %s", sub, endpointsSynopsis)
	}
	pos, err := cli.ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	want := 1
	if sub == "list" || sub == "backfill" {
		want = 0
	}
	if len(pos) != want {
		return cli.Usagef("endpoints %s takes %d argument(s): %s", sub, want, endpointsSynopsis)
	}
	a, _, err := m.openApp(ctx, wiring{accounts: true})
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "list":
		eps, err := a.Store().Endpoints(ctx)
		if err != nil {
			return err
		}
		if len(eps) == 0 && !asJSON {
			fmt.Fprintln(m.Stderr, "no endpoints; add one with 'smista endpoints add URL'")
		}
		return ui.WriteEndpoints(m.Stdout, eps, asJSON)
	case "backfill":
		n, err := a.QueueUndeliveredTickets(ctx)
		if err != nil {
			return err
		}
		ui.WriteEndpointChange(m.Stdout, sub, "", n)
		return nil
	}
	if sub == "add" {
		if secret, err = cli.Secret(m.Stdin, secret, secretFile); err != nil {
			return err
		}
		return endpointErr(endpointAdd(ctx, m, a, pos[0], secret, scheme))
	}
	if sub == "rotate" {
		return endpointErr(endpointRotate(ctx, m, a, pos[0], scheme))
	}
	return endpointErr(endpointAction(ctx, m, a, sub, pos[0], force))
}

// endpointAction runs the subcommands that act on one endpoint id.
func endpointAction(ctx context.Context, m *Main, a *app.App, sub, id string, force bool) error {
	var n int
	var err error
	switch sub {
	case "enable":
		n, err = a.EnableEndpoint(ctx, id)
	case "disable":
		n, err = a.DisableEndpoint(ctx, id)
	case "rm":
		n, err = a.RemoveEndpoint(ctx, id, force)
		if errors.Is(err, db.ErrEndpointBusy) {
			return fmt.Errorf("%w (wait for 'smista send' to deliver them, or rm --force to cancel them; the log keeps them)", err)
		}
	case "test":
		return endpointTest(ctx, m, a, id)
	}
	if err != nil {
		return err
	}
	ui.WriteEndpointChange(m.Stdout, sub, id, n)
	return nil
}

// endpointErr adds what to do to an error of the endpoint commands.
func endpointErr(err error) error {
	switch {
	case errors.Is(err, db.ErrNotFound):
		return fmt.Errorf("%w (see 'smista endpoints list')", err)
	case errors.Is(err, webhook.ErrBadScheme):
		return fmt.Errorf("%w: --scheme: %w", cli.ErrUsage, err)
	}
	return err
}

// endpointRotate rotates an endpoint's secret, to scheme when given.
func endpointRotate(ctx context.Context, m *Main, a *app.App, id, scheme string) error {
	key, until, err := a.RotateKey(ctx, id, scheme)
	if err != nil {
		return err
	}
	ui.WriteRotated(m.Stdout, m.Stderr, key, until)
	return nil
}

func endpointAdd(ctx context.Context, m *Main, a *app.App, rawURL, secret, scheme string) error {
	ep, err := a.AddSignedEndpoint(ctx, rawURL, secret, scheme)
	if err != nil {
		return err
	}
	n, err := a.Store().UndeliveredTickets(ctx)
	if err != nil {
		n = 0 // a failed count costs only the hint
	}
	ui.WriteEndpointAdded(m.Stdout, m.Stderr, ep, n)
	return nil
}

// endpointTest sends endpoint id a test event at once and prints the
// outcome; a failed attempt is an error that says where to look.
func endpointTest(ctx context.Context, m *Main, a *app.App, id string) error {
	try, err := a.SendTestEvent(ctx, id)
	if err != nil {
		return err
	}
	return testOutcome(m, id, try)
}

// testOutcome prints a test event's outcome; a failed attempt is an error
// that says where to look.
func testOutcome(m *Main, id string, try app.Try) error {
	ui.WriteTestEvent(m.Stdout, try)
	if r := try.Outcome.Result; !r.OK() {
		return fmt.Errorf("test delivery failed (%s); 'smista send' retries it, 'smista log --attempts --endpoint %s' shows the attempts", r.Class, id)
	}
	return nil
}
