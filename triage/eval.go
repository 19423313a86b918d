package triage

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"

	"smista/mail"
)

// ErrBadLabels is returned for a labels file or an example that cannot be
// scored: a malformed row, an unknown intent, a ticket value other than
// yes or no.
var ErrBadLabels = errors.New("bad labels")

// Example is one labelled email to score the classifier on.
type Example struct {
	// Name identifies the example in listings (a file name, an email id).
	Name    string
	Message *mail.Message
	// Intent is the gold intent.
	Intent Intent
	// Ticket is whether a careful human wants a ticket.suggested event.
	Ticket bool
	// Flags are the gold flags (nil when the labels carry none).
	Flags []Flag
	// Human is the action a human decided for the email ("" when none is
	// known: a labels file has none, the store's human decisions do).
	Human Action
}

// Outcome is one example triaged.
type Outcome struct {
	Example
	Result   Result
	Decision Decision
}

// EvalOptions configure the scoring.
type EvalOptions struct {
	// Context is what the classifier knows besides each message (the VIP
	// list the labels were written with).
	Context Context
	// Policy is the decision policy scored (its threshold is the base of
	// the what-if table).
	Policy Policy
	// WhatIf are the other thresholds to try; nil means DefaultWhatIf().
	WhatIf []float64
	// Bands are the lower edges of the calibration bands, ascending, the
	// first 0; nil means DefaultBands().
	Bands []float64
}

// DefaultWhatIf returns the thresholds the what-if table tries by default.
func DefaultWhatIf() []float64 { return []float64{0.6, 0.7, 0.75, 0.85, 0.9} }

// DefaultBands returns the lower edges of the default calibration bands:
// below 0.5, then tenths.
func DefaultBands() []float64 { return []float64{0, 0.5, 0.6, 0.7, 0.8, 0.9} }

// Report is the classifier's score on a labelled set. Its JSON form is
// what `smista eval --json` prints; Text renders it for a terminal.
type Report struct {
	Emails    int     `json:"emails"`
	Threshold float64 `json:"threshold"`
	Tickets   Tickets `json:"tickets"`
	// IntentRight counts the emails whose intent is the gold one.
	IntentRight    int           `json:"intent_right"`
	IntentAccuracy float64       `json:"intent_accuracy"`
	Intents        []IntentScore `json:"intents"`
	// Confusion counts emails by gold intent (rows) and classified intent
	// (columns), both in the order of Intents.
	Confusion [][]int `json:"confusion"`
	// Flags compares the flags set with the gold ones, per flag.
	Flags       []FlagScore `json:"flags"`
	Calibration []Band      `json:"calibration"`
	WhatIf      []WhatIf    `json:"what_if"`
	// Misread lists the emails whose intent or ticket was wrong, in order.
	Misread []Misread `json:"misread"`
}

// Tickets scores the ticket decisions against the gold ones.
type Tickets struct {
	Emitted   int     `json:"emitted"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// HumanOverrode counts emitted tickets a human decided otherwise
	// (only examples with a known human action count).
	HumanOverrode int `json:"human_overrode"`
}

// IntentScore is the precision and recall of one intent.
type IntentScore struct {
	Intent    Intent  `json:"intent"`
	Gold      int     `json:"gold"`
	Predicted int     `json:"predicted"`
	Right     int     `json:"right"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// FlagScore is the precision and recall of one flag against the gold
// flags.
type FlagScore struct {
	Flag      Flag    `json:"flag"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// Band is one row of the calibration table: the emails whose confidence
// is in [Lo, Hi) (the last band includes 1) and how often their intent
// was right.
type Band struct {
	Lo       float64 `json:"lo"`
	Hi       float64 `json:"hi"`
	Emails   int     `json:"emails"`
	Right    int     `json:"right"`
	Accuracy float64 `json:"accuracy"`
}

// WhatIf is what another threshold would change against the policy's:
// tickets added and removed, how many of the added ones gold says are no
// ticket (or a human overrode), how many of the removed ones gold wanted.
type WhatIf struct {
	Threshold      float64 `json:"threshold"`
	Tickets        int     `json:"tickets"`
	Added          int     `json:"added"`
	AddedGoldNo    int     `json:"added_gold_no"`
	AddedOverrode  int     `json:"added_human_overrode"`
	Removed        int     `json:"removed"`
	RemovedGoldYes int     `json:"removed_gold_yes"`
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
}

// Misread is one example the classifier got wrong: intent or ticket.
type Misread struct {
	Name       string  `json:"name"`
	Gold       Intent  `json:"gold"`
	Got        Intent  `json:"got"`
	Confidence float64 `json:"confidence"`
	GoldTicket bool    `json:"gold_ticket"`
	Action     Action  `json:"action"`
}

// Evaluate triages every example with c (Triage: classify, the
// deterministic flags, decide) and scores the outcomes with Score; it
// returns the outcomes too, in the examples' order. It fails with
// ErrBadLabels on an example without a message or with an unknown gold
// intent, and when the classifier fails.
func Evaluate(ctx context.Context, c Classifier, examples []Example, eo EvalOptions) (Report, []Outcome, error) {
	outs := make([]Outcome, 0, len(examples))
	for _, ex := range examples {
		if ex.Message == nil || !slices.Contains(Intents, ex.Intent) {
			return Report{}, nil, fmt.Errorf("evaluate %s: %w: no message or unknown intent %q", ex.Name, ErrBadLabels, ex.Intent)
		}
		r, d, _, err := Triage(ctx, c, ex.Message, Options{Context: eo.Context, Policy: eo.Policy})
		if err != nil {
			return Report{}, nil, fmt.Errorf("evaluate %s: %w", ex.Name, err)
		}
		outs = append(outs, Outcome{Example: ex, Result: r, Decision: d})
	}
	return Score(outs, eo), outs, nil
}

// Score computes the report of triaged examples: ticket precision and
// recall, intent accuracy and confusion, the calibration table and the
// threshold what-if. It is pure; ratios of nothing are 0.
func Score(outs []Outcome, eo EvalOptions) Report {
	bands := eo.Bands
	if bands == nil {
		bands = DefaultBands()
	}
	whatIf := eo.WhatIf
	if whatIf == nil {
		whatIf = DefaultWhatIf()
	}
	rep := Report{Emails: len(outs), Threshold: eo.Policy.Threshold, Confusion: make([][]int, nIntents)}
	for i := range rep.Confusion {
		rep.Confusion[i] = make([]int, nIntents)
	}
	for i, lo := range bands {
		hi := 1.0
		if i+1 < len(bands) {
			hi = bands[i+1]
		}
		rep.Calibration = append(rep.Calibration, Band{Lo: lo, Hi: hi})
	}
	for _, o := range outs {
		g, p := indexOf(o.Intent), indexOf(o.Result.Intent)
		right := g == p && g >= 0
		if g >= 0 && p >= 0 {
			rep.Confusion[g][p]++
		}
		if right {
			rep.IntentRight++
		}
		if b := bandOf(rep.Calibration, o.Result.Confidence); b >= 0 {
			rep.Calibration[b].Emails++
			if right {
				rep.Calibration[b].Right++
			}
		}
		ticket := o.Decision.Action == ActionTicket
		rep.Tickets.add(ticket, o.Ticket, o.Human)
		if !right || ticket != o.Ticket {
			rep.Misread = append(rep.Misread, Misread{Name: o.Name, Gold: o.Intent, Got: o.Result.Intent,
				Confidence: o.Result.Confidence, GoldTicket: o.Ticket, Action: o.Decision.Action})
		}
	}
	rep.Tickets.finish()
	rep.IntentAccuracy = ratioOf(rep.IntentRight, rep.Emails)
	for i := range rep.Calibration {
		b := &rep.Calibration[i]
		b.Accuracy = ratioOf(b.Right, b.Emails)
	}
	for i, in := range Intents {
		s := IntentScore{Intent: in, Right: rep.Confusion[i][i]}
		for j := range nIntents {
			s.Gold += rep.Confusion[i][j]
			s.Predicted += rep.Confusion[j][i]
		}
		s.Precision, s.Recall = ratioOf(s.Right, s.Predicted), ratioOf(s.Right, s.Gold)
		rep.Intents = append(rep.Intents, s)
	}
	for _, t := range whatIf {
		rep.WhatIf = append(rep.WhatIf, whatIfAt(outs, eo.Policy, t))
	}
	rep.Flags = flagScores(outs)
	return rep
}

// flagScores compares each flag set with the gold flags.
func flagScores(outs []Outcome) []FlagScore {
	out := make([]FlagScore, 0, 4)
	for _, f := range [...]Flag{FlagPayments, FlagLegal, FlagVIP, FlagInjection} {
		s := FlagScore{Flag: f}
		for _, o := range outs {
			gold, got := slices.Contains(o.Flags, f), slices.Contains(o.Result.Flags, f)
			switch {
			case gold && got:
				s.TP++
			case got:
				s.FP++
			case gold:
				s.FN++
			}
		}
		s.Precision, s.Recall = ratioOf(s.TP, s.TP+s.FP), ratioOf(s.TP, s.TP+s.FN)
		out = append(out, s)
	}
	return out
}

func (t *Tickets) add(ticket, gold bool, human Action) {
	switch {
	case ticket && gold:
		t.TP++
	case ticket:
		t.FP++
	case gold:
		t.FN++
	}
	if ticket {
		t.Emitted++
		if human != "" && human != ActionTicket {
			t.HumanOverrode++
		}
	}
}

func (t *Tickets) finish() {
	t.Precision, t.Recall = ratioOf(t.TP, t.TP+t.FP), ratioOf(t.TP, t.TP+t.FN)
}

// whatIfAt decides every outcome again at threshold t (the flags and
// intent stay what they were) and compares with the policy's decisions.
func whatIfAt(outs []Outcome, p Policy, t float64) WhatIf {
	w := WhatIf{Threshold: t}
	var sc Tickets
	q := p
	q.Threshold = t
	for _, o := range outs {
		base := o.Decision.Action == ActionTicket
		now := Decide(o.Result, q).Action == ActionTicket
		sc.add(now, o.Ticket, o.Human)
		switch {
		case now && !base:
			w.Added++
			if !o.Ticket {
				w.AddedGoldNo++
			}
			if o.Human != "" && o.Human != ActionTicket {
				w.AddedOverrode++
			}
		case base && !now:
			w.Removed++
			if o.Ticket {
				w.RemovedGoldYes++
			}
		}
	}
	sc.finish()
	w.Tickets, w.Precision, w.Recall = sc.Emitted, sc.Precision, sc.Recall
	return w
}

// bandOf returns the index of the band holding confidence c, -1 for none.
func bandOf(bands []Band, c float64) int {
	for i := len(bands) - 1; i >= 0; i-- {
		if c >= bands[i].Lo {
			return i
		}
	}
	return -1
}

func ratioOf(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Label is one row of a labels file (testdata/triage/README.md):
// file,intent,ticket,flags.
type Label struct {
	File   string
	Intent Intent
	Ticket bool
	Flags  []Flag
}

// ParseLabels reads a labels file: a header line, then one row per email
// as file,intent,ticket,flags (flags space-separated, possibly empty). It
// fails with ErrBadLabels naming the row.
func ParseLabels(data []byte) ([]Label, error) {
	r := csv.NewReader(strings.NewReader(string(data)))
	r.FieldsPerRecord = 4
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("labels: %w: %w", ErrBadLabels, err)
	}
	if len(rows) == 0 || rows[0][0] != "file" {
		return nil, fmt.Errorf("labels: %w: no file,intent,ticket,flags header", ErrBadLabels)
	}
	out := make([]Label, 0, len(rows)-1)
	for i, row := range rows[1:] {
		l := Label{File: row[0], Intent: Intent(row[1])}
		if l.File == "" || !slices.Contains(Intents, l.Intent) || (row[2] != "yes" && row[2] != "no") {
			return nil, fmt.Errorf("labels row %d: %w: %q", i+2, ErrBadLabels, strings.Join(row, ","))
		}
		l.Ticket = row[2] == "yes"
		for _, f := range strings.Fields(row[3]) {
			if MergeFlags(nil, []Flag{Flag(f)}) == nil {
				return nil, fmt.Errorf("labels row %d: %w: unknown flag %q", i+2, ErrBadLabels, f)
			}
			l.Flags = append(l.Flags, Flag(f))
		}
		out = append(out, l)
	}
	return out, nil
}
