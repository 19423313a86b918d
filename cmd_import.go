package main

import (
	"context"
	"fmt"

	"smista/internal/cli"
	"smista/ui"
)

// runImport imports .eml files, mbox files, Maildir folders and
// directories of raw messages. It exits 1 when a path cannot be read or
// when messages were found and none of them could be imported; single
// broken messages are reported on stderr and skipped.
func runImport(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("import", "[--json] PATH...")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef("give at least one PATH: an .eml file, an mbox file, a Maildir or a directory")
	}
	a, _, err := m.openApp(ctx, wiring{})
	if err != nil {
		return err
	}
	m.limitMemory()
	defer a.Close()

	p := ui.NewImportPrinter(m.Stderr)
	stats, err := a.Import(ctx, fs.Args(), p.Options(m.IsTerminal))
	p.EndProgress()
	if err != nil && stats.Total() == 0 {
		return err // nothing was read: the error says it all
	}
	if werr := p.WriteSummary(m.Stdout, stats, *asJSON); werr != nil {
		return werr
	}
	if stats.Unstored > 0 {
		return fmt.Errorf("%w; %d messages read were not stored and the rest was not read: free space and run the same import again (nothing is imported twice)", err, stats.Unstored)
	}
	if err != nil {
		return err
	}
	if stats.Failed > 0 && stats.New+stats.Present == 0 {
		return fmt.Errorf("none of the %d messages found could be imported (see the errors above)", stats.Failed)
	}
	return nil
}
