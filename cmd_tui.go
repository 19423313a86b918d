package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/ui"
)

// errNoTerminal is returned by the TUI when stdout is not a terminal.
var errNoTerminal = errors.New("stdout is not a terminal (for scripts use the listing commands, e.g. smista log --json)")

func runTUI(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("tui", "[--no-send] [--no-sync]")
	noSend := fs.Bool("no-send", false, "do not run the outbox sender (webhooks, approved replies) inside the TUI")
	noSync := fs.Bool("no-sync", false, "do not sync (and watch) the configured accounts inside the TUI")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: tui takes no arguments (see 'smista help' for the commands)", errUsage)
	}
	if !m.IsTerminal {
		return errNoTerminal
	}
	a, cfg, err := m.openApp(ctx, wiring{classifier: true, accounts: true, role: "smista tui"})
	if err != nil {
		return err
	}
	defer a.Close()
	m.threshold = cfg.Triage.Threshold
	return m.runTUIWith(ctx, a, app.RunOptions{Send: !*noSend, Sync: !*noSync, Watch: true},
		tea.WithInput(m.Stdin), tea.WithOutput(m.Stdout))
}

// runTUIWith runs the UI on a while a does its background work (the
// sender, sync and triage) in the same process, streaming progress into
// the status bar through the bus. Quitting cancels the work and waits:
// in-flight attempts finish or stay pending in the outbox, never lost.
func (m *Main) runTUIWith(ctx context.Context, a *app.App, o app.RunOptions, progOpts ...tea.ProgramOption) error {
	bg, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { a.Run(bg, o) })
	return ui.Run(bg, m.uiDeps(a), progOpts...)
}

// uiDeps wires the UI to a: reads from its store, actions through it,
// live events from its bus.
func (m *Main) uiDeps(a *app.App) ui.Deps {
	return ui.Deps{
		Store:     a.Store(),
		Actions:   a,
		Events:    ui.BusEvents(a.Bus()),
		User:      m.Getenv("USER"),
		Editor:    m.Getenv("EDITOR"),
		NoColor:   m.Getenv("NO_COLOR") != "",
		Now:       m.Now,
		Threshold: m.threshold,
	}
}
