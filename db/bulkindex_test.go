package db_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"smista/db"
	"smista/mail"
)

// indexSQL returns the store's indexes (name → CREATE INDEX) and the rows
// left in deferred_indexes.
func indexSQL(t *testing.T, d *db.DB) (map[string]string, int) {
	t.Helper()
	rows, err := d.Writer().Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, s string
		if err := rows.Scan(&n, &s); err != nil {
			t.Fatal(err)
		}
		out[n] = s
	}
	var left int
	if err := d.Writer().QueryRow(`SELECT COUNT(*) FROM deferred_indexes`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	return out, left
}

// An initial sync into an empty store drops the indexes no statement of
// the sync reads, and its final batch builds them again as they were.
func TestInitialSyncBuildsIndexesAfterItsLastBatch(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fresh, _ := indexSQL(t, d)
	st, _ := d.OpenMailbox(ctx, "work", "INBOX")
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Source: "imap:work/INBOX",
		Messages: []mail.SyncedMessage{syncMsg(1, 1), syncMsg(2, 2)}, UIDNext: 3}); err != nil {
		t.Fatal(err)
	}
	during, left := indexSQL(t, d)
	if _, ok := during["messages_date"]; ok || left == 0 {
		t.Fatalf("during the sync: messages_date still there (%d deferred)", left)
	}
	if _, ok := during["messages_subject"]; !ok {
		t.Fatal("messages_subject (the sync's threading reads it) was dropped")
	}
	// A second batch keeps them deferred; the final state builds them.
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Source: "imap:work/INBOX",
		Messages: []mail.SyncedMessage{syncMsg(3, 3, `\Seen`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, UIDNext: 4, HighestModSeq: 7}); err != nil {
		t.Fatal(err)
	}
	after, left := indexSQL(t, d)
	if left != 0 || !maps.Equal(after, fresh) {
		t.Fatalf("after the sync: %d left deferred; indexes %v, want %v", left, slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(fresh)))
	}
	// The built indexes hold every row: the unread order reads them.
	var unread int
	if err := d.Writer().QueryRow(`SELECT COUNT(*) FROM messages INDEXED BY messages_unread WHERE seen = 0`).Scan(&unread); err != nil || unread != 2 {
		t.Fatalf("unread by the rebuilt index: %d (%v), want 2", unread, err)
	}
	// A store that holds mail keeps its indexes while it syncs.
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Messages: []mail.SyncedMessage{syncMsg(4, 4)}}); err != nil {
		t.Fatal(err)
	}
	if now, left := indexSQL(t, d); left != 0 || !maps.Equal(now, fresh) {
		t.Fatalf("a sync into a store with mail dropped indexes: %v (%d deferred)", slices.Sorted(maps.Keys(now)), left)
	}
}

// A sync that stops before its last batch leaves the indexes to the next
// Open, which builds them.
func TestOpenBuildsIndexesAnUnfinishedSyncDeferred(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := indexSQL(t, d)
	st, _ := d.OpenMailbox(ctx, "work", "INBOX")
	if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Messages: []mail.SyncedMessage{syncMsg(1, 1)}}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if again, left := indexSQL(t, d); left != 0 || !maps.Equal(again, fresh) {
		t.Fatalf("reopened: %d left deferred; indexes %v, want %v", left, slices.Sorted(maps.Keys(again)), slices.Sorted(maps.Keys(fresh)))
	}
}
