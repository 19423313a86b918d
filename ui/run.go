package ui

import (
	"context"
	"sync"

	tea "charm.land/bubbletea/v2"

	"smista/app"
)

// RunApp runs the UI on a — its store, its actions, its bus, what d adds —
// while a does its background work (o: the sender, sync and triage) in
// the same process, streaming progress into the status bar through the
// bus. Quitting cancels the work and waits for it: in-flight attempts
// finish or stay pending in the outbox, never lost. It fails as Run does.
func RunApp(ctx context.Context, a *app.App, o app.RunOptions, d Deps, opts ...tea.ProgramOption) error {
	d.Store, d.Actions, d.Events = a.Store(), a, BusEvents(a.Bus())
	bg, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { a.Run(bg, o) })
	return Run(bg, d, opts...)
}
