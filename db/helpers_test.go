package db_test

import (
	"context"
	"path/filepath"
	"testing"

	"smista/db"
)

// MustOpenDB opens a fresh store in a temp dir and closes it at test end.
// Shared by every test file of package db_test.
func MustOpenDB(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), filepath.Join(tb.TempDir(), "smista.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}
