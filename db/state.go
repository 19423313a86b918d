package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"smista/mail"
)

// MessageState is a message's state a person changes: read, starred,
// done.
type MessageState struct {
	MessageID string // the Message-ID header
	Seen      bool
	Flagged   bool
	Done      bool
}

// StateOf returns the state of the email id, or an error wrapping
// ErrNotFound.
func (d *DB) StateOf(ctx context.Context, id string) (MessageState, error) {
	var st MessageState
	err := d.r.QueryRowContext(ctx, `SELECT message_id, seen, flagged, done FROM messages WHERE id = ?`, id).
		Scan(&st.MessageID, &st.Seen, &st.Flagged, &st.Done)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("message %s: %w", id, err)
	}
	return st, nil
}

// stateColumns are the columns SetState may write, each a literal.
var stateColumns = map[string]string{"seen": "seen", "flagged": "flagged", "done": "done"}

// SetState sets one of the columns "seen", "flagged" or "done" of the
// email id and reports whether it changed; it fails with an error
// wrapping ErrNotFound when there is no such message.
func (d *DB) SetState(ctx context.Context, id, column string, on bool) (bool, error) {
	col, ok := stateColumns[column]
	if !ok {
		return false, fmt.Errorf("set state: no column %q", column)
	}
	res, err := d.w.ExecContext(ctx, `UPDATE messages SET `+col+` = ?2 WHERE id = ?1 AND `+col+` != ?2`, id, on)
	if err != nil {
		return false, fmt.Errorf("set %s: %w", col, err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		if _, err := d.StateOf(ctx, id); err != nil {
			return false, err
		}
	}
	return n > 0, nil
}

// MoveLocation records that the email id left mailbox from (uid) of
// account for mailbox to: the old location goes, and the new one is
// stored when the destination is a mailbox the store syncs under the same
// UIDVALIDITY (else its next sync finds it). Done is set as given.
func (d *DB) MoveLocation(ctx context.Context, id, account, from string, uid uint32, to string, mv mail.Moved, done bool) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("move location: %w", err)
	}
	defer tx.Rollback()
	var flags string
	err = tx.QueryRowContext(ctx, `DELETE FROM message_locations WHERE uid = ?3 AND message_id = ?4 AND mailbox_id =
		(SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE a.name = ?1 AND m.name = ?2)
		RETURNING flags`, account, from, uid, id).Scan(&flags)
	if errors.Is(err, sql.ErrNoRows) {
		flags = "[]"
	} else if err != nil {
		return fmt.Errorf("move location: %w", err)
	}
	if mv.UID != 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO message_locations (mailbox_id, uid, message_id, flags)
			SELECT m.id, ?4, ?5, ?6 FROM mailboxes m JOIN accounts a ON a.id = m.account_id
			WHERE a.name = ?1 AND m.name = ?2 AND m.uidvalidity = ?3 AND m.uidvalidity != 0
			ON CONFLICT (mailbox_id, uid) DO UPDATE SET message_id = excluded.message_id, flags = excluded.flags`,
			account, to, mv.UIDValidity, mv.UID, id, flags); err != nil {
			return fmt.Errorf("move location: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET done = ? WHERE id = ?`, done, id); err != nil {
		return fmt.Errorf("move location: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("move location: %w", err)
	}
	return nil
}
