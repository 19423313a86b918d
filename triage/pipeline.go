package triage

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"smista/mail"
)

// Store is what the triage pipeline needs from storage: which messages to
// triage, a message, and the one transaction that records a verdict.
type Store interface {
	// TriageQueue returns the email ids to triage, oldest first: those
	// without a result, or every message when all is true.
	TriageQueue(ctx context.Context, all bool) ([]string, error)
	// Message returns the stored message with the email id.
	Message(ctx context.Context, id string) (*mail.Message, error)
	// SaveTriage writes the result, the decision and — for a ticket — the
	// outbox rows in one transaction (a draft action also stores the
	// pending reply draft).
	SaveTriage(ctx context.Context, rec Record) (Saved, error)
}

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

// Options configure a triage run.
type Options struct {
	Context     Context // VIP list, own addresses
	Policy      Policy
	RawEmailURL string // raw_email_url template ("" = DefaultRawEmailURL)
	All         bool   // re-triage every message, not only untriaged ones
	// IDs, when not nil, are the email ids to triage instead of the
	// store's queue (the demo triages what it just synced).
	IDs []string
	// Concurrency bounds the classifications in flight (default 4).
	Concurrency int
	// PromptVersion is stored with each result (LLM classifiers).
	PromptVersion string
	// Progress is called after each message with how many are done of how
	// many; calls are serialised.
	Progress func(done, total int)
	// OnQueued is called after a commit that queued an event (main wires
	// the webhook sender's wake-up here).
	OnQueued func()
}

// Output is the triage of one message, for the CLI's JSON lines.
type Output struct {
	Message  *mail.Message
	Result   Result
	Decision Decision
	Queued   bool
	Err      error // the message could not be triaged; the others were
}

// Run triages the queued messages of store with c, at most
// o.Concurrency at a time: it classifies each one, adds the deterministic
// flags (a classifier can add flags, never remove them), decides, builds
// the payload of a ticket and stores the verdict in one transaction per
// message. It returns one output per message, in queue order. A message
// that fails (load, classify, store) carries its error and the run goes
// on; the returned error joins those failures, or is the queue or context
// error that stopped the run.
func Run(ctx context.Context, store Store, c Classifier, o Options) ([]Output, error) {
	ids := o.IDs
	if ids == nil {
		var err error
		if ids, err = store.TriageQueue(ctx, o.All); err != nil {
			return nil, fmt.Errorf("triage: %w", err)
		}
	}
	out := make([]Output, len(ids))
	n := o.Concurrency
	if n <= 0 {
		n = 4
	}
	var (
		mu   sync.Mutex
		done int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(n)
	for i, id := range ids {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			out[i] = triageOne(gctx, store, c, o, id)
			if o.Progress != nil {
				mu.Lock()
				done++
				o.Progress(done, len(ids))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait() // workers report through out, never through the group
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("triage: %w", err)
	}
	var errs []error
	for _, x := range out {
		if x.Err != nil {
			errs = append(errs, x.Err)
		}
	}
	return out, errors.Join(errs...)
}

func triageOne(ctx context.Context, store Store, c Classifier, o Options, id string) Output {
	m, err := store.Message(ctx, id)
	if err != nil {
		return Output{Message: &mail.Message{ID: id}, Err: fmt.Errorf("triage %s: %w", id, err)}
	}
	if m.ID == "" {
		m.ID = id
	}
	r, d, payload, err := Triage(ctx, c, m, o)
	if err != nil {
		return Output{Message: m, Err: err}
	}
	saved, err := store.SaveTriage(ctx, Record{EmailID: id, Result: r, Decision: d, Payload: payload, PromptVersion: o.PromptVersion})
	if err != nil {
		return Output{Message: m, Result: r, Decision: d, Err: fmt.Errorf("triage %s: %w", id, err)}
	}
	if saved.HumanDecision != "" {
		d.Action = saved.HumanAction
		d.Reasons = append(d.Reasons, "decision kept: "+saved.HumanDecision)
	}
	if saved.Queued && o.OnQueued != nil {
		o.OnQueued()
	}
	return Output{Message: m, Result: r, Decision: d, Queued: saved.Queued}
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
