package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"smista/ui/safe"
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
		OnRequest: func(r webhook.Received) { printReceived(m.Stdout, r) }})
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

// printReceived writes one request as a readable block; every value in it
// is untrusted and sanitised here.
func printReceived(w io.Writer, r webhook.Received) {
	ts := r.At.Format("15:04:05")
	if r.Problem != "" {
		fmt.Fprintf(w, "%s  REJECTED  %s  %s\n", ts, safe.String(r.WebhookID), r.Problem)
		return
	}
	var b strings.Builder
	var fields map[string]any
	event := "?"
	if json.Unmarshal(r.Body, &fields) == nil {
		if e, ok := fields["event"].(string); ok {
			event = e
		}
	}
	fmt.Fprintf(&b, "%s  %s  %s", ts, safe.String(event), safe.String(r.WebhookID))
	if r.Duplicate > 0 {
		fmt.Fprintf(&b, "  (duplicate #%d: deduplicate on webhook-id)", r.Duplicate)
	}
	if r.Status != http.StatusOK {
		fmt.Fprintf(&b, "  → answered %d on purpose", r.Status)
	}
	b.WriteString("\n")
	if fields == nil {
		fmt.Fprintf(&b, "    (body is not a JSON object: %s)\n", safe.String(string(r.Body[:min(len(r.Body), 200)])))
	} else {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			if k != "event" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := json.Marshal(fields[k])
			val := string(v)
			if s, ok := fields[k].(string); ok {
				val = s
			}
			fmt.Fprintf(&b, "    %-14s %s\n", safe.String(k), safe.String(val))
		}
	}
	io.WriteString(w, b.String())
}
