package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/app/demo"
	"smista/ui"
)

func runDemo(ctx context.Context, m *Main, args []string) (err error) {
	fs := m.flagSet("demo", "[--headless] [--flaky N] [--keep]")
	headless := fs.Bool("headless", false, "no TUI: one pass on the real path (IMAP sync, triage, webhooks, one approved reply over SMTP), then a summary")
	flaky := fs.Int("flaky", 0, "the demo receiver answers its first `N` requests with 503, so the retry path shows")
	keep := fs.Bool("keep", false, "keep the temporary demo database and print its path")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *flaky < 0 {
		return fmt.Errorf("%w: --flaky must be 0 or more", errUsage)
	}

	// The demo never touches the user's database or config: it works in a
	// fresh temporary directory, removed at the end unless --keep.
	dir, err := os.MkdirTemp("", "smista-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if *keep {
		defer fmt.Fprintf(m.Stderr, "smista demo: database kept at %s (open it with: smista --db %s)\n",
			filepath.Join(dir, "demo.db"), filepath.Join(dir, "demo.db"))
	} else {
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
				err = fmt.Errorf("demo: remove temporary directory: %w", rerr)
			}
		}()
	}
	opts := demo.Options{Flaky: *flaky, Dir: dir, Now: m.Now}
	if *headless || !m.IsTerminal {
		if !*headless {
			fmt.Fprintln(m.Stderr, "smista demo: stdout is not a terminal: running headless")
		}
		return m.runDemoPipeline(ctx, opts, func(e *demo.Env) error {
			fmt.Fprintln(m.Stdout)
			return ui.WriteTriagedInbox(ctx, m.Stdout, e.App.Store(), ui.TableWidth(m.Stdout, m.IsTerminal, m.Getenv))
		})
	}
	env, err := demo.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer env.Close()
	return m.runTUIWith(ctx, env.App, app.RunOptions{Send: true, Sync: true},
		tea.WithInput(m.Stdin), tea.WithOutput(m.Stdout))
}

// runDemoPipeline runs one headless demo pass (one approved reply
// included) and prints its summary, then hands the environment to after
// (the inbox table; tests compare the summary with the servers) before it
// closes.
func (m *Main) runDemoPipeline(ctx context.Context, opts demo.Options, after func(*demo.Env) error) error {
	e, err := demo.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer e.Close()
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
