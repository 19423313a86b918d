package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"smista/triage"
)

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
