package app

import (
	"context"
	"errors"
	"fmt"

	"smista/db"
	"smista/mail"
	"smista/triage"
)

// TriageRequest selects what Triage classifies.
type TriageRequest struct {
	// IDs are the email ids to triage; nil means the store's queue (the
	// untriaged messages, or every message with All).
	IDs []string
	All bool
	// Each, when set, receives every message's outcome in queue order,
	// as soon as its batch is stored; nothing is kept after it returns.
	Each func(TriageOutput)
}

// TriageOutput is the triage of one message.
type TriageOutput struct {
	Message  *mail.Message
	Result   triage.Result
	Decision triage.Decision
	// Queued is true when this triage queued the ticket.suggested event.
	Queued bool
	// Err is set when the message could not be triaged (the others were).
	Err error

	payload []byte // the event body, until the verdict is stored
}

// TriageSummary counts what a triage run did.
type TriageSummary struct {
	Total, Failed          int
	Ticket, Draft, Suggest int
}

func (s *TriageSummary) add(o TriageOutput) {
	s.Total++
	if o.Err != nil {
		s.Failed++
		return
	}
	switch o.Decision.Action {
	case triage.ActionTicket:
		s.Ticket++
	case triage.ActionDraft:
		s.Draft++
	case triage.ActionSuggest:
		s.Suggest++
	}
}

// Triage classifies and decides messages, storing each verdict — result,
// decision, and for a ticket its outbox rows — and wakes the sender when
// it queued an event. Messages stream through in batches: one goroutine
// reads a batch from the store while the previous one is classified (at
// most Options.Concurrency at a time) and the one before is stored, in one
// transaction per batch; nothing is kept per message once Each saw it, so
// memory does not grow with the queue. A message that fails carries its
// error and the run goes on; the returned error joins those failures, or
// is the queue or context error that stopped the run. One run at a time:
// a second caller waits for the first.
func (a *App) Triage(ctx context.Context, req TriageRequest) (TriageSummary, error) {
	a.triageMu.Lock()
	defer a.triageMu.Unlock()
	r := &triageRun{a: a, each: req.Each, total: len(req.IDs)}
	if req.IDs == nil {
		n, err := a.db.InboxCount(ctx, queueFilter(req.All))
		if err != nil {
			return TriageSummary{}, fmt.Errorf("triage: %w", err)
		}
		if n == 0 {
			return TriageSummary{}, nil
		}
		r.total = n
	} else if len(req.IDs) == 0 {
		return TriageSummary{}, nil
	}
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	in := make(chan []*mail.Message)
	var loadErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if req.IDs != nil {
			loadErr = a.loadIDs(lctx, req.IDs, in)
		} else {
			loadErr = a.loadQueue(lctx, req.All, in)
		}
	}()
	sum, err := r.run(ctx, in)
	<-done
	if loadErr != nil && ctx.Err() == nil {
		return sum, fmt.Errorf("triage: %w", loadErr)
	}
	return sum, err
}

// queueFilter selects the triage queue in the inbox's terms.
func queueFilter(all bool) db.InboxFilter {
	if all {
		return db.InboxFilter{}
	}
	return db.InboxFilter{Intent: "untriaged"}
}

// SuggestTicket records a person's decision that an email is a ticket and
// queues its ticket.suggested event (built from the stored triage result,
// the unchanged payload contract) in one transaction, then wakes the
// sender. It fails with db.ErrDuplicateEvent when the email already has a
// ticket event.
func (a *App) SuggestTicket(ctx context.Context, emailID, who string) error {
	md, err := a.db.MessageDetail(ctx, emailID)
	if err != nil {
		return fmt.Errorf("suggest ticket: %w", err)
	}
	r := triage.Result{Intent: triage.IntentSupport, Priority: triage.PriorityNormal, Confidence: 1}
	if t := md.Triage; t != nil && t.Intent != "" {
		r.Intent, r.Priority, r.Summary = triage.Intent(t.Intent), triage.Priority(t.Priority), t.Summary
		r.Confidence = t.Confidence
	}
	payload, err := triage.TicketPayload(md.Message, r, a.triage.RawEmailURL)
	if err != nil {
		return fmt.Errorf("suggest ticket: %w", err)
	}
	if _, err := a.db.OverrideTicket(ctx, emailID, who, payload); err != nil {
		return fmt.Errorf("suggest ticket: %w", err)
	}
	a.markKeyword(ctx, emailID, mail.KeywordTicket)
	a.record(ctx, who, "suggested a ticket", "", emailID)
	a.wake()
	a.changed(TopicTriage | TopicDeliveries | TopicEndpoints)
	return nil
}

// NotTicket records a person's decision that an email is not a ticket and
// cancels its undelivered deliveries; it returns how many it canceled. It
// fails with db.ErrDeliveryStarted once a delivery was attempted: an event
// that reached the receiver cannot be called back.
func (a *App) NotTicket(ctx context.Context, emailID, who string) (int, error) {
	n, err := a.db.OverrideNotTicket(ctx, emailID, who)
	if errors.Is(err, db.ErrDeliveryStarted) {
		return 0, fmt.Errorf("not a ticket: the ticket.suggested event was already sent to the receiver: %w", db.ErrDeliveryStarted)
	}
	if err != nil {
		return 0, err
	}
	a.markKeyword(ctx, emailID, mail.KeywordNotTicket)
	a.record(ctx, who, "marked not a ticket", "", emailID)
	// The sender re-reads its queues: a canceled head must not go out.
	a.wake()
	a.changed(TopicTriage | TopicDeliveries | TopicEndpoints)
	return n, nil
}

// since returns the tally of s beyond an earlier tally of the same run.
func (s TriageSummary) since(before TriageSummary) TriageSummary {
	return TriageSummary{Total: s.Total - before.Total, Failed: s.Failed - before.Failed,
		Ticket: s.Ticket - before.Ticket, Draft: s.Draft - before.Draft, Suggest: s.Suggest - before.Suggest}
}
