package ui

import (
	"encoding/json"
	"fmt"
	"io"

	"smista/mail"
	"smista/ui/safe"
)

// ImportSummary is the --json output of "smista import": one object; its
// field names are part of the CLI contract.
type ImportSummary struct {
	New       int             `json:"new"`
	Present   int             `json:"present"`
	Failed    int             `json:"failed"`
	NotStored int             `json:"not_stored"`
	Failures  []ImportFailure `json:"failures"`
}

// ImportFailure is a message that could not be imported: where it was
// (untrusted: a file name, an offset) and why.
type ImportFailure struct {
	Source string `json:"source"`
	Error  string `json:"error"`
}

// ImportPrinter draws "smista import": each message that could not be
// imported on stderr (sanitised), a running count there while stderr is a
// terminal, and the summary at the end. Its hooks are called by one
// import at a time.
type ImportPrinter struct {
	stderr   io.Writer
	progress bool // a progress line is open
	failures []ImportFailure
}

// NewImportPrinter returns an ImportPrinter writing to stderr.
func NewImportPrinter(stderr io.Writer) *ImportPrinter {
	return &ImportPrinter{stderr: stderr, failures: []ImportFailure{}}
}

// Options returns the import's hooks: failures always, progress with bar.
func (p *ImportPrinter) Options(bar bool) mail.ImportOptions {
	opts := mail.ImportOptions{
		OnFailure: func(src string, err error) {
			p.EndProgress()
			fmt.Fprintf(p.stderr, "smista import: %s: %s\n", safe.String(src), safe.String(err.Error()))
			p.failures = append(p.failures, ImportFailure{Source: src, Error: err.Error()})
		},
	}
	if bar {
		opts.OnProgress = func(s mail.ImportStats) {
			fmt.Fprintf(p.stderr, "\rimporting: %d messages read", s.Total())
			p.progress = true
		}
	}
	return opts
}

// EndProgress clears the progress line, when one is open.
func (p *ImportPrinter) EndProgress() {
	if p.progress {
		fmt.Fprint(p.stderr, "\r\x1b[K")
		p.progress = false
	}
}

// WriteSummary writes the import's counts to w: one JSON object (with the
// failures) or one line. It fails when the JSON cannot be written.
func (p *ImportPrinter) WriteSummary(w io.Writer, stats mail.ImportStats, asJSON bool) error {
	if !asJSON {
		fmt.Fprintf(w, "imported %d new, %d already present, %d failed\n", stats.New, stats.Present, stats.Failed)
		return nil
	}
	sum := ImportSummary{New: stats.New, Present: stats.Present, Failed: stats.Failed, NotStored: stats.Unstored, Failures: p.failures}
	if err := json.NewEncoder(w).Encode(sum); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}
