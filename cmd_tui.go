package main

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/internal/cli"
	"smista/ui"
)

// errNoTerminal is returned by the TUI when stdout is not a terminal.
var errNoTerminal = errors.New("stdout is not a terminal (for scripts use the listing commands, e.g. smista log --json)")

func runTUI(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("tui", "[--no-send] [--no-sync]")
	noSend := fs.Bool("no-send", false, "do not run the outbox sender (webhooks, approved replies) inside the TUI")
	noSync := fs.Bool("no-sync", false, "do not sync (and watch) the configured accounts inside the TUI")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("tui takes no arguments (see 'smista help' for the commands)")
	}
	if !m.IsTerminal {
		return errNoTerminal
	}
	a, cfg, err := m.openApp(ctx, wiring{classifier: true, accounts: true, role: "smista tui"})
	if err != nil {
		return err
	}
	defer a.Close()
	m.threshold, m.notify = cfg.Triage.Threshold, cfg.UI.Notify
	return m.runTUIWith(ctx, a, app.RunOptions{Send: !*noSend, Sync: !*noSync, Watch: true},
		tea.WithInput(m.Stdin), tea.WithOutput(m.Stdout))
}

// runTUIWith runs the UI on a while a does its background work (o).
func (m *Main) runTUIWith(ctx context.Context, a *app.App, o app.RunOptions, progOpts ...tea.ProgramOption) error {
	return ui.RunApp(ctx, a, o, ui.Deps{
		User:      ui.UserName(m.Getenv),
		Editor:    ui.EditorCommand(m.Getenv),
		NoColor:   m.Getenv("NO_COLOR") != "",
		Now:       m.Now,
		Threshold: m.threshold,
		Notify:    m.notify,
	}, progOpts...)
}
