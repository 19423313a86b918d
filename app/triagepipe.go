package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"smista/db"
	"smista/mail"
	"smista/triage"
)

// A triage run reads, classifies and stores its messages in batches of
// triageBatch at most (one read of the store, one write transaction), and
// of triageBatchBytes of raw mail: the stages hand batches to each other
// without a buffer, so a run holds three batches at a time.
const (
	triageBatch      = 128
	triageBatchBytes = 2 << 20
)

// triageRun is one streaming triage: batches of messages in, their
// messages classified by Concurrency workers that go on to the next
// batch while a batch's last messages finish (a slow message stalls no
// core), each batch stored in one transaction once all of it is
// classified, then reported in order. Nothing is kept per message once
// its batch is reported, so a run over 100,000 messages holds a few
// batches at a time.
type triageRun struct {
	a    *App
	each func(TriageOutput)
	// total is what progress reports as the run's size (0: not known).
	total int
	// burst, when set, is told what the messages triaged since its last
	// call became, each time the run has caught up with its input (a
	// watcher's run: one line per burst of new mail).
	burst func(sum TriageSummary, failed error)
	sum   TriageSummary
	errs  []error
}

// classifying is a batch handed to the workers: outs fills in as they
// classify its messages; done is closed when the last one is.
type classifying struct {
	outs []TriageOutput
	left atomic.Int32
	done chan struct{}
}

// classifyJob is one message of a batch for a worker.
type classifyJob struct {
	b *classifying
	i int
	m *mail.Message
}

// run triages every batch that in delivers until it is closed, then
// reports the end of the run. A batch's messages either carry their body
// or not yet (Header nil: only their raw mail, as the store reads them):
// those are parsed first, on the classifying goroutines.
func (r *triageRun) run(ctx context.Context, in <-chan []*mail.Message) (TriageSummary, error) {
	a := r.a
	a.bus.Publish(TriageProgress{Working: true, Total: r.total})
	defer func() {
		a.bus.Publish(TriageProgress{Done: r.sum.Total, Total: max(r.total, r.sum.Total)})
		a.changed(TopicTriage | TopicDrafts | TopicDeliveries | TopicEndpoints)
	}()
	classified := make(chan *classifying)
	jobs := make(chan classifyJob)
	var wg sync.WaitGroup
	for range a.conc {
		wg.Go(func() {
			for j := range jobs {
				j.b.outs[j.i] = a.classifyJob(ctx, j.m)
				if j.b.left.Add(-1) == 0 {
					close(j.b.done)
				}
			}
		})
	}
	wg.Go(func() {
		defer close(classified)
		defer close(jobs)
		for msgs := range in {
			b := &classifying{outs: make([]TriageOutput, len(msgs)), done: make(chan struct{})}
			b.left.Store(int32(len(msgs)))
			if len(msgs) == 0 {
				close(b.done)
			}
			for i, m := range msgs {
				jobs <- classifyJob{b: b, i: i, m: m}
			}
			select {
			case classified <- b:
			case <-ctx.Done():
				for range in { // let the producer finish
				}
				return
			}
		}
	})
	var mark TriageSummary // the tally at the last burst
	markErrs := 0
	for b := range classified {
		<-b.done
		outs := b.outs
		r.store(ctx, outs)
		for _, o := range outs {
			r.sum.add(o)
			if o.Err != nil {
				r.errs = append(r.errs, o.Err)
			}
			if r.each != nil {
				r.each(o)
			}
		}
		a.bus.Publish(TriageProgress{Working: true, Done: r.sum.Total, Total: max(r.total, r.sum.Total)})
		if r.burst != nil {
			a.changed(TopicTriage | TopicDrafts | TopicDeliveries | TopicEndpoints)
			if len(classified) == 0 && len(in) == 0 {
				r.burst(r.sum.since(mark), errors.Join(r.errs[markErrs:]...))
				mark, markErrs = r.sum, len(r.errs)
			}
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return r.sum, fmt.Errorf("triage: %w", err)
	}
	return r.sum, errors.Join(r.errs...)
}

// classifyJob classifies one message of a batch, or fails it when ctx
// is done.
func (a *App) classifyJob(ctx context.Context, m *mail.Message) TriageOutput {
	if err := ctx.Err(); err != nil {
		return TriageOutput{Message: m, Err: fmt.Errorf("triage %s: %w", m.ID, err)}
	}
	return a.classifyOne(ctx, m)
}

func (a *App) classifyOne(ctx context.Context, m *mail.Message) TriageOutput {
	if m.MessageID == "" {
		return TriageOutput{Message: m, Err: fmt.Errorf("triage %s: message %s: %w", m.ID, m.ID, db.ErrNotFound)}
	}
	opts := a.triage
	if m.Header == nil {
		// the rules' facts of an HTML body are gathered while it is
		// rendered as the text, not in a second walk
		facts := new(triage.HTMLFacts)
		if mail.FillBodySeeing(m, facts.See) {
			facts.Cover(m.HTML)
			opts.Context.HTML = facts
		}
	}
	c, err := a.classify()
	if err != nil {
		return TriageOutput{Message: m, Err: fmt.Errorf("triage %s: %w", m.ID, err)}
	}
	if ex := a.examplesFor(ctx, m); len(ex) > 0 {
		opts.Context.Examples = ex
	}
	res, d, payload, err := triage.Triage(ctx, c, m, opts)
	if err != nil {
		return TriageOutput{Message: m, Err: fmt.Errorf("triage %s: %w", m.ID, err)}
	}
	if d.Action == triage.ActionTicket {
		// A shared mailbox: exactly one installation queues the ticket.
		lost, reason := a.claimTicket(ctx, m.ID)
		if reason != "" {
			d.Reasons = append(d.Reasons, reason)
		}
		if lost {
			d.Action, d.Suggestion, payload = triage.ActionSuggest, SuggestClaimedElsewhere, nil
		}
	}
	return TriageOutput{Message: m, Result: res, Decision: d, payload: payload}
}

// store saves the classified outputs of a batch in one transaction and
// wakes the sender when it queued an event.
func (r *triageRun) store(ctx context.Context, outs []TriageOutput) {
	a := r.a
	recs := make([]triage.Record, 0, len(outs))
	idx := make([]int, 0, len(outs))
	for i, o := range outs {
		if o.Err != nil {
			continue
		}
		recs = append(recs, triage.Record{EmailID: o.Message.ID, Result: o.Result, Decision: o.Decision,
			Payload: o.payload, PromptVersion: a.triage.PromptVersion})
		idx = append(idx, i)
	}
	if len(recs) == 0 {
		return
	}
	queued := false
	for j, s := range a.db.SaveTriageBatch(ctx, recs) {
		o := &outs[idx[j]]
		o.payload = nil
		if s.Err != nil {
			o.Err = fmt.Errorf("triage %s: %w", o.Message.ID, s.Err)
			continue
		}
		if s.HumanDecision != "" {
			o.Decision.Action = s.HumanAction
			o.Decision.Reasons = append(o.Decision.Reasons, "decision kept: "+s.HumanDecision)
		}
		o.Queued = s.Queued
		queued = queued || s.Queued
	}
	if queued {
		a.wake()
	}
}

// loadIDs sends the messages of ids to out in batches, in order; an id
// the store does not hold is sent as a message with only its id (no
// Message-ID, which every stored message has), which fails with
// db.ErrNotFound when classified.
func (a *App) loadIDs(ctx context.Context, ids []string, out chan<- []*mail.Message) error {
	defer close(out)
	for start := 0; start < len(ids); start += triageBatch {
		chunk := ids[start:min(start+triageBatch, len(ids))]
		msgs, err := a.db.LoadMessages(ctx, chunk)
		if err != nil {
			return err
		}
		batch := make([]*mail.Message, len(chunk))
		j := 0
		for i, id := range chunk {
			if j < len(msgs) && msgs[j].ID == id {
				batch[i] = msgs[j]
				j++
				continue
			}
			batch[i] = &mail.Message{ID: id}
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// loadQueue sends the store's triage queue to out in batches.
func (a *App) loadQueue(ctx context.Context, all bool, out chan<- []*mail.Message) error {
	defer close(out)
	var after *db.QueueKey
	for {
		msgs, next, err := a.db.TriageBatch(ctx, all, after, triageBatch, triageBatchBytes)
		if err != nil {
			return err
		}
		if len(msgs) > 0 {
			select {
			case out <- msgs:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if next == nil {
			return nil
		}
		after = next
	}
}
