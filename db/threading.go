package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"smista/mail"
)

// threadsSQL returns the thread of each stored email whose Message-ID is
// in ?1 (a JSON array); subjectThreadSQL the thread of the newest email
// with subject ?1 dated at ?2 or before. Both are prepared once (see
// prepareInsert): they run in every batch, the second once per reply
// without In-Reply-To and References.
const (
	threadsSQL = `SELECT message_id, thread_id FROM messages
		WHERE message_id IN (SELECT value FROM json_each(?))`
	subjectThreadSQL = `SELECT thread_id FROM messages WHERE subject = ? AND date <= ?
		ORDER BY date DESC LIMIT 1`
)

// threadOf decides the conversation of each new message of the batch (the
// indexes in news) against the store: the thread of a stored (or earlier
// in the batch) email it answers — In-Reply-To first, then References from
// the nearest (see candidates) — so a chain whose References were cut,
// or a reply with In-Reply-To alone, stays with its root; without either header, a reply
// or forward (Re:, Fwd: ...) joins the newest earlier email with its base
// subject; else the thread mail.Parse computed (the References root). It
// returns each new message's thread and the rethreads that follow: stored
// emails that named the new one as their root join its thread.
func (ins *messageInsert) threadOf(ctx context.Context, tx *sql.Tx, news []int, nowMS int64) ([]string, [][2]string, error) {
	var refs []string
	for _, i := range news {
		refs = append(refs, candidates(ins.msgs[i])...)
	}
	known := map[string]string{} // Message-ID → thread
	if len(refs) > 0 {
		st, err := ins.txStmt(ctx, tx, threadsSQL)
		if err != nil {
			return nil, nil, fmt.Errorf("threads: %w", err)
		}
		rows, err := st.QueryContext(ctx, jsonStrings(refs))
		if err != nil {
			return nil, nil, fmt.Errorf("threads: %w", err)
		}
		for rows.Next() {
			var mid, thr string
			if err := rows.Scan(&mid, &thr); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("threads: %w", err)
			}
			known[mid] = thr
		}
		if err := rows.Close(); err != nil {
			return nil, nil, fmt.Errorf("threads: %w", err)
		}
	}
	out := make([]string, len(news))
	var moves [][2]string
	bySubject := map[string]string{} // the batch's emails that are no reply
	for k, i := range news {
		m := ins.msgs[i]
		thr, err := ins.resolve(ctx, tx, m, known, bySubject, nowMS)
		if err != nil {
			return nil, nil, err
		}
		out[k] = thr
		known[m.MessageID] = thr
		if base, reply := mail.BaseSubject(m.Subject); !reply && base != "" {
			bySubject[base] = thr // no allocation for a subject that is no reply
		}
		if own := mail.EmailID(m.MessageID); thr != own {
			moves = append(moves, [2]string{own, thr})
		}
	}
	return out, moves, nil
}

// resolve is one message's thread (see threadOf).
func (ins *messageInsert) resolve(ctx context.Context, tx *sql.Tx, m *mail.Message, known, bySubject map[string]string, nowMS int64) (string, error) {
	for _, mid := range candidates(m) {
		if thr, ok := known[mid]; ok {
			return thr, nil
		}
	}
	if m.InReplyTo != "" || len(m.References) > 0 {
		return m.ThreadID, nil
	}
	base, reply := mail.BaseSubject(m.Subject)
	if !reply || base == "" {
		return m.ThreadID, nil
	}
	if thr, ok := bySubject[base]; ok {
		return thr, nil
	}
	date := m.Date
	if date.IsZero() {
		date = time.UnixMilli(nowMS)
	}
	st, err := ins.txStmt(ctx, tx, subjectThreadSQL)
	if err != nil {
		return "", fmt.Errorf("threads: %w", err)
	}
	var thr string
	err = st.QueryRowContext(ctx, base, date.UnixMilli()).Scan(&thr)
	switch {
	case err == sql.ErrNoRows:
		return m.ThreadID, nil
	case err != nil:
		return "", fmt.Errorf("threads: %w", err)
	}
	return thr, nil
}

// candidates are the emails m answers that decide its thread, nearest
// first: In-Reply-To, then the last two References and the first (its
// root). The ones between add nothing a mailer does not repeat in these
// (a long thread's References run to dozens), and each costs a lookup.
func candidates(m *mail.Message) []string {
	out := make([]string, 0, 4)
	if m.InReplyTo != "" {
		out = append(out, m.InReplyTo)
	}
	n := len(m.References)
	for j := n - 1; j >= 0 && j >= n-2; j-- {
		out = append(out, m.References[j])
	}
	if n > 2 {
		out = append(out, m.References[0])
	}
	return out
}

// rethread moves the stored emails whose thread was a new message's own
// id into that message's thread (an email stored before the one it
// answers, which turned out to belong to an older conversation).
func rethread(ctx context.Context, tx *sql.Tx, moves [][2]string) error {
	if len(moves) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET thread_id = j.value->>1
		FROM json_each(?) j WHERE messages.thread_id = j.value->>0`, mustJSON(moves)); err != nil {
		return fmt.Errorf("rethread: %w", err)
	}
	return nil
}
