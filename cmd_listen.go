package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"smista/ui"
	"smista/webhook"
)

func runListen(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("listen", "[--addr 127.0.0.1:8787] [--secret-file F|-] [--fail-first N]")
	addr := fs.String("addr", "127.0.0.1:8787", "listen `address`")
	secretFile := fs.String("secret-file", "", "read the endpoint's signing secret from `file` (- for stdin); a new one is generated and printed when absent")
	secret := fs.String("secret", "", "the signing secret on the command line (visible in ps: prefer --secret-file)")
	failFirst := fs.Int("fail-first", 0, "answer the first N valid requests with 503, to watch retries")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	s, err := m.secretFlag(*secret, *secretFile)
	if err != nil {
		return err
	}
	*secret = s
	if *secret == "" {
		s, err := webhook.GenerateSecret()
		if err != nil {
			return err
		}
		*secret = s
		fmt.Fprintf(m.Stderr, "no secret given: generated one; register this receiver with\n  echo %s | smista endpoints add http://%s/ --secret-file -\n", s, *addr)
	}
	rv, err := webhook.NewReceiver(*secret, webhook.ReceiverOptions{FailFirst: *failFirst, Now: m.Now,
		OnRequest: func(r webhook.Received) { ui.WriteReceived(m.Stdout, r) }})
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: rv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(m.Stderr, "listening on http://%s/ — verifying signatures; Ctrl-C to stop\n", ln.Addr())
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
