package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"smista/mail"
)

// InboxFilter narrows and orders the inbox. Empty fields match everything.
type InboxFilter struct {
	Intent   string // an intent, or "untriaged"
	Flag     string // payments | legal | vip | injection
	Decision string // ticket | draft | suggest | none
	Search   string // free text in subject, sender name and address
	// ByConfidence orders by confidence (highest first) instead of date.
	ByConfidence bool
	// Review, when above 0, is the review queue at this threshold: the
	// triaged emails no person decided or corrected, closest to the
	// threshold first.
	Review float64
}

// InboxRow is one inbox line: what the table shows, without the body.
type InboxRow struct {
	ID         string
	FromName   string
	FromAddr   string
	Subject    string
	Date       time.Time
	Seen       bool
	Intent     string  // "" when not triaged; a person's correction when there is one
	Corrected  bool    // Intent is a person's correction
	Confidence float64 // -1 when not triaged
	Flags      []string
	Action     string // ticket | draft | suggest | ""
	DecidedBy  string
	Suggestion string
	// DraftWaiting is true when a reply draft waits for approval.
	DraftWaiting bool
	// TicketState summarises the ticket event's deliveries: "" (no event),
	// "queued", "sent", "failed", "canceled" or "no endpoint".
	TicketState string
}

func inboxWhere(f InboxFilter) (string, []any) {
	var conds []string
	var args []any
	switch f.Intent {
	case "":
	case "untriaged":
		conds = append(conds, "t.message_id IS NULL")
	default:
		// The model's intent unless a person corrected it, spelled so that
		// the index on triage_results.intent still serves the first term.
		conds = append(conds, "((t.intent = ? AND c.message_id IS NULL) OR c.intent = ?)")
		args = append(args, f.Intent, f.Intent)
	}
	if f.Flag != "" {
		conds = append(conds, "t.flags LIKE ?")
		args = append(args, `%"`+likeEscape(f.Flag)+`"%`)
	}
	switch f.Decision {
	case "":
	case "none":
		conds = append(conds, "d.message_id IS NULL")
	default:
		conds = append(conds, "d.action = ?")
		args = append(args, f.Decision)
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		p := "%" + likeEscape(s) + "%"
		conds = append(conds, `(m.subject LIKE ? ESCAPE '\' OR m.from_addr LIKE ? ESCAPE '\' OR m.from_name LIKE ? ESCAPE '\')`)
		args = append(args, p, p, p)
	}
	if f.Review > 0 {
		conds = append(conds, "t.message_id IS NOT NULL", "c.message_id IS NULL",
			"(d.message_id IS NULL OR d.decided_by = 'engine')")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

const inboxFrom = ` FROM messages m
	LEFT JOIN triage_results t ON t.message_id = m.id
	LEFT JOIN decisions d ON d.message_id = m.id
	LEFT JOIN corrections c ON c.message_id = m.id`

// Inbox returns up to limit inbox rows matching f, skipping offset, newest
// first (or by confidence). Only the requested window is read, so a
// 100,000-message store pages as fast as a small one.
func (d *DB) Inbox(ctx context.Context, f InboxFilter, offset, limit int) ([]InboxRow, error) {
	where, args := inboxWhere(f)
	order := " ORDER BY m.date DESC, m.id"
	switch {
	case f.Review > 0:
		// A literal, not a parameter: the order appears twice below.
		order = fmt.Sprintf(" ORDER BY ABS(t.confidence - %g), m.date DESC, m.id", f.Review)
	case f.ByConfidence:
		order = " ORDER BY COALESCE(t.confidence, -1) DESC, m.date DESC, m.id"
	}
	// Page on ids first: the row's subqueries (drafts, ticket state) then
	// run for the page only, not for every row an OFFSET skips.
	q := `WITH page(id) AS (SELECT m.id` + inboxFrom + where + order + ` LIMIT ? OFFSET ?)
		SELECT m.id, m.from_name, m.from_addr, m.subject, m.date, m.seen,
		COALESCE(c.intent, t.intent, ''), c.message_id IS NOT NULL, COALESCE(t.confidence, -1), COALESCE(t.flags, '[]'),
		COALESCE(d.action, ''), COALESCE(d.decided_by, ''), COALESCE(d.suggestion, ''),
		EXISTS (SELECT 1 FROM drafts dr WHERE dr.message_id = m.id AND dr.status = 'pending'),
		COALESCE((SELECT CASE
			WHEN COUNT(dl.id) = 0 THEN 'no endpoint'
			WHEN SUM(dl.status = 'dead') > 0 THEN 'failed'
			WHEN SUM(dl.status IN ('pending', 'retrying', 'paused')) > 0 THEN 'queued'
			WHEN SUM(dl.status = 'delivered') > 0 THEN 'sent'
			ELSE 'canceled' END
			FROM events e LEFT JOIN deliveries dl ON dl.event_id = e.id
			WHERE e.message_id = m.id AND e.type = 'ticket.suggested' AND e.test = 0
			GROUP BY e.id), '')
		FROM page JOIN messages m ON m.id = page.id
		LEFT JOIN triage_results t ON t.message_id = m.id
		LEFT JOIN decisions d ON d.message_id = m.id
		LEFT JOIN corrections c ON c.message_id = m.id` + order
	rows, err := d.r.QueryContext(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	defer rows.Close()
	out := make([]InboxRow, 0, limit)
	for rows.Next() {
		var r InboxRow
		var date int64
		var flags string
		if err := rows.Scan(&r.ID, &r.FromName, &r.FromAddr, &r.Subject, &date, &r.Seen,
			&r.Intent, &r.Corrected, &r.Confidence, &flags, &r.Action, &r.DecidedBy, &r.Suggestion,
			&r.DraftWaiting, &r.TicketState); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
		r.Date = time.UnixMilli(date)
		r.Flags = decodeStrings(flags)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return out, nil
}

// InboxCount returns how many messages match f.
func (d *DB) InboxCount(ctx context.Context, f InboxFilter) (int, error) {
	where, args := inboxWhere(f)
	q := `SELECT COUNT(*) FROM messages m`
	if where != "" {
		q = `SELECT COUNT(*)` + inboxFrom + where
	}
	var n int
	if err := d.r.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("inbox count: %w", err)
	}
	return n, nil
}

// MessageDetail is everything the message screen shows about one email.
type MessageDetail struct {
	Message    *mail.Message
	Seen       bool
	ReceivedAt time.Time
	Triage     *TriageInfo // nil when not triaged
	Deliveries []DeliveryItem
	Drafts     []DraftItem
	// Locations are where the message lives on IMAP servers, with the
	// flags and keywords last synced (team mode's claims among them).
	Locations []MessageLocation
}

// MessageDetail returns the message with its triage result, decision,
// drafts and webhook deliveries, or an error wrapping ErrNotFound.
func (d *DB) MessageDetail(ctx context.Context, id string) (*MessageDetail, error) {
	m, err := d.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	md := &MessageDetail{Message: m}
	var recv int64
	if err := d.r.QueryRowContext(ctx, `SELECT seen, received_at FROM messages WHERE id = ?`, id).Scan(&md.Seen, &recv); err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	md.ReceivedAt = time.UnixMilli(recv)

	if md.Triage, err = d.triageInfo(ctx, id); err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	md.Deliveries, err = d.queryDeliveries(ctx, "deliveries dl", ` WHERE e.message_id = ?`, []any{id}, 0, 100)
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	md.Drafts, err = d.queryDrafts(ctx, ` WHERE dr.message_id = ?`, []any{id}, 100)
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	if md.Locations, err = d.MessageLocations(ctx, id); err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	return md, nil
}
