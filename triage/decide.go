package triage

import (
	"fmt"
	"strconv"
)

// DefaultThreshold is the confidence a support email must exceed to become a
// ticket when the configuration says nothing else.
const DefaultThreshold = 0.80

// Policy is what the decision engine is configured with.
type Policy struct {
	// Threshold: a ticket needs confidence strictly greater than this.
	Threshold float64
}

// DefaultPolicy returns the policy of an unconfigured smista.
func DefaultPolicy() Policy { return Policy{Threshold: DefaultThreshold} }

// Decision is what happens to one email, and why.
type Decision struct {
	Action Action
	// Reasons are human-readable facts, e.g. "confidence 0.62 ≤ 0.80",
	// "flag: legal", "intent: sales"; never empty.
	Reasons []string
	// Suggestion is a short hint for the human ("forward to legal", "looks
	// like spam"); empty for tickets.
	Suggestion string
}

// The suggestions the engine gives; the UI shows them as they are.
const (
	SuggestReply     = "review the draft and reply"
	SuggestLegal     = "forward to legal"
	SuggestSpam      = "looks like spam"
	SuggestNoReply   = "no reply needed"
	SuggestInjection = "review by hand: the email tries to steer the classifier"
	SuggestPayments  = "check the payment details before replying"
	SuggestVIP       = "VIP sender: reply personally"
	SuggestDisagree  = "classifiers disagree: check the intent"
)

// ReasonDisagree is the reason given when two classifiers disagree.
const ReasonDisagree = "llm and offline disagree on intent"

// Decide applies the trigger rule of the design to a classification: a
// ticket only when the intent is support, the confidence is strictly above
// the threshold, no flag is set and no classifiers disagree. It is pure and
// never fails.
//
// Otherwise: legal matters (intent or flag) and injection attempts get a
// suggestion only — a drafted reply to a lawyer or to an email that tries to
// steer the classifier is not something to approve with one key; spam and
// other mail get a suggestion ("looks like spam", "no reply needed"); the
// rest (support, sales, billing below the threshold or flagged) get a reply
// draft that waits for approval.
func Decide(r Result, p Policy) Decision {
	var reasons []string
	add := func(s string) {
		for _, x := range reasons {
			if x == s {
				return
			}
		}
		reasons = append(reasons, s)
	}
	add("intent: " + string(r.Intent))
	above := r.Confidence > p.Threshold
	add(confidenceReason(r.Confidence, p.Threshold, above))
	flags := map[Flag]bool{}
	for _, f := range r.Flags {
		flags[f] = true
		add("flag: " + string(f))
	}
	if r.Disagree {
		add(ReasonDisagree)
	}
	for _, n := range r.Notes {
		if n != "" {
			add(n)
		}
	}
	if r.Intent == IntentSupport && above && len(r.Flags) == 0 && !r.Disagree {
		return Decision{Action: ActionTicket, Reasons: reasons}
	}
	d := Decision{Reasons: reasons}
	switch {
	case flags[FlagInjection]:
		d.Action, d.Suggestion = ActionSuggest, SuggestInjection
	case r.Intent == IntentLegal || flags[FlagLegal]:
		d.Action, d.Suggestion = ActionSuggest, SuggestLegal
	case r.Intent == IntentSpam:
		d.Action, d.Suggestion = ActionSuggest, SuggestSpam
	case r.Intent == IntentOther || r.Intent == "":
		d.Action, d.Suggestion = ActionSuggest, SuggestNoReply
	default: // support, sales, billing: a reply waits for a human
		d.Action = ActionDraft
		switch {
		case flags[FlagVIP]:
			d.Suggestion = SuggestVIP
		case flags[FlagPayments]:
			d.Suggestion = SuggestPayments
		case r.Disagree:
			d.Suggestion = SuggestDisagree
		default:
			d.Suggestion = SuggestReply
		}
	}
	return d
}

// confidenceReason formats "confidence 0.62 ≤ 0.80" or "confidence 0.91 >
// 0.80", with enough digits that the two sides never print equal when they
// are not.
func confidenceReason(c, t float64, above bool) string {
	op := "≤"
	if above {
		op = ">"
	}
	prec := 2
	for prec < 6 && (strconv.FormatFloat(c, 'f', prec, 64) == strconv.FormatFloat(t, 'f', prec, 64)) != (c == t) {
		prec++
	}
	return fmt.Sprintf("confidence %.*f %s %.*f", prec, c, op, prec, t)
}
