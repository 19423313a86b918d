package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

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
// locations' flags actually changed. Rows are written a chunk per
// statement, and flags, expunges and the \Seen mirror are each one
// statement over the whole batch (the rows travel as one JSON array).
func (d *DB) ApplySync(ctx context.Context, b mail.SyncBatch) (mail.Applied, error) {
	var ap mail.Applied
	msgs := make([]*mail.Message, len(b.Messages))
	pre := make([]*mail.Packed, len(b.Messages))
	seen := make([]bool, len(b.Messages))
	flagged := make([]bool, len(b.Messages))
	for i, sm := range b.Messages {
		msgs[i], pre[i] = sm.Message, sm.Packed
		seen[i], flagged[i] = slices.Contains(sm.Flags, mail.FlagSeen), slices.Contains(sm.Flags, mail.FlagFlagged)
	}
	ins, err := d.prepareInsert(ctx, msgs, pre)
	if err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	ins.seen, ins.flagged = seen, flagged
	for _, s := range append(insertLocationsSQL[:], mailboxStateSQL) {
		if _, err := d.ws.prepare(ctx, s); err != nil {
			return ap, fmt.Errorf("apply sync: %w", err)
		}
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	defer tx.Rollback()
	if len(b.Messages) > 0 && !d.deferring.Load() {
		deferred, err := deferIndexes(ctx, tx)
		if err != nil {
			return ap, fmt.Errorf("apply sync: %w", err)
		}
		d.deferring.Store(deferred)
	}
	now := d.nowMS()
	if ap.New, err = ins.run(ctx, tx, b.Source, now); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	if err := d.upsertLocations(ctx, tx, b, ins); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	if ap.FlagChanges, err = updateFlags(ctx, tx, b.MailboxID, b.Flags); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	if len(b.Removed) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM message_locations
			WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))`, b.MailboxID, jsonUints(b.Removed)); err != nil {
			return ap, fmt.Errorf("apply sync: %w", err)
		}
	}
	cached, err := d.ws.prepare(ctx, mailboxStateSQL)
	if err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	st, err := txStmt(ctx, tx, cached, mailboxStateSQL)
	if err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	if _, err := st.ExecContext(ctx, b.UIDNext, b.UIDNext, b.HighestModSeq, b.HighestModSeq, now, b.MailboxID); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ap, fmt.Errorf("apply sync: %w", err)
	}
	d.ckpt.committed(ins.written())
	// The first batch without messages after an initial sync's last one
	// (its final state) builds the indexes the sync held back; a sync
	// that stops before leaves them to the next sync or the next Open.
	if len(b.Messages) == 0 && d.deferring.Load() {
		d.deferring.Store(false)
		if err := d.buildDeferred(ctx); err != nil {
			return ap, fmt.Errorf("apply sync: %w", err)
		}
	}
	return ap, nil
}

// mailboxStateSQL records a batch's mailbox state (a zero UIDNEXT or
// HIGHESTMODSEQ keeps the stored one).
const mailboxStateSQL = `UPDATE mailboxes SET
	uidnext = CASE WHEN ?1 > 0 THEN ?2 ELSE uidnext END,
	highestmodseq = CASE WHEN ?3 > 0 THEN ?4 ELSE highestmodseq END,
	last_sync_at = ?5 WHERE id = ?6`

// insertLocationsSQL records a chunk of locations; ?1 is the mailbox.
var insertLocationsSQL = chunkSQL(4, `INSERT INTO message_locations (mailbox_id, uid, message_id, flags, modseq)
	SELECT ?1, column1, column2, column3, column4 FROM (VALUES %s) WHERE true
	ON CONFLICT (mailbox_id, uid) DO UPDATE SET message_id = excluded.message_id,
	flags = excluded.flags, modseq = excluded.modseq`)

// upsertLocations records where each message of the batch lives, at the
// row ins stored it under, and mirrors the \Seen and \Flagged flags of
// those that were stored already (a new row was inserted with them).
func (d *DB) upsertLocations(ctx context.Context, tx *sql.Tx, b mail.SyncBatch, ins *messageInsert) error {
	if len(b.Messages) == 0 {
		return nil
	}
	rows := make([]any, 0, 4*len(b.Messages))
	var m mirror
	for i, sm := range b.Messages {
		rows = append(rows, sm.UID, ins.rows[i], jsonStrings(sm.Flags), sm.ModSeq)
		if !ins.isNew[i] {
			m.add(sm.UID, sm.Flags)
		}
	}
	if err := execChunks(ctx, tx, d.ws, &insertLocationsSQL, []any{b.MailboxID}, rows, 4); err != nil {
		return fmt.Errorf("locations: %w", err)
	}
	return m.apply(ctx, tx, b.MailboxID)
}

// updateFlagsSQL applies [[uid, flags, modseq], ...] (?2) to mailbox ?1.
// The rows are materialised first so that each seeks its location: joined
// directly, SQLite walked the mailbox's every location for each row (100
// changed flags in a 100,000-message mailbox took 10 s).
const updateFlagsSQL = `WITH j(uid, flags, modseq) AS MATERIALIZED
	(SELECT value->>0, value->>1, value->>2 FROM json_each(?2))
	UPDATE message_locations SET flags = j.flags, modseq = j.modseq FROM j
	WHERE message_locations.mailbox_id = ?1 AND message_locations.uid = j.uid AND message_locations.flags != j.flags
	RETURNING message_locations.uid, message_locations.flags`

// updateFlags writes changed flag sets in one statement (unchanged ones
// cost a comparison, no write) and returns how many changed.
func updateFlags(ctx context.Context, tx *sql.Tx, mailboxID int64, fs []mail.FlagUpdate) (int, error) {
	if len(fs) == 0 {
		return 0, nil
	}
	// [[uid, flags (JSON text), modseq], ...]
	rows := make([]byte, 0, 48*len(fs))
	rows = append(rows, '[')
	for i, f := range fs {
		if i > 0 {
			rows = append(rows, ',')
		}
		rows = strconv.AppendUint(append(rows, '['), uint64(f.UID), 10)
		rows = appendJSONString(append(rows, ','), jsonStrings(f.Flags))
		rows = append(strconv.AppendUint(append(rows, ','), f.ModSeq, 10), ']')
	}
	rows = append(rows, ']')
	res, err := tx.QueryContext(ctx, updateFlagsSQL, mailboxID, string(rows))
	if err != nil {
		return 0, fmt.Errorf("flags: %w", err)
	}
	defer res.Close()
	var m mirror
	n := 0
	for res.Next() {
		var uid uint32
		var flags string
		if err := res.Scan(&uid, &flags); err != nil {
			return 0, fmt.Errorf("flags: %w", err)
		}
		m.add(uid, decodeStrings(flags))
		n++
	}
	if err := res.Err(); err != nil {
		return 0, fmt.Errorf("flags: %w", err)
	}
	res.Close()
	return n, m.apply(ctx, tx, mailboxID)
}

// mirror collects the UIDs of a mailbox whose server flags messages.seen
// and messages.flagged follow.
type mirror struct {
	seen, unseen, flagged, unflagged []uint32
}

func (m *mirror) add(uid uint32, flags []string) {
	if slices.Contains(flags, mail.FlagSeen) {
		m.seen = append(m.seen, uid)
	} else {
		m.unseen = append(m.unseen, uid)
	}
	if slices.Contains(flags, mail.FlagFlagged) {
		m.flagged = append(m.flagged, uid)
	} else {
		m.unflagged = append(m.unflagged, uid)
	}
}

// apply mirrors the server's \Seen and \Flagged of the collected uids
// into messages.seen and messages.flagged.
func (m *mirror) apply(ctx context.Context, tx *sql.Tx, mailboxID int64) error {
	for _, s := range []struct {
		col  string
		uids []uint32
		to   int
	}{{"seen", m.seen, 1}, {"seen", m.unseen, 0}, {"flagged", m.flagged, 1}, {"flagged", m.unflagged, 0}} {
		if len(s.uids) == 0 {
			continue
		}
		// col is one of two literals above, never input.
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET `+s.col+` = ?3 WHERE `+s.col+` != ?3 AND id IN
			(SELECT message_id FROM message_locations WHERE mailbox_id = ?1 AND uid IN (SELECT value FROM json_each(?2)))`,
			mailboxID, jsonUints(s.uids), s.to); err != nil {
			return fmt.Errorf("%s: %w", s.col, err)
		}
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

// jsonUints encodes uids as a JSON array.
func jsonUints(uids []uint32) string {
	b := make([]byte, 0, 2+8*len(uids))
	b = append(b, '[')
	for i, u := range uids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(u), 10)
	}
	return string(append(b, ']'))
}

// Folder is a synced mailbox of an account and how many stored emails it
// holds.
type Folder struct {
	Account string
	Mailbox string
	Count   int
}

// Folders returns every synced mailbox, by account then name, with the
// number of stored emails in each (a range of message_locations' key).
func (d *DB) Folders(ctx context.Context) ([]Folder, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT a.name, m.name,
		(SELECT COUNT(*) FROM message_locations l WHERE l.mailbox_id = m.id)
		FROM mailboxes m JOIN accounts a ON a.id = m.account_id ORDER BY a.name, m.name`)
	if err != nil {
		return nil, fmt.Errorf("folders: %w", err)
	}
	defer rows.Close()
	var out []Folder
	for rows.Next() {
		var f Folder
		if err := rows.Scan(&f.Account, &f.Mailbox, &f.Count); err != nil {
			return nil, fmt.Errorf("folders: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("folders: %w", err)
	}
	return out, nil
}
