package main

import (
	"context"
	"fmt"

	"smista/app"
	"smista/internal/cli"
	"smista/ui"
)

// runTriage classifies and decides the untriaged messages (or all), storing
// each verdict, and prints them as JSON lines or a table.
func runTriage(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("triage", "[--json] [--all] [--provider P]")
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	all := fs.Bool("all", false, "triage every message again, not only untriaged ones")
	provider := fs.String("provider", "", "classifier: offline, openai, anthropic or ollama (default from config)")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := m.Config()
	if err != nil {
		return err
	}
	if *provider != "" {
		cfg.Triage.Provider = *provider
		if err := cfg.Validate(); err != nil {
			return cli.Usagef("--provider: %v", err)
		}
	}
	a, err := m.appFor(ctx, cfg, wiring{classifier: true})
	if err != nil {
		return err
	}
	defer a.Close()

	m.tuneTriageGC()
	out := ui.NewTriageWriter(m.Stdout, m.Stderr, *asJSON)
	p := ui.StartPrinter(a.Bus(), m.Stdout, m.Stderr, ui.PrinterOptions{Cmd: "triage", Bar: m.IsTerminal})
	sum, runErr := a.Triage(ctx, app.TriageRequest{All: *all, Each: out.Each})
	p.Stop()
	if err := out.Close(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if sum.Total == 0 && runErr == nil {
		fmt.Fprintln(m.Stderr, "smista triage: nothing to triage (use --all to triage every message again)")
		return nil
	}
	ui.WriteTriageSummary(m.Stderr, sum)
	if runErr != nil {
		if sum.Failed > 0 && ctx.Err() == nil {
			return fmt.Errorf("%d of %d messages could not be triaged (see above); run again to retry them", sum.Failed, sum.Total)
		}
		return runErr
	}
	return nil
}
