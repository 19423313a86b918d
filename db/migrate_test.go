package db

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMigrateOutboxLean upgrades a version-2 store holding an outbox with
// its attempt log to the current schema: every attempt keeps its delivery,
// number and response; a request body equal to the event's payload is
// stored once (read back as the payload), any other body is kept as is.
func TestMigrateOutboxLean(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	for _, m := range ms[:2] {
		exec(m.sql)
		exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name)
	}
	payload := []byte(`{"event":"ticket.suggested","email_id":"m1"}`)
	exec(`INSERT INTO endpoints (id, url, secret, created_at, updated_at) VALUES ('ep_1', 'http://127.0.0.1:1/', 'whsec_x', 1, 1)`)
	exec(`INSERT INTO events (id, type, payload, created_at) VALUES ('evt_1', 'ticket.suggested', ?, 1)`, payload)
	exec(`INSERT INTO deliveries (id, queue, endpoint_id, event_id, webhook_id, status, attempts, created_at, updated_at) VALUES
		('dl_a', 'ep_1', 'ep_1', 'evt_1', 'msg_a', 'delivered', 2, 1, 3),
		('dl_b', 'ep_1', 'ep_1', 'evt_1', 'msg_b', 'dead', 1, 1, 2)`)
	exec(`INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status_code, error_class, request_body, response_body)
		VALUES ('dl_a', 1, 10, 5, 500, 'http_status', ?, 'boom'), ('dl_a', 2, 20, 5, 200, '', ?, 'ok'),
		('dl_b', 1, 30, 5, 0, 'connect', 'another body', NULL)`, payload, payload)
	// As if deliveries 3 to 10 had existed: AUTOINCREMENT never reuses them.
	exec(`UPDATE sqlite_sequence SET seq = 10 WHERE name = 'deliveries'`)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var stored int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM attempts WHERE request_body IS NOT NULL`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Errorf("%d attempts store a body, want 1 (the one that differs from the payload)", stored)
	}
	logs, err := d.Attempts(ctx, AttemptFilter{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		delivery string
		attempt  int
		class    string
		body     string
		resp     string
	}
	want := []row{
		{"dl_a", 1, "http_status", string(payload), "boom"},
		{"dl_a", 2, "", string(payload), "ok"},
		{"dl_b", 1, "connect", "another body", ""},
	}
	if len(logs) != len(want) {
		t.Fatalf("%d attempts after the migration, want %d: %+v", len(logs), len(want), logs)
	}
	for i, l := range logs {
		got := row{l.DeliveryID, l.Attempt, l.ErrorClass, string(l.RequestBody), string(l.ResponseBody)}
		if got != want[i] {
			t.Errorf("attempt %d = %+v, want %+v", i, got, want[i])
		}
	}
	ui, err := d.Attempts(ctx, AttemptFilter{DeliveryID: "dl_a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ui) != 2 || !bytes.Equal(ui[1].RequestBody, payload) {
		t.Errorf("attempts of dl_a = %+v, want 2 with the payload as body", ui)
	}
	// seq keeps counting from where it was (AUTOINCREMENT), and the
	// foreign keys are deferred: a dangling reference fails the commit.
	var seq int64
	if err := d.w.QueryRowContext(ctx, `INSERT INTO deliveries (id, queue, endpoint_id, event_id, created_at, updated_at)
		VALUES ('dl_c', 'ep_1', 'ep_1', 'evt_1', 4, 4) RETURNING seq`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if seq != 11 {
		t.Errorf("new delivery seq %d, want 11 (the sequence carried over)", seq)
	}
	checkAttemptsKeyDeferred(t, d)
	// Deleting an endpoint detaches its deliveries; their log stays.
	if _, err := d.w.ExecContext(ctx, `DELETE FROM endpoints WHERE id = 'ep_1'`); err != nil {
		t.Fatal(err)
	}
	var kept, attached, logged int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(endpoint_id), (SELECT COUNT(*) FROM attempts) FROM deliveries`).
		Scan(&kept, &attached, &logged); err != nil {
		t.Fatal(err)
	}
	if kept != 3 || attached != 0 || logged != 3 {
		t.Errorf("after deleting the endpoint: %d deliveries (%d attached), %d attempts; want 3 (0), 3", kept, attached, logged)
	}
	var fk int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_check`).Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if fk != 0 {
		t.Errorf("%d foreign key violations after the migration", fk)
	}
}

// oldStore creates a store at path with the first n migrations applied and
// returns its connection (foreign keys on, as the program opens it).
func oldStore(t *testing.T, path string, n int) *sql.DB {
	t.Helper()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	old.SetMaxOpenConns(1)
	if _, err := old.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:n] {
		// As apply does: a migration that rebuilds a table runs with
		// foreign keys off.
		fkOff := strings.HasPrefix(m.sql, fkOffMarker)
		if fkOff {
			if _, err := old.Exec(`PRAGMA foreign_keys = OFF`); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := old.Exec(m.sql); err != nil {
			t.Fatal(err)
		}
		if fkOff {
			if _, err := old.Exec(`PRAGMA foreign_keys = ON`); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := old.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	return old
}

// TestMigrateLeanMessages upgrades a version-6 store in place: every
// message keeps its fields, raw mail and body (parsed back from the raw
// mail; a row stored without raw mail keeps its text), and every row that
// references a message — locations, triage results, decisions, drafts,
// events, the model cache — survives the rebuild of the messages table;
// the inbox's copies of the triage columns are filled.
func TestMigrateLeanMessages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	old := oldStore(t, path, 6)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw := "From: Anna <anna@example.org>\r\nTo: help@example.org\r\nSubject: login\r\nMessage-ID: <a@example.org>\r\n" +
		"X-Custom: kept\r\n\r\nI cannot log in.\r\n"
	exec(`INSERT INTO messages (id, message_id, thread_id, in_reply_to, refs, from_name, from_addr, to_addrs, subject,
		date, received_at, text_body, html_body, headers, size, raw, seen, source) VALUES
		('m1', '<a@example.org>', 't1', '<p@x>', '["<r@x>"]', 'Anna', 'anna@example.org', '[{"addr":"help@example.org"}]',
		 'login', 2000, 1, 'I cannot log in.', '', '{}', ?, ?, 1, 'imap:work/INBOX'),
		('m2', '<b@example.org>', 't2', '', '[]', 'Bob', 'bob@example.org', '[]', 'no raw', 1000, 1,
		 'kept text', '', '{}', 0, x'', 0, 'test')`, len(raw), []byte(raw))
	exec(`INSERT INTO accounts (id, name, created_at) VALUES (1, 'work', 0)`)
	exec(`INSERT INTO mailboxes (id, account_id, name) VALUES (1, 1, 'INBOX')`)
	exec(`INSERT INTO message_locations (mailbox_id, uid, message_id, flags) VALUES (1, 7, 'm1', '["\\Seen"]')`)
	exec(`INSERT INTO triage_results (message_id, intent, confidence, priority, flags, model, created_at)
		VALUES ('m1', 'support', 0.9, 'high', '["payments","vip"]', 'offline/1', 5)`)
	exec(`INSERT INTO decisions (message_id, action, decided_by, decided_at) VALUES ('m1', 'ticket', 'human:ann', 6)`)
	exec(`INSERT INTO drafts (message_id, body, created_at, updated_at) VALUES ('m2', 'hello', 1, 1)`)
	exec(`INSERT INTO events (id, type, message_id, payload, created_at) VALUES ('evt_1', 'ticket.suggested', 'm1', '{}', 1)`)
	exec(`INSERT INTO llm_cache (message_id, model, prompt_version, response, created_at) VALUES ('m2', 'x', 'p1', '{}', 1)`)
	exec(`INSERT INTO corrections (message_id, intent, decided_by, created_at) VALUES ('m1', 'billing', 'human:ann', 7)`)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m1, err := d.Message(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if string(m1.Raw) != raw || m1.Text != "I cannot log in.\n" || m1.Get("X-Custom") != "kept" ||
		m1.InReplyTo != "<p@x>" || len(m1.References) != 1 || len(m1.To) != 1 || m1.From.Name != "Anna" {
		t.Errorf("m1 after the migration: %+v", m1)
	}
	m2, err := d.Message(ctx, "m2")
	if err != nil {
		t.Fatal(err)
	}
	if m2.Text != "kept text" || m2.Subject != "no raw" {
		t.Errorf("m2 (no raw mail) after the migration: text %q subject %q", m2.Text, m2.Subject)
	}
	var children [6]int
	if err := d.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM message_locations), (SELECT COUNT(*) FROM triage_results),
		(SELECT COUNT(*) FROM decisions), (SELECT COUNT(*) FROM drafts), (SELECT COUNT(message_id) FROM events),
		(SELECT COUNT(*) FROM llm_cache)`).Scan(&children[0], &children[1], &children[2], &children[3], &children[4], &children[5]); err != nil {
		t.Fatal(err)
	}
	if children != [6]int{1, 1, 1, 1, 1, 1} {
		t.Errorf("rows referencing messages after the migration (locations, results, decisions, drafts, events, cache) = %v, want one each", children)
	}
	rows, err := d.Inbox(ctx, InboxFilter{Flag: "vip"}, Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != "m1" || rows[0].Intent != "billing" || !rows[0].Corrected || rows[0].Confidence != 0.9 ||
		rows[0].Action != "ticket" || !rows[0].Seen || len(rows[0].Flags) != 2 {
		t.Errorf("inbox, flag vip, after the migration: %+v", rows)
	}
	if n, err := d.InboxCount(ctx, InboxFilter{Intent: "untriaged", Decision: "none"}); err != nil || n != 1 {
		t.Errorf("untriaged without decision: %d (%v), want 1 (m2)", n, err)
	}
	// Foreign keys are on again, and cascade from the new table.
	if _, err := d.w.ExecContext(ctx, `DELETE FROM messages WHERE id = 'm2'`); err != nil {
		t.Fatal(err)
	}
	var drafts, data int
	if err := d.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM drafts), (SELECT COUNT(*) FROM message_data)`).Scan(&drafts, &data); err != nil {
		t.Fatal(err)
	}
	if drafts != 0 || data != 1 {
		t.Errorf("after deleting m2: %d drafts, %d message_data rows; want 0, 1 (foreign keys cascade)", drafts, data)
	}
}

// TestMigrateTeam upgrades a store of the previous version holding an
// outbox: every delivery keeps its webhook-id (receivers already saw
// them), the store gets an installation id, and the lease works.
func TestMigrateTeam(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	old := oldStore(t, path, 3)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO messages (id, message_id, thread_id, date, received_at, size, raw) VALUES ('m1', '<a@b>', 't', 0, 0, 1, x'00')`)
	exec(`INSERT INTO endpoints (id, url, secret, created_at, updated_at) VALUES ('ep_1', 'http://127.0.0.1:1/', 'whsec_x', 1, 1)`)
	exec(`INSERT INTO events (id, type, message_id, payload, created_at) VALUES ('evt_1', 'ticket.suggested', 'm1', '{}', 1)`)
	exec(`INSERT INTO deliveries (id, queue, endpoint_id, event_id, webhook_id, status, created_at, updated_at) VALUES
		('dl_a', 'ep_1', 'ep_1', 'evt_1', 'msg_old_a', 'delivered', 1, 1),
		('dl_b', 'ep_1', 'ep_1', 'evt_1', 'msg_old_b', 'pending', 1, 1)`)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.Deliveries(ctx, DeliveryFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.ID] = r.WebhookID
	}
	if len(got) != 2 || got["dl_a"] != "msg_old_a" || got["dl_b"] != "msg_old_b" {
		t.Errorf("after the migration the deliveries' webhook-ids are %v, want the old ones kept", got)
	}
	if err := d.Replay(ctx, "dl_a"); err != nil {
		t.Fatal(err)
	}
	if dl, err := d.Delivery(ctx, "dl_a", 0); err != nil || dl.WebhookID != "msg_old_a" {
		t.Errorf("a replayed old delivery has webhook-id %q (err %v), want msg_old_a", dl.WebhookID, err)
	}
	id, err := d.InstallationID(ctx)
	if err != nil || len(id) != 16 {
		t.Errorf("installation id %q (err %v), want 16 hex digits", id, err)
	}
	if _, ok, err := d.AcquireLease(ctx, LeaseSender, LeaseRequest{Owner: "me", TTL: time.Second}); err != nil || !ok {
		t.Errorf("lease after the migration: ok=%v err=%v", ok, err)
	}
}

// TestMigrateIntegrators upgrades a store from the version before 0006:
// endpoints keep their secret and sign v1, deliveries keep their rows and
// are to their endpoint (no URL of their own).
func TestMigrateIntegrators(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	old := oldStore(t, path, 5)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO endpoints (id, url, secret, created_at, updated_at) VALUES ('ep_1', 'http://127.0.0.1:1/', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 1, 1)`)
	exec(`INSERT INTO events (id, type, payload, created_at) VALUES ('evt_1', 'ticket.suggested', '{}', 1)`)
	exec(`INSERT INTO deliveries (id, queue, endpoint_id, event_id, webhook_id, status, attempts, created_at, updated_at)
		VALUES ('dl_a', 'ep_1', 'ep_1', 'evt_1', 'msg_a', 'dead', 4, 1, 3)`)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ep, err := d.Endpoint(ctx, "ep_1")
	if err != nil || ep.Scheme != "v1" || ep.PublicKey != "" {
		t.Errorf("endpoint after migration: %+v, %v; want scheme v1, no public key", ep, err)
	}
	dls, err := d.Deliveries(ctx, DeliveryFilter{})
	if err != nil || len(dls) != 1 || dls[0].URL != "http://127.0.0.1:1/" || dls[0].Status != "dead" || dls[0].Attempts != 4 {
		t.Errorf("deliveries after migration: %+v, %v", dls, err)
	}
	dl, err := d.Delivery(ctx, "dl_a", 0)
	if err != nil || dl.Secret != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" {
		t.Errorf("delivery secret after migration: %q, %v", dl.Secret, err)
	}
}

// TestMigrateBodySearch upgrades a version-8 store: its header index and
// watermark stay, its bodies are not indexed yet (body_seq 0), the
// background indexer indexes them, and a word found only in a body then
// finds its email; a message deleted afterwards leaves the body index.
func TestMigrateBodySearch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	old := oldStore(t, path, 8)
	for i, body := range []string{"the zebra ate the dashboard", "nothing to see"} {
		raw := fmt.Sprintf("Subject: old %d\r\nContent-Type: text/plain\r\n\r\n%s\r\n", i, body)
		if _, err := old.ExecContext(ctx, `INSERT INTO messages (seq, id, message_id, thread_id, subject, date, received_at, size)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?)`, i+1, fmt.Sprintf("id%d", i), fmt.Sprintf("<m%d@x>", i), "t", fmt.Sprintf("old %d", i), 1000+i, len(raw)); err != nil {
			t.Fatal(err)
		}
		if _, err := old.ExecContext(ctx, `INSERT INTO message_data (seq, raw) VALUES (?, ?)`, i+1, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.ExecContext(ctx, `INSERT INTO messages_search (messages_search) VALUES ('rebuild')`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, `UPDATE search_state SET indexed_seq = 2`); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var indexed, body int64
	if err := d.r.QueryRowContext(ctx, `SELECT indexed_seq, body_seq FROM search_state`).Scan(&indexed, &body); err != nil || indexed != 2 || body != 0 {
		t.Fatalf("search_state after migration: %d, %d (%v); want 2, 0", indexed, body, err)
	}
	find := func(q string) int {
		t.Helper()
		f, err := ParseQuery(q, time.Now(), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		n, err := d.InboxCount(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := find(`"old 1"`); n != 1 {
		t.Errorf("header search after migration: %d, want 1", n)
	}
	if n := find("zebra"); n != 0 {
		t.Errorf("body search before indexing: %d, want 0", n)
	}
	if backlog, err := d.SearchBacklog(ctx); err != nil || backlog != 2 {
		t.Errorf("search backlog after migration: %d (%v), want 2", backlog, err)
	}
	if n, err := d.IndexSearch(ctx, 100); err != nil || n != 2 {
		t.Fatalf("IndexSearch: %d (%v), want 2", n, err)
	}
	if n := find("zebra"); n != 1 {
		t.Errorf("body search once indexed: %d, want 1", n)
	}
	if _, err := d.w.ExecContext(ctx, `DELETE FROM messages WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.w.ExecContext(ctx, `INSERT INTO messages (seq, id, message_id, thread_id, subject, date, received_at, size)
		VALUES (1, 'new', '<new@x>', 't', 'new', 0, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	if n := find("zebra"); n != 0 {
		t.Errorf("body search after the message was deleted and its seq reused: %d, want 0", n)
	}
}

// TestMigrateOutboxChecks upgrades a version-12 store (migration 0013
// rebuilds deliveries with its status check spelled as ORs): every
// delivery keeps every column, NULLs included, its seq and its attempts;
// the sequence carries over; the check still refuses an unknown status;
// the attempts still reference the deliveries (deferred, cascading); and
// writing a status no longer builds a temporary table per row.
func TestMigrateOutboxChecks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	before := 0
	for before < len(ms) && ms[before].version < 13 {
		before++
	}
	old := oldStore(t, path, before)
	exec := func(db *sql.DB, q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(old, `INSERT INTO endpoints (id, url, secret, created_at, updated_at) VALUES ('ep_1', 'http://127.0.0.1:1/', 'whsec_x', 1, 1)`)
	exec(old, `INSERT INTO events (id, type, payload, created_at) VALUES ('evt_1', 'ticket.suggested', '{}', 1)`)
	exec(old, `INSERT INTO drafts (id, kind, body, status, created_at, updated_at) VALUES (7, 'new', 'hello', 'approved', 1, 1)`)
	exec(old, `INSERT INTO deliveries (seq, id, kind, queue, endpoint_id, event_id, draft_id, webhook_id, status, attempts,
		next_attempt_at, deadline, last_status_code, last_error, created_at, updated_at, url) VALUES
		(1, 'dl_a', 'webhook', 'ep_1', 'ep_1', 'evt_1', NULL, 'msg_a', 'delivered', 2, NULL, NULL, 200, '', 1, 3, ''),
		(2, 'dl_b', 'webhook', 'ep_1', 'ep_1', 'evt_1', NULL, 'msg_b', 'retrying', 1, 60000, 180000, 503, 'HTTP 503', 1, 2, ''),
		(4, 'dl_c', 'webhook', 'ep_1', NULL, 'evt_1', NULL, 'msg_c', 'paused', 0, NULL, NULL, 0, '', 2, 2, 'http://127.0.0.1:2/'),
		(5, 'dl_d', 'smtp', 'smtp', NULL, NULL, 7, '', 'dead', 4, NULL, 90000, 0, '550 no', 3, 4, ''),
		(6, 'dl_e', 'webhook', 'ep_1', 'ep_1', 'evt_1', NULL, 'msg_e', 'pending', 0, NULL, NULL, 0, '', 5, 5, ''),
		(8, 'dl_f', 'webhook', 'ep_1', 'ep_1', 'evt_1', NULL, 'msg_f', 'canceled', 0, NULL, NULL, 0, '', 5, 6, '')`)
	exec(old, `INSERT INTO attempts (delivery_seq, attempt, started_at, duration_ms, status_code, error_class, error, response_body)
		VALUES (1, 1, 10, 5, 500, 'http_status', 'HTTP 500', 'boom'), (1, 2, 20, 5, 200, '', '', NULL),
		(2, 1, 30, 5, 503, 'http_status', 'HTTP 503', NULL), (5, 1, 40, 5, 0, 'other', '550 no', NULL)`)
	// As if deliveries up to 20 had existed: AUTOINCREMENT never reuses them.
	exec(old, `UPDATE sqlite_sequence SET seq = 20 WHERE name = 'deliveries'`)
	dump := func(db *sql.DB, q string) []string {
		t.Helper()
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const deliveriesQ = `SELECT concat_ws('|', seq, quote(id), quote(kind), quote(queue), quote(endpoint_id), quote(event_id),
		quote(draft_id), quote(webhook_id), quote(status), attempts, quote(next_attempt_at), quote(deadline), last_status_code,
		quote(last_error), created_at, updated_at, quote(url)) FROM deliveries ORDER BY seq`
	const attemptsQ = `SELECT concat_ws('|', id, delivery_seq, attempt, started_at, duration_ms, status_code, quote(error_class),
		quote(error), quote(request_headers), quote(request_body), quote(response_headers), quote(response_body)) FROM attempts ORDER BY id`
	wantDeliveries, wantAttempts := dump(old, deliveriesQ), dump(old, attemptsQ)
	if len(wantDeliveries) != 6 || len(wantAttempts) != 4 {
		t.Fatalf("old store: %d deliveries, %d attempts", len(wantDeliveries), len(wantAttempts))
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := dump(d.r, deliveriesQ); strings.Join(got, "\n") != strings.Join(wantDeliveries, "\n") {
		t.Errorf("deliveries after the migration:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantDeliveries, "\n"))
	}
	if got := dump(d.r, attemptsQ); strings.Join(got, "\n") != strings.Join(wantAttempts, "\n") {
		t.Errorf("attempts after the migration:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantAttempts, "\n"))
	}
	if got := dump(d.r, `SELECT name FROM sqlite_master WHERE tbl_name = 'deliveries' AND type = 'index' ORDER BY name`); strings.Join(got, " ") !=
		"deliveries_event deliveries_open deliveries_queue sqlite_autoindex_deliveries_1" {
		t.Errorf("indexes of deliveries: %v", got)
	}
	var seq int64
	if err := d.w.QueryRowContext(ctx, `INSERT INTO deliveries (id, queue, endpoint_id, event_id, created_at, updated_at)
		VALUES ('dl_g', 'ep_1', 'ep_1', 'evt_1', 7, 7) RETURNING seq`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if seq != 21 {
		t.Errorf("new delivery seq %d, want 21 (the sequence carried over)", seq)
	}
	for _, q := range []string{
		`INSERT INTO deliveries (id, queue, status, created_at, updated_at) VALUES ('dl_h', 'ep_1', 'sent', 1, 1)`,
		`UPDATE deliveries SET status = 'Delivered' WHERE seq = 6`,
	} {
		if _, err := d.w.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "CHECK") {
			t.Errorf("%s: %v, want a CHECK constraint failure", q, err)
		}
	}
	// The attempts' foreign key: checked at commit, and cascading.
	checkAttemptsKeyDeferred(t, d)
	exec(d.w, `DELETE FROM deliveries WHERE seq = 1`)
	var left, fk int
	if err := d.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM attempts), (SELECT COUNT(*) FROM pragma_foreign_key_check)`).Scan(&left, &fk); err != nil {
		t.Fatal(err)
	}
	if left != 2 || fk != 0 {
		t.Errorf("after deleting a delivery: %d attempts (want 2: its two went with it), %d foreign key violations", left, fk)
	}
	// Writing a status no longer fills a temporary table with the six
	// status names (an OpenEphemeral, then String8 'pending' ...), which
	// the check's IN list made SQLite do for every row written: one
	// delivery marked delivered, one moved by its outcome, one queued.
	for _, c := range []struct{ name, sql string }{
		{"mark one delivered", markDeliveredSQL[len(recordChunks)-1]},
		{"update one delivery", updateDeliveriesSQL[len(recordChunks)-1]},
		{"queue one delivery", `INSERT INTO deliveries (id, queue, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`},
	} {
		ops := opcodes(t, d.w, c.sql)
		for i := range ops[:len(ops)-1] {
			if strings.HasPrefix(ops[i], "OpenEphemeral") && ops[i+1] == "String8 pending" {
				t.Errorf("%s: its program builds a table of the statuses: %v", c.name, ops)
				break
			}
		}
	}
}

// opcodes lists the instructions of the program SQLite compiles q into,
// each its opcode, then its p4 operand when it has one (EXPLAIN: q is not
// run; its parameters are bound to NULL).
func opcodes(t *testing.T, pool *sql.DB, q string) []string {
	t.Helper()
	rows, err := pool.Query(`EXPLAIN `+q, make([]any, strings.Count(q, "?"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		op := fmt.Sprint(vals[1])
		if p4 := fmt.Sprint(vals[5]); vals[5] != nil && p4 != "" {
			op += " " + p4
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}

// checkAttemptsKeyDeferred: an attempt of a delivery that does not exist
// is written, and its commit fails on the deferred foreign key.
func checkAttemptsKeyDeferred(t *testing.T, d *DB) {
	t.Helper()
	ctx := context.Background()
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO attempts (delivery_seq, attempt, started_at, duration_ms) VALUES (999, 1, 0, 0)`); err != nil {
		t.Fatalf("a dangling attempt failed at once (%v): the foreign key should be checked at commit", err)
	}
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("commit of a dangling attempt: %v, want a foreign key error", err)
		tx.Rollback()
	}
}
