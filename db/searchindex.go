package db

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"smista/mail"
)

// BodyIndexBytes bounds the text of one body that the search index holds:
// its first 64 KiB (a long thread quoted below a reply, a log pasted in
// full, are found by their start).
const BodyIndexBytes = 64 << 10

// bodyChunk is how many bodies one IndexSearch transaction adds at most:
// each is parsed from its raw mail first (about 0.1 s of parsing and 50 ms
// of writing per 1,000 on the corpus), so other writes interleave.
const bodyChunk = 1000

// IndexSearch adds up to limit stored messages to the search indexes (the
// oldest not yet in them): the subject and sender to the header index,
// and, at most 1,000 at a time, the body text to the body index. It
// returns how many messages it added to one of them (the larger count), 0
// when both are up to date. A search is
// right either way for the subject and sender (it reads the messages past
// the index directly), only slower; a body is found once indexed. Front
// ends call it in the background until it returns 0.
func (d *DB) IndexSearch(ctx context.Context, limit int) (int, error) {
	n, err := d.indexHeaders(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("index search: %w", err)
	}
	b, err := d.indexBodies(ctx, min(limit, bodyChunk))
	if err != nil {
		return 0, fmt.Errorf("index search: %w", err)
	}
	return max(n, b), nil
}

func (d *DB) indexHeaders(ctx context.Context, limit int) (int, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var from, to int64
	if err := tx.QueryRowContext(ctx, `SELECT s.indexed_seq, COALESCE((SELECT MAX(seq) FROM
		(SELECT seq FROM messages WHERE seq > s.indexed_seq ORDER BY seq LIMIT ?)), s.indexed_seq)
		FROM search_state s`, limit).Scan(&from, &to); err != nil {
		return 0, err
	}
	if to == from {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO messages_search (rowid, subject, from_name, from_addr)
		SELECT seq, subject, from_name, from_addr FROM messages WHERE seq > ? AND seq <= ?`, from, to)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE search_state SET indexed_seq = ?`, to); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// indexedBody is one message's body text for the body index.
type indexedBody struct {
	seq  int64
	raw  []byte
	text string
}

// indexBodies parses the bodies of up to limit messages past
// search_state.body_seq (reading and parsing outside the write
// transaction, on every core) and adds them to the body index.
func (d *DB) indexBodies(ctx context.Context, limit int) (int, error) {
	var from int64
	if err := d.r.QueryRowContext(ctx, `SELECT body_seq FROM search_state`).Scan(&from); err != nil {
		return 0, err
	}
	rows, err := d.r.QueryContext(ctx, `SELECT seq, codec, raw FROM message_data WHERE seq > ? ORDER BY seq LIMIT ?`, from, limit)
	if err != nil {
		return 0, err
	}
	var todo []indexedBody
	for rows.Next() {
		var b indexedBody
		var codec int
		var raw []byte
		if err := rows.Scan(&b.seq, &codec, &raw); err != nil {
			rows.Close()
			return 0, err
		}
		if b.raw, err = d.codec.unpack(raw, codec); err != nil {
			rows.Close()
			return 0, fmt.Errorf("message %d: %w", b.seq, err)
		}
		todo = append(todo, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(todo) == 0 {
		return 0, nil
	}
	bodyTexts(todo)
	return d.storeBodies(ctx, from, todo)
}

// storeBodies adds the bodies to the index and moves the watermark past
// them, unless another indexer moved it first (then it adds nothing).
func (d *DB) storeBodies(ctx context.Context, from int64, todo []indexedBody) (int, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var at int64
	if err := tx.QueryRowContext(ctx, `SELECT body_seq FROM search_state`).Scan(&at); err != nil {
		return 0, err
	}
	if at != from {
		return 0, nil
	}
	// A message deleted since it was read is left out (its seq may be
	// given again to a new message).
	ins, err := tx.PrepareContext(ctx, `INSERT INTO messages_body (rowid, body)
		SELECT seq, ? FROM messages WHERE seq = ?`)
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	for _, b := range todo {
		if _, err := ins.ExecContext(ctx, b.text, b.seq); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE search_state SET body_seq = ?`, todo[len(todo)-1].seq); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(todo), nil
}

// bodyTexts fills each body's text from its raw mail, on every core.
func bodyTexts(todo []indexedBody) {
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(todo); i += workers {
				todo[i].text = BodyText(todo[i].raw)
				todo[i].raw = nil
			}
		}()
	}
	wg.Wait()
}

// BodyText returns the text of a raw mail that the body index holds: its
// text part, else the text of its HTML part, cut to BodyIndexBytes at a
// character boundary.
func BodyText(raw []byte) string {
	m := &mail.Message{Raw: raw}
	mail.FillBody(m)
	text := m.Text
	if strings.TrimSpace(text) == "" && m.HTML != "" {
		text = mail.HTMLToText(truncText(m.HTML, 4*BodyIndexBytes))
	}
	return truncText(text, BodyIndexBytes)
}

// truncText cuts s to at most n bytes at a character boundary.
func truncText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// SearchBacklog returns how many stored messages the search indexes do not
// hold yet (the larger of the two backlogs).
func (d *DB) SearchBacklog(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages
		WHERE seq > (SELECT MIN(indexed_seq, body_seq) FROM search_state)`).Scan(&n); err != nil {
		return 0, fmt.Errorf("search backlog: %w", err)
	}
	return n, nil
}
