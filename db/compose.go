package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Composed is what a person wrote in a draft: its kind, the headers at the
// top of the editor and the body. MessageID is the email it answers or
// forwards ("" for a new message).
type Composed struct {
	MessageID       string
	Kind            string
	To, Cc, Subject string
	Body            string
	// EditedBy is who wrote Body ("human:<name>"; "" for a starting text
	// nobody has changed yet).
	EditedBy string
}

// CreateComposed stores a pending draft of any kind and returns its id. A
// new message answers no email; every other kind answers one.
func (d *DB) CreateComposed(ctx context.Context, c Composed) (int64, error) {
	var msg any = c.MessageID
	if c.Kind == DraftNew {
		msg = nil
	}
	now := d.nowMS()
	res, err := d.w.ExecContext(ctx, `INSERT INTO drafts (message_id, kind, to_addrs, cc_addrs, subject, body, edited_by,
		status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
		msg, c.Kind, c.To, c.Cc, c.Subject, c.Body, c.EditedBy, now, now)
	if err != nil {
		return 0, fmt.Errorf("create draft: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("create draft: %w", err)
	}
	return id, nil
}

// SaveComposed replaces a pending draft's kind, headers and body (the
// message it answers stays). It fails with an error wrapping
// ErrDraftNotPending when the draft is not pending (or not there).
func (d *DB) SaveComposed(ctx context.Context, id int64, c Composed) error {
	res, err := d.w.ExecContext(ctx, `UPDATE drafts SET kind = ?, to_addrs = ?, cc_addrs = ?, subject = ?, body = ?,
		edited_by = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
		c.Kind, c.To, c.Cc, c.Subject, c.Body, c.EditedBy, d.nowMS(), id)
	if err != nil {
		return fmt.Errorf("save draft: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("save draft %d: %w", id, ErrDraftNotPending)
	}
	return nil
}

// PendingDraft returns the newest pending draft of kind answering (or
// forwarding) the email id, or an error wrapping ErrNotFound when it has
// none.
func (d *DB) PendingDraft(ctx context.Context, emailID, kind string) (Draft, error) {
	var id int64
	err := d.w.QueryRowContext(ctx, `SELECT id FROM drafts WHERE message_id = ? AND kind = ? AND status = 'pending'
		ORDER BY id DESC LIMIT 1`, emailID, kind).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Draft{}, fmt.Errorf("pending draft of %s: %w", emailID, ErrNotFound)
	}
	if err != nil {
		return Draft{}, fmt.Errorf("pending draft of %s: %w", emailID, err)
	}
	return d.Draft(ctx, id)
}
