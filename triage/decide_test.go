package triage_test

import (
	"slices"
	"testing"

	"smista/triage"
)

func TestDecide(t *testing.T) {
	p := triage.Policy{Threshold: 0.80}
	support := func(conf float64, flags ...triage.Flag) triage.Result {
		return triage.Result{Intent: triage.IntentSupport, Confidence: conf, Flags: flags}
	}
	tests := map[string]struct {
		r          triage.Result
		action     triage.Action
		reasons    []string // each must be present
		suggestion string
	}{
		"support above threshold": {support(0.91), triage.ActionTicket,
			[]string{"intent: support", "confidence 0.91 > 0.80"}, ""},
		"support just above threshold": {support(0.8001), triage.ActionTicket,
			[]string{"confidence 0.8001 > 0.8000"}, ""},
		"support exactly at threshold": {support(0.80), triage.ActionDraft,
			[]string{"confidence 0.80 ≤ 0.80"}, triage.SuggestReply},
		"support just below threshold": {support(0.7999), triage.ActionDraft,
			[]string{"confidence 0.7999 ≤ 0.8000"}, triage.SuggestReply},
		"support low confidence": {support(0.62), triage.ActionDraft,
			[]string{"confidence 0.62 ≤ 0.80"}, triage.SuggestReply},
		"support confidence 1": {support(1), triage.ActionTicket, []string{"confidence 1.00 > 0.80"}, ""},
		"flag payments": {support(0.95, triage.FlagPayments), triage.ActionDraft,
			[]string{"flag: payments", "confidence 0.95 > 0.80"}, triage.SuggestPayments},
		"flag vip": {support(0.95, triage.FlagVIP), triage.ActionDraft,
			[]string{"flag: vip"}, triage.SuggestVIP},
		"flag legal": {support(0.95, triage.FlagLegal), triage.ActionSuggest,
			[]string{"flag: legal"}, triage.SuggestLegal},
		"flag injection": {support(0.99, triage.FlagInjection), triage.ActionSuggest,
			[]string{"flag: injection"}, triage.SuggestInjection},
		"several flags": {support(0.99, triage.FlagPayments, triage.FlagVIP), triage.ActionDraft,
			[]string{"flag: payments", "flag: vip"}, triage.SuggestVIP},
		"disagree": {triage.Result{Intent: triage.IntentSupport, Confidence: 0.97, Disagree: true}, triage.ActionDraft,
			[]string{triage.ReasonDisagree}, triage.SuggestDisagree},
		"disagree note not doubled": {triage.Result{Intent: triage.IntentSupport, Confidence: 0.97, Disagree: true,
			Notes: []string{triage.ReasonDisagree}}, triage.ActionDraft, []string{triage.ReasonDisagree}, triage.SuggestDisagree},
		"notes become reasons": {triage.Result{Intent: triage.IntentOther, Confidence: 0.9,
			Notes: []string{"llm fallback: invalid output twice"}}, triage.ActionSuggest,
			[]string{"llm fallback: invalid output twice"}, triage.SuggestNoReply},
		"sales": {triage.Result{Intent: triage.IntentSales, Confidence: 0.99}, triage.ActionDraft,
			[]string{"intent: sales"}, triage.SuggestReply},
		"billing": {triage.Result{Intent: triage.IntentBilling, Confidence: 0.99}, triage.ActionDraft,
			[]string{"intent: billing"}, triage.SuggestReply},
		"legal": {triage.Result{Intent: triage.IntentLegal, Confidence: 0.99}, triage.ActionSuggest,
			[]string{"intent: legal"}, triage.SuggestLegal},
		"spam": {triage.Result{Intent: triage.IntentSpam, Confidence: 0.99}, triage.ActionSuggest,
			[]string{"intent: spam"}, triage.SuggestSpam},
		"other": {triage.Result{Intent: triage.IntentOther, Confidence: 0.99}, triage.ActionSuggest,
			[]string{"intent: other"}, triage.SuggestNoReply},
		"empty intent": {triage.Result{Confidence: 0.99}, triage.ActionSuggest, nil, triage.SuggestNoReply},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := triage.Decide(tc.r, p)
			if d.Action != tc.action {
				t.Errorf("action = %s, want %s (reasons %q)", d.Action, tc.action, d.Reasons)
			}
			for _, want := range tc.reasons {
				if !slices.Contains(d.Reasons, want) {
					t.Errorf("reasons %q lack %q", d.Reasons, want)
				}
			}
			if len(d.Reasons) == 0 {
				t.Error("no reasons")
			}
			if n := len(slices.Compact(slices.Sorted(slices.Values(d.Reasons)))); n != len(d.Reasons) {
				t.Errorf("duplicate reasons %q", d.Reasons)
			}
			if d.Suggestion != tc.suggestion {
				t.Errorf("suggestion = %q, want %q", d.Suggestion, tc.suggestion)
			}
		})
	}
}

func TestDecideThresholdFromPolicy(t *testing.T) {
	r := triage.Result{Intent: triage.IntentSupport, Confidence: 0.85}
	if got := triage.Decide(r, triage.Policy{Threshold: 0.90}).Action; got != triage.ActionDraft {
		t.Errorf("threshold 0.90: action %s, want draft", got)
	}
	if got := triage.Decide(r, triage.DefaultPolicy()).Action; got != triage.ActionTicket {
		t.Errorf("default threshold: action %s, want ticket", got)
	}
}

// TestDecideTicketOnlyWhenRuleHolds checks the trigger rule exhaustively
// over intents, flags, disagreement and confidences around the threshold.
func TestDecideTicketOnlyWhenRuleHolds(t *testing.T) {
	flagSets := [][]triage.Flag{nil, {triage.FlagPayments}, {triage.FlagLegal}, {triage.FlagVIP}, {triage.FlagInjection}}
	for _, in := range triage.Intents {
		for _, fs := range flagSets {
			for _, dis := range []bool{false, true} {
				for _, c := range []float64{0, 0.5, 0.79, 0.8, 0.80001, 0.9, 1} {
					r := triage.Result{Intent: in, Confidence: c, Flags: fs, Disagree: dis}
					want := in == triage.IntentSupport && c > 0.8 && len(fs) == 0 && !dis
					if got := triage.Decide(r, triage.DefaultPolicy()).Action == triage.ActionTicket; got != want {
						t.Errorf("%+v: ticket = %v, want %v", r, got, want)
					}
				}
			}
		}
	}
}
