package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"smista/db"
	"smista/ui/safe"
	"smista/webhook"
)

// userAgent is "smista/<module version>" ("smista/dev" for local builds).
func userAgent() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return "smista/" + bi.Main.Version
	}
	return "smista/dev"
}

// senderOptions maps the [webhook] configuration onto the sender's options.
func (a *App) senderOptions(cfg Config) webhook.Options {
	w := cfg.Webhook
	retries := make([]time.Duration, 0, len(w.Retries))
	for _, r := range w.Retries {
		retries = append(retries, r.Duration)
	}
	return webhook.Options{
		Timeout:       w.Timeout.Duration,
		Retries:       retries,
		DisableAfter:  w.DisableAfter,
		DisableWindow: w.DisableWindow.Duration,
		Now:           a.Now,
		Guard:         webhook.Guard{AllowPrivate: w.AllowPrivate},
		UserAgent:     userAgent(),
	}
}

// parseInterspersed parses flags that may follow positional arguments
// ("endpoints add URL --secret S") and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func fmtTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func jsonTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

const endpointsSynopsis = "add URL [--secret S] | list [--json] | enable ID | disable ID | test ID | rotate ID | rm ID [--force]"

func runEndpoints(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := a.flagSet("endpoints", endpointsSynopsis)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: want a subcommand: %s", errUsage, endpointsSynopsis)
	}
	sub, args := args[0], args[1:]
	fs := a.flagSet("endpoints "+sub, endpointsSynopsis)
	secret := ""
	asJSON, force := false, false
	switch sub {
	case "add":
		fs.StringVar(&secret, "secret", "", "signing secret whsec_… (generated when absent)")
	case "list":
		fs.BoolVar(&asJSON, "json", false, "one JSON object per line")
	case "rm":
		fs.BoolVar(&force, "force", false, "remove even with undelivered deliveries (they become canceled, kept in the log)")
	case "enable", "disable", "test", "rotate":
	default:
		return fmt.Errorf("%w: unknown subcommand %q: %s", errUsage, sub, endpointsSynopsis)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	want := 1
	if sub == "list" {
		want = 0
	}
	if len(pos) != want {
		return fmt.Errorf("%w: endpoints %s takes %d argument(s): %s", errUsage, sub, want, endpointsSynopsis)
	}
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	d, err := a.OpenDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	switch sub {
	case "add":
		return endpointAdd(ctx, a, cfg, d, pos[0], secret)
	case "list":
		return endpointList(ctx, a, d, asJSON)
	}
	id := pos[0]
	switch sub {
	case "enable":
		n, err := d.EnableEndpoint(ctx, id)
		if err != nil {
			return endpointErr(err)
		}
		fmt.Fprintf(a.Stdout, "enabled %s; %d paused deliveries resume (run 'smista send' or the TUI)\n", id, n)
	case "disable":
		n, err := d.DisableEndpoint(ctx, id, "disabled by user")
		if err != nil {
			return endpointErr(err)
		}
		fmt.Fprintf(a.Stdout, "disabled %s; %d deliveries paused until 'smista endpoints enable %s'\n", id, n, id)
	case "rotate":
		s, err := webhook.GenerateSecret()
		if err != nil {
			return err
		}
		grace := cfg.Webhook.RotationGrace.Duration
		until := a.Now().Add(grace)
		if err := d.RotateEndpointSecret(ctx, id, s, until); err != nil {
			return endpointErr(err)
		}
		fmt.Fprintf(a.Stdout, "%s\n", s)
		fmt.Fprintf(a.Stderr, "new secret above; the old one keeps signing too until %s\n", fmtTime(until))
	case "rm":
		n, err := d.RemoveEndpoint(ctx, id, force)
		if errors.Is(err, db.ErrEndpointBusy) {
			return fmt.Errorf("%w (wait for 'smista send' to deliver them, or rm --force to cancel them; the log keeps them)", err)
		}
		if err != nil {
			return endpointErr(err)
		}
		fmt.Fprintf(a.Stdout, "removed %s (%d undelivered canceled; its delivery log is kept)\n", id, n)
	case "test":
		return endpointTest(ctx, a, cfg, d, id)
	}
	return nil
}

func endpointErr(err error) error {
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("%w (see 'smista endpoints list')", err)
	}
	return err
}

func endpointAdd(ctx context.Context, a *App, cfg Config, d *db.DB, rawURL, secret string) error {
	guard := webhook.Guard{AllowPrivate: cfg.Webhook.AllowPrivate}
	u, err := guard.CheckURL(ctx, nil, rawURL)
	if err != nil {
		return fmt.Errorf("endpoint url: %w", err)
	}
	generated := secret == ""
	if generated {
		if secret, err = webhook.GenerateSecret(); err != nil {
			return err
		}
	} else if err := webhook.ValidateSecret(secret); err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	id, err := d.CreateEndpoint(ctx, u, secret)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.Stdout, id)
	if generated {
		fmt.Fprintln(a.Stdout, secret)
		fmt.Fprintln(a.Stderr, "the second line is the signing secret: give it to the receiver; it is not shown again (rotate with 'smista endpoints rotate')")
	}
	return nil
}

func endpointList(ctx context.Context, a *App, d *db.DB, asJSON bool) error {
	eps, err := d.Endpoints(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(a.Stdout)
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
		fmt.Fprintf(a.Stdout, "%s  %s  %s%s\n", e.ID, safe.String(e.URL), safe.String(state), extra)
	}
	if len(eps) == 0 && !asJSON {
		fmt.Fprintln(a.Stderr, "no endpoints; add one with 'smista endpoints add URL'")
	}
	return nil
}

func endpointTest(ctx context.Context, a *App, cfg Config, d *db.DB, id string) error {
	dlv, err := d.EnqueueTestEvent(ctx, id, webhook.SamplePayload(a.Now()))
	if err != nil {
		return endpointErr(err)
	}
	s := webhook.NewSender(d, a.senderOptions(cfg))
	o, err := s.DeliverNow(ctx, dlv)
	if err != nil {
		return err
	}
	r := o.Result
	fmt.Fprintf(a.Stdout, "test event %s (webhook-id %s) → %s\n", dlv, o.Delivery.WebhookID, safe.String(o.Delivery.URL))
	if r.OK() {
		fmt.Fprintf(a.Stdout, "delivered: HTTP %d in %s\n", r.StatusCode, r.Duration.Round(time.Millisecond))
		return nil
	}
	fmt.Fprintf(a.Stdout, "failed (%s): %s\n", r.Class, safe.String(r.Err))
	if len(r.ResponseBody) > 0 {
		fmt.Fprintf(a.Stdout, "response: %s\n", safe.String(string(r.ResponseBody[:min(len(r.ResponseBody), 300)])))
	}
	return fmt.Errorf("test delivery failed (%s); 'smista send' retries it, 'smista log --attempts --endpoint %s' shows the attempts", r.Class, id)
}

func runSend(ctx context.Context, a *App, args []string) error {
	fs := a.flagSet("send", "[--once]")
	once := fs.Bool("once", false, "exit when no delivery is pending or retrying (waits out scheduled retries)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: send takes no arguments", errUsage)
	}
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	d, err := a.OpenDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	accounts, err := mailAccounts(cfg, a.Getenv, "")
	if err != nil && !errors.Is(err, errNoAccounts) {
		return err
	}
	opts := a.senderOptions(cfg)
	if !*once {
		// Other processes (triage, replay) enqueue without a way to wake
		// this one: look at the outbox every second as well.
		opts.Poll = time.Second
	}
	transports, closeTransports := a.outboxTransports(d, accounts, opts, func(format string, args ...any) {
		fmt.Fprintf(a.Stderr, "smista send: %s\n", safe.String(fmt.Sprintf(format, args...)))
	})
	defer closeTransports()
	opts.Transports = transports
	s := webhook.NewSender(d, opts)
	runErr := make(chan error, 1)
	go func() {
		if *once {
			runErr <- s.Drain(ctx)
		} else {
			runErr <- s.Run(ctx)
		}
	}()
	var delivered, failed, dead, disabled int
	for n := range s.Events() {
		printNotice(a, n)
		switch n.Kind {
		case webhook.NoticeDelivered:
			delivered++
		case webhook.NoticeFailed, webhook.NoticePaused:
			failed++
		case webhook.NoticeDead:
			dead++
		case webhook.NoticeDisabled:
			disabled++
		}
	}
	if err := <-runErr; err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "send: %d delivered, %d failed attempts, %d dead, %d endpoints disabled\n", delivered, failed, dead, disabled)
	return nil
}

func printNotice(a *App, n webhook.Notice) {
	ts := n.At.Local().Format("15:04:05")
	test := ""
	if n.Test {
		test = " (test)"
	}
	switch n.Kind {
	case webhook.NoticeDelivered:
		fmt.Fprintf(a.Stdout, "%s delivered %s%s → %s attempt %d: HTTP %d in %s\n", ts, n.DeliveryID, test,
			safe.String(n.URL), n.Attempt, n.StatusCode, n.Duration.Round(time.Millisecond))
	case webhook.NoticeFailed:
		fmt.Fprintf(a.Stdout, "%s failed    %s%s → %s attempt %d: %s: %s; retry at %s\n", ts, n.DeliveryID, test,
			safe.String(n.URL), n.Attempt, n.ErrorClass, safe.String(n.Error), n.NextAttemptAt.Local().Format("15:04:05"))
	case webhook.NoticePaused:
		fmt.Fprintf(a.Stdout, "%s paused    %s%s → %s attempt %d: %s: %s; endpoint disabled\n", ts, n.DeliveryID, test,
			safe.String(n.URL), n.Attempt, n.ErrorClass, safe.String(n.Error))
	case webhook.NoticeDead:
		fmt.Fprintf(a.Stdout, "%s dead      %s%s → %s attempt %d: %s: %s; kept, 'smista replay %s' to retry\n", ts, n.DeliveryID, test,
			safe.String(n.URL), n.Attempt, n.ErrorClass, safe.String(n.Error), n.DeliveryID)
	case webhook.NoticeDisabled:
		fmt.Fprintf(a.Stdout, "%s ENDPOINT DISABLED %s: %s; its deliveries are paused until 'smista endpoints enable %s'\n", ts,
			n.EndpointID, safe.String(n.Error), n.EndpointID)
	case webhook.NoticeError:
		fmt.Fprintf(a.Stderr, "%s error: %s\n", ts, safe.String(n.Error))
	}
}

var logStatuses = map[string]bool{
	webhook.StatusPending: true, webhook.StatusRetrying: true, webhook.StatusDelivered: true,
	webhook.StatusDead: true, webhook.StatusPaused: true, webhook.StatusCanceled: true,
}

func runLog(ctx context.Context, a *App, args []string) error {
	fs := a.flagSet("log", "[--json] [--attempts] [--status S] [--endpoint ID] [--limit N]")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	attempts := fs.Bool("attempts", false, "one line per attempt instead of per delivery")
	status := fs.String("status", "", "only deliveries with this status: pending, retrying, delivered, dead, paused, canceled")
	endpoint := fs.String("endpoint", "", "only this endpoint's deliveries")
	limit := fs.Int("limit", 100, "the most recent N lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: log takes no arguments", errUsage)
	}
	if *status != "" && !logStatuses[*status] {
		return fmt.Errorf("%w: --status %q: want pending, retrying, delivered, dead, paused or canceled", errUsage, *status)
	}
	if *limit < 1 {
		return fmt.Errorf("%w: --limit must be at least 1", errUsage)
	}
	d, err := a.OpenDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	enc := json.NewEncoder(a.Stdout)
	if *attempts {
		rows, err := d.Attempts(ctx, db.AttemptFilter{Status: *status, EndpointID: *endpoint, Kind: "webhook", Limit: *limit})
		if err != nil {
			return err
		}
		for _, l := range rows {
			if *asJSON {
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
			fmt.Fprintf(a.Stdout, "%s  %s #%d  %s  %dms  %s\n", l.StartedAt.Local().Format("2006-01-02 15:04:05"),
				l.DeliveryID, l.Attempt, l.WebhookID, l.Duration.Milliseconds(), safe.String(outcome))
			fmt.Fprintf(a.Stdout, "    signature: %s\n", safe.String(l.RequestHeaders.Get(webhook.HeaderSignature)))
			if len(l.ResponseBody) > 0 {
				fmt.Fprintf(a.Stdout, "    response:  %s\n", safe.String(string(l.ResponseBody[:min(len(l.ResponseBody), 200)])))
			}
		}
		return nil
	}
	rows, err := d.Deliveries(ctx, db.DeliveryFilter{Status: *status, EndpointID: *endpoint, Kind: "webhook", Limit: *limit})
	if err != nil {
		return err
	}
	slices.Reverse(rows) // the log reads oldest first, like a file
	for _, l := range rows {
		if *asJSON {
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
		fmt.Fprintln(a.Stdout, line)
	}
	return nil
}

func runReplay(ctx context.Context, a *App, args []string) error {
	fs := a.flagSet("replay", "DELIVERY_ID")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: replay takes one DELIVERY_ID (see 'smista log')", errUsage)
	}
	d, err := a.OpenDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Replay(ctx, pos[0]); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("%w (see 'smista log')", err)
		}
		return err
	}
	fmt.Fprintf(a.Stdout, "%s queued again (same webhook-id, fresh signature); 'smista send' or the TUI delivers it\n", pos[0])
	return nil
}

func runListen(ctx context.Context, a *App, args []string) error {
	fs := a.flagSet("listen", "[--addr 127.0.0.1:8787] [--secret S] [--fail-first N]")
	addr := fs.String("addr", "127.0.0.1:8787", "listen `address`")
	secret := fs.String("secret", "", "the endpoint's signing secret (a new one is generated and printed when absent)")
	failFirst := fs.Int("fail-first", 0, "answer the first N valid requests with 503, to watch retries")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: listen takes no arguments", errUsage)
	}
	if *secret == "" {
		s, err := webhook.GenerateSecret()
		if err != nil {
			return err
		}
		*secret = s
		fmt.Fprintf(a.Stderr, "no --secret: generated one; register this receiver with\n  smista endpoints add http://%s/ --secret %s\n", *addr, s)
	}
	rv, err := webhook.NewReceiver(*secret, a.Stdout, webhook.ReceiverOptions{FailFirst: *failFirst, Now: a.Now})
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: rv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(a.Stderr, "listening on http://%s/ — verifying signatures; Ctrl-C to stop\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	<-done
	return nil
}
