package db_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
	"smista/db"
	"smista/db/dbtest"
)

func tableNames(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := d.Reader().Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	return names
}

func TestMigrationsFromEmptyAndIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "smista.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	tables := tableNames(t, d)
	for _, want := range []string{"accounts", "mailboxes", "messages", "message_locations", "triage_results",
		"llm_cache", "decisions", "drafts", "endpoints", "events", "deliveries", "attempts", "schema_migrations",
		"leases", "installation", "audit"} {
		if !contains(tables, want) {
			t.Errorf("table %s missing after migration; have %v", want, tables)
		}
	}
	var n int
	d.Reader().QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&n)
	if n != db.SchemaVersion() {
		t.Fatalf("schema_migrations reaches version %d, want %d", n, db.SchemaVersion())
	}
	d.Close()

	// Reopening applies nothing twice.
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	var n2 int
	d.Reader().QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&n2)
	if n2 != n {
		t.Fatalf("reopen changed schema_migrations: %d → %d", n, n2)
	}
	if got := tableNames(t, d); strings.Join(got, ",") != strings.Join(tables, ",") {
		t.Fatalf("tables changed on reopen: %v → %v", tables, got)
	}
}

func TestFileModeAndPragmas(t *testing.T) {
	d := dbtest.MustOpen(t)
	fi, err := os.Stat(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("db file mode %o, want 600", perm)
	}
	checks := map[string]struct {
		pool *sql.DB
		q    string
		want string
	}{
		"wal":          {d.Writer(), "PRAGMA journal_mode", "wal"},
		"fk writer":    {d.Writer(), "PRAGMA foreign_keys", "1"},
		"fk reader":    {d.Reader(), "PRAGMA foreign_keys", "1"},
		"sync normal":  {d.Writer(), "PRAGMA synchronous", "1"},
		"busy timeout": {d.Reader(), "PRAGMA busy_timeout", "5000"},
		"reader ro":    {d.Reader(), "PRAGMA query_only", "1"},
		"temp memory":  {d.Writer(), "PRAGMA temp_store", "2"},
		"checkpoint":   {d.Writer(), "PRAGMA wal_autocheckpoint", "8000"},
	}
	for name, c := range checks {
		t.Run(name, func(t *testing.T) {
			var got string
			if err := c.pool.QueryRow(c.q).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("%s = %q, want %q", c.q, got, c.want)
			}
		})
	}
	if _, err := d.Reader().Exec(`INSERT INTO accounts (name, created_at) VALUES ('x', 0)`); err == nil {
		t.Fatal("read-only pool accepted a write")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smista.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Writer().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`, db.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err = db.Open(ctx, path)
	if !errors.Is(err, db.ErrNewerSchema) {
		t.Fatalf("Open on a newer schema: err = %v, want ErrNewerSchema", err)
	}
	if !strings.Contains(err.Error(), "upgrade smista") {
		t.Fatalf("error does not say what to do: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := map[string]struct {
		env     map[string]string
		want    string
		wantErr bool
	}{
		"SMISTA_DB wins": {map[string]string{"SMISTA_DB": "/x/y.db", "XDG_DATA_HOME": "/d"}, "/x/y.db", false},
		"xdg":            {map[string]string{"XDG_DATA_HOME": "/d", "HOME": "/h"}, "/d/smista/smista.db", false},
		"home":           {map[string]string{"HOME": "/h"}, "/h/.local/share/smista/smista.db", false},
		"nothing":        {map[string]string{}, "", true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := db.DefaultPath(env(tt.env))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("DefaultPath = %q, %v; want %q (err %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func mustExec(t *testing.T, w *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := w.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
