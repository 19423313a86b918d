package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestStmtCacheNoDeadlock: a goroutine preparing a new statement waits for
// the writer's only connection without blocking the goroutine that holds
// it, in a transaction, and looks up a statement already prepared (a sync
// and a triage run storing at once did deadlock so).
func TestStmtCacheNoDeadlock(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const cached, fresh = `SELECT 1`, `SELECT 2`
	if _, err := d.ws.prepare(ctx, cached); err != nil {
		t.Fatal(err)
	}
	tx, err := d.w.BeginTx(ctx, nil) // holds the connection
	if err != nil {
		t.Fatal(err)
	}
	prepared := make(chan error, 1)
	go func() {
		_, err := d.ws.prepare(ctx, fresh) // waits for the connection
		prepared <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it wait inside PrepareContext
	looked := make(chan error, 1)
	go func() {
		st, err := d.ws.prepare(ctx, cached)
		if err == nil {
			var n int
			err = tx.StmtContext(ctx, st).QueryRowContext(ctx).Scan(&n)
		}
		looked <- err
	}()
	select {
	case err := <-looked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		// A panic, not t.Fatal: the deadlocked goroutines would keep the
		// store's Close waiting; the dump shows them.
		panic("deadlock: a cached statement's lookup waited for a goroutine preparing on the connection the transaction holds")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-prepared; err != nil {
		t.Fatal(err)
	}
}
