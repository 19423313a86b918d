package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ErrNotReplayable is returned by Replay for a delivery that is already
// queued, or whose endpoint is disabled or removed.
var ErrNotReplayable = errors.New("delivery cannot be replayed")

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

// DeliveryFilter narrows and pages the delivery log. Empty fields match
// everything.
type DeliveryFilter struct {
	Status     string // pending | retrying | delivered | dead | paused | canceled
	EndpointID string // the endpoint a webhook delivery is for
	Kind       string // webhook | smtp; "" for every kind
	// Since and Until bound the time a delivery was queued (its created_at,
	// the time the log shows): Since <= t < Until; zero means unbounded.
	Since, Until time.Time
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
	conds, args = timeRange(conds, args, "dl.created_at", f.Since, f.Until)
	from := "deliveries dl" + hint
	if len(conds) == 0 {
		return from, "", nil
	}
	return from, " WHERE " + strings.Join(conds, " AND "), args
}

// timeRange adds the conditions col >= since and col < until (each when
// not zero) to conds and args.
func timeRange(conds []string, args []any, col string, since, until time.Time) ([]string, []any) {
	if !since.IsZero() {
		conds, args = append(conds, col+" >= ?"), append(args, since.UnixMilli())
	}
	if !until.IsZero() {
		conds, args = append(conds, col+" < ?"), append(args, until.UnixMilli())
	}
	return conds, args
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
	return `SELECT dl.id, dl.kind, ` + endpointOf("dl") + `, COALESCE(ep.url, dl.url), COALESCE(dl.event_id, ''),
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
		all, err := d.CountDeliveries(ctx, DeliveryFilter{EndpointID: f.EndpointID, Kind: f.Kind, Since: f.Since, Until: f.Until})
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
		var conds []string
		if conds, args = timeRange(nil, args, "dl.created_at", f.Since, f.Until); len(conds) > 0 {
			q += " AND " + strings.Join(conds, " AND ")
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
	// Since and Until bound the attempts' start: Since <= t < Until; zero
	// means unbounded.
	Since, Until time.Time
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
	conds, args = timeRange(conds, args, "a.started_at", f.Since, f.Until)
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

// Replay starts a new attempt sequence for a delivery: same event, same
// webhook-id, a fresh retry round; attempt numbers continue. It fails with
// ErrNotFound, or ErrNotReplayable when the delivery is already queued or
// its endpoint is disabled or removed.
func (d *DB) Replay(ctx context.Context, id string) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer tx.Rollback()
	var status string
	var enabled sql.NullBool
	err = tx.QueryRowContext(ctx, `SELECT d.status, e.enabled FROM deliveries d LEFT JOIN endpoints e ON e.id = d.endpoint_id
		WHERE d.id = ?`, id).Scan(&status, &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("replay %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	switch {
	case status == "pending" || status == "retrying":
		return fmt.Errorf("replay %s: already %s: %w", id, status, ErrNotReplayable)
	case status == "paused" || (enabled.Valid && !enabled.Bool):
		return fmt.Errorf("replay %s: endpoint is disabled, enable it first: %w", id, ErrNotReplayable)
	case !enabled.Valid:
		return fmt.Errorf("replay %s: endpoint was removed: %w", id, ErrNotReplayable)
	}
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, deadline = NULL, updated_at = ?
		WHERE id = ?`, now, now, id); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replay: %w", err)
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
