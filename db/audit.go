package db

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one recorded action of a person.
type AuditEntry struct {
	At      time.Time
	Actor   string // "human:<name>"
	Action  string // "suggest-ticket", "approve-draft", "replay", ...
	Target  string // the draft, delivery or endpoint acted on
	EmailID string // the email it concerns, "" for none
}

// RecordAction appends e to the audit log (At zero: now). It fails only
// when the store cannot be written.
func (d *DB) RecordAction(ctx context.Context, e AuditEntry) error {
	at := e.At.UnixMilli()
	if e.At.IsZero() {
		at = d.nowMS()
	}
	var email any
	if e.EmailID != "" {
		email = e.EmailID
	}
	if _, err := d.w.ExecContext(ctx, `INSERT INTO audit (at, actor, action, target, email_id) VALUES (?, ?, ?, ?, ?)`,
		at, e.Actor, e.Action, e.Target, email); err != nil {
		return fmt.Errorf("record action: %w", err)
	}
	return nil
}

// Actions returns the recorded actions on an email ("" = every email),
// most recent first, at most limit.
func (d *DB) Actions(ctx context.Context, emailID string, limit int) ([]AuditEntry, error) {
	q := `SELECT at, actor, action, target, COALESCE(email_id, '') FROM audit`
	args := []any{}
	if emailID != "" {
		q += ` WHERE email_id = ?`
		args = append(args, emailID)
	}
	rows, err := d.r.QueryContext(ctx, q+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.EmailID); err != nil {
			return nil, fmt.Errorf("actions: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	return out, nil
}
