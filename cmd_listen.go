package main

import (
	"context"
	"fmt"
	"net"

	"smista/internal/cli"
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
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	if f.forwardTo != "" {
		if _, err := webhook.ParseURL(f.forwardTo); err != nil {
			return cli.Usagef("--forward-to: %v", err)
		}
	}
	if f.scheme != webhook.SchemeHMAC && f.scheme != webhook.SchemeEd25519 {
		return cli.Usagef("--scheme %q: want v1 or v1a", f.scheme)
	}
	secret, err := cli.Secret(m.Stdin, f.secret, f.secretFile)
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
		a, _, err := m.openApp(ctx, wiring{})
		if err != nil {
			return err
		}
		defer a.Close()
		ep, remove, err := a.AddTemporaryEndpoint(ctx, "http://"+ln.Addr().String()+"/", secret, f.scheme)
		if err != nil {
			return err
		}
		ui.WriteRegistered(m.Stderr, ep)
		defer func() {
			n, err := remove()
			ui.WriteUnregistered(m.Stderr, ep.ID, n, err)
		}()
		opts.Lookup = func(id string) *webhook.Known { return a.Known(context.WithoutCancel(ctx), id) }
		secret = ep.ReceiverKey
	} else if secret == "" {
		if secret, err = webhook.GenerateSecret(); err != nil {
			return err
		}
		ui.WriteGeneratedSecret(m.Stderr, secret, ln.Addr())
	}
	rv, err := webhook.NewReceiver(secret, opts)
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	ui.WriteListening(m.Stderr, ln.Addr(), f.forwardTo)
	return rv.Serve(ctx, ln)
}
