package db

import (
	"context"
	"database/sql"
	"fmt"
)

// deferredIndexes are the indexes an initial sync into an empty store
// builds once, after its last batch, rather than entry by entry. No
// statement of the sync reads them (the inbox's orders and filters, and
// the locations of an email id), and each new message put an entry at
// a random place in every one of them (the date order is not the UID
// order), so their pages were most of what each commit rewrote into the
// WAL: a 100,000-message sync wrote 3 GB for a 470 MB store. Building
// one afterwards is one sorted pass over the table.
var deferredIndexes = []string{
	"messages_date", "messages_undecided", "messages_unread",
	"messages_confidence", "messages_intent", "messages_action", "messages_flags",
	"message_locations_msg",
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

// buildDeferred builds, in tx, every index deferred_indexes holds that
// the store lacks, and empties it.
func buildDeferred(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT d.sql FROM deferred_indexes d
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = d.name) ORDER BY d.name`)
	if err != nil {
		return fmt.Errorf("build indexes: %w", err)
	}
	var stmts []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("build indexes: %w", err)
		}
		stmts = append(stmts, s)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("build indexes: %w", err)
	}
	for _, s := range stmts {
		// s is a CREATE INDEX this store's schema held.
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("build indexes: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deferred_indexes`); err != nil {
		return fmt.Errorf("build indexes: %w", err)
	}
	return nil
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
	if err := d.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM deferred_indexes`).Scan(&n); err != nil || n == 0 {
		return err
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	defer tx.Rollback()
	if err := buildDeferred(ctx, tx); err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	return nil
}
