package triage

import (
	"fmt"
	"strings"
)

// maxListedMisread bounds the misread emails Text lists.
const maxListedMisread = 40

// Text renders the report for a terminal: the same report always gives
// the same bytes (fixed order, fixed widths, three decimals), so a golden
// file can hold it.
func (r Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "emails %d, threshold %.2f\n", r.Emails, r.Threshold)
	t := r.Tickets
	fmt.Fprintf(&b, "tickets: %d emitted, precision %.3f, recall %.3f (tp %d, fp %d, fn %d)", t.Emitted, t.Precision, t.Recall, t.TP, t.FP, t.FN)
	if t.HumanOverrode > 0 {
		fmt.Fprintf(&b, ", %d overridden by a human", t.HumanOverrode)
	}
	fmt.Fprintf(&b, "\nintent accuracy %.3f (%d of %d)\n", r.IntentAccuracy, r.IntentRight, r.Emails)

	fmt.Fprintf(&b, "\n%-8s %9s %6s %5s %5s\n", "intent", "precision", "recall", "gold", "got")
	for _, s := range r.Intents {
		fmt.Fprintf(&b, "%-8s %9.3f %6.3f %5d %5d\n", s.Intent, s.Precision, s.Recall, s.Gold, s.Predicted)
	}

	b.WriteString("\nflags (against the gold flags)\n")
	for _, f := range r.Flags {
		fmt.Fprintf(&b, "%-9s precision %.3f recall %.3f (tp %d, fp %d, fn %d)\n", f.Flag, f.Precision, f.Recall, f.TP, f.FP, f.FN)
	}

	b.WriteString("\nconfusion (rows: gold intent, columns: classified)\n")
	fmt.Fprintf(&b, "%-8s", "")
	for _, in := range Intents {
		fmt.Fprintf(&b, " %7s", in)
	}
	b.WriteByte('\n')
	for i, row := range r.Confusion {
		fmt.Fprintf(&b, "%-8s", Intents[i])
		for _, n := range row {
			fmt.Fprintf(&b, " %7d", n)
		}
		b.WriteByte('\n')
	}

	b.WriteString("\ncalibration (confidence band, upper edge excluded but for 1: how often the intent is right)\n")
	fmt.Fprintf(&b, "%-11s %6s %6s %8s\n", "band", "emails", "right", "accuracy")
	for _, c := range r.Calibration {
		acc := "-"
		if c.Emails > 0 {
			acc = fmt.Sprintf("%.3f", c.Accuracy)
		}
		band := fmt.Sprintf("%.2f-%.2f", c.Lo, c.Hi)
		fmt.Fprintf(&b, "%-11s %6d %6d %8s\n", band, c.Emails, c.Right, acc)
	}

	fmt.Fprintf(&b, "\nwhat if (against the threshold %.2f)\n", r.Threshold)
	for _, w := range r.WhatIf {
		fmt.Fprintf(&b, "at %.2f: %d tickets (precision %.3f, recall %.3f)", w.Threshold, w.Tickets, w.Precision, w.Recall)
		if w.Added > 0 {
			fmt.Fprintf(&b, "; +%d, %d of which gold says no", w.Added, w.AddedGoldNo)
			if w.AddedOverrode > 0 {
				fmt.Fprintf(&b, " and %d a human overrode", w.AddedOverrode)
			}
		}
		if w.Removed > 0 {
			fmt.Fprintf(&b, "; -%d, %d of which gold wanted", w.Removed, w.RemovedGoldYes)
		}
		if w.Added == 0 && w.Removed == 0 {
			b.WriteString("; no change")
		}
		b.WriteByte('\n')
	}

	if len(r.Misread) > 0 {
		fmt.Fprintf(&b, "\nmisread (%d)\n", len(r.Misread))
		for i, e := range r.Misread {
			if i == maxListedMisread {
				fmt.Fprintf(&b, "... %d more\n", len(r.Misread)-maxListedMisread)
				break
			}
			gold := "no"
			if e.GoldTicket {
				gold = "yes"
			}
			fmt.Fprintf(&b, "%-24s gold %-7s ticket %-3s  got %-7s %.2f %s\n", e.Name, e.Gold, gold, e.Got, e.Confidence, e.Action)
		}
	}
	return b.String()
}
