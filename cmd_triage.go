package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"smista/app"
	"smista/triage"
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

	out := newTriageWriter(m.Stdout, *asJSON)
	var writeErr error
	p := ui.StartPrinter(a.Bus(), m.Stdout, m.Stderr, ui.PrinterOptions{Cmd: "triage", Bar: m.IsTerminal})
	sum, runErr := a.Triage(ctx, app.TriageRequest{All: *all, Each: func(o app.TriageOutput) {
		if o.Err != nil {
			fmt.Fprintf(m.Stderr, "smista triage: %s\n", safe.String(oneLine(o.Err.Error())))
			return
		}
		if writeErr == nil {
			writeErr = out.write(toLine(o))
		}
	}})
	p.Stop()
	if err := out.flush(); writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		return fmt.Errorf("write: %w", writeErr)
	}
	if sum.Total == 0 && runErr == nil {
		fmt.Fprintln(m.Stderr, "smista triage: nothing to triage (use --all to triage every message again)")
		return nil
	}
	fmt.Fprintf(m.Stderr, "triaged %d: %d ticket, %d draft, %d suggest\n", sum.Total-sum.Failed,
		sum.Ticket, sum.Draft, sum.Suggest)
	if runErr != nil {
		if sum.Failed > 0 && ctx.Err() == nil {
			return fmt.Errorf("%d of %d messages could not be triaged (see above); run again to retry them", sum.Failed, sum.Total)
		}
		return runErr
	}
	return nil
}

// triageLine is one line of `smista triage --json`; field names and order
// are the contract of DESIGN.md.
type triageLine struct {
	EmailID    string   `json:"email_id"`
	MessageID  string   `json:"message_id"`
	ThreadID   string   `json:"thread_id"`
	From       string   `json:"from"`
	Subject    string   `json:"subject"`
	Language   string   `json:"language"`
	Intent     string   `json:"intent"`
	Confidence float64  `json:"confidence"`
	Priority   string   `json:"priority"`
	Summary    string   `json:"summary"`
	Flags      []string `json:"flags"`
	Action     string   `json:"action"`
	Reasons    []string `json:"reasons"`
	Model      string   `json:"model"`
}

// toLine builds the JSON line of o; its text fields carry no control
// characters but newline and tab (a script that prints them is safe).
func toLine(o app.TriageOutput) triageLine {
	msg, r, d := o.Message, o.Result, o.Decision
	c := triage.CleanText
	l := triageLine{
		EmailID: c(msg.ID), MessageID: c(msg.MessageID), ThreadID: c(msg.ThreadID), From: c(msg.From.Addr),
		Subject: c(msg.Subject), Language: c(r.Language), Intent: string(r.Intent),
		Confidence: math.Round(r.Confidence*1000) / 1000, Priority: string(r.Priority), Summary: c(r.Summary),
		Flags: []string{}, Action: string(d.Action), Reasons: make([]string, 0, len(d.Reasons)), Model: c(r.Model),
	}
	for _, reason := range d.Reasons {
		l.Reasons = append(l.Reasons, c(reason))
	}
	for _, f := range r.Flags {
		l.Flags = append(l.Flags, string(f))
	}
	return l
}

// triageWriter prints triage lines as JSON lines or as an aligned table.
type triageWriter struct {
	json *json.Encoder
	tw   *tabwriter.Writer
}

func newTriageWriter(w io.Writer, asJSON bool) *triageWriter {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return &triageWriter{json: enc}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL_ID\tACTION\tINTENT\tCONF\tPRIORITY\tFLAGS\tFROM\tSUBJECT")
	return &triageWriter{tw: tw}
}

func (t *triageWriter) write(l triageLine) error {
	if t.json != nil {
		return t.json.Encode(l)
	}
	flags := strings.Join(l.Flags, ",")
	if flags == "" {
		flags = "-"
	}
	_, err := fmt.Fprintf(t.tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\n", l.EmailID, l.Action, l.Intent, l.Confidence,
		l.Priority, flags, triageCell(l.From, 32), triageCell(l.Subject, 60))
	return err
}

func (t *triageWriter) flush() error {
	if t.tw != nil {
		return t.tw.Flush()
	}
	return nil
}

// triageCell makes untrusted text safe for a terminal table: no escapes or
// controls, no tabs, at most n characters.
func triageCell(s string, n int) string {
	s = strings.ReplaceAll(safe.String(s), "\t", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
