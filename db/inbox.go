package db

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"smista/mail"
)

// InboxFilter narrows and orders the inbox. Empty fields match everything.
type InboxFilter struct {
	Intent   string // an intent, or "untriaged"
	Flag     string // payments | legal | vip | injection
	Decision string // ticket | draft | suggest | none
	// Search is words and "quoted phrases", each in the subject, the
	// sender's name or address (a substring, any case) or the body (a
	// word, or the start of one): all must match. From and Subject are
	// the same in the sender only, or the subject only (ParseQuery reads
	// them all from one search as typed).
	Search, From, Subject string
	// Unread keeps the messages not read yet.
	Unread bool
	// After and Before, when set, keep the messages dated at or after
	// After and before Before.
	After, Before time.Time
	// plan, set by Inbox, is how a page of Search is read (planList,
	// planWalk, planProbe: see textPlan).
	plan int
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

// Key returns the row's place in the inbox's order, for Page.After and
// Page.Before.
func (r InboxRow) Key() InboxKey {
	return InboxKey{Date: r.Date.UnixMilli(), ID: r.ID, Confidence: r.Confidence}
}

// InboxKey is a row's place in the inbox's order: newest first (date,
// then id, both descending), or by confidence first.
type InboxKey struct {
	Date       int64 // unix milliseconds
	ID         string
	Confidence float64
}

// Page selects a window of the inbox: Limit rows from Offset (the only
// paging of the review queue, InboxFilter.Review), or — the
// way to page a long list, whose cost does not grow with the offset —
// the Limit rows just after After, or just before Before (returned in
// list order), or the last Limit rows (Last). At most one of After,
// Before and Last is set; each ignores Offset.
type Page struct {
	Offset, Limit int
	After, Before *InboxKey
	Last          bool
}

// flagBits are the bits of messages.flags (migration 0007).
var flagBits = []struct {
	name string
	bit  int
}{{"payments", 1}, {"legal", 2}, {"vip", 4}, {"injection", 8}}

// flagValues lists every flag set holding bit: an IN list the flag index
// can seek.
func flagValues(bit int) string {
	var vs []string
	for v := 1; v < 16; v++ {
		if v&bit != 0 {
			vs = append(vs, strconv.Itoa(v))
		}
	}
	return strings.Join(vs, ",")
}

// flagNames decodes messages.flags.
func flagNames(bits int) []string {
	out := []string{}
	for _, f := range flagBits {
		if bits&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// inboxWhere returns the conditions of f on messages m: each one a term
// of an index on messages (migration 0007), or the search index's.
func inboxWhere(f InboxFilter) ([]string, []any) {
	var conds []string
	var args []any
	switch f.Intent {
	case "":
	case "untriaged":
		conds = append(conds, "m.intent IS NULL")
	default:
		// m.intent is the intent a person corrected it to, else the
		// model's (the triggers of migration 0007 keep it so). With a
		// flag, the flag index (few rows) is the one to walk: "+" keeps
		// SQLite from choosing the intent's (many rows).
		if f.Flag != "" {
			conds = append(conds, "+m.intent = ?")
		} else {
			conds = append(conds, "m.intent = ?")
		}
		args = append(args, f.Intent)
	}
	if f.Flag != "" {
		bit := 0
		for _, b := range flagBits {
			if b.name == f.Flag {
				bit = b.bit
			}
		}
		if bit == 0 {
			conds = append(conds, "0")
		} else {
			// "flags != 0" verbatim: the flag index is partial on it.
			conds = append(conds, "m.flags != 0 AND m.flags IN ("+flagValues(bit)+")")
		}
	}
	switch f.Decision {
	case "":
	case "none":
		conds = append(conds, "m.action IS NULL")
	default:
		conds = append(conds, "m.action = ?")
		args = append(args, f.Decision)
	}
	if f.Unread {
		// "seen = 0" verbatim: the unread index is partial on it.
		conds = append(conds, "m.seen = 0")
	}
	if !f.After.IsZero() {
		conds = append(conds, "m.date >= ?")
		args = append(args, f.After.UnixMilli())
	}
	if !f.Before.IsZero() {
		conds = append(conds, "m.date < ?")
		args = append(args, f.Before.UnixMilli())
	}
	tc, ta := textConds(f)
	conds, args = append(conds, tc...), append(args, ta...)
	if f.Review > 0 {
		// Triaged, not corrected, and no person's decision.
		conds = append(conds, "m.intent IS NOT NULL", "m.corrected = 0",
			"NOT EXISTS (SELECT 1 FROM decisions d WHERE d.message_id = m.id AND d.decided_by != 'engine')")
	}
	return conds, args
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// inboxArm is one index walk of a page: a sort by confidence reads the
// triaged messages (messages_confidence), then the untriaged ones
// (messages_undecided, all at confidence -1); a sort by date reads one.
type inboxArm struct {
	cond string // what selects the arm's rows ("" for all)
	cols string // its order, each column descending in list order
	// key returns the arguments a key compares with cols, and whether the
	// key's row is in this arm.
	key func(k *InboxKey) ([]any, bool)
}

func inboxArms(f InboxFilter) []inboxArm {
	dateKey := func(k *InboxKey) ([]any, bool) { return []any{k.Date, k.ID}, true }
	if !f.ByConfidence {
		return []inboxArm{{cols: "m.date, m.id", key: dateKey}}
	}
	return []inboxArm{
		{cond: "m.intent IS NOT NULL", cols: "m.confidence, m.date, m.id",
			key: func(k *InboxKey) ([]any, bool) { return []any{k.Confidence, k.Date, k.ID}, k.Confidence >= 0 }},
		{cond: "m.intent IS NULL", cols: "m.date, m.id",
			key: func(k *InboxKey) ([]any, bool) { return []any{k.Date, k.ID}, k.Confidence < 0 }},
	}
}

// reviewOrder is the review queue's order at threshold: closest first. A
// literal, not a parameter: the order appears twice in a page's query.
func reviewOrder(threshold float64) string {
	return fmt.Sprintf(" ORDER BY ABS(m.confidence - %g), m.date DESC, m.id DESC", threshold)
}

// orderBy spells cols (comma-separated) each with dir.
func orderBy(cols, dir string) string {
	return " ORDER BY " + strings.ReplaceAll(cols, ",", " "+dir+",") + " " + dir
}

// pageQuery returns the query of the seqs of page p of f, in list order
// (reversed for Before and Last), and its arguments: each arm walks its
// index from the key (or the start), and the arms are read in turn until
// the page is full.
func pageQuery(f InboxFilter, p Page) (string, []any) {
	conds, fargs := inboxWhere(f)
	if f.Review > 0 {
		// The review queue's order (distance to the threshold) has no
		// index: it sorts the triaged rows and pages by offset only.
		q := "SELECT m.seq FROM messages m WHERE " + strings.Join(conds, " AND ") + reviewOrder(f.Review) + " LIMIT ? OFFSET ?"
		return q, append(fargs, p.Limit, p.Offset)
	}
	arms := inboxArms(f)
	reverse := p.Before != nil || p.Last
	key := p.After
	if p.Before != nil {
		key = p.Before
	}
	dir, cmp := "DESC", "<"
	if reverse {
		dir, cmp = "ASC", ">"
		slices.Reverse(arms)
	}
	n := p.Limit
	if key == nil && !reverse {
		n += p.Offset
	}
	var parts []string
	var args []any
	at := -1 // the arm holding the key's row
	if key != nil {
		for i, a := range arms {
			if _, in := a.key(key); in {
				at = i
			}
		}
	}
	for i, a := range arms {
		if key != nil && i < at {
			continue // wholly before the key
		}
		c := slices.Clone(conds)
		args = append(args, fargs...)
		if a.cond != "" {
			c = append(c, a.cond)
		}
		if key != nil && i == at {
			ka, _ := a.key(key)
			c = append(c, "("+a.cols+") "+cmp+" ("+placeholders(len(ka))+")")
			args = append(args, ka...)
		}
		where := ""
		if len(c) > 0 {
			where = " WHERE " + strings.Join(c, " AND ")
		}
		parts = append(parts, "SELECT * FROM (SELECT m.seq FROM messages m"+where+orderBy(a.cols, dir)+" LIMIT ?)")
		args = append(args, n)
	}
	q := strings.Join(parts, " UNION ALL ") + " LIMIT ?"
	args = append(args, p.Limit)
	if key == nil && !reverse && p.Offset > 0 {
		q += " OFFSET ?"
		args = append(args, p.Offset)
	}
	return q, args
}

// Inbox returns the page p of the inbox rows matching f, newest first (or
// by confidence). Only the page is read: every sort and filter but the
// search walks an index in list order, and a page after or before a known
// row starts from its key, so a 100,000-message store pages as fast as a
// small one.
func (d *DB) Inbox(ctx context.Context, f InboxFilter, p Page) ([]InboxRow, error) {
	if f.Search != "" && f.Review == 0 {
		plan, err := d.textPlan(ctx, f.Search)
		if err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
		f.plan = plan
	}
	page, args := pageQuery(f, p)
	order := orderBy(inboxArms(f)[0].cols, "DESC")
	if f.Review > 0 {
		order = reviewOrder(f.Review)
	}
	// Page on rows first: the row's subqueries (drafts, ticket state) then
	// run for the page only. drafts_message by name: without statistics
	// SQLite takes the status index and reads every pending draft.
	q := `WITH page(seq) AS (` + page + `)
		SELECT m.id, m.from_name, m.from_addr, m.subject, m.date, m.seen,
		COALESCE(m.intent, ''), m.corrected, m.confidence, m.flags,
		COALESCE(m.action, ''), COALESCE(d.decided_by, ''), COALESCE(d.suggestion, ''),
		EXISTS (SELECT 1 FROM drafts dr INDEXED BY drafts_message WHERE dr.message_id = m.id AND dr.status = 'pending'),
		COALESCE((SELECT CASE
			WHEN COUNT(dl.id) = 0 THEN 'no endpoint'
			WHEN SUM(dl.status = 'dead') > 0 THEN 'failed'
			WHEN SUM(dl.status IN ('pending', 'retrying', 'paused')) > 0 THEN 'queued'
			WHEN SUM(dl.status = 'delivered') > 0 THEN 'sent'
			ELSE 'canceled' END
			FROM events e LEFT JOIN deliveries dl ON dl.event_id = e.id
			WHERE e.message_id = m.id AND e.type = 'ticket.suggested' AND e.test = 0
			GROUP BY e.id), '')
		FROM page JOIN messages m ON m.seq = page.seq
		LEFT JOIN decisions d ON d.message_id = m.id` + order
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	defer rows.Close()
	out := make([]InboxRow, 0, p.Limit)
	for rows.Next() {
		var r InboxRow
		var date int64
		var flags int
		if err := rows.Scan(&r.ID, &r.FromName, &r.FromAddr, &r.Subject, &date, &r.Seen,
			&r.Intent, &r.Corrected, &r.Confidence, &flags, &r.Action, &r.DecidedBy, &r.Suggestion,
			&r.DraftWaiting, &r.TicketState); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
		r.Date = time.UnixMilli(date)
		r.Flags = flagNames(flags)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return out, nil
}

// InboxCount returns how many messages match f.
func (d *DB) InboxCount(ctx context.Context, f InboxFilter) (int, error) {
	conds, args := inboxWhere(f)
	q := `SELECT COUNT(*) FROM messages m`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	if tq, targs, ok := textCount(f); ok {
		q, args = tq, targs
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
