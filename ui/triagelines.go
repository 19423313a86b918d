package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"smista/app"
	"smista/triage"
	"smista/ui/safe"
)

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

// TriageWriter prints triage verdicts ("smista triage") as JSON lines or
// as an aligned table, and the messages that could not be triaged as one
// line each on stderr.
type TriageWriter struct {
	stderr io.Writer
	json   *json.Encoder
	tw     *tabwriter.Writer
	err    error // the first write error
}

// NewTriageWriter returns a TriageWriter on stdout: JSON lines when
// asJSON, else a table whose header it writes now.
func NewTriageWriter(stdout, stderr io.Writer, asJSON bool) *TriageWriter {
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return &TriageWriter{stderr: stderr, json: enc}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL_ID\tACTION\tINTENT\tCONF\tPRIORITY\tFLAGS\tFROM\tSUBJECT")
	return &TriageWriter{stderr: stderr, tw: tw}
}

// Each prints the verdict of one message (app.TriageRequest.Each), or on
// stderr why it could not be triaged. After a write error it prints no
// more verdicts: Close returns that error.
func (t *TriageWriter) Each(o app.TriageOutput) {
	if o.Err != nil {
		fmt.Fprintf(t.stderr, "smista triage: %s\n", safe.String(oneLineText(o.Err.Error())))
		return
	}
	if t.err == nil {
		t.err = t.write(toLine(o))
	}
}

func (t *TriageWriter) write(l triageLine) error {
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

// Close writes what the table holds back to align its columns, and
// returns the first write error.
func (t *TriageWriter) Close() error {
	if t.tw != nil {
		if err := t.tw.Flush(); t.err == nil {
			t.err = err
		}
	}
	return t.err
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
