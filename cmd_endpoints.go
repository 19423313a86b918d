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
	"smista/webhook"
)

const endpointsSynopsis = "add URL [--secret-file F|-] [--scheme v1|v1a] | list [--json] | enable ID | disable ID | test ID | rotate ID [--scheme v1|v1a] | rm ID [--force] | backfill"

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
		return endpointAdd(ctx, m, a, pos[0], secret, scheme)
	}
	if sub == "rotate" {
		return endpointErr(endpointRotate(ctx, m, a, pos[0], scheme))
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

// endpointRotate rotates an endpoint's secret, to scheme when given.
func endpointRotate(ctx context.Context, m *Main, a *app.App, id, scheme string) error {
	if err := checkScheme(scheme); err != nil {
		return err
	}
	key, until, err := a.RotateKey(ctx, id, scheme)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s\n", key)
	what := "new secret above"
	if strings.HasPrefix(key, webhook.PublicKeyPrefix) {
		what = "new public key above (give it to the receiver; the secret key stays here)"
	}
	fmt.Fprintf(m.Stderr, "%s; the old key keeps signing too until %s\n", what, fmtTime(until))
	return nil
}

func checkScheme(scheme string) error {
	if scheme != "" && scheme != webhook.SchemeHMAC && scheme != webhook.SchemeEd25519 {
		return fmt.Errorf("%w: --scheme %q: want v1 (HMAC) or v1a (Ed25519)", errUsage, scheme)
	}
	return nil
}

func endpointAdd(ctx context.Context, m *Main, a *app.App, rawURL, secret, scheme string) error {
	if err := checkScheme(scheme); err != nil {
		return err
	}
	ep, err := a.AddSignedEndpoint(ctx, rawURL, secret, scheme)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, ep.ID)
	switch {
	case ep.Scheme == webhook.SchemeEd25519:
		fmt.Fprintln(m.Stdout, ep.ReceiverKey)
		fmt.Fprintln(m.Stderr, "the second line is the Ed25519 public key (v1a): give it to the receiver; it cannot sign, so a leaked receiver config cannot forge events ('smista endpoints list' shows it again)")
	case ep.Generated:
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
				Scheme         string `json:"scheme"`
				PublicKey      string `json:"public_key"`
			}{e.ID, e.URL, e.Enabled, e.DisabledReason, fmtTime(e.CreatedAt), e.Scheme, e.PublicKey}); err != nil {
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
		if e.PublicKey != "" {
			extra += "  v1a " + e.PublicKey
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
