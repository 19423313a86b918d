package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

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
	// as soon as its window is stored; nothing is kept after it returns.
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
// decision, and for a ticket its outbox rows — in one transaction per
// message, and wakes the sender when it queued an event. Messages are
// streamed through in windows, at most Options.Concurrency classified at
// a time, so memory does not grow with the queue. A message that fails
// carries its error and the run goes on; the returned error joins those
// failures, or is the queue or context error that stopped the run. One
// run at a time: a second caller waits for the first.
func (a *App) Triage(ctx context.Context, req TriageRequest) (TriageSummary, error) {
	a.triageMu.Lock()
	defer a.triageMu.Unlock()
	var sum TriageSummary
	ids := req.IDs
	if ids == nil {
		var err error
		if ids, err = a.db.TriageQueue(ctx, req.All); err != nil {
			return sum, fmt.Errorf("triage: %w", err)
		}
	}
	if len(ids) == 0 {
		return sum, nil
	}
	total := len(ids)
	a.bus.Publish(TriageProgress{Working: true, Total: total})
	defer func() {
		a.bus.Publish(TriageProgress{Done: sum.Total, Total: total})
		a.changed(TopicTriage | TopicDrafts | TopicDeliveries | TopicEndpoints)
	}()
	var errs []error
	window := a.conc * 16
	for start := 0; start < len(ids); start += window {
		outs := a.triageWindow(ctx, ids[start:min(start+window, len(ids))])
		for _, o := range outs {
			sum.add(o)
			if o.Err != nil {
				errs = append(errs, o.Err)
			}
			if req.Each != nil {
				req.Each(o)
			}
		}
		a.bus.Publish(TriageProgress{Working: sum.Total < total, Done: sum.Total, Total: total})
		if err := ctx.Err(); err != nil {
			return sum, fmt.Errorf("triage: %w", err)
		}
	}
	return sum, errors.Join(errs...)
}

// triageWindow triages ids concurrently and returns their outputs in order.
func (a *App) triageWindow(ctx context.Context, ids []string) []TriageOutput {
	out := make([]TriageOutput, len(ids))
	var queued sync.Once
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.conc)
	for i, id := range ids {
		if gctx.Err() != nil {
			out[i] = TriageOutput{Message: &mail.Message{ID: id}, Err: fmt.Errorf("triage %s: %w", id, gctx.Err())}
			continue
		}
		g.Go(func() error {
			out[i] = a.triageOne(gctx, id)
			if out[i].Queued {
				queued.Do(a.wake)
			}
			return nil
		})
	}
	_ = g.Wait() // workers report through out, never through the group
	return out
}

func (a *App) triageOne(ctx context.Context, id string) TriageOutput {
	m, err := a.db.Message(ctx, id)
	if err != nil {
		return TriageOutput{Message: &mail.Message{ID: id}, Err: fmt.Errorf("triage %s: %w", id, err)}
	}
	c, err := a.classify()
	if err != nil {
		return TriageOutput{Message: m, Err: fmt.Errorf("triage %s: %w", id, err)}
	}
	opts := a.triage
	if ex := a.examplesFor(ctx, m); len(ex) > 0 {
		opts.Context.Examples = ex
	}
	r, d, payload, err := triage.Triage(ctx, c, m, opts)
	if err != nil {
		return TriageOutput{Message: m, Err: fmt.Errorf("triage %s: %w", id, err)}
	}
	if d.Action == triage.ActionTicket {
		// A shared mailbox: exactly one installation queues the ticket.
		lost, reason := a.claimTicket(ctx, id)
		if reason != "" {
			d.Reasons = append(d.Reasons, reason)
		}
		if lost {
			d.Action, d.Suggestion, payload = triage.ActionSuggest, SuggestClaimedElsewhere, nil
		}
	}
	saved, err := a.db.SaveTriage(ctx, triage.Record{EmailID: id, Result: r, Decision: d, Payload: payload,
		PromptVersion: a.triage.PromptVersion})
	if err != nil {
		return TriageOutput{Message: m, Result: r, Decision: d, Err: fmt.Errorf("triage %s: %w", id, err)}
	}
	if saved.HumanDecision != "" {
		d.Action = saved.HumanAction
		d.Reasons = append(d.Reasons, "decision kept: "+saved.HumanDecision)
	}
	return TriageOutput{Message: m, Result: r, Decision: d, Queued: saved.Queued}
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

// MarkSeen marks an email as read.
func (a *App) MarkSeen(ctx context.Context, id string) error {
	if err := a.db.MarkSeen(ctx, id); err != nil {
		return err
	}
	a.changed(TopicMessages)
	return nil
}
