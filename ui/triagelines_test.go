package ui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"smista/app"
	"smista/mail"
	"smista/triage"
)

// TestTriageTableStreams: the table's rows leave the writer as they come
// (a run over 100,000 messages must not hold its table until the end),
// and its columns stay aligned without seeing every row first.
func TestTriageTableStreams(t *testing.T) {
	var out bytes.Buffer
	w := NewTriageWriter(&out, &bytes.Buffer{}, false)
	const n = 2000
	flags := [][]triage.Flag{nil, {triage.FlagPayments}, {triage.FlagInjection, triage.FlagPayments}}
	for i := range n {
		w.Each(app.TriageOutput{
			Message: &mail.Message{ID: fmt.Sprintf("%016x", i), From: mail.Address{Addr: strings.Repeat("é", i%40) + "@x"},
				Subject: strings.Repeat("s", i%60)},
			Result:   triage.Result{Intent: triage.IntentSupport, Confidence: 0.5, Priority: triage.PriorityNormal, Flags: flags[i%3]},
			Decision: triage.Decision{Action: triage.ActionSuggest},
		})
	}
	if before := out.Len(); before < n*100 {
		t.Errorf("%d bytes written before Close for %d rows: the table is held back", before, n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != n+1 {
		t.Fatalf("%d lines, want %d", len(lines), n+1)
	}
	subject := utf8.RuneCountInString(lines[0][:strings.Index(lines[0], "SUBJECT")])
	for i, l := range lines[1:] {
		if at := utf8.RuneCountInString(l) - i%60; at != subject {
			t.Fatalf("row %d: subject at column %d, header at %d:\n%s\n%s", i, at, subject, lines[0], l)
		}
	}
}
