package main

import (
	"context"

	"smista/internal/cli"
	"smista/ui/serve"
)

func runServe(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("serve", "[--listen HOST:PORT]")
	listen := fs.String("listen", "", "address to listen on (default [serve] listen, 127.0.0.1:2222)")
	if err := cli.ParseNoArgs(fs, args); err != nil {
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
	agents, err := serve.Agents(sc.Agents)
	if err != nil {
		return err
	}
	a, err := m.appFor(ctx, cfg, wiring{classifier: true, accounts: true, role: "smista serve"})
	if err != nil {
		return err
	}
	defer a.Close()
	return serve.Run(ctx, serve.RunOptions{App: a, Config: sc, Agents: agents, Stdout: m.Stdout, Stderr: m.Stderr, Now: m.Now})
}
