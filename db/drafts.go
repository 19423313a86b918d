package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrDraftNotPending is returned by draft edits on a draft that is no longer
// pending (approved, sent or discarded drafts are not edited).
var ErrDraftNotPending = errors.New("draft is not pending")

// The kinds of draft a person writes (Draft.Kind).
const (
	DraftReply    = "reply"     // to the sender (Reply-To, else From)
	DraftReplyAll = "reply_all" // to the sender, copying the other recipients
	DraftForward  = "forward"   // the email passed on to someone else
	DraftNew      = "new"       // a new message, answering no email
)

// Draft is a draft (a reply, a reply to all, a forward or a new message)
// and its sending state.
type Draft struct {
	ID int64
	// MessageID is the email id of the message the draft answers or
	// forwards; "" for a new message.
	MessageID string
	Kind      string // DraftReply, DraftReplyAll, DraftForward, DraftNew
	// To, Cc and Subject are the header values as the person wrote them;
	// "" means the kind's default, computed from the email when the mail
	// is composed (the triage drafts have none).
	To, Cc, Subject string
	Body            string
	// EditedBy names who last edited the body ("human:<name>"; "" while
	// it is the classifier's text).
	EditedBy   string
	Status     string // pending | approved | sent | failed | discarded
	ApprovedBy string
	ApprovedAt time.Time
	// ReplyMessageID is the reply's Message-ID, fixed at approval so a
	// resend after a crash is recognisably the same mail.
	ReplyMessageID string
	LastError      string
}

// DraftItem is a draft with what the drafts screen shows about its email.
type DraftItem struct {
	ID        int64
	MessageID string // "" for a new message
	Kind      string
	FromName  string // the email's sender
	FromAddr  string
	// To is the draft's own To header ("" for a reply to the sender).
	To string
	// Subject is the draft's own subject, else the email's.
	Subject    string
	Body       string
	EditedBy   string
	Status     string
	ApprovedBy string
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SMTPQueue returns the outbox queue of an account's replies.
func SMTPQueue(account string) string { return "smtp:" + account }

// CreateDraft stores a pending reply draft for the email id and returns
// its id.
func (d *DB) CreateDraft(ctx context.Context, messageID, body string) (int64, error) {
	now := d.nowMS()
	res, err := d.w.ExecContext(ctx, `INSERT INTO drafts (message_id, body, status, created_at, updated_at)
		VALUES (?, ?, 'pending', ?, ?)`, messageID, body, now, now)
	if err != nil {
		return 0, fmt.Errorf("create draft: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("create draft: %w", err)
	}
	return id, nil
}

// ApproveReply approves a pending (or failed, to try again) draft and
// queues its SMTP delivery in one transaction: the draft becomes approved
// with replyMessageID, and a 'smtp' delivery joins the account's queue.
// Nothing is sent without this call. It returns the delivery id, or an
// error wrapping ErrDraftNotPending when the draft is approved, sent or
// discarded already, or ErrNotFound.
func (d *DB) ApproveReply(ctx context.Context, id int64, who, account, replyMessageID string) (string, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("approve draft: %w", err)
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, `SELECT status FROM drafts WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("approve draft %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("approve draft: %w", err)
	}
	if status != "pending" && status != "failed" {
		return "", fmt.Errorf("approve draft %d (%s): %w", id, status, ErrDraftNotPending)
	}
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, `UPDATE drafts SET status = 'approved', approved_by = ?, approved_at = ?,
		reply_message_id = ?, last_error = '', updated_at = ? WHERE id = ?`, who, now, replyMessageID, now, id); err != nil {
		return "", fmt.Errorf("approve draft: %w", err)
	}
	dlv := d.newID("dlv_")
	if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, kind, queue, draft_id, status, next_attempt_at, created_at, updated_at)
		VALUES (?, 'smtp', ?, ?, 'pending', ?, ?, ?)`, dlv, SMTPQueue(account), id, now, now, now); err != nil {
		return "", fmt.Errorf("approve draft: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("approve draft: %w", err)
	}
	return dlv, nil
}

// Draft returns one draft, or an error wrapping ErrNotFound.
func (d *DB) Draft(ctx context.Context, id int64) (Draft, error) {
	var dr Draft
	var approved sql.NullInt64
	err := d.w.QueryRowContext(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = ?`, id).Scan(&dr.ID, &dr.MessageID,
		&dr.Kind, &dr.To, &dr.Cc, &dr.Subject, &dr.Body, &dr.EditedBy, &dr.Status, &dr.ApprovedBy, &approved,
		&dr.ReplyMessageID, &dr.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return dr, fmt.Errorf("draft %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return dr, fmt.Errorf("draft %d: %w", id, err)
	}
	if approved.Valid {
		dr.ApprovedAt = time.UnixMilli(approved.Int64)
	}
	return dr, nil
}

// MarkDraftSent records that the server accepted the approved draft's
// reply. Called right after the SMTP 250, before the outbox records the
// attempt, so a crash in between does not send it again.
func (d *DB) MarkDraftSent(ctx context.Context, id int64) error {
	if _, err := d.w.ExecContext(ctx, `UPDATE drafts SET status = 'sent', last_error = '', updated_at = ?
		WHERE id = ? AND status = 'approved'`, d.nowMS(), id); err != nil {
		return fmt.Errorf("mark draft sent: %w", err)
	}
	return nil
}

// FailDraft records a permanent send failure: the draft becomes failed with
// the server's text (approving it again retries) and its delivery dead,
// so the outbox does not retry what the server refused for good.
func (d *DB) FailDraft(ctx context.Context, id int64, deliveryID, reason string) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("fail draft: %w", err)
	}
	defer tx.Rollback()
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, `UPDATE drafts SET status = 'failed', last_error = ?, updated_at = ?
		WHERE id = ? AND status = 'approved'`, reason, now, id); err != nil {
		return fmt.Errorf("fail draft: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'dead', next_attempt_at = NULL, last_error = ?, updated_at = ?
		WHERE id = ? AND status IN ('pending', 'retrying')`, reason, now, deliveryID); err != nil {
		return fmt.Errorf("fail draft: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("fail draft: %w", err)
	}
	return nil
}

const draftColumns = `id, COALESCE(message_id, ''), kind, to_addrs, cc_addrs, subject, body, edited_by, status,
	approved_by, approved_at, reply_message_id, last_error`

const draftSelect = `SELECT dr.id, COALESCE(dr.message_id, ''), dr.kind, COALESCE(m.from_name, ''), COALESCE(m.from_addr, ''),
	dr.to_addrs, CASE WHEN dr.subject != '' THEN dr.subject ELSE COALESCE(m.subject, '') END, dr.body, dr.edited_by,
	dr.status, dr.approved_by, dr.last_error, dr.created_at, dr.updated_at
	FROM drafts dr LEFT JOIN messages m ON m.id = dr.message_id`

func (d *DB) queryDrafts(ctx context.Context, where string, args []any, limit int) ([]DraftItem, error) {
	rows, err := d.r.QueryContext(ctx, draftSelect+where+` ORDER BY dr.updated_at DESC, dr.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("drafts: %w", err)
	}
	defer rows.Close()
	var out []DraftItem
	for rows.Next() {
		var x DraftItem
		var c, u int64
		if err := rows.Scan(&x.ID, &x.MessageID, &x.Kind, &x.FromName, &x.FromAddr, &x.To, &x.Subject, &x.Body,
			&x.EditedBy, &x.Status, &x.ApprovedBy, &x.LastError, &c, &u); err != nil {
			return nil, fmt.Errorf("drafts: %w", err)
		}
		x.CreatedAt, x.UpdatedAt = time.UnixMilli(c), time.UnixMilli(u)
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("drafts: %w", err)
	}
	return out, nil
}

// Drafts returns up to limit drafts that are not discarded, those waiting
// for approval first, then newest first.
func (d *DB) Drafts(ctx context.Context, limit int) ([]DraftItem, error) {
	rows, err := d.queryDrafts(ctx, ` WHERE dr.status = 'pending'`, nil, limit)
	if err != nil {
		return nil, err
	}
	if len(rows) >= limit {
		return rows, nil
	}
	rest, err := d.queryDrafts(ctx, ` WHERE dr.status NOT IN ('pending', 'discarded')`, nil, limit-len(rows))
	if err != nil {
		return nil, err
	}
	return append(rows, rest...), nil
}

// EditDraft replaces a pending draft's body (a person's edit, recorded as
// edited by "human"); it fails with an error wrapping ErrDraftNotPending
// when the draft is not pending (or not there).
func (d *DB) EditDraft(ctx context.Context, id int64, body string) error {
	return d.ReplaceDraftBody(ctx, id, body, "human")
}

// ReplaceDraftBody replaces a pending draft's body and records who wrote
// it (editedBy: "human:<name>" for a person, "" for the classifier). It
// fails with an error wrapping ErrDraftNotPending when the draft is not
// pending (or not there).
func (d *DB) ReplaceDraftBody(ctx context.Context, id int64, body, editedBy string) error {
	res, err := d.w.ExecContext(ctx, `UPDATE drafts SET body = ?, edited_by = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
		body, editedBy, d.nowMS(), id)
	if err != nil {
		return fmt.Errorf("save draft: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("save draft %d: %w", id, ErrDraftNotPending)
	}
	return nil
}

// DiscardDraft marks a pending draft discarded (kept, never sent); it
// fails with an error wrapping ErrDraftNotPending when the draft is not
// pending (or not there).
func (d *DB) DiscardDraft(ctx context.Context, id int64) error {
	res, err := d.w.ExecContext(ctx, `UPDATE drafts SET status = 'discarded', updated_at = ? WHERE id = ? AND status = 'pending'`,
		d.nowMS(), id)
	if err != nil {
		return fmt.Errorf("discard draft: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("discard draft %d: %w", id, ErrDraftNotPending)
	}
	return nil
}
