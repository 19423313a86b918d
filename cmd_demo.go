package main

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/app/demo"
	"smista/internal/cli"
	"smista/ui"
)

func runDemo(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("demo", "[--headless] [--flaky N] [--keep]")
	headless := fs.Bool("headless", false, "no TUI: one pass on the real path (IMAP sync, triage, webhooks, one approved reply over SMTP), then a summary")
	flaky := fs.Int("flaky", 0, "the demo receiver answers its first `N` requests with 503, so the retry path shows")
	keep := fs.Bool("keep", false, "keep the temporary demo database and print its path")
	if err := cli.ParseNoArgs(fs, args); err != nil {
		return err
	}
	if *flaky < 0 {
		return cli.Usagef("--flaky must be 0 or more")
	}

	// The demo never touches the user's database or config: it works in a
	// fresh temporary directory, removed at the end unless --keep.
	opts := demo.Options{Flaky: *flaky, Keep: *keep, Now: m.Now}
	if !*headless && !m.IsTerminal {
		fmt.Fprintln(m.Stderr, "smista demo: stdout is not a terminal: running headless")
	}
	env, err := demo.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer env.Close()
	if *keep {
		defer fmt.Fprintf(m.Stderr, "smista demo: database kept at %s (open it with: smista --db %s)\n", env.DBPath(), env.DBPath())
	}
	if *headless || !m.IsTerminal {
		return m.demoPass(ctx, env, func(e *demo.Env) error {
			fmt.Fprintln(m.Stdout)
			return ui.WriteTriagedInbox(ctx, m.Stdout, e.App.Store(), ui.TableWidth(m.Stdout, m.IsTerminal, m.Getenv))
		})
	}
	return m.runTUIWith(ctx, env.App, app.RunOptions{Send: true, Sync: true},
		tea.WithInput(m.Stdin), tea.WithOutput(m.Stdout))
}

// demoPass runs one headless demo pass on e (one approved reply
// included) and prints its summary, then hands the environment to after
// (the inbox table; tests compare the summary with the servers).
func (m *Main) demoPass(ctx context.Context, e *demo.Env, after func(*demo.Env) error) error {
	sum, err := e.RunOnce(ctx, true)
	if err != nil {
		return err
	}
	ui.WriteDemoSummary(m.Stdout, sum)
	if after != nil {
		return after(e)
	}
	return nil
}
