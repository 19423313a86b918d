package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"smista/mail"
)

// ErrDeliveryStarted is returned by OverrideNotTicket when a delivery of
// the email's ticket event has already been attempted or delivered: "not a
// ticket" only applies before delivery starts.
var ErrDeliveryStarted = errors.New("delivery already started")

// ErrDraftNotPending is returned by draft edits on a draft that is no longer
// pending (approved, sent or discarded drafts are not edited).
var ErrDraftNotPending = errors.New("draft is not pending")

// InboxFilter narrows and orders the inbox. Empty fields match everything.
type InboxFilter struct {
	Intent   string // an intent, or "untriaged"
	Flag     string // payments | legal | vip | injection
	Decision string // ticket | draft | suggest | none
	Search   string // free text in subject, sender name and address
	// ByConfidence orders by confidence (highest first) instead of date.
	ByConfidence bool
}

// InboxRow is one inbox line: what the table shows, without the body.
type InboxRow struct {
	ID         string
	FromName   string
	FromAddr   string
	Subject    string
	Date       time.Time
	Seen       bool
	Intent     string  // "" when not triaged
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
		conds = append(conds, "t.intent = ?")
		args = append(args, f.Intent)
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
	LEFT JOIN decisions d ON d.message_id = m.id`

// Inbox returns up to limit inbox rows matching f, skipping offset, newest
// first (or by confidence). Only the requested window is read, so a
// 100,000-message store pages as fast as a small one.
func (d *DB) Inbox(ctx context.Context, f InboxFilter, offset, limit int) ([]InboxRow, error) {
	where, args := inboxWhere(f)
	order := " ORDER BY m.date DESC, m.id"
	if f.ByConfidence {
		order = " ORDER BY COALESCE(t.confidence, -1) DESC, m.date DESC, m.id"
	}
	// Page on ids first: the row's subqueries (drafts, ticket state) then
	// run for the page only, not for every row an OFFSET skips.
	q := `WITH page(id) AS (SELECT m.id` + inboxFrom + where + order + ` LIMIT ? OFFSET ?)
		SELECT m.id, m.from_name, m.from_addr, m.subject, m.date, m.seen,
		COALESCE(t.intent, ''), COALESCE(t.confidence, -1), COALESCE(t.flags, '[]'),
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
		LEFT JOIN decisions d ON d.message_id = m.id` + order
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
			&r.Intent, &r.Confidence, &flags, &r.Action, &r.DecidedBy, &r.Suggestion,
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
	// The decision; Action is "" when none was recorded.
	Action     string
	Reasons    []string
	Suggestion string
	DecidedBy  string
	DecidedAt  time.Time
}

// DeliveryItem is one delivery (one event to one endpoint, or one SMTP
// reply) as the delivery log shows it.
type DeliveryItem struct {
	ID             string
	Kind           string
	EndpointID     string
	URL            string
	EventID        string
	EventType      string
	WebhookID      string
	EmailID        string // "" for endpoint tests
	Subject        string
	Test           bool
	Status         string
	Attempts       int
	NextAttemptAt  time.Time // zero when none is scheduled
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// DraftItem is a reply draft with what the drafts screen shows about its email.
type DraftItem struct {
	ID         int64
	MessageID  string
	FromName   string
	FromAddr   string
	Subject    string
	Body       string
	Status     string
	ApprovedBy string
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// MessageDetail is everything the message screen shows about one email.
type MessageDetail struct {
	Message    *mail.Message
	Seen       bool
	ReceivedAt time.Time
	Triage     *TriageInfo // nil when not triaged
	Deliveries []DeliveryItem
	Drafts     []DraftItem
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

	var ti TriageInfo
	var flags, notes string
	var at int64
	err = d.r.QueryRowContext(ctx, `SELECT intent, confidence, priority, summary, language, flags, model, notes, created_at
		FROM triage_results WHERE message_id = ?`, id).Scan(&ti.Intent, &ti.Confidence, &ti.Priority,
		&ti.Summary, &ti.Language, &flags, &ti.Model, &notes, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("message %s: triage: %w", id, err)
	default:
		ti.Flags, ti.Notes, ti.At = decodeStrings(flags), decodeStrings(notes), time.UnixMilli(at)
		md.Triage = &ti
	}
	var reasons string
	var dAt int64
	var dec TriageInfo
	err = d.r.QueryRowContext(ctx, `SELECT action, reasons, suggestion, decided_by, decided_at FROM decisions WHERE message_id = ?`, id).
		Scan(&dec.Action, &reasons, &dec.Suggestion, &dec.DecidedBy, &dAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("message %s: decision: %w", id, err)
	default:
		if md.Triage == nil {
			md.Triage = &TriageInfo{Confidence: -1}
		}
		md.Triage.Action, md.Triage.Reasons, md.Triage.Suggestion = dec.Action, decodeStrings(reasons), dec.Suggestion
		md.Triage.DecidedBy, md.Triage.DecidedAt = dec.DecidedBy, time.UnixMilli(dAt)
	}
	md.Deliveries, err = d.queryDeliveries(ctx, "deliveries dl", ` WHERE e.message_id = ?`, []any{id}, 0, 100)
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	md.Drafts, err = d.queryDrafts(ctx, ` WHERE dr.message_id = ?`, []any{id}, 100)
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	return md, nil
}

// MarkSeen marks the message as read (nothing when there is no such
// message).
func (d *DB) MarkSeen(ctx context.Context, id string) error {
	if _, err := d.w.ExecContext(ctx, `UPDATE messages SET seen = 1 WHERE id = ? AND seen = 0`, id); err != nil {
		return fmt.Errorf("mark seen: %w", err)
	}
	return nil
}

const draftSelect = `SELECT dr.id, dr.message_id, COALESCE(m.from_name, ''), COALESCE(m.from_addr, ''),
	COALESCE(m.subject, ''), dr.body, dr.status, dr.approved_by, dr.last_error, dr.created_at, dr.updated_at
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
		if err := rows.Scan(&x.ID, &x.MessageID, &x.FromName, &x.FromAddr, &x.Subject, &x.Body, &x.Status,
			&x.ApprovedBy, &x.LastError, &c, &u); err != nil {
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

// EditDraft replaces a pending draft's body; it fails with an error
// wrapping ErrDraftNotPending when the draft is not pending (or not there).
func (d *DB) EditDraft(ctx context.Context, id int64, body string) error {
	res, err := d.w.ExecContext(ctx, `UPDATE drafts SET body = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
		body, d.nowMS(), id)
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

// TicketItem is one ticket.suggested event with its per-endpoint deliveries.
type TicketItem struct {
	EventID    string
	MessageID  string
	FromName   string
	FromAddr   string
	Subject    string
	DecidedBy  string
	CreatedAt  time.Time
	Deliveries []DeliveryItem
}

// Tickets returns up to limit real ticket.suggested events, newest first,
// skipping offset, each with its deliveries.
func (d *DB) Tickets(ctx context.Context, offset, limit int) ([]TicketItem, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT e.id, COALESCE(e.message_id, ''), COALESCE(m.from_name, ''),
		COALESCE(m.from_addr, ''), COALESCE(m.subject, ''), e.decided_by, e.created_at
		FROM events e LEFT JOIN messages m ON m.id = e.message_id
		WHERE e.type = 'ticket.suggested' AND e.test = 0
		ORDER BY e.created_at DESC, e.id DESC LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	var out []TicketItem
	idx := map[string]int{}
	for rows.Next() {
		var t TicketItem
		var at int64
		if err := rows.Scan(&t.EventID, &t.MessageID, &t.FromName, &t.FromAddr, &t.Subject, &t.DecidedBy, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tickets: %w", err)
		}
		t.CreatedAt = time.UnixMilli(at)
		idx[t.EventID] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ph := strings.Repeat("?,", len(out))
	args := make([]any, 0, len(out))
	for _, t := range out {
		args = append(args, t.EventID)
	}
	dls, err := d.queryDeliveries(ctx, "deliveries dl", ` WHERE dl.event_id IN (`+ph[:len(ph)-1]+`)`, args, 0, len(out)*64)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	for _, dl := range dls {
		if i, ok := idx[dl.EventID]; ok {
			out[i].Deliveries = append(out[i].Deliveries, dl)
		}
	}
	return out, nil
}

// DeliveryFilter narrows and pages the delivery log. Empty fields match
// everything.
type DeliveryFilter struct {
	Status     string // pending | retrying | delivered | dead | paused | canceled
	EndpointID string // the endpoint a webhook delivery is for
	Kind       string // webhook | smtp; "" for every kind
	// Offset skips that many of the newest matching deliveries; Limit
	// returns at most that many (0 means 100). CountDeliveries ignores both.
	Offset, Limit int
}

// limit returns f.Limit, or 100 when it is not positive.
func (f DeliveryFilter) limit() int {
	if f.Limit <= 0 {
		return 100
	}
	return f.Limit
}

// deliveryWhere returns the table of f's query (with the index to read,
// see statusFilter) and its conditions.
func deliveryWhere(f DeliveryFilter) (string, string, []any) {
	var conds []string
	cond, hint, args := statusFilter("dl", f.Status)
	if cond != "" {
		conds = append(conds, cond)
	}
	if f.EndpointID != "" {
		// A webhook delivery's queue is its endpoint id: this uses an index.
		conds = append(conds, "dl.queue = ?")
		args = append(args, f.EndpointID)
	}
	if f.Kind != "" {
		conds = append(conds, "dl.kind = ?")
		args = append(args, f.Kind)
	}
	from := "deliveries dl" + hint
	if len(conds) == 0 {
		return from, "", nil
	}
	return from, " WHERE " + strings.Join(conds, " AND "), args
}

// statusFilter returns the condition on the status of deliveries alias
// (none for ""), with its arguments, and the index hint for the table. A
// status other than delivered reads the partial index of the rows not
// delivered (few) rather than the whole table by seq, which SQLite prefers
// for an ORDER BY seq. SQLite uses a partial index only when it can prove
// the query implies its condition at prepare time, so a known status is a
// literal (from this fixed list, never the caller's text), not a parameter.
func statusFilter(alias, status string) (cond, hint string, args []any) {
	switch status {
	case "":
		return "", "", nil
	case "pending", "retrying", "paused", "dead", "canceled":
		return alias + ".status = '" + status + "'", " INDEXED BY deliveries_open", nil
	default:
		return alias + ".status = ?", "", []any{status}
	}
}

// endpointOf is the endpoint a delivery of alias is for: a webhook
// delivery's queue, which outlives the endpoint (removing an endpoint
// clears endpoint_id), so the log still says where a delivery went.
func endpointOf(alias string) string {
	return `CASE ` + alias + `.kind WHEN 'webhook' THEN ` + alias + `.queue ELSE COALESCE(` + alias + `.endpoint_id, '') END`
}

const deliveryJoins = `
	LEFT JOIN events e ON e.id = dl.event_id
	LEFT JOIN endpoints ep ON ep.id = dl.endpoint_id
	LEFT JOIN drafts dr ON dr.id = dl.draft_id
	LEFT JOIN messages m ON m.id = COALESCE(e.message_id, dr.message_id)`

// deliveriesSQL reads deliveries from from (a table with its index hint),
// newest first, with a limit and an offset.
func deliveriesSQL(from, where string) string {
	return `SELECT dl.id, dl.kind, ` + endpointOf("dl") + `, COALESCE(ep.url, ''), COALESCE(dl.event_id, ''),
		COALESCE(e.type, ''), dl.webhook_id, COALESCE(m.id, ''), COALESCE(m.subject, ''), COALESCE(e.test, 0),
		dl.status, dl.attempts, COALESCE(dl.next_attempt_at, 0), dl.last_status_code, dl.last_error,
		dl.created_at, dl.updated_at FROM ` + from + deliveryJoins + where + ` ORDER BY dl.seq DESC LIMIT ? OFFSET ?`
}

func (d *DB) queryDeliveries(ctx context.Context, from, where string, args []any, offset, limit int) ([]DeliveryItem, error) {
	rows, err := d.r.QueryContext(ctx, deliveriesSQL(from, where), append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	defer rows.Close()
	out := make([]DeliveryItem, 0, min(limit, 256))
	for rows.Next() {
		var x DeliveryItem
		var next, c, u int64
		if err := rows.Scan(&x.ID, &x.Kind, &x.EndpointID, &x.URL, &x.EventID, &x.EventType, &x.WebhookID,
			&x.EmailID, &x.Subject, &x.Test, &x.Status, &x.Attempts, &next, &x.LastStatusCode, &x.LastError,
			&c, &u); err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		if next > 0 {
			x.NextAttemptAt = time.UnixMilli(next)
		}
		x.CreatedAt, x.UpdatedAt = time.UnixMilli(c), time.UnixMilli(u)
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return out, nil
}

// Deliveries returns the deliveries matching f, newest first: at most
// f.Limit (0 means 100), skipping the f.Offset newest.
func (d *DB) Deliveries(ctx context.Context, f DeliveryFilter) ([]DeliveryItem, error) {
	from, where, args := deliveryWhere(f)
	return d.queryDeliveries(ctx, from, where, args, max(f.Offset, 0), f.limit())
}

// CountDeliveries returns how many deliveries match f (its Offset and
// Limit aside).
func (d *DB) CountDeliveries(ctx context.Context, f DeliveryFilter) (int, error) {
	f.Offset, f.Limit = 0, 0
	if f.Status == "delivered" {
		// Delivered rows have no index of their own: every row less those
		// not delivered, two index counts.
		all, err := d.CountDeliveries(ctx, DeliveryFilter{EndpointID: f.EndpointID, Kind: f.Kind})
		if err != nil {
			return 0, err
		}
		q, args := `SELECT COUNT(*) FROM deliveries dl INDEXED BY deliveries_open WHERE `+openRows, []any(nil)
		if f.EndpointID != "" {
			q, args = q+` AND dl.queue = ?`, append(args, f.EndpointID)
		}
		if f.Kind != "" {
			q, args = q+` AND dl.kind = ?`, append(args, f.Kind)
		}
		var open int
		if err := d.r.QueryRowContext(ctx, q, args...).Scan(&open); err != nil {
			return 0, fmt.Errorf("count deliveries: %w", err)
		}
		return all - open, nil
	}
	from, where, args := deliveryWhere(f)
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count deliveries: %w", err)
	}
	return n, nil
}

// AttemptFilter selects logged attempts. Empty fields match everything.
type AttemptFilter struct {
	DeliveryID string // one delivery's attempts
	Status     string // the delivery's status
	EndpointID string // the endpoint the delivery is for
	Kind       string // webhook | smtp; "" for every kind
	// Limit keeps the most recent Limit attempts (0 means 100).
	Limit int
}

// AttemptItem is one logged attempt of a delivery.
type AttemptItem struct {
	DeliveryID      string
	WebhookID       string
	EndpointID      string // "" for an SMTP reply
	Attempt         int
	StartedAt       time.Time
	Duration        time.Duration
	StatusCode      int
	ErrorClass      string
	Error           string
	RequestHeaders  http.Header
	RequestBody     []byte
	ResponseHeaders http.Header
	ResponseBody    []byte
}

// attemptsWhere returns the index hint for deliveries d and the
// conditions of f, with their arguments.
func (f AttemptFilter) attemptsWhere() (hint, where string, args []any) {
	var conds []string
	if f.DeliveryID != "" {
		// One delivery, found by its id: no status index to prefer.
		conds, args = append(conds, "d.id = ?"), append(args, f.DeliveryID)
		if f.Status != "" {
			conds, args = append(conds, "d.status = ?"), append(args, f.Status)
		}
	} else {
		var cond string
		var sargs []any
		cond, hint, sargs = statusFilter("d", f.Status)
		if cond != "" {
			conds, args = append(conds, cond), append(args, sargs...)
		}
	}
	if f.EndpointID != "" {
		conds, args = append(conds, "d.queue = ?"), append(args, f.EndpointID)
	}
	if f.Kind != "" {
		conds, args = append(conds, "d.kind = ?"), append(args, f.Kind)
	}
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	return hint, where, args
}

// attemptsQuery is the query of Attempts, with its arguments. The body
// sent is the event's payload when the attempt row has none.
func (f AttemptFilter) attemptsQuery() (string, []any) {
	hint, where, args := f.attemptsWhere()
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return `SELECT d.id, d.webhook_id, ` + endpointOf("d") + `, a.attempt, a.started_at, a.duration_ms, a.status_code,
		a.error_class, a.error, a.request_headers, COALESCE(a.request_body, v.payload, x''), a.response_headers,
		COALESCE(a.response_body, x'')
		FROM attempts a JOIN deliveries d` + hint + ` ON d.seq = a.delivery_seq LEFT JOIN events v ON v.id = d.event_id` +
		where + ` ORDER BY a.id DESC LIMIT ?`, append(args, limit)
}

// Attempts returns the most recent f.Limit attempts matching f (0 means
// 100), oldest first.
func (d *DB) Attempts(ctx context.Context, f AttemptFilter) ([]AttemptItem, error) {
	q, args := f.attemptsQuery()
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("attempts: %w", err)
	}
	defer rows.Close()
	var out []AttemptItem
	for rows.Next() {
		var a AttemptItem
		var started, dur int64
		var reqH, respH string
		if err := rows.Scan(&a.DeliveryID, &a.WebhookID, &a.EndpointID, &a.Attempt, &started, &dur, &a.StatusCode,
			&a.ErrorClass, &a.Error, &reqH, &a.RequestBody, &respH, &a.ResponseBody); err != nil {
			return nil, fmt.Errorf("attempts: %w", err)
		}
		a.StartedAt, a.Duration = time.UnixMilli(started), time.Duration(dur)*time.Millisecond
		a.RequestHeaders, a.ResponseHeaders = decodeHeaders(reqH), decodeHeaders(respH)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attempts: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// Endpoint is a webhook endpoint as listings show it, with its delivery
// counts: never its secret, which leaves the store only to sign (and once
// to the user when generated or rotated).
type Endpoint struct {
	ID             string
	URL            string
	Enabled        bool
	DisabledReason string
	DisabledAt     time.Time // zero while enabled
	CreatedAt      time.Time
	// RotatingUntil is the end of a secret rotation grace period (zero
	// when none): until then the previous secret signs too.
	RotatingUntil time.Time
	Pending       int // pending, retrying or paused deliveries
	Dead          int
	Delivered     int
}

// AutoDisabled reports whether the endpoint was disabled by the sender's
// failure policy rather than by a person: that needs the user's attention.
func (e Endpoint) AutoDisabled() bool {
	if e.Enabled || e.DisabledReason == "" {
		return false
	}
	r := strings.ToLower(e.DisabledReason)
	for _, p := range []string{"manual", "user", "human", "disabled by"} {
		if strings.HasPrefix(r, p) {
			return false
		}
	}
	return true
}

// endpointsSQL reads endpoints with their counts of deliveries waiting,
// dead and delivered, then a WHERE clause or an ORDER BY. Delivered rows
// have no index of their own: they are every row of the queue less those
// in deliveries_open.
const endpointsSQL = `SELECT ep.id, ep.url, ep.enabled, ep.disabled_reason,
	COALESCE(ep.disabled_at, 0), ep.created_at, CASE WHEN ep.prev_secret != '' THEN ep.prev_secret_until END,
	(SELECT COUNT(*) FROM deliveries dl WHERE dl.queue = ep.id AND ` + openRows + `
		AND dl.status IN ('pending', 'retrying', 'paused')),
	(SELECT COUNT(*) FROM deliveries dl WHERE dl.queue = ep.id AND dl.status = 'dead'),
	(SELECT COUNT(*) FROM deliveries dl WHERE dl.queue = ep.id)
		- (SELECT COUNT(*) FROM deliveries dl WHERE dl.queue = ep.id AND ` + openRows + `)
	FROM endpoints ep`

func scanEndpoint(sc interface{ Scan(...any) error }, now int64) (Endpoint, error) {
	var e Endpoint
	var dis, c int64
	var until sql.NullInt64
	if err := sc.Scan(&e.ID, &e.URL, &e.Enabled, &e.DisabledReason, &dis, &c, &until,
		&e.Pending, &e.Dead, &e.Delivered); err != nil {
		return e, err
	}
	if dis > 0 && !e.Enabled {
		e.DisabledAt = time.UnixMilli(dis)
	}
	e.CreatedAt = time.UnixMilli(c)
	if until.Valid && until.Int64 > now {
		e.RotatingUntil = time.UnixMilli(until.Int64)
	}
	return e, nil
}

// Endpoints returns every endpoint, oldest first, with delivery counts.
func (d *DB) Endpoints(ctx context.Context) ([]Endpoint, error) {
	rows, err := d.r.QueryContext(ctx, endpointsSQL+` ORDER BY ep.created_at, ep.id`)
	if err != nil {
		return nil, fmt.Errorf("endpoints: %w", err)
	}
	defer rows.Close()
	now := d.nowMS()
	var out []Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows, now)
		if err != nil {
			return nil, fmt.Errorf("endpoints: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("endpoints: %w", err)
	}
	return out, nil
}

// Endpoint returns one endpoint with its delivery counts; it fails with an
// error wrapping ErrNotFound when there is no such endpoint.
func (d *DB) Endpoint(ctx context.Context, id string) (Endpoint, error) {
	e, err := scanEndpoint(d.r.QueryRowContext(ctx, endpointsSQL+` WHERE ep.id = ?`, id), d.nowMS())
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("endpoint %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("endpoint %s: %w", id, err)
	}
	return e, nil
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

func decodeStrings(s string) []string {
	var v []string
	if s == "" || json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return v
}

func decodeHeaders(s string) map[string][]string {
	var v map[string][]string
	if s == "" || json.Unmarshal([]byte(s), &v) == nil {
		return v
	}
	// Some writers store single-valued headers as plain strings.
	var one map[string]string
	if json.Unmarshal([]byte(s), &one) == nil {
		v = make(map[string][]string, len(one))
		for k, x := range one {
			v[k] = []string{x}
		}
	}
	return v
}
