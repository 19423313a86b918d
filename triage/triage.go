// Package triage decides what an email is and whether it becomes a
// ticket.suggested event: classifiers (a built-in offline one and LLMs
// through langchaingo), deterministic flag rules, the pure decision engine
// and the event payload. It does no I/O other than the model call.
package triage

import (
	"context"

	"smista/mail"
)

// Intent is what an email is about.
type Intent string

// The intents of the JSON contract.
const (
	IntentSupport Intent = "support"
	IntentSales   Intent = "sales"
	IntentBilling Intent = "billing"
	IntentLegal   Intent = "legal"
	IntentSpam    Intent = "spam"
	IntentOther   Intent = "other" // personal mail, newsletters, notifications, auto-replies
)

// Intents lists every valid intent.
var Intents = []Intent{IntentSupport, IntentSales, IntentBilling, IntentLegal, IntentSpam, IntentOther}

// Flag marks an email that must never become a ticket automatically.
type Flag string

// The flags of the JSON contract.
const (
	FlagPayments  Flag = "payments"
	FlagLegal     Flag = "legal"
	FlagVIP       Flag = "vip"
	FlagInjection Flag = "injection"
)

// Priority is the urgency of an email.
type Priority string

// The priorities of the JSON contract.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Action is what the decision engine does with an email.
type Action string

// The actions of the JSON contract.
const (
	ActionTicket  Action = "ticket"  // a ticket.suggested event is queued
	ActionDraft   Action = "draft"   // a reply draft waits for approval
	ActionSuggest Action = "suggest" // a visual suggestion only
)

// Context is what a classifier knows besides the message: the account's VIP
// list (addresses or whole domains), the account's own addresses, and
// emails a person labelled that resemble this one (an LLM sees them as
// examples; the offline classifier learns corrections on its own).
type Context struct {
	VIP      []string
	Own      []string
	Examples []Labelled
	// HTML, when set, holds the facts of the message's HTML body that the
	// body parse gathered (HTMLFacts): the rules read them instead of
	// walking the HTML again.
	HTML *HTMLFacts
}

// Labelled is an email and the intent a person said it is.
type Labelled struct {
	Subject, Text string
	Intent        Intent
}

// Usage is the token count a model reports (zero for the offline classifier).
type Usage struct {
	InputTokens  int
	OutputTokens int
}

// Result is a classifier's verdict on one email.
type Result struct {
	Intent     Intent
	Confidence float64 // in [0,1]
	Priority   Priority
	Summary    string // one sentence, in the email's language
	Language   string // ISO 639-1, e.g. "en", "it"
	Flags      []Flag // sorted, unique
	Draft      string // suggested reply, in the email's language
	Model      string // name/version, e.g. "offline/1", "openai/gpt-4o-mini"
	Usage      Usage
	// Notes are facts the decision engine turns into reasons, e.g. "llm
	// fallback: invalid output twice" or "llm and offline disagree on intent".
	Notes []string
	// Disagree is set when two classifiers disagreed on the intent: no
	// ticket may follow.
	Disagree bool
	// ruleFlags is set when Flags already holds the deterministic flags of
	// the email (the offline classifier reads them in its one pass): Triage
	// then does not compute them again. Unexported, so no classifier from
	// outside can claim it and drop a flag.
	ruleFlags bool
}

// Classifier classifies one email. Implementations are safe for concurrent
// use. An error means no result at all (the caller falls back).
type Classifier interface {
	Classify(ctx context.Context, m *mail.Message, c Context) (Result, error)
}
