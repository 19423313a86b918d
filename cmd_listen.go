package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"smista/app"
	"smista/ui"
	"smista/webhook"
)

const listenSynopsis = "[--addr 127.0.0.1:8787] [--secret-file F|-] [--forward-to URL] [--json] [--register [--scheme v1|v1a]] [--fail-first N]"

// listenFlags are the flags of "smista listen".
type listenFlags struct {
	addr, secret, secretFile, forwardTo, scheme string
	asJSON, register                            bool
	failFirst                                   int
}

func runListen(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("listen", listenSynopsis)
	var f listenFlags
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8787", "listen `address`")
	fs.StringVar(&f.secretFile, "secret-file", "", "read the endpoint's signing secret (or v1a public key) from `file` (- for stdin); a new one is generated and printed when absent")
	fs.StringVar(&f.secret, "secret", "", "the signing secret on the command line (visible in ps: prefer --secret-file)")
	fs.StringVar(&f.forwardTo, "forward-to", "", "forward each verified request (exact body, webhook-* headers) to the local app at `URL` and answer with its status")
	fs.BoolVar(&f.asJSON, "json", false, "one JSON object per request")
	fs.BoolVar(&f.register, "register", false, "add a temporary endpoint for this receiver, with a fresh secret, removed when listen stops")
	fs.StringVar(&f.scheme, "scheme", "v1", "with --register: the signing `scheme`, v1 (HMAC) or v1a (Ed25519)")
	fs.IntVar(&f.failFirst, "fail-first", 0, "answer the first N valid requests with 503, to watch retries")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if f.forwardTo != "" {
		if _, err := webhook.ParseURL(f.forwardTo); err != nil {
			return fmt.Errorf("%w: --forward-to: %v", errUsage, err)
		}
	}
	if f.scheme != webhook.SchemeHMAC && f.scheme != webhook.SchemeEd25519 {
		return fmt.Errorf("%w: --scheme %q: want v1 or v1a", errUsage, f.scheme)
	}
	secret, err := m.secretFlag(f.secret, f.secretFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	opts := webhook.ReceiverOptions{FailFirst: f.failFirst, Now: m.Now, ForwardTo: f.forwardTo,
		OnRequest: func(r webhook.Received) { ui.WriteReceived(m.Stdout, r) }}
	if f.asJSON {
		opts.OnRequest = func(r webhook.Received) { ui.WriteReceivedJSON(m.Stdout, r) }
	}
	if f.register {
		a, key, done, err := m.registerListener(ctx, "http://"+ln.Addr().String()+"/", secret, f.scheme)
		if err != nil {
			return err
		}
		defer done()
		opts.Lookup = func(id string) *webhook.Known { return a.Known(context.WithoutCancel(ctx), id) }
		secret = key
	} else if secret == "" {
		if secret, err = webhook.GenerateSecret(); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "no secret given: generated one; register this receiver with\n  echo %s | smista endpoints add http://%s/ --secret-file -\n(or run 'smista listen --register')\n", secret, ln.Addr())
	}
	rv, err := webhook.NewReceiver(secret, opts)
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	return serveUntilDone(ctx, m, ln, rv, f.forwardTo)
}

// registerListener adds the temporary endpoint of "listen --register"
// with secret (generated for scheme when "") and returns the App, the key
// the receiver verifies with, and the function that removes the endpoint
// (its waiting deliveries canceled) and closes the App.
func (m *Main) registerListener(ctx context.Context, url, secret, scheme string) (*app.App, string, func(), error) {
	a, _, err := m.openApp(ctx, wiring{})
	if err != nil {
		return nil, "", nil, err
	}
	if secret != "" {
		scheme = ""
	}
	ep, err := a.AddSignedEndpoint(ctx, url, secret, scheme)
	if err != nil {
		a.Close()
		return nil, "", nil, err
	}
	fmt.Fprintf(m.Stderr, "registered endpoint %s → %s (%s); it is removed when listen stops\n", ep.ID, ep.URL, ep.Scheme)
	done := func() {
		// Removed even after Ctrl-C: the endpoint lives only as long as
		// this receiver.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if n, err := a.RemoveEndpoint(rctx, ep.ID, true); err != nil {
			fmt.Fprintf(m.Stderr, "smista listen: could not remove endpoint %s: %v (run 'smista endpoints rm %s --force')\n", ep.ID, err, ep.ID)
		} else {
			fmt.Fprintf(m.Stderr, "removed endpoint %s (%d waiting deliveries canceled)\n", ep.ID, n)
		}
		a.Close()
	}
	return a, ep.ReceiverKey, done, nil
}

// serveUntilDone serves rv on ln until ctx ends, then shuts down.
func serveUntilDone(ctx context.Context, m *Main, ln net.Listener, rv http.Handler, forwardTo string) error {
	srv := &http.Server{Handler: rv, ReadHeaderTimeout: 10 * time.Second}
	what := "verifying signatures"
	if forwardTo != "" {
		what += ", forwarding to " + forwardTo
	}
	fmt.Fprintf(m.Stderr, "listening on http://%s/ — %s; Ctrl-C to stop\n", ln.Addr(), what)
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
