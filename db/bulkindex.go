package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// deferredIndexes are the indexes an initial sync into an empty store
// builds once, after its last batch, rather than entry by entry: the
// inbox's orders and filters, which no statement of a sync (or of the
// triage behind it) reads. Each new message put an entry at a random
// place in each of the three date orders (the date order is not the UID
// order), so their pages were a large part of what every commit rewrote
// into the WAL: a 100,000-message sync wrote 3 GB for a 470 MB store.
// Building one afterwards is one sorted pass over the table. The
// locations' email-id index stays: a triage behind the sync looks up a
// ticket's locations by it, and without it each lookup read the whole
// table (9 MB more resident memory at 100k).
var deferredIndexes = []string{
	"messages_date", "messages_undecided", "messages_unread",
	"messages_confidence", "messages_intent", "messages_action", "messages_flags",
}

// deferIndexes drops deferredIndexes in tx when the store holds no
// message yet, recording their SQL in deferred_indexes first (in the same
// transaction: a crash leaves both or neither), and reports whether it did.
func deferIndexes(ctx context.Context, tx *sql.Tx) (bool, error) {
	var empty bool
	if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM messages)`).Scan(&empty); err != nil || !empty {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deferred_indexes (name, sql)
		SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN (SELECT value FROM json_each(?))
		ON CONFLICT (name) DO NOTHING`, jsonStrings(deferredIndexes)); err != nil {
		return false, fmt.Errorf("defer indexes: %w", err)
	}
	for _, name := range deferredIndexes {
		// name is one of the literals above, never input.
		if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+name); err != nil {
			return false, fmt.Errorf("defer indexes: %w", err)
		}
	}
	return true, nil
}

// buildDeferred builds every index deferred_indexes holds, one
// transaction each (a triage writing behind the sync waits for one index
// at most, not for all of them), and drops its row in the same
// transaction: a crash between two leaves the rest to the next Open.
func (d *DB) buildDeferred(ctx context.Context) error {
	for {
		done, err := d.buildOneDeferred(ctx)
		if err != nil || done {
			return err
		}
	}
}

// buildOneDeferred builds the first index deferred_indexes holds (unless
// the store has it already) and drops its row; done when none is left.
func (d *DB) buildOneDeferred(ctx context.Context) (done bool, err error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("build indexes: %w", err)
	}
	defer tx.Rollback()
	var name, stmt string
	var exists bool
	err = tx.QueryRowContext(ctx, `SELECT d.name, d.sql, EXISTS (SELECT 1 FROM sqlite_master m
		WHERE m.type = 'index' AND m.name = d.name) FROM deferred_indexes d ORDER BY d.name LIMIT 1`).Scan(&name, &stmt, &exists)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("build indexes: %w", err)
	}
	if !exists {
		// stmt is a CREATE INDEX this store's schema held.
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("build indexes: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deferred_indexes WHERE name = ?`, name); err != nil {
		return false, fmt.Errorf("build indexes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("build indexes: %w", err)
	}
	return false, nil
}

// buildDeferredAtOpen builds the indexes a sync that did not finish left
// deferred, before migrations run (one may change them).
func (d *DB) buildDeferredAtOpen(ctx context.Context) error {
	var n int
	if err := d.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'deferred_indexes'`).Scan(&n); err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := d.buildDeferred(ctx); err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	return nil
}
