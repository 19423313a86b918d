package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

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
// as a table of fixed-width columns, and the messages that could not be
// triaged as one line each on stderr. It keeps nothing per verdict: lines
// go out through a buffer as they come (a 100,000-message run once held
// its whole table for a column aligner, about 40 MB of heap by the end).
type TriageWriter struct {
	stdout *bufio.Writer
	stderr io.Writer
	json   *json.Encoder
	err    error // the first write error
}

// The table's columns and their widths: wide enough for every action,
// intent and priority, two flags, and the cells triageCell cuts; a row
// with a longer flag list pushes its sender and subject right.
const triageTableRow = "%-16s  %-7s  %-7s  %-4s  %-8s  %-18s  %-32s  %s\n"

// NewTriageWriter returns a TriageWriter on stdout: JSON lines when
// asJSON, else a table whose header it writes now.
func NewTriageWriter(stdout, stderr io.Writer, asJSON bool) *TriageWriter {
	t := &TriageWriter{stdout: bufio.NewWriterSize(stdout, 64<<10), stderr: stderr}
	if asJSON {
		t.json = json.NewEncoder(t.stdout)
		t.json.SetEscapeHTML(false)
		return t
	}
	fmt.Fprintf(t.stdout, triageTableRow, "EMAIL_ID", "ACTION", "INTENT", "CONF", "PRIORITY", "FLAGS",
		"FROM", "SUBJECT")
	return t
}

// Each prints the verdict of one message (app.TriageRequest.Each), or on
// stderr why it could not be triaged. After a write error it prints no
// more verdicts: Close returns that error.
func (t *TriageWriter) Each(o app.TriageOutput) {
	if o.Err != nil {
		t.stdout.Flush() // the two streams in the order they were told
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
	_, err := fmt.Fprintf(t.stdout, triageTableRow, l.EmailID, l.Action, l.Intent,
		fmt.Sprintf("%.2f", l.Confidence),
		l.Priority, flags, triageCell(l.From, 32), triageCell(l.Subject, 60))
	return err
}

// Close writes what the buffer holds and returns the first write error.
func (t *TriageWriter) Close() error {
	if err := t.stdout.Flush(); t.err == nil {
		t.err = err
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
