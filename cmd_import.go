package main

import (
	"context"
	"encoding/json"
	"fmt"

	"smista/mail"
	"smista/ui/safe"
)

// importSummary is the --json output of import: one object.
type importSummary struct {
	New       int             `json:"new"`
	Present   int             `json:"present"`
	Failed    int             `json:"failed"`
	NotStored int             `json:"not_stored"`
	Failures  []importFailure `json:"failures"`
}

type importFailure struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

// runImport imports .eml files, mbox files, Maildir folders and
// directories of raw messages. It exits 1 when a path cannot be read or
// when messages were found and none of them could be imported; single
// broken messages are reported on stderr and skipped.
func runImport(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("import", "[--json] PATH...")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: give at least one PATH: an .eml file, an mbox file, a Maildir or a directory", errUsage)
	}
	a, _, err := m.openApp(ctx, wiring{})
	if err != nil {
		return err
	}
	m.limitMemory()
	defer a.Close()

	sum := importSummary{Failures: []importFailure{}}
	progress := false
	opts := mail.ImportOptions{
		OnFailure: func(src string, err error) {
			if progress {
				fmt.Fprint(m.Stderr, "\r\x1b[K")
				progress = false
			}
			fmt.Fprintf(m.Stderr, "smista import: %s: %s\n", safe.String(src), safe.String(err.Error()))
			sum.Failures = append(sum.Failures, importFailure{Source: src, Error: err.Error()})
		},
	}
	if m.IsTerminal {
		opts.OnProgress = func(s mail.ImportStats) {
			fmt.Fprintf(m.Stderr, "\rimporting: %d messages read", s.Total())
			progress = true
		}
	}
	stats, err := a.Import(ctx, fs.Args(), opts)
	if progress {
		fmt.Fprint(m.Stderr, "\r\x1b[K")
	}
	if err != nil && stats.Total() == 0 {
		return err // nothing was read: the error says it all
	}
	sum.New, sum.Present, sum.Failed, sum.NotStored = stats.New, stats.Present, stats.Failed, stats.Unstored
	if *asJSON {
		if jerr := json.NewEncoder(m.Stdout).Encode(sum); jerr != nil {
			return fmt.Errorf("import: %w", jerr)
		}
	} else {
		fmt.Fprintf(m.Stdout, "imported %d new, %d already present, %d failed\n", stats.New, stats.Present, stats.Failed)
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
