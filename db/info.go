package db

import (
	"context"
	"fmt"
	"os"
)

// Info describes the opened store for "smista doctor".
type Info struct {
	Path        string
	Version     int    // the schema version applied
	JournalMode string // "wal" when readers never block the writer
	Size        int64  // bytes of the file and its -wal
}

// Info reads the schema version and journal mode and sizes the file. It
// fails when the store cannot be queried.
func (d *DB) Info(ctx context.Context) (Info, error) {
	in := Info{Path: d.path}
	if err := d.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&in.Version); err != nil {
		return in, fmt.Errorf("db info: %w", err)
	}
	if err := d.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&in.JournalMode); err != nil {
		return in, fmt.Errorf("db info: %w", err)
	}
	for _, p := range []string{d.path, d.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			in.Size += fi.Size()
		}
	}
	return in, nil
}
