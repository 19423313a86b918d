package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"smista/mail"
)

// *DB is the Store that mail.Import writes to.
var _ mail.Store = (*DB)(nil)

// SaveMessages stores msgs in one transaction, skipping any whose email id is
// already stored (re-import and re-sync never duplicate). It returns the ids
// of the rows it inserted, in input order.
func (d *DB) SaveMessages(ctx context.Context, source string, msgs []*mail.Message) ([]string, error) {
	ins, err := d.prepareInsert(ctx, msgs)
	if err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	defer tx.Rollback()
	added, err := ins.run(ctx, tx, source, d.nowMS())
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	return added, nil
}

const (
	insertMessageSQL = `INSERT INTO messages (id, message_id, thread_id, from_name, from_addr,
		subject, date, received_at, size, source) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`
	insertDataSQL = `INSERT INTO message_data (seq, in_reply_to, refs, to_addrs, cc_addrs, reply_to, codec, raw)
		VALUES (?,?,?,?,?,?,?,?)`
)

// messageInsert is a batch of messages ready to store: raw mail
// compressed and statements prepared, all before the write transaction.
type messageInsert struct {
	msgs       []*mail.Message
	raws       []packed
	sizes      []int
	stmt, data *sql.Stmt
}

func (d *DB) prepareInsert(ctx context.Context, msgs []*mail.Message) (*messageInsert, error) {
	ins := &messageInsert{msgs: msgs, sizes: make([]int, len(msgs))}
	raws := make([][]byte, len(msgs))
	for i, m := range msgs {
		raws[i] = rawOf(m)
		ins.sizes[i] = len(raws[i])
	}
	var err error
	if ins.raws, err = d.codec.packAll(ctx, raws); err != nil {
		return nil, err
	}
	if ins.stmt, err = d.ws.prepare(ctx, insertMessageSQL); err != nil {
		return nil, err
	}
	if ins.data, err = d.ws.prepare(ctx, insertDataSQL); err != nil {
		return nil, err
	}
	return ins, nil
}

// run inserts the batch in tx and returns the ids it added.
func (ins *messageInsert) run(ctx context.Context, tx *sql.Tx, source string, nowMS int64) ([]string, error) {
	stmt, data := tx.StmtContext(ctx, ins.stmt), tx.StmtContext(ctx, ins.data)
	var added []string
	for i, m := range ins.msgs {
		id := m.StableID()
		date := m.Date
		if date.IsZero() {
			date = time.UnixMilli(nowMS)
		}
		res, err := stmt.ExecContext(ctx, id, m.MessageID, m.ThreadID, m.From.Name, m.From.Addr,
			m.Subject, date.UnixMilli(), nowMS, ins.sizes[i], source)
		if err != nil {
			return nil, fmt.Errorf("save message %s: %w", m.MessageID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("save message %s: %w", m.MessageID, err)
		}
		if _, err := data.ExecContext(ctx, seq, m.InReplyTo, mustJSON(nonNil(m.References)),
			mustJSON(nonNilA(m.To)), mustJSON(nonNilA(m.Cc)), mustJSON(nonNilA(m.ReplyTo)),
			ins.raws[i].codec, ins.raws[i].raw); err != nil {
			return nil, fmt.Errorf("save message %s: %w", m.MessageID, err)
		}
		added = append(added, id)
	}
	return added, nil
}

// rawOf is the raw mail stored for m. A message built by a program without
// its raw bytes is stored as a one-part message of its text, so its body
// still reads back (the header fields are stored apart).
func rawOf(m *mail.Message) []byte {
	switch {
	case len(m.Raw) > 0:
		return m.Raw
	case m.Text == "" && m.HTML != "":
		return []byte("Content-Type: text/html; charset=utf-8\r\n\r\n" + m.HTML)
	}
	return []byte("Content-Type: text/plain; charset=utf-8\r\n\r\n" + m.Text)
}

// messageColumns is the column list scanMessage expects, and
// messageFrom the tables they come from.
const (
	messageColumns = `m.id, m.message_id, m.thread_id, x.in_reply_to, x.refs, m.from_name, m.from_addr,
	x.to_addrs, x.cc_addrs, x.reply_to, m.subject, m.date, x.codec, x.raw`
	messageFrom = ` FROM messages m JOIN message_data x ON x.seq = m.seq`
)

// scanMessage reads a message's stored fields and its raw mail; the body
// (Text, HTML, Attachments, Header) is left for mail.FillBody.
func (d *DB) scanMessage(row interface{ Scan(...any) error }) (*mail.Message, error) {
	var (
		m                     mail.Message
		refs, to, cc, replyTo string
		date                  int64
		codec                 int
		raw                   []byte
	)
	err := row.Scan(&m.ID, &m.MessageID, &m.ThreadID, &m.InReplyTo, &refs, &m.From.Name,
		&m.From.Addr, &to, &cc, &replyTo, &m.Subject, &date, &codec, &raw)
	if err != nil {
		return nil, err
	}
	m.Date = time.UnixMilli(date)
	for _, f := range []struct {
		s string
		v any
	}{{refs, &m.References}, {to, &m.To}, {cc, &m.Cc}, {replyTo, &m.ReplyTo}} {
		if err := json.Unmarshal([]byte(f.s), f.v); err != nil {
			return nil, fmt.Errorf("decode message %s: %w", m.ID, err)
		}
	}
	if m.Raw, err = d.codec.unpack(raw, codec); err != nil {
		return nil, fmt.Errorf("message %s: %w", m.ID, err)
	}
	return &m, nil
}

// Message returns the stored message with the given email id, its body
// parsed from the raw mail, or ErrNotFound.
func (d *DB) Message(ctx context.Context, id string) (*mail.Message, error) {
	row := d.r.QueryRowContext(ctx, `SELECT `+messageColumns+messageFrom+` WHERE m.id = ?`, id)
	m, err := d.scanMessage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	fillBody(m)
	return m, nil
}

// fillBody parses m's body from its raw mail.
func fillBody(m *mail.Message) {
	mail.FillBody(m)
	if m.Header == nil {
		m.Header = map[string][]string{}
	}
}

// LoadMessages returns the stored messages with the given email ids, in
// that order (an id not stored is left out), with their raw mail but not
// their body: the caller runs mail.FillBody on the goroutines it chooses
// (triage parses on every core while one goroutine reads the store).
func (d *DB) LoadMessages(ctx context.Context, ids []string) ([]*mail.Message, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := d.r.QueryContext(ctx, `SELECT `+messageColumns+messageFrom+`
		WHERE m.id IN (SELECT value FROM json_each(?))`, mustJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]*mail.Message, len(ids))
	for rows.Next() {
		m, err := d.scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("load messages: %w", err)
		}
		byID[m.ID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	out := make([]*mail.Message, 0, len(byID))
	for _, id := range ids {
		if m, ok := byID[id]; ok {
			out = append(out, m)
		}
	}
	return out, nil
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
