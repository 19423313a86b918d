package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"smista/db"
	"smista/mail"
)

// TestCLIMark stars and marks done an imported email (its state is the
// store's alone), and refuses an unknown id and a missing action.
func TestCLIMark(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "s.db")
	eml := filepath.Join(dir, "a.eml")
	writeFile(t, eml, "Message-ID: <mark@x>\r\nFrom: a@x\r\nSubject: hello\r\n\r\nhi\r\n")
	if code, _, stderr := runApp(t, dbPath, "import", eml); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	id := mail.EmailID("<mark@x>")
	for _, args := range [][]string{{"mark", "--star", id}, {"mark", "--done", id}, {"mark", "--read", id}} {
		if code, _, stderr := runApp(t, dbPath, args...); code != 0 {
			t.Fatalf("%v: code %d, stderr %q", args, code, stderr)
		}
	}
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.StateOf(context.Background(), id)
	d.Close()
	if err != nil || !st.Flagged || !st.Done || !st.Seen {
		t.Errorf("state after mark: %+v %v", st, err)
	}
	if code, _, stderr := runApp(t, dbPath, "mark", "--star", "nope"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown id: code %d, stderr %q", code, stderr)
	}
	if code, _, _ := runApp(t, dbPath, "mark", id); code != 2 {
		t.Errorf("no action: code %d, want 2", code)
	}
}
