package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"smista/triage"
)

// ErrDeliveryStarted is returned by OverrideNotTicket when a delivery of
// the email's ticket event has already been attempted or delivered: "not a
// ticket" only applies before delivery starts.
var ErrDeliveryStarted = errors.New("delivery already started")

// TriageQueue returns the email ids to triage, oldest first: the messages
// without a triage result, or every message when all is true.
func (d *DB) TriageQueue(ctx context.Context, all bool) ([]string, error) {
	q := `SELECT id FROM messages m`
	if !all {
		q += ` WHERE NOT EXISTS (SELECT 1 FROM triage_results t WHERE t.message_id = m.id)`
	}
	rows, err := d.r.QueryContext(ctx, q+` ORDER BY date, id`)
	if err != nil {
		return nil, fmt.Errorf("triage queue: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("triage queue: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("triage queue: %w", err)
	}
	return ids, nil
}

// SaveTriage stores a triage verdict in one transaction: the result
// (replacing an older one), the engine's decision unless a human decided
// already (a human decision is never overwritten, and then nothing is
// queued), a pending reply draft for a draft action (unless one is pending
// already), and for a ticket the event with one delivery per endpoint. A
// message that already has its event is not queued again. Any failure
// rolls the whole verdict back.
func (d *DB) SaveTriage(ctx context.Context, rec triage.Record) (triage.Saved, error) {
	var saved triage.Saved
	now := d.nowMS()
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return saved, fmt.Errorf("save triage: %w", err)
	}
	defer tx.Rollback()
	if err := upsertTriageResult(ctx, tx, now, rec); err != nil {
		return saved, err
	}
	human, humanAction, err := humanDecision(ctx, tx, rec.EmailID)
	if err != nil {
		return saved, err
	}
	if human != "" {
		saved.HumanDecision, saved.HumanAction = human, humanAction
	} else {
		if err := upsertEngineDecision(ctx, tx, now, rec); err != nil {
			return saved, err
		}
		switch rec.Decision.Action {
		case triage.ActionDraft:
			if err := ensurePendingDraft(ctx, tx, now, rec.EmailID, rec.Result.Draft); err != nil {
				return saved, err
			}
		case triage.ActionTicket:
			_, err := enqueueEventTx(ctx, tx, d.newID, now, NewEvent{
				Type: triage.EventTicketSuggested, MessageID: rec.EmailID, Payload: rec.Payload, DecidedBy: "engine",
			})
			switch {
			case errors.Is(err, ErrDuplicateEvent): // queued by an earlier triage: once is enough
			case err != nil:
				return saved, fmt.Errorf("save triage %s: %w", rec.EmailID, err)
			default:
				saved.Queued = true
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return triage.Saved{}, fmt.Errorf("save triage %s: %w", rec.EmailID, err)
	}
	return saved, nil
}

func upsertTriageResult(ctx context.Context, tx *sql.Tx, now int64, rec triage.Record) error {
	r := rec.Result
	flags := r.Flags
	if flags == nil {
		flags = []triage.Flag{}
	}
	notes := r.Notes
	if notes == nil {
		notes = []string{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO triage_results (message_id, intent, confidence, priority,
		summary, language, flags, draft, model, prompt_version, tokens_in, tokens_out, notes, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (message_id) DO UPDATE SET intent = excluded.intent, confidence = excluded.confidence,
		priority = excluded.priority, summary = excluded.summary, language = excluded.language,
		flags = excluded.flags, draft = excluded.draft, model = excluded.model,
		prompt_version = excluded.prompt_version, tokens_in = excluded.tokens_in,
		tokens_out = excluded.tokens_out, notes = excluded.notes, created_at = excluded.created_at`,
		rec.EmailID, string(r.Intent), r.Confidence, string(r.Priority), r.Summary, r.Language,
		mustJSON(flags), r.Draft, r.Model, rec.PromptVersion, r.Usage.InputTokens, r.Usage.OutputTokens,
		mustJSON(notes), now)
	if err != nil {
		return fmt.Errorf("save triage result %s: %w", rec.EmailID, err)
	}
	return nil
}

// humanDecision returns who decided the message and what, when it was not
// the engine.
func humanDecision(ctx context.Context, tx *sql.Tx, emailID string) (string, triage.Action, error) {
	var by, action string
	err := tx.QueryRowContext(ctx, `SELECT decided_by, action FROM decisions WHERE message_id = ?`, emailID).Scan(&by, &action)
	if errors.Is(err, sql.ErrNoRows) || by == "engine" {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("save triage %s: %w", emailID, err)
	}
	return by, triage.Action(action), nil
}

func upsertEngineDecision(ctx context.Context, tx *sql.Tx, now int64, rec triage.Record) error {
	reasons := rec.Decision.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO decisions (message_id, action, reasons, suggestion, decided_by, decided_at)
		VALUES (?, ?, ?, ?, 'engine', ?)
		ON CONFLICT (message_id) DO UPDATE SET action = excluded.action, reasons = excluded.reasons,
		suggestion = excluded.suggestion, decided_by = 'engine', decided_at = excluded.decided_at
		WHERE decisions.decided_by = 'engine'`,
		rec.EmailID, string(rec.Decision.Action), mustJSON(reasons), rec.Decision.Suggestion, now)
	if err != nil {
		return fmt.Errorf("save decision %s: %w", rec.EmailID, err)
	}
	return nil
}

// ensurePendingDraft adds a pending draft unless the message has one.
func ensurePendingDraft(ctx context.Context, tx *sql.Tx, now int64, emailID, body string) error {
	if body == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO drafts (message_id, body, status, created_at, updated_at)
		SELECT ?, ?, 'pending', ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM drafts WHERE message_id = ? AND status = 'pending')`,
		emailID, body, now, now, emailID)
	if err != nil {
		return fmt.Errorf("save draft %s: %w", emailID, err)
	}
	return nil
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
