package main

import (
	"context"
	"fmt"

	"smista/app"
	"smista/ui"
	"smista/ui/safe"
)

// runTriage classifies and decides the untriaged messages (or all), storing
// each verdict, and prints them as JSON lines or a table.
func runTriage(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("triage", "[--json] [--all] [--provider P]")
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	all := fs.Bool("all", false, "triage every message again, not only untriaged ones")
	provider := fs.String("provider", "", "classifier: offline, openai, anthropic or ollama (default from config)")
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
	if *provider != "" {
		cfg.Triage.Provider = *provider
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("%w: --provider: %v", errUsage, err)
		}
	}
	a, err := m.appFor(ctx, cfg, wiring{classifier: true})
	if err != nil {
		return err
	}
	defer a.Close()

	out := ui.NewTriageWriter(m.Stdout, *asJSON)
	var writeErr error
	p := ui.StartPrinter(a.Bus(), m.Stdout, m.Stderr, ui.PrinterOptions{Cmd: "triage", Bar: m.IsTerminal})
	sum, runErr := a.Triage(ctx, app.TriageRequest{All: *all, Each: func(o app.TriageOutput) {
		if o.Err != nil {
			fmt.Fprintf(m.Stderr, "smista triage: %s\n", safe.String(oneLine(o.Err.Error())))
			return
		}
		if writeErr == nil {
			writeErr = out.Write(o)
		}
	}})
	p.Stop()
	if err := out.Flush(); writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		return fmt.Errorf("write: %w", writeErr)
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
