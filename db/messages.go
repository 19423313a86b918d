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
	ins, err := d.prepareInsert(ctx, msgs, nil)
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
	d.ckpt.committed(ins.written())
	return added, nil
}

// insertMessagesSQL and insertDataSQL store a chunk of new messages (the
// rows are known to be new: no conflict handling), OR FAIL so that SQLite
// keeps no statement journal (see recordChunks). The messages statement
// leaves seq to SQLite, which appends each row at the largest seq plus
// one (run checks that they are the seqs it gave message_data): a
// multi-row INSERT that names an INTEGER PRIMARY KEY's value may fail on
// a value that is no integer, so SQLite then keeps a statement journal
// anyway, a copy of every page the statement changes — for messages, the
// pages of four indexes written at random places (0.55 s of a 100,000-mail
// sync's writer). message_data's rows only append to its table: its
// journal holds a page or two.
var (
	insertMessagesSQL = chunkSQL(12, `INSERT OR FAIL INTO messages (id, message_id, thread_id,
		from_name, from_addr, subject, date, received_at, size, source, seen, flagged) VALUES %s`)
	insertDataSQL = chunkSQL(8, `INSERT OR FAIL INTO message_data (seq, in_reply_to, refs, to_addrs,
		cc_addrs, reply_to, codec, raw) VALUES %s`)
)

// maxSeqSQL is the largest seq stored (0 for none).
const maxSeqSQL = `SELECT COALESCE(MAX(seq), 0) FROM messages`

// storedSQL returns the messages already stored under one of the ids
// (?1) or Message-IDs (?2), both JSON arrays.
const storedSQL = `SELECT id, message_id FROM messages WHERE id IN (SELECT value FROM json_each(?1))
	UNION ALL SELECT id, message_id FROM messages WHERE message_id IN (SELECT value FROM json_each(?2))`

// messageInsert is a batch of messages ready to store: raw mail
// compressed and statements prepared, all before the write transaction.
type messageInsert struct {
	c    *stmtCache
	msgs []*mail.Message
	raws []packed
	// sizes are the sizes of the raw mails.
	sizes []int
	// seen and flagged, when set, say which messages are read and
	// starred (a sync's \Seen and \Flagged).
	seen, flagged []bool
	// rows is, after run, the stored row (email id) of each message:
	// its own, or the one already stored under its Message-ID.
	rows []string
	// isNew is, after run, whether run inserted each message.
	isNew []bool
}

func (d *DB) prepareInsert(ctx context.Context, msgs []*mail.Message, pre []*mail.Packed) (*messageInsert, error) {
	ins := &messageInsert{c: d.ws, msgs: msgs, sizes: make([]int, len(msgs)), raws: make([]packed, len(msgs))}
	var todo [][]byte
	var at []int
	for i, m := range msgs {
		raw := rawOf(m)
		ins.sizes[i] = len(raw)
		if i < len(pre) && pre[i] != nil {
			ins.raws[i] = packed{raw: pre[i].Data, codec: pre[i].Codec}
			continue
		}
		todo, at = append(todo, raw), append(at, i)
	}
	done, err := d.codec.packAll(ctx, todo)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		ins.raws[i] = done[j]
	}
	for _, q := range []*chunked{&insertMessagesSQL, &insertDataSQL} {
		for _, s := range q {
			if _, err := d.ws.prepare(ctx, s); err != nil {
				return nil, err
			}
		}
	}
	for _, q := range []string{storedSQL, maxSeqSQL, threadsSQL, subjectThreadSQL} {
		if _, err := d.ws.prepare(ctx, q); err != nil {
			return nil, err
		}
	}
	return ins, nil
}

// txStmt is q, prepared by prepareInsert, in tx.
func (ins *messageInsert) txStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	cached, err := ins.c.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	return txStmt(ctx, tx, cached, q)
}

// run inserts the batch's new messages in tx and returns their ids: a
// message whose email id or Message-ID is stored already (or comes earlier
// in the batch) is skipped.
func (ins *messageInsert) run(ctx context.Context, tx *sql.Tx, source string, nowMS int64) ([]string, error) {
	if len(ins.msgs) == 0 {
		return nil, nil
	}
	known, err := ins.stored(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	maxSeq, err := ins.txStmt(ctx, tx, maxSeqSQL)
	if err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	var seq int64
	if err := maxSeq.QueryRowContext(ctx).Scan(&seq); err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	var rows, data []any
	var added []string
	var news []int
	ins.rows, ins.isNew = make([]string, len(ins.msgs)), make([]bool, len(ins.msgs))
	for i, m := range ins.msgs {
		id := m.StableID()
		if row, ok := known[id]; ok {
			ins.rows[i] = row
			continue
		}
		if row, ok := known[m.MessageID]; ok {
			ins.rows[i] = row
			continue
		}
		known[id], known[m.MessageID] = id, id
		ins.rows[i], ins.isNew[i] = id, true
		news = append(news, i)
	}
	threads, moves, err := ins.threadOf(ctx, tx, news, nowMS)
	if err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	for k, i := range news {
		m, id := ins.msgs[i], ins.rows[i]
		date := m.Date
		if date.IsZero() {
			date = time.UnixMilli(nowMS)
		}
		seq++
		rows = append(rows, id, m.MessageID, threads[k], m.From.Name, m.From.Addr,
			m.Subject, date.UnixMilli(), nowMS, ins.sizes[i], source, i < len(ins.seen) && ins.seen[i],
			i < len(ins.flagged) && ins.flagged[i])
		data = append(data, seq, m.InReplyTo, jsonStrings(m.References), jsonAddrs(m.To), jsonAddrs(m.Cc),
			jsonAddrs(m.ReplyTo), ins.raws[i].codec, ins.raws[i].raw)
		added = append(added, id)
	}
	if err := execChunks(ctx, tx, ins.c, &insertMessagesSQL, nil, rows, 12); err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	// SQLite gave the rows seqs above the largest, rising: they are the
	// ones message_data's rows name when the last is the last named.
	if len(news) > 0 {
		var last int64
		if err := maxSeq.QueryRowContext(ctx).Scan(&last); err != nil {
			return nil, fmt.Errorf("save messages: %w", err)
		}
		if last != seq {
			return nil, fmt.Errorf("save messages: stored up to seq %d, expected %d", last, seq)
		}
	}
	if err := execChunks(ctx, tx, ins.c, &insertDataSQL, nil, data, 8); err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	if err := rethread(ctx, tx, moves); err != nil {
		return nil, fmt.Errorf("save messages: %w", err)
	}
	return added, nil
}

// rowBytes is about what a new message adds to the file besides its raw
// mail: its rows' other fields and its index entries.
const rowBytes = 1 << 10

// written is about how many bytes run added to the file (the raw mail of
// the messages it inserted, and their rows).
func (ins *messageInsert) written() int {
	n := 0
	for i, isNew := range ins.isNew {
		if isNew {
			n += len(ins.raws[i].raw) + rowBytes
		}
	}
	return n
}

// stored returns the email ids and Message-IDs of the batch that are
// stored already, each with the email id of its row.
func (ins *messageInsert) stored(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	ids := make([]string, len(ins.msgs))
	mids := make([]string, len(ins.msgs))
	for i, m := range ins.msgs {
		ids[i], mids[i] = m.StableID(), m.MessageID
	}
	cached, err := ins.c.prepare(ctx, storedSQL)
	if err != nil {
		return nil, err
	}
	rows, err := tx.StmtContext(ctx, cached).QueryContext(ctx, jsonStrings(ids), jsonStrings(mids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	known := make(map[string]string, 2*len(ins.msgs))
	for rows.Next() {
		var id, mid string
		if err := rows.Scan(&id, &mid); err != nil {
			return nil, err
		}
		known[id], known[mid] = id, id
	}
	return known, rows.Err()
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
		if f.s == "[]" { // most lists are empty: what Unmarshal makes of it, without its cost
			switch v := f.v.(type) {
			case *[]string:
				*v = []string{}
			case *[]mail.Address:
				*v = []mail.Address{}
			}
			continue
		}
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

// jsonStrings encodes s as a JSON array (never null), without reflection:
// it runs for every stored message.
func jsonStrings(s []string) string {
	n := 2
	for _, v := range s {
		n += len(v) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return string(append(b, ']'))
}

// jsonAddrs encodes addresses as json.Marshal would ({"name":…,"addr":…},
// the name left out when empty), without reflection.
func jsonAddrs(as []mail.Address) string {
	b := make([]byte, 0, 2+48*len(as))
	b = append(b, '[')
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if a.Name != "" {
			b = append(appendJSONString(append(b, `"name":`...), a.Name), ',')
		}
		b = append(appendJSONString(append(b, `"addr":`...), a.Addr), '}')
	}
	return string(append(b, ']'))
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
