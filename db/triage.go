package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"smista/mail"
	"smista/triage"
)

// ErrDeliveryStarted is returned by OverrideNotTicket when a delivery of
// the email's ticket event has already been attempted or delivered: "not a
// ticket" only applies before delivery starts.
var ErrDeliveryStarted = errors.New("delivery already started")

// TriageQueue returns the email ids to triage, oldest first: the messages
// without a triage result, or every message when all is true.
func (d *DB) TriageQueue(ctx context.Context, all bool) ([]string, error) {
	var ids []string
	var after *QueueKey
	for {
		msgs, next, err := d.TriageBatch(ctx, all, after, 1000, 0)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			ids = append(ids, m.ID)
		}
		if next == nil {
			return ids, nil
		}
		after = next
	}
}

// QueueKey is a message's place in the triage queue (oldest first).
type QueueKey struct {
	Date int64 // unix milliseconds
	ID   string
}

// TriageBatch returns up to limit messages of the triage queue after
// after (nil: from the start), oldest first — the untriaged ones, or every
// message when all is true — with their raw mail but not their body (see
// LoadMessages), and the key to continue from (nil at the end). A batch
// ends early once its raw mail reaches maxBytes (0: no bound). Paging by
// key, a run over 100,000 messages holds one batch at a time.
func (d *DB) TriageBatch(ctx context.Context, all bool, after *QueueKey, limit, maxBytes int) ([]*mail.Message, *QueueKey, error) {
	q := `SELECT ` + messageColumns + messageFrom + ` WHERE (m.date, m.id) > (?, ?)`
	if !all {
		q += ` AND m.intent IS NULL`
	}
	q += ` ORDER BY m.date, m.id LIMIT ?`
	k := QueueKey{Date: math.MinInt64}
	if after != nil {
		k = *after
	}
	rows, err := d.r.QueryContext(ctx, q, k.Date, k.ID, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("triage queue: %w", err)
	}
	defer rows.Close()
	var out []*mail.Message
	size := 0
	for rows.Next() {
		m, err := d.scanMessage(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("triage queue: %w", err)
		}
		k = QueueKey{Date: m.Date.UnixMilli(), ID: m.ID}
		out = append(out, m)
		if size += len(m.Raw); maxBytes > 0 && size >= maxBytes {
			return out, &k, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("triage queue: %w", err)
	}
	if len(out) < limit {
		return out, nil, nil
	}
	return out, &k, nil
}

// SaveTriage stores one triage verdict in one transaction: SaveTriageBatch
// of one record.
func (d *DB) SaveTriage(ctx context.Context, rec triage.Record) (triage.Saved, error) {
	out := d.SaveTriageBatch(ctx, []triage.Record{rec})
	return out[0].Saved, out[0].Err
}

// TriageSaved is what SaveTriageBatch did with one record.
type TriageSaved struct {
	triage.Saved
	// Err is why the record was not stored (then nothing of it was).
	Err error
}

// SaveTriageBatch stores triage verdicts, each as SaveTriage describes: the
// result (replacing an older one), the engine's decision unless a human
// decided already (a human decision is never overwritten, and then
// nothing is queued), a pending reply draft for a draft action (unless one
// is pending already), and for a ticket the event with one delivery per
// endpoint. A message that already has its event is not queued again. The
// batch is one transaction with its statements prepared once; when it
// fails, each record is tried in a transaction of its own, so one bad
// record fails alone. It returns what happened to each record, in order.
func (d *DB) SaveTriageBatch(ctx context.Context, recs []triage.Record) []TriageSaved {
	out := make([]TriageSaved, len(recs))
	st, err := d.prepareTriage(ctx)
	if err != nil {
		for i := range out {
			out[i].Err = fmt.Errorf("save triage %s: %w", recs[i].EmailID, err)
		}
		return out
	}
	saved, err := d.saveTriageTx(ctx, st, recs)
	if err == nil {
		for i := range out {
			out[i].Saved = saved[i]
		}
		return out
	}
	if len(recs) == 1 || ctx.Err() != nil {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	for i := range recs {
		one, err := d.saveTriageTx(ctx, st, recs[i:i+1])
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].Saved = one[0]
	}
	return out
}

// upsertResultsSQL and upsertDecisionsSQL write a chunk of verdicts per
// statement (recordChunks rows at most; a statement's fixed cost is a
// large part of a small row's). A decision is written only over the
// engine's own: a person's decision is never replaced.
var (
	upsertResultsSQL = chunkSQL(14, `INSERT INTO triage_results (message_id, intent, confidence, priority,
		summary, language, flags, draft, model, prompt_version, tokens_in, tokens_out, notes, created_at)
		VALUES %s
		ON CONFLICT (message_id) DO UPDATE SET intent = excluded.intent, confidence = excluded.confidence,
		priority = excluded.priority, summary = excluded.summary, language = excluded.language,
		flags = excluded.flags, draft = excluded.draft, model = excluded.model,
		prompt_version = excluded.prompt_version, tokens_in = excluded.tokens_in,
		tokens_out = excluded.tokens_out, notes = excluded.notes, created_at = excluded.created_at`)
	upsertDecisionsSQL = chunkSQL(5, `INSERT INTO decisions (message_id, action, reasons, suggestion, decided_at)
		VALUES %s
		ON CONFLICT (message_id) DO UPDATE SET action = excluded.action, reasons = excluded.reasons,
		suggestion = excluded.suggestion, decided_by = 'engine', decided_at = excluded.decided_at
		WHERE decisions.decided_by = 'engine'`)
)

const (
	humanDecisionsSQL = `SELECT message_id, decided_by, action FROM decisions
		WHERE message_id IN (SELECT value FROM json_each(?)) AND decided_by != 'engine'`
	// drafts_message by name: without statistics SQLite takes the status
	// index, and reads every pending draft for each verdict.
	pendingDraftSQL = `INSERT INTO drafts (message_id, body, status, created_at, updated_at)
		SELECT ?1, ?2, 'pending', ?3, ?3
		WHERE NOT EXISTS (SELECT 1 FROM drafts INDEXED BY drafts_message WHERE message_id = ?1 AND status = 'pending')`
)

// triageStmts are the statements of a triage save, prepared once per
// store (the chunked ones in the store's cache).
type triageStmts struct {
	human, draft *sql.Stmt
}

func (d *DB) prepareTriage(ctx context.Context) (triageStmts, error) {
	var st triageStmts
	for _, q := range []*chunked{&upsertResultsSQL, &upsertDecisionsSQL} {
		for _, s := range q {
			if _, err := d.ws.prepare(ctx, s); err != nil {
				return st, err
			}
		}
	}
	var err error
	if st.human, err = d.ws.prepare(ctx, humanDecisionsSQL); err != nil {
		return st, err
	}
	st.draft, err = d.ws.prepare(ctx, pendingDraftSQL)
	return st, err
}

// saveTriageTx stores recs in one transaction.
func (d *DB) saveTriageTx(ctx context.Context, st triageStmts, recs []triage.Record) ([]triage.Saved, error) {
	now := d.nowMS()
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("save triage: %w", err)
	}
	defer tx.Rollback()
	humans, err := humanDecisions(ctx, tx.StmtContext(ctx, st.human), recs)
	if err != nil {
		return nil, err
	}
	draft := tx.StmtContext(ctx, st.draft)
	var enq *enqueuer
	defer func() {
		if enq != nil {
			enq.close()
		}
	}()
	results := make([]any, 0, 14*len(recs))
	var decisions []any
	saved := make([]triage.Saved, len(recs))
	for i, rec := range recs {
		results = appendResult(results, now, rec)
		if h, ok := humans[rec.EmailID]; ok {
			saved[i].HumanDecision, saved[i].HumanAction = h.by, h.action
			continue
		}
		decisions = append(decisions, rec.EmailID, string(rec.Decision.Action), jsonStrings(rec.Decision.Reasons),
			rec.Decision.Suggestion, now)
	}
	if err := execChunks(ctx, tx, d.ws, &upsertResultsSQL, nil, results, 14); err != nil {
		return nil, fmt.Errorf("save triage results: %w", err)
	}
	if err := execChunks(ctx, tx, d.ws, &upsertDecisionsSQL, nil, decisions, 5); err != nil {
		return nil, fmt.Errorf("save decisions: %w", err)
	}
	for i, rec := range recs {
		if saved[i].HumanDecision != "" {
			continue
		}
		switch rec.Decision.Action {
		case triage.ActionDraft:
			if rec.Result.Draft == "" {
				break
			}
			if _, err := draft.ExecContext(ctx, rec.EmailID, rec.Result.Draft, now); err != nil {
				return nil, fmt.Errorf("save draft %s: %w", rec.EmailID, err)
			}
		case triage.ActionTicket:
			if enq == nil {
				if enq, err = newEnqueuer(ctx, tx, d.newID); err != nil {
					return nil, fmt.Errorf("save triage %s: %w", rec.EmailID, err)
				}
			}
			_, err := enq.enqueue(ctx, now, NewEvent{
				Type: triage.EventTicketSuggested, MessageID: rec.EmailID, Payload: rec.Payload, DecidedBy: "engine",
			})
			switch {
			case errors.Is(err, ErrDuplicateEvent): // queued by an earlier triage: once is enough
			case err != nil:
				return nil, fmt.Errorf("save triage %s: %w", rec.EmailID, err)
			default:
				saved[i].Queued = true
			}
		}
	}
	if enq != nil {
		if err := enq.close(); err != nil {
			return nil, fmt.Errorf("save triage: %w", err)
		}
		enq = nil
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("save triage: %w", err)
	}
	return saved, nil
}

// appendResult appends the upsertResultsSQL row of rec to args.
func appendResult(args []any, now int64, rec triage.Record) []any {
	r := rec.Result
	flags := make([]string, len(r.Flags))
	for i, f := range r.Flags {
		flags[i] = string(f)
	}
	return append(args, rec.EmailID, string(r.Intent), r.Confidence, string(r.Priority), r.Summary, r.Language,
		jsonStrings(flags), r.Draft, r.Model, rec.PromptVersion, r.Usage.InputTokens, r.Usage.OutputTokens,
		jsonStrings(r.Notes), now)
}

type humanDecision struct {
	by     string
	action triage.Action
}

// humanDecisions returns the decisions a person made on recs' messages.
func humanDecisions(ctx context.Context, stmt *sql.Stmt, recs []triage.Record) (map[string]humanDecision, error) {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.EmailID
	}
	rows, err := stmt.QueryContext(ctx, mustJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("save triage: %w", err)
	}
	defer rows.Close()
	out := map[string]humanDecision{}
	for rows.Next() {
		var id, by, action string
		if err := rows.Scan(&id, &by, &action); err != nil {
			return nil, fmt.Errorf("save triage: %w", err)
		}
		out[id] = humanDecision{by: by, action: triage.Action(action)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("save triage: %w", err)
	}
	return out, nil
}

// TriageInfo is a message's stored triage result and decision.
type TriageInfo struct {
	Intent     string
	Confidence float64
	Priority   string
	Summary    string
	Language   string
	Flags      []string
	Model      string
	Notes      []string
	At         time.Time
	// CorrectedIntent is the intent a person set ("" when none), by
	// CorrectedBy; Intent stays the model's.
	CorrectedIntent, CorrectedBy string
	// The decision; Action is "" when none was recorded.
	Action     string
	Reasons    []string
	Suggestion string
	DecidedBy  string
	DecidedAt  time.Time
}

// triageInfo returns the stored triage result and decision of the email
// id, nil when it has neither.
func (d *DB) triageInfo(ctx context.Context, id string) (*TriageInfo, error) {
	var ti *TriageInfo
	var t TriageInfo
	var flags, notes string
	var at int64
	err := d.r.QueryRowContext(ctx, `SELECT intent, confidence, priority, summary, language, flags, model, notes, created_at
		FROM triage_results WHERE message_id = ?`, id).Scan(&t.Intent, &t.Confidence, &t.Priority,
		&t.Summary, &t.Language, &flags, &t.Model, &notes, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("triage: %w", err)
	default:
		t.Flags, t.Notes, t.At = decodeStrings(flags), decodeStrings(notes), time.UnixMilli(at)
		ti = &t
	}
	var reasons string
	var dAt int64
	var dec TriageInfo
	err = d.r.QueryRowContext(ctx, `SELECT action, reasons, suggestion, decided_by, decided_at FROM decisions WHERE message_id = ?`, id).
		Scan(&dec.Action, &reasons, &dec.Suggestion, &dec.DecidedBy, &dAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("decision: %w", err)
	default:
		if ti == nil {
			ti = &TriageInfo{Confidence: -1}
		}
		ti.Action, ti.Reasons, ti.Suggestion = dec.Action, decodeStrings(reasons), dec.Suggestion
		ti.DecidedBy, ti.DecidedAt = dec.DecidedBy, time.UnixMilli(dAt)
	}
	if ti != nil {
		err = d.r.QueryRowContext(ctx, `SELECT intent, decided_by FROM corrections WHERE message_id = ?`, id).
			Scan(&ti.CorrectedIntent, &ti.CorrectedBy)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("correction: %w", err)
		}
	}
	return ti, nil
}

// OverrideTicket records a human decision that the email is a ticket and
// queues its ticket.suggested event (payload built by the caller with the
// unchanged contract), in one transaction. It returns the event id, or
// ErrDuplicateEvent when the email already has a ticket event.
func (d *DB) OverrideTicket(ctx context.Context, emailID, who string, payload []byte) (string, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("override ticket: %w", err)
	}
	defer tx.Rollback()
	now := d.nowMS()
	by := "human:" + who
	if err := upsertDecisionTx(ctx, tx, emailID, "ticket", []string{"human override: suggested as ticket by " + who}, "", by, now); err != nil {
		return "", err
	}
	id, err := enqueueEventTx(ctx, tx, d.newID, now, NewEvent{Type: "ticket.suggested", MessageID: emailID, Payload: payload, DecidedBy: by})
	if err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("override ticket: %w", err)
	}
	return id, nil
}

// OverrideNotTicket records a human decision that the email is not a
// ticket and cancels its undelivered ticket deliveries, in one transaction.
// It returns how many deliveries it canceled, or ErrDeliveryStarted when any
// of them was already attempted or delivered (then nothing changes).
func (d *DB) OverrideNotTicket(ctx context.Context, emailID, who string) (int, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("override not ticket: %w", err)
	}
	defer tx.Rollback()
	var started int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries dl JOIN events e ON e.id = dl.event_id
		WHERE e.message_id = ? AND e.type = 'ticket.suggested' AND e.test = 0
		AND (dl.attempts > 0 OR dl.status IN ('delivered', 'dead', 'retrying'))`, emailID).Scan(&started); err != nil {
		return 0, fmt.Errorf("override not ticket: %w", err)
	}
	if started > 0 {
		return 0, fmt.Errorf("override not ticket: %w", ErrDeliveryStarted)
	}
	now := d.nowMS()
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'canceled', next_attempt_at = NULL, updated_at = ?
		WHERE status IN ('pending', 'paused') AND event_id IN
		(SELECT id FROM events WHERE message_id = ? AND type = 'ticket.suggested' AND test = 0)`, now, emailID)
	if err != nil {
		return 0, fmt.Errorf("override not ticket: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := upsertDecisionTx(ctx, tx, emailID, "suggest", []string{"human override: not a ticket, by " + who},
		"not a ticket", "human:"+who, now); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("override not ticket: %w", err)
	}
	return int(n), nil
}

func upsertDecisionTx(ctx context.Context, tx *sql.Tx, emailID, action string, reasons []string, suggestion, by string, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO decisions (message_id, action, reasons, suggestion, decided_by, decided_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (message_id) DO UPDATE SET action = excluded.action, reasons = excluded.reasons,
		suggestion = excluded.suggestion, decided_by = excluded.decided_by, decided_at = excluded.decided_at`,
		emailID, action, mustJSON(reasons), suggestion, by, now)
	if err != nil {
		return fmt.Errorf("record decision: %w", err)
	}
	return nil
}
