package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"smista/mail"
)

var _ mail.SyncStore = (*DB)(nil)

// OpenMailbox returns the sync state of (account, mailbox), creating the
// account and mailbox rows when missing.
func (d *DB) OpenMailbox(ctx context.Context, account, mailbox string) (mail.MailboxState, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return mail.MailboxState{}, fmt.Errorf("open mailbox: %w", err)
	}
	defer tx.Rollback()
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, account, now); err != nil {
		return mail.MailboxState{}, fmt.Errorf("open mailbox: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mailboxes (account_id, name)
		SELECT id, ? FROM accounts WHERE name = ? ON CONFLICT (account_id, name) DO NOTHING`, mailbox, account); err != nil {
		return mail.MailboxState{}, fmt.Errorf("open mailbox: %w", err)
	}
	var st mail.MailboxState
	err = tx.QueryRowContext(ctx, `SELECT m.id, m.uidvalidity, m.uidnext, m.highestmodseq,
		(SELECT COUNT(*) FROM message_locations l WHERE l.mailbox_id = m.id)
		FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE a.name = ? AND m.name = ?`,
		account, mailbox).Scan(&st.ID, &st.UIDValidity, &st.UIDNext, &st.HighestModSeq, &st.Known)
	if err != nil {
		return mail.MailboxState{}, fmt.Errorf("open mailbox: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return mail.MailboxState{}, fmt.Errorf("open mailbox: %w", err)
	}
	return st, nil
}

// ResetMailbox drops the mailbox's locations (the messages stay) and
// records a new UIDVALIDITY with uidnext and highestmodseq cleared.
func (d *DB) ResetMailbox(ctx context.Context, mailboxID int64, uidValidity uint32) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reset mailbox: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM message_locations WHERE mailbox_id = ?`, mailboxID); err != nil {
		return fmt.Errorf("reset mailbox: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET uidvalidity = ?, uidnext = 0, highestmodseq = 0 WHERE id = ?`,
		uidValidity, mailboxID); err != nil {
		return fmt.Errorf("reset mailbox: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("reset mailbox: %w", err)
	}
	return nil
}

// MailboxUIDs returns the stored UIDs of the mailbox, ascending.
func (d *DB) MailboxUIDs(ctx context.Context, mailboxID int64) ([]uint32, error) {
	rows, err := d.w.QueryContext(ctx, `SELECT uid FROM message_locations WHERE mailbox_id = ? ORDER BY uid`, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("mailbox uids: %w", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("mailbox uids: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mailbox uids: %w", err)
	}
	return out, nil
}

// ApplySync writes one sync batch in one transaction: messages (skipping
// those already stored under the same email id), their locations, flag
// changes, expunged locations (the messages themselves are kept: a mail
// deleted on the server stays in smista's history, with no location), and
// the mailbox state. It reports the messages it inserted and how many
// locations' flags actually changed.
func (d *DB) ApplySync(ctx context.Context, b mail.SyncBatch) (mail.Applied, error) {
	var ap mail.Applied
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	defer tx.Rollback()
	now := d.nowMS()
	msgs := make([]*mail.Message, len(b.Messages))
	for i, sm := range b.Messages {
		msgs[i] = sm.Message
	}
	added, err := insertMessages(ctx, tx, b.Source, now, msgs)
	if err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	if err := upsertLocations(ctx, tx, b); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	if ap.FlagChanges, err = updateFlags(ctx, tx, b.MailboxID, b.Flags); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	for _, uid := range b.Removed {
		if _, err := tx.ExecContext(ctx, `DELETE FROM message_locations WHERE mailbox_id = ? AND uid = ?`, b.MailboxID, uid); err != nil {
			return ap, fmt.Errorf("apply sync: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET
		uidnext = CASE WHEN ? > 0 THEN ? ELSE uidnext END,
		highestmodseq = CASE WHEN ? > 0 THEN ? ELSE highestmodseq END,
		last_sync_at = ? WHERE id = ?`,
		b.UIDNext, b.UIDNext, b.HighestModSeq, b.HighestModSeq, now, b.MailboxID); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	ap.New = added
	return ap, nil
}

func upsertLocations(ctx context.Context, tx *sql.Tx, b mail.SyncBatch) error {
	if len(b.Messages) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO message_locations (mailbox_id, uid, message_id, flags, modseq)
		VALUES (?, ?, (SELECT id FROM messages WHERE id = ? OR message_id = ? LIMIT 1), ?, ?)
		ON CONFLICT (mailbox_id, uid) DO UPDATE SET message_id = excluded.message_id,
		flags = excluded.flags, modseq = excluded.modseq`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, sm := range b.Messages {
		id := sm.Message.StableID()
		if _, err := stmt.ExecContext(ctx, b.MailboxID, sm.UID, id, sm.Message.MessageID, mustJSON(nonNil(sm.Flags)), sm.ModSeq); err != nil {
			return fmt.Errorf("location uid %d: %w", sm.UID, err)
		}
		if err := setSeen(ctx, tx, id, sm.Flags); err != nil {
			return err
		}
	}
	return nil
}

// updateFlags writes changed flag sets (unchanged ones cost a read, no
// write) and returns how many changed.
func updateFlags(ctx context.Context, tx *sql.Tx, mailboxID int64, fs []mail.FlagUpdate) (int, error) {
	changed := 0
	for _, f := range fs {
		flags := mustJSON(nonNil(f.Flags))
		var id string
		err := tx.QueryRowContext(ctx, `UPDATE message_locations SET flags = ?, modseq = ?
			WHERE mailbox_id = ? AND uid = ? AND flags != ? RETURNING message_id`,
			flags, f.ModSeq, mailboxID, f.UID, flags).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return changed, fmt.Errorf("flags uid %d: %w", f.UID, err)
		}
		changed++
		if err := setSeen(ctx, tx, id, f.Flags); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// setSeen mirrors the server's \Seen flag into messages.seen.
func setSeen(ctx context.Context, tx *sql.Tx, id string, flags []string) error {
	seen := slices.Contains(flags, `\Seen`)
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET seen = ? WHERE id = ?`, seen, id); err != nil {
		return fmt.Errorf("seen %s: %w", id, err)
	}
	return nil
}

// MessageLocation is where a stored message lives on an IMAP server.
type MessageLocation struct {
	Account string
	Mailbox string
	UID     uint32
	Flags   []string
}

// MessageLocations returns the server locations of the email id (none once
// the server expunged it).
func (d *DB) MessageLocations(ctx context.Context, id string) ([]MessageLocation, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT a.name, m.name, l.uid, l.flags FROM message_locations l
		JOIN mailboxes m ON m.id = l.mailbox_id JOIN accounts a ON a.id = m.account_id
		WHERE l.message_id = ? ORDER BY a.name, m.name, l.uid`, id)
	if err != nil {
		return nil, fmt.Errorf("message locations: %w", err)
	}
	defer rows.Close()
	var out []MessageLocation
	for rows.Next() {
		var l MessageLocation
		var flags string
		if err := rows.Scan(&l.Account, &l.Mailbox, &l.UID, &flags); err != nil {
			return nil, fmt.Errorf("message locations: %w", err)
		}
		if err := jsonUnmarshal(flags, &l.Flags); err != nil {
			return nil, fmt.Errorf("message locations: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message locations: %w", err)
	}
	return out, nil
}
