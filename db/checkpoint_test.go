package db_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/mail"
	"smista/webhook"
)

// A sync's commits are copied from the WAL into the database file by the
// background checkpointer, not the writer: with the writer's own
// checkpoints off, the file still grows to hold the synced mail.
func TestSyncCheckpointsInBackground(t *testing.T) {
	ctx := context.Background()
	d, path := openNoAutoCheckpoint(t)
	st, err := d.OpenMailbox(ctx, "work", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	// 3 MB of mail that does not compress: three times checkpointEvery.
	var msgs []mail.SyncedMessage
	for i := range 300 {
		mid := fmt.Sprintf("<c%d@example.org>", i)
		body := make([]byte, 10<<10)
		rand.Read(body)
		msgs = append(msgs, mail.SyncedMessage{UID: uint32(i + 1), Message: &mail.Message{
			ID: mail.EmailID(mid), MessageID: mid, ThreadID: mail.EmailID(mid), Subject: "x",
			Raw: append([]byte("Subject: x\r\n\r\n"), body...), Header: map[string][]string{},
		}})
	}
	for i := 0; i < len(msgs); i += 100 {
		if _, err := d.ApplySync(ctx, mail.SyncBatch{MailboxID: st.ID, Messages: msgs[i : i+100]}); err != nil {
			t.Fatal(err)
		}
	}
	// Bounded wait: the checkpoint runs on another goroutine.
	for range 500 {
		if fileSize(t, path) > before+2<<20 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("database file %d bytes after the sync (%d before): the WAL was not checkpointed", fileSize(t, path), before)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A sender's CheckpointSoon copies what was committed into the database
// file in the background, whatever the amount: with the writer's own
// checkpoints off, the file grows to hold the outbox.
func TestOutboxCheckpointSoon(t *testing.T) {
	d, path := openNoAutoCheckpoint(t)
	dbtest.SeedEndpoint(t, d, "https://example.org/hook")
	var payloads []string
	for i := range 500 {
		payloads = append(payloads, fmt.Sprintf(`{"email_id":"e%d","summary":"%0200d"}`, i, i))
	}
	dbtest.SeedEvents(t, d, payloads...)
	before := fileSize(t, path)
	store := d.PrepareStore()
	defer store.Close()
	store.(webhook.Checkpointer).CheckpointSoon()
	// Bounded wait: the checkpoint runs on another goroutine.
	for range 500 {
		if fileSize(t, path) > before+64<<10 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("database file %d bytes after CheckpointSoon (%d before): the WAL was not checkpointed", fileSize(t, path), before)
}

// openNoAutoCheckpoint opens a store in a new file whose writer never
// checkpoints on its own: what reaches the database file was copied by a
// background checkpoint. It returns the store and the file's path.
func openNoAutoCheckpoint(t *testing.T) (*db.DB, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Writer().ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		t.Fatal(err)
	}
	return d, path
}
