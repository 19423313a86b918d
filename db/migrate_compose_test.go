package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigrateCompose upgrades a version-6 store whose drafts are in every
// state, one of them sent with its SMTP delivery pointing at it: every
// draft keeps its id, body and state and becomes a reply; a pending draft
// changed since it was created counts as a person's edit; the delivery
// still points at its draft, and the foreign keys hold.
func TestMigrateCompose(t *testing.T) {
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
		if m.version > 6 {
			break
		}
		exec(m.sql)
		exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name)
	}
	exec(`INSERT INTO messages (id, message_id, thread_id, from_addr, subject, date, received_at, size, raw)
		VALUES ('m1', '<m1@x>', 'm1', 'anna@example.com', 'Login', 1, 1, 10, X'00')`)
	exec(`INSERT INTO drafts (id, message_id, body, status, approved_by, approved_at, reply_message_id, created_at, updated_at) VALUES
		(1, 'm1', 'sent reply', 'sent', 'human:giulia', 5, '<r1@x>', 1, 6),
		(2, 'm1', 'as generated', 'pending', '', NULL, '', 2, 2),
		(3, 'm1', 'edited by a person', 'pending', '', NULL, '', 3, 9)`)
	exec(`INSERT INTO deliveries (id, kind, queue, draft_id, status, attempts, created_at, updated_at)
		VALUES ('dl_r', 'smtp', 'smtp:work', 1, 'delivered', 1, 5, 6)`)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := map[int64]Draft{
		1: {ID: 1, MessageID: "m1", Kind: DraftReply, Body: "sent reply", Status: "sent", ApprovedBy: "human:giulia", ReplyMessageID: "<r1@x>"},
		2: {ID: 2, MessageID: "m1", Kind: DraftReply, Body: "as generated", Status: "pending"},
		3: {ID: 3, MessageID: "m1", Kind: DraftReply, Body: "edited by a person", Status: "pending", EditedBy: "human"},
	}
	for id, w := range want {
		got, err := d.Draft(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got.ApprovedAt = w.ApprovedAt
		if got != w {
			t.Errorf("draft %d after the migration = %+v, want %+v", id, got, w)
		}
	}
	var draftID int64
	if err := d.r.QueryRowContext(ctx, `SELECT draft_id FROM deliveries WHERE id = 'dl_r'`).Scan(&draftID); err != nil || draftID != 1 {
		t.Errorf("the reply's delivery points at draft %d (%v), want 1", draftID, err)
	}
	rows, err := d.r.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("foreign_key_check reports a violation after the migration")
	}
	// A new message answers no email; every other kind answers one.
	if _, err := d.CreateComposed(ctx, Composed{Kind: DraftNew, To: "x@example.com", Body: "hi"}); err != nil {
		t.Errorf("a new message: %v", err)
	}
	if _, err := d.CreateComposed(ctx, Composed{Kind: DraftForward, Body: "fwd"}); err == nil {
		t.Error("a forward of no email was stored")
	}
	if id, err := d.CreateDraft(ctx, "m1", "triage's next draft"); err != nil {
		t.Errorf("the triage's insert after the migration: %v", err)
	} else if dr, _ := d.Draft(ctx, id); dr.Kind != DraftReply {
		t.Errorf("a triage draft has kind %q, want reply", dr.Kind)
	}
}
