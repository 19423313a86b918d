package triage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"smista/mail"
	"smista/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// loadLabelled reads a labelled folder (labels.csv next to the emails, or
// in the parent folder as testdata/triage/ has it) as examples.
func loadLabelled(tb testing.TB, labelsFile, emlDir string) []triage.Example {
	tb.Helper()
	data, err := os.ReadFile(labelsFile)
	if err != nil {
		tb.Fatal(err)
	}
	labels, err := triage.ParseLabels(data)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]triage.Example, 0, len(labels))
	for _, l := range labels {
		out = append(out, triage.Example{Name: l.File, Message: parseEML(tb, filepath.Join(emlDir, l.File)), Intent: l.Intent, Ticket: l.Ticket, Flags: l.Flags})
	}
	return out
}

func outcome(gold triage.Intent, goldTicket bool, got triage.Intent, conf float64, flags ...triage.Flag) triage.Outcome {
	r := triage.Result{Intent: got, Confidence: conf, Flags: flags}
	return triage.Outcome{
		Example:  triage.Example{Name: string(gold) + "-" + string(got), Intent: gold, Ticket: goldTicket},
		Result:   r,
		Decision: triage.Decide(r, triage.DefaultPolicy()),
	}
}

func TestScore(t *testing.T) {
	outs := []triage.Outcome{
		outcome(triage.IntentSupport, true, triage.IntentSupport, 0.95),                      // tp
		outcome(triage.IntentSupport, true, triage.IntentSupport, 0.75),                      // fn, ticket at 0.70
		outcome(triage.IntentSupport, false, triage.IntentSupport, 0.9, triage.FlagPayments), // flagged: no ticket
		outcome(triage.IntentOther, false, triage.IntentSupport, 0.85),                       // fp
		outcome(triage.IntentSales, false, triage.IntentSupport, 0.72),                       // ticket at 0.70, gold no
		outcome(triage.IntentBilling, false, triage.IntentBilling, 0.4),                      // right, low band
		outcome(triage.IntentSpam, false, triage.IntentOther, 0.55),                          // wrong
		outcome(triage.IntentLegal, false, triage.IntentLegal, 1.0, triage.FlagLegal),        // right, top band
		outcome(triage.IntentSupport, true, triage.IntentSupport, 0.82),                      // tp, removed at 0.85
	}
	outs[3].Human = triage.ActionDraft
	outs[4].Human = triage.ActionDraft
	rep := triage.Score(outs, triage.EvalOptions{Policy: triage.DefaultPolicy(), WhatIf: []float64{0.7, 0.85}})
	tk := rep.Tickets
	if tk.Emitted != 3 || tk.TP != 2 || tk.FP != 1 || tk.FN != 1 || tk.HumanOverrode != 1 {
		t.Errorf("tickets %+v", tk)
	}
	if rep.IntentRight != 6 || rep.Emails != 9 {
		t.Errorf("intent right %d of %d, want 6 of 9", rep.IntentRight, rep.Emails)
	}
	if got := rep.Confusion[0][0]; got != 4 { // support→support
		t.Errorf("confusion support/support %d", got)
	}
	if got := rep.Confusion[5][0]; got != 1 { // other→support
		t.Errorf("confusion other/support %d", got)
	}
	// bands: <0.5, 0.5, 0.6, 0.7, 0.8, 0.9–1
	wantBands := [][2]int{{1, 1}, {1, 0}, {0, 0}, {2, 1}, {2, 1}, {3, 3}}
	for i, w := range wantBands {
		if b := rep.Calibration[i]; b.Emails != w[0] || b.Right != w[1] {
			t.Errorf("band %.1f: %d emails %d right, want %v", b.Lo, b.Emails, b.Right, w)
		}
	}
	at70, at85 := rep.WhatIf[0], rep.WhatIf[1]
	if at70.Added != 2 || at70.AddedGoldNo != 1 || at70.AddedOverrode != 1 || at70.Removed != 0 || at70.Tickets != 5 {
		t.Errorf("at 0.70: %+v", at70)
	}
	if at85.Added != 0 || at85.Removed != 2 || at85.RemovedGoldYes != 1 || at85.Tickets != 1 {
		t.Errorf("at 0.85: %+v", at85)
	}
	text := rep.Text()
	for _, want := range []string{
		"tickets: 3 emitted, precision 0.667, recall 0.667 (tp 2, fp 1, fn 1), 1 overridden by a human",
		"at 0.70: 5 tickets (precision 0.600, recall 1.000); +2, 1 of which gold says no and 1 a human overrode",
		"at 0.85: 1 tickets (precision 1.000, recall 0.333); -2, 1 of which gold wanted",
		"0.90-1.00        3      3    1.000",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if text != triage.Score(outs, triage.EvalOptions{Policy: triage.DefaultPolicy(), WhatIf: []float64{0.7, 0.85}}).Text() {
		t.Error("the same outcomes render differently")
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back triage.Report
	if err := json.Unmarshal(b, &back); err != nil || back.Text() != text {
		t.Errorf("the JSON form does not carry the report: %v", err)
	}
}

func TestParseLabels(t *testing.T) {
	good := "file,intent,ticket,flags\n001.eml,support,yes,\n002.eml,billing,no,payments vip\n"
	ls, err := triage.ParseLabels([]byte(good))
	if err != nil || len(ls) != 2 || !ls[0].Ticket || len(ls[1].Flags) != 2 {
		t.Fatalf("%v %+v", err, ls)
	}
	for name, bad := range map[string]string{
		"no header":      "001.eml,support,yes,\n",
		"unknown intent": "file,intent,ticket,flags\n001.eml,complaint,yes,\n",
		"bad ticket":     "file,intent,ticket,flags\n001.eml,support,maybe,\n",
		"unknown flag":   "file,intent,ticket,flags\n001.eml,support,no,urgent\n",
		"short row":      "file,intent,ticket,flags\n001.eml,support\n",
	} {
		if _, err := triage.ParseLabels([]byte(bad)); !errors.Is(err, triage.ErrBadLabels) {
			t.Errorf("%s: err %v, want ErrBadLabels", name, err)
		}
	}
}

func TestEvaluateRejectsBadExamples(t *testing.T) {
	o := mustOffline(t)
	for name, ex := range map[string]triage.Example{
		"no message":     {Name: "x", Intent: triage.IntentSupport},
		"unknown intent": {Name: "y", Intent: "complaint", Message: &mail.Message{Subject: "hi"}},
	} {
		if _, _, err := triage.Evaluate(context.Background(), o, []triage.Example{ex}, triage.EvalOptions{}); !errors.Is(err, triage.ErrBadLabels) {
			t.Errorf("%s: err %v, want ErrBadLabels", name, err)
		}
	}
}

// TestEvalGolden renders the report of the offline classifier on the
// project's labelled set and compares it with the golden file (go test
// -run TestEvalGolden -update rewrites it after a deliberate change).
func TestEvalGolden(t *testing.T) {
	ex := loadLabelled(t, filepath.Join(testdataDir, "labels.csv"), filepath.Join(testdataDir, "labelled"))
	eo := triage.EvalOptions{Context: triage.Context{VIP: readmeVIP(t)}, Policy: triage.DefaultPolicy()}
	rep, outs, err := triage.Evaluate(context.Background(), mustOffline(t), ex, eo)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != len(ex) {
		t.Fatalf("%d outcomes for %d examples", len(outs), len(ex))
	}
	got := []byte(rep.Text())
	golden := filepath.Join("testdata", "eval", "labelled.txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("eval report differs from %s (rerun with -update after a deliberate change):\n%s", golden, got)
	}
}
