package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"smista/app"
	"smista/db"
	"smista/ui"
	"smista/ui/safe"
)

const endpointsSynopsis = "add URL [--secret-file F|-] | list [--json] | enable ID | disable ID | test ID | rotate ID | rm ID [--force] | backfill"

func fmtTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func jsonTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

func runEndpoints(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := m.flagSet("endpoints", endpointsSynopsis)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: want a subcommand: %s", errUsage, endpointsSynopsis)
	}
	sub, args := args[0], args[1:]
	fs := m.flagSet("endpoints "+sub, endpointsSynopsis)
	secret, secretFile := "", ""
	asJSON, force := false, false
	switch sub {
	case "add":
		fs.StringVar(&secretFile, "secret-file", "", "read the signing secret whsec_… from `file` (- for stdin); generated when absent")
		fs.StringVar(&secret, "secret", "", "the signing secret on the command line (visible to other users in ps: prefer --secret-file)")
	case "list":
		fs.BoolVar(&asJSON, "json", false, "one JSON object per line")
	case "rm":
		fs.BoolVar(&force, "force", false, "remove even with undelivered deliveries (they become canceled, kept in the log)")
	case "enable", "disable", "test", "rotate", "backfill":
	default:
		return fmt.Errorf("%w: unknown subcommand %q: %s", errUsage, sub, endpointsSynopsis)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	want := 1
	if sub == "list" || sub == "backfill" {
		want = 0
	}
	if len(pos) != want {
		return fmt.Errorf("%w: endpoints %s takes %d argument(s): %s", errUsage, sub, want, endpointsSynopsis)
	}
	a, _, err := m.openApp(ctx, wiring{accounts: true})
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "list":
		return endpointList(ctx, m, a.Store(), asJSON)
	case "backfill":
		n, err := a.QueueUndeliveredTickets(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%d ticket(s) queued to the endpoints; 'smista send' or the TUI delivers them\n", n)
		return nil
	}
	if sub == "add" {
		if secret, err = m.secretFlag(secret, secretFile); err != nil {
			return err
		}
		return endpointAdd(ctx, m, a, pos[0], secret)
	}
	return endpointErr(endpointAction(ctx, m, a, sub, pos[0], force))
}

// endpointAction runs the subcommands that act on one endpoint id.
func endpointAction(ctx context.Context, m *Main, a *app.App, sub, id string, force bool) error {
	switch sub {
	case "enable":
		n, err := a.EnableEndpoint(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "enabled %s; %d paused deliveries resume (run 'smista send' or the TUI)\n", id, n)
	case "disable":
		n, err := a.DisableEndpoint(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "disabled %s; %d deliveries paused until 'smista endpoints enable %s'\n", id, n, id)
	case "rotate":
		s, until, err := a.RotateSecret(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s\n", s)
		fmt.Fprintf(m.Stderr, "new secret above; the old one keeps signing too until %s\n", fmtTime(until))
	case "rm":
		n, err := a.RemoveEndpoint(ctx, id, force)
		if errors.Is(err, db.ErrEndpointBusy) {
			return fmt.Errorf("%w (wait for 'smista send' to deliver them, or rm --force to cancel them; the log keeps them)", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "removed %s (%d undelivered canceled; its delivery log is kept)\n", id, n)
	case "test":
		return endpointTest(ctx, m, a, id)
	}
	return nil
}

func endpointErr(err error) error {
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("%w (see 'smista endpoints list')", err)
	}
	return err
}

func endpointAdd(ctx context.Context, m *Main, a *app.App, rawURL, secret string) error {
	ep, err := a.AddEndpoint(ctx, rawURL, secret)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, ep.ID)
	if ep.Generated {
		fmt.Fprintln(m.Stdout, ep.Secret)
		fmt.Fprintln(m.Stderr, "the second line is the signing secret: give it to the receiver; it is not shown again (rotate with 'smista endpoints rotate')")
	}
	if n, err := a.Store().UndeliveredTickets(ctx); err == nil && n > 0 {
		fmt.Fprintf(m.Stderr, "%d ticket(s) have no delivery (decided while no endpoint existed): 'smista endpoints backfill' queues them\n", n)
	}
	return nil
}

func endpointList(ctx context.Context, m *Main, d *db.DB, asJSON bool) error {
	eps, err := d.Endpoints(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(m.Stdout)
	for _, e := range eps {
		if asJSON {
			if err := enc.Encode(struct {
				ID             string `json:"id"`
				URL            string `json:"url"`
				Enabled        bool   `json:"enabled"`
				DisabledReason string `json:"disabled_reason"`
				CreatedAt      string `json:"created_at"`
			}{e.ID, e.URL, e.Enabled, e.DisabledReason, fmtTime(e.CreatedAt)}); err != nil {
				return err
			}
			continue
		}
		state := "enabled"
		if !e.Enabled {
			state = "DISABLED: " + e.DisabledReason
		}
		extra := ""
		if !e.RotatingUntil.IsZero() {
			extra = "  (old secret also signs until " + fmtTime(e.RotatingUntil) + ")"
		}
		fmt.Fprintf(m.Stdout, "%s  %s  %s%s\n", e.ID, safe.String(e.URL), safe.String(state), extra)
	}
	if len(eps) == 0 && !asJSON {
		fmt.Fprintln(m.Stderr, "no endpoints; add one with 'smista endpoints add URL'")
	}
	return nil
}

func endpointTest(ctx context.Context, m *Main, a *app.App, id string) error {
	dlv, err := a.TestEndpoint(ctx, id)
	if err != nil {
		return err
	}
	o, err := a.DeliverNow(ctx, dlv)
	if err != nil {
		return err
	}
	r := o.Result
	fmt.Fprintf(m.Stdout, "test event %s (webhook-id %s) → %s\n", dlv, o.Delivery.WebhookID, safe.String(o.Delivery.URL))
	if r.OK() {
		fmt.Fprintf(m.Stdout, "delivered: HTTP %d in %s\n", r.StatusCode, ui.FmtLatency(r.Duration))
		return nil
	}
	fmt.Fprintf(m.Stdout, "failed (%s): %s\n", r.Class, safe.String(r.Err))
	if len(r.ResponseBody) > 0 {
		fmt.Fprintf(m.Stdout, "response: %s\n", safe.String(string(r.ResponseBody[:min(len(r.ResponseBody), 300)])))
	}
	return fmt.Errorf("test delivery failed (%s); 'smista send' retries it, 'smista log --attempts --endpoint %s' shows the attempts", r.Class, id)
}

// secretFlag returns the secret given by --secret or --secret-file (a
// path, or - for stdin), trimmed; "" when neither was given.
func (m *Main) secretFlag(secret, file string) (string, error) {
	switch {
	case secret != "" && file != "":
		return "", fmt.Errorf("%w: give --secret or --secret-file, not both", errUsage)
	case file == "-":
		b, err := io.ReadAll(io.LimitReader(m.Stdin, 4096))
		if err != nil {
			return "", fmt.Errorf("read the secret from stdin: %w", err)
		}
		secret = string(b)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--secret-file: %w", err)
		}
		secret = string(b)
	}
	return strings.TrimSpace(secret), nil
}
