package triage

import (
	"context"
	"fmt"

	"smista/mail"
)

// Record is one triage verdict to store.
type Record struct {
	EmailID  string
	Result   Result
	Decision Decision
	// Payload is the ticket.suggested body; set when Decision.Action is
	// ActionTicket.
	Payload []byte
	// PromptVersion identifies the LLM prompt ("" for the offline model).
	PromptVersion string
}

// Saved is what storing a record did.
type Saved struct {
	// Queued is true when this call queued the ticket.suggested event (false
	// when the message already had one: re-triage never queues twice).
	Queued bool
	// HumanDecision is the decided_by of a human decision that was kept
	// ("" when the engine's decision was stored), and HumanAction its action.
	HumanDecision string
	HumanAction   Action
}

// Options are what Triage needs besides the classifier and the message.
type Options struct {
	Context     Context // VIP list, own addresses
	Policy      Policy
	RawEmailURL string // raw_email_url template ("" = DefaultRawEmailURL)
	// PromptVersion is stored with each result (LLM classifiers).
	PromptVersion string
}

// Triage classifies one message and decides, without storing anything: the
// deterministic flags are merged into the classifier's (computed here only
// when the classifier did not already read them), and a ticket gets its
// payload. It fails when the classifier fails.
func Triage(ctx context.Context, c Classifier, m *mail.Message, o Options) (Result, Decision, []byte, error) {
	r, err := c.Classify(ctx, m, o.Context)
	if err != nil {
		return r, Decision{}, nil, fmt.Errorf("classify %s: %w", m.ID, err)
	}
	if r.ruleFlags {
		r.Flags = MergeFlags(nil, r.Flags)
	} else {
		r.Flags = MergeFlags(Flags(m, o.Context), r.Flags)
	}
	r.Confidence = clamp01(r.Confidence)
	d := Decide(r, o.Policy)
	var payload []byte
	if d.Action == ActionTicket {
		payload, err = TicketPayload(m, r, o.RawEmailURL)
		if err != nil {
			return r, d, nil, err
		}
	}
	return r, d, payload, nil
}
