package db

import (
	"context"
	"fmt"
	"time"

	"smista/mail"
)

// ThreadItem is one mail of a conversation: a stored email (the
// customer's, or the agent's own filed in a synced Sent folder), or a
// reply the agent sent from smista that the store holds no copy of.
type ThreadItem struct {
	// ID is the email id; "" for a sent reply known only as a draft.
	ID       string
	FromName string
	FromAddr string
	Subject  string
	Date     time.Time
	Seen     bool
	Flagged  bool
	Done     bool
	// Intent, Confidence (-1 when not triaged), Flags, Action and Summary
	// are the email's triage line.
	Intent     string
	Confidence float64
	Flags      []string
	Action     string
	Summary    string
	// SentDraft is the draft a reply sent from smista was (0 for a stored
	// email); SentBy names who approved it.
	SentDraft int64
	SentBy    string
}

// maxThread bounds a conversation's listing.
const maxThread = 500

// Thread returns the conversation threadID, oldest first: its stored
// emails (messages_thread, in order) and the replies sent from smista
// whose copy is not stored (the Sent folder not synced). It returns no
// items for an unknown thread.
func (d *DB) Thread(ctx context.Context, threadID string) ([]ThreadItem, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT * FROM (
		SELECT m.id, m.from_name, m.from_addr, m.subject, m.date, m.seen, m.flagged, m.done,
			COALESCE(m.intent, ''), m.confidence, m.flags, COALESCE(m.action, ''),
			COALESCE(t.summary, ''), 0, '', ''
		FROM messages m LEFT JOIN triage_results t ON t.message_id = m.id
		WHERE m.thread_id = ?1
		UNION ALL
		SELECT '', '', '', dr.subject, COALESCE(dr.approved_at, dr.updated_at), 1, 0, 0, '', -1, 0, '', '',
			dr.id, dr.approved_by, p.subject
		FROM messages p JOIN drafts dr INDEXED BY drafts_message ON dr.message_id = p.id
		WHERE p.thread_id = ?1 AND dr.status = 'sent'
		AND NOT EXISTS (SELECT 1 FROM messages x WHERE x.message_id = dr.reply_message_id))
		ORDER BY 5, 1 LIMIT ?2`, threadID, maxThread)
	if err != nil {
		return nil, fmt.Errorf("thread: %w", err)
	}
	defer rows.Close()
	var out []ThreadItem
	for rows.Next() {
		var it ThreadItem
		var date int64
		var flags int
		var parent string
		if err := rows.Scan(&it.ID, &it.FromName, &it.FromAddr, &it.Subject, &date, &it.Seen, &it.Flagged, &it.Done,
			&it.Intent, &it.Confidence, &flags, &it.Action, &it.Summary, &it.SentDraft, &it.SentBy, &parent); err != nil {
			return nil, fmt.Errorf("thread: %w", err)
		}
		if it.SentDraft != 0 && it.Subject == "" {
			it.Subject = mail.ReplySubject(parent) // the reply's default subject
		}
		it.Date = time.UnixMilli(date)
		it.Flags = flagNames(flags)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("thread: %w", err)
	}
	return out, nil
}
