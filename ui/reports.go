package ui

import (
	"encoding/json"
	"fmt"
	"io"

	"smista/app"
	"smista/triage"
	"smista/ui/safe"
)

// WriteEvalReport writes the classifier's score ("smista eval"): the
// report as one JSON object, or its text. It returns the write's error.
func WriteEvalReport(w io.Writer, rep triage.Report, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(rep)
	}
	_, err := fmt.Fprint(w, rep.Text())
	return err
}

// WriteSyncReport writes what a one-shot sync did ("smista sync"): a line
// per mailbox on stdout, then on stderr how many messages were new and,
// unless noTriage, what triage made of them.
func WriteSyncReport(stdout, stderr io.Writer, rep app.SyncReport, noTriage bool) {
	for _, r := range rep.Mailboxes {
		reset := ""
		if r.Reset {
			reset = " (UIDVALIDITY changed: resynced)"
		}
		fmt.Fprintf(stdout, "%s/%s: %d new, %d fetched, %d removed, %d flag changes%s\n",
			safe.String(r.Account), safe.String(r.Mailbox), len(r.New), r.Fetched, r.Removed, r.FlagChanges, reset)
	}
	n := len(rep.New())
	switch {
	case n == 0:
	case noTriage:
		fmt.Fprintf(stderr, "smista sync: %d new message(s) (not triaged: --no-triage)\n", n)
	default:
		t := rep.Triage
		fmt.Fprintf(stderr, "smista sync: %d new message(s) triaged: %d ticket, %d draft, %d suggest\n",
			n, t.Ticket, t.Draft, t.Suggest)
	}
}

// WriteTriageSummary writes the closing line of "smista triage": how many
// were triaged and what was decided.
func WriteTriageSummary(w io.Writer, sum app.TriageSummary) {
	fmt.Fprintf(w, "triaged %d: %d ticket, %d draft, %d suggest\n", sum.Total-sum.Failed,
		sum.Ticket, sum.Draft, sum.Suggest)
}

// WriteLearning writes what triage learned from corrections ("smista
// learning show"): one JSON object, or a line per intent corrected and a
// total. It returns the JSON's write error.
func WriteLearning(w io.Writer, l app.Learning, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(struct {
			Corrections map[triage.Intent]int `json:"corrections"`
			Words       int                   `json:"words"`
		}{l.Corrections, l.Words})
	}
	total := 0
	for _, in := range triage.Intents {
		if n := l.Corrections[in]; n > 0 {
			fmt.Fprintf(w, "%-8s %d correction(s)\n", in, n)
			total += n
		}
	}
	fmt.Fprintf(w, "%d correction(s) learned, %d word(s) the base model lacks\n", total, l.Words)
	return nil
}
