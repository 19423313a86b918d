package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"smista/db"
	"smista/webhook"
)

// fileHolds reports whether the store's files (database, WAL) hold s.
func fileHolds(t *testing.T, path, s string) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestSecretsDoNotLinger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d.Now = func() time.Time { return now }
	removed, _ := webhook.GenerateSecret()
	old, _ := webhook.GenerateSecret()
	cur, _ := webhook.GenerateSecret()
	gone, err := d.CreateEndpoint(ctx, "http://127.0.0.1:9/gone", removed)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := d.CreateEndpoint(ctx, "http://127.0.0.1:9/kept", old)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RotateEndpointSecret(ctx, kept, cur, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RemoveEndpoint(ctx, gone, true); err != nil {
		t.Fatal(err)
	}
	if fileHolds(t, path, removed) {
		t.Error("a removed endpoint's secret is still readable in the store's files")
	}
	// Within the grace period the previous secret still signs.
	if n, err := d.ExpireSecrets(ctx); err != nil || n != 0 {
		t.Fatalf("expire within the grace period: %d, %v; want 0", n, err)
	}
	if !fileHolds(t, path, old) {
		t.Fatal("the previous secret vanished during its grace period")
	}
	now = now.Add(2 * time.Hour)
	if n, err := d.ExpireSecrets(ctx); err != nil || n != 1 {
		t.Fatalf("expire after the grace period: %d, %v; want 1", n, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if fileHolds(t, path, old) {
		t.Error("the previous secret outlived its grace period in the store's files")
	}
	if !fileHolds(t, path, cur) {
		t.Error("the current secret is gone")
	}
}

// Open refuses, and leaves as it was, a file that is not a smista store.
func TestOpenRefusesAnotherProgramsFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("my notes, not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.sqlite")
	o, err := sql.Open("sqlite", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Exec(`CREATE TABLE contacts (name TEXT)`); err != nil {
		t.Fatal(err)
	}
	o.Close()
	if err := os.Chmod(other, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{text, other} {
		before, _ := os.ReadFile(p)
		_, err := db.Open(ctx, p)
		if !errors.Is(err, db.ErrNotSmista) {
			t.Errorf("%s: %v, want ErrNotSmista", filepath.Base(p), err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v after a refused open, want 0644 untouched", filepath.Base(p), fi.Mode().Perm())
		}
		if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
			t.Errorf("%s: content changed by a refused open", filepath.Base(p))
		}
	}
	// A smista store opens, and is made 0600.
	ours := filepath.Join(dir, "s.db")
	d, err := db.Open(ctx, ours)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	os.Chmod(ours, 0o644)
	d, err = db.Open(ctx, ours)
	if err != nil {
		t.Fatalf("reopening a smista store: %v", err)
	}
	d.Close()
	if fi, _ := os.Stat(ours); fi.Mode().Perm() != 0o600 {
		t.Errorf("store mode %v, want 0600", fi.Mode().Perm())
	}
}
