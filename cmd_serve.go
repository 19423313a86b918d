package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"

	"smista/app"
	"smista/ui"
	"smista/ui/serve"
)

func runServe(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("serve", "[--listen HOST:PORT]")
	listen := fs.String("listen", "", "address to listen on (default [serve] listen, 127.0.0.1:2222)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, err := m.Config()
	if err != nil {
		return err
	}
	sc := cfg.Serve
	if *listen != "" {
		sc.Listen = *listen
	}
	var agents []serve.Agent
	for _, ac := range sc.Agents {
		ag, err := serve.ParseAgent(ac.Name, ac.Keys, ac.AuthorizedKeys)
		if err != nil {
			return fmt.Errorf("config: serve.%w", err)
		}
		agents = append(agents, ag)
	}
	if len(agents) == 0 {
		return serve.ErrNoAgents
	}
	a, err := m.appFor(ctx, cfg, wiring{classifier: true, accounts: true, role: "smista serve"})
	if err != nil {
		return err
	}
	defer a.Close()
	keyPath := sc.HostKey
	if keyPath == "" {
		keyPath = filepath.Join(filepath.Dir(a.Store().Path()), "ssh_host_ed25519_key")
	}
	hostKey, made, err := serve.LoadHostKey(keyPath)
	if err != nil {
		return err
	}
	p := ui.StartPrinter(a.Bus(), m.Stdout, m.Stderr, ui.PrinterOptions{Cmd: "serve", Activity: true})
	defer p.Stop()
	logf := func(format string, args ...any) { fmt.Fprintf(m.Stderr, format+"\n", args...) }
	srv, err := serve.New(serve.Options{App: a, HostKey: hostKey, Agents: agents, MaxSessions: sc.MaxSessions, Logf: logf, Now: m.Now})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", sc.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w (set [serve] listen or --listen)", err)
	}
	if made {
		logf("serve: generated host key %s (mode 0600)", keyPath)
	}
	logf("serve: listening on %s for %d agent(s); host key %s", ln.Addr(), len(agents), serve.Fingerprint(hostKey))

	// The background work outlives the sessions: on SIGTERM the sessions
	// are told and closed first, then the sender finishes its attempts.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(bg, app.RunOptions{Send: true, Sync: true, Watch: true}) })
	err = srv.Serve(ctx, ln)
	logf("serve: sessions closed; finishing the attempts in flight")
	cancel()
	wg.Wait()
	return err
}
