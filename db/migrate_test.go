package db

import (
	"bytes"
	"context"
	"database/sql"
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

// TestMigrateTeam upgrades a store of the previous version holding an
// outbox: every delivery keeps its webhook-id (receivers already saw
// them), the store gets an installation id, and the lease works.
func TestMigrateTeam(t *testing.T) {
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
	for _, m := range ms {
		if m.version > 3 {
			break
		}
		exec(m.sql)
		exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name)
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
