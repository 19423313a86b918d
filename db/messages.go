package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"smista/mail"
)

// *DB is the Store that mail.Import writes to.
var _ mail.Store = (*DB)(nil)

// SaveMessages stores msgs in one transaction, skipping any whose email id is
// already stored (re-import and re-sync never duplicate). It returns the ids
// of the rows it inserted, in input order.
func (d *DB) SaveMessages(ctx context.Context, source string, msgs []*mail.Message) ([]string, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	defer tx.Rollback()
	added, err := insertMessages(ctx, tx, source, d.nowMS(), msgs)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	return added, nil
}

func insertMessages(ctx context.Context, tx *sql.Tx, source string, nowMS int64, msgs []*mail.Message) ([]string, error) {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (
		id, message_id, thread_id, in_reply_to, refs, from_name, from_addr,
		to_addrs, cc_addrs, reply_to, subject, date, received_at, text_body,
		html_body, headers, attachments, size, raw, source)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	defer stmt.Close()
	var added []string
	for _, m := range msgs {
		id := m.StableID()
		date := m.Date
		if date.IsZero() {
			date = time.UnixMilli(nowMS)
		}
		raw := m.Raw
		if raw == nil {
			raw = []byte{} // a NULL blob would violate raw NOT NULL
		}
		res, err := stmt.ExecContext(ctx, id, m.MessageID, m.ThreadID, m.InReplyTo,
			mustJSON(nonNil(m.References)), m.From.Name, m.From.Addr,
			mustJSON(nonNilA(m.To)), mustJSON(nonNilA(m.Cc)), mustJSON(nonNilA(m.ReplyTo)),
			m.Subject, date.UnixMilli(), nowMS, m.Text, m.HTML,
			headersJSON(m.Header), mustJSON(nonNilAtt(m.Attachments)), len(raw), raw, source)
		if err != nil {
			return nil, fmt.Errorf("save message %s: %w", m.MessageID, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added = append(added, id)
		}
	}
	return added, nil
}

// messageColumns is the column list scanMessage expects.
const messageColumns = `id, message_id, thread_id, in_reply_to, refs, from_name, from_addr,
	to_addrs, cc_addrs, reply_to, subject, date, text_body, html_body, headers,
	attachments, raw`

func scanMessage(row interface{ Scan(...any) error }) (*mail.Message, error) {
	var (
		m                                    mail.Message
		refs, to, cc, replyTo, headers, atts string
		date                                 int64
	)
	err := row.Scan(&m.ID, &m.MessageID, &m.ThreadID, &m.InReplyTo, &refs, &m.From.Name,
		&m.From.Addr, &to, &cc, &replyTo, &m.Subject, &date, &m.Text, &m.HTML, &headers,
		&atts, &m.Raw)
	if err != nil {
		return nil, err
	}
	m.Date = time.UnixMilli(date)
	for _, f := range []struct {
		s string
		v any
	}{{refs, &m.References}, {to, &m.To}, {cc, &m.Cc}, {replyTo, &m.ReplyTo}, {headers, &m.Header}, {atts, &m.Attachments}} {
		if err := json.Unmarshal([]byte(f.s), f.v); err != nil {
			return nil, fmt.Errorf("decode message %s: %w", m.ID, err)
		}
	}
	return &m, nil
}

// Message returns the stored message with the given email id, or ErrNotFound.
func (d *DB) Message(ctx context.Context, id string) (*mail.Message, error) {
	row := d.r.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id)
	m, err := scanMessage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	return m, nil
}

// MessageSummary is one inbox row: what a listing shows without the body.
type MessageSummary struct {
	ID        string
	MessageID string
	From      mail.Address
	Subject   string
	Date      time.Time
	Seen      bool
	Size      int64
}

// ListMessages returns up to limit messages, newest first, skipping offset.
func (d *DB) ListMessages(ctx context.Context, limit, offset int) ([]MessageSummary, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT id, message_id, from_name, from_addr, subject, date, seen, size
		FROM messages ORDER BY date DESC, id LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var out []MessageSummary
	for rows.Next() {
		var s MessageSummary
		var date int64
		if err := rows.Scan(&s.ID, &s.MessageID, &s.From.Name, &s.From.Addr, &s.Subject, &date, &s.Seen, &s.Size); err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		s.Date = time.UnixMilli(date)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return out, nil
}

// CountMessages returns how many messages the store holds.
func (d *DB) CountMessages(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count messages: %w", err)
	}
	return n, nil
}

// MarkSeen marks the message as read (nothing when there is no such
// message).
func (d *DB) MarkSeen(ctx context.Context, id string) error {
	if _, err := d.w.ExecContext(ctx, `UPDATE messages SET seen = 1 WHERE id = ? AND seen = 0`, id); err != nil {
		return fmt.Errorf("mark seen: %w", err)
	}
	return nil
}

// headersJSON encodes a header map as a JSON object with sorted keys, as
// json.Marshal would (minus its HTML escaping), without reflection: it runs
// once per stored message, inside the write transaction.
func headersJSON(h map[string][]string) string {
	keys := make([]string, 0, len(h))
	size := 2
	for k, vs := range h {
		keys = append(keys, k)
		size += len(k) + 6
		for _, v := range vs {
			size += len(v) + 3
		}
	}
	sort.Strings(keys)
	b := make([]byte, 0, size+size/16)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':', '[')
		for j, v := range h[k] {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	return string(b)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilA(s []mail.Address) []mail.Address {
	if s == nil {
		return []mail.Address{}
	}
	return s
}

func nonNilAtt(s []mail.Attachment) []mail.Attachment {
	if s == nil {
		return []mail.Attachment{}
	}
	return s
}
