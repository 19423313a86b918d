package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestErrorMessagesGolden runs the commands whose errors a user could not
// act on (issue 12, item 9) and keeps what each prints on stderr in
// testdata/errors.golden: one line each, naming what is wrong and what to
// do. Temporary paths read $TMP.
func TestErrorMessagesGolden(t *testing.T) {
	tmp := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Two accounts whose servers do not answer: a closed port on 127.0.0.1.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	twoAccounts := write("two.toml", fmt.Sprintf(`[[account]]
name = "a"
imap = { host = "127.0.0.1", port = %d, tls = "insecure", username = "u", password_env = "PW" }
[[account]]
name = "b"
imap = { host = "127.0.0.1", port = %d, tls = "insecure", username = "u", password_env = "PW" }
`, closed, closed))
	notOurs := write("notes.txt", "my notes\n")
	cases := [][]string{
		{"--config", write("threshold.toml", "[triage]\nthreshold = \"high\"\n"), "log"},
		{"--config", write("port.toml", "[[account]]\nname = \"a\"\nimap = { host = \"imap.example.com\", port = \"993\" }\n"), "sync"},
		{"--config", write("timeout.toml", "[webhook]\ntimeout = 5\n"), "send", "--once"},
		{"--config", filepath.Join(tmp, "missing.toml"), "log"},
		{"import", filepath.Join(tmp, "nonexistent")},
		{"--config", twoAccounts, "sync", "--no-triage"},
		{"--db", notOurs, "log"},
		{"--db", filepath.Join(tmp, "empty.db"), "log"},
	}
	var got bytes.Buffer
	for _, args := range cases {
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb, Now: time.Now,
			Getenv: func(k string) string { return map[string]string{"HOME": tmp, "PW": "pw"}[k] }}
		if !strings.Contains(strings.Join(args, " "), "--db") {
			m.DBPath = filepath.Join(tmp, "s.db")
		}
		code := m.Run(context.Background(), args)
		fmt.Fprintf(&got, "$ smista %s\nexit %d\n%s\n", strings.Join(args, " "), code, errb.String())
		for _, l := range strings.Split(strings.TrimRight(errb.String(), "\n"), "\n") {
			if len(l) > 400 {
				t.Errorf("smista %s: a stderr line of %d characters", strings.Join(args, " "), len(l))
			}
		}
	}
	if b, _ := os.ReadFile(notOurs); string(b) != "my notes\n" {
		t.Errorf("a --db that is not smista's was changed: %q", b)
	}
	text := strings.ReplaceAll(got.String(), tmp, "$TMP")
	text = strings.ReplaceAll(text, fmt.Sprint(closed), "$PORT")
	golden := filepath.Join("testdata", "errors.golden")
	if updating() {
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if text != string(want) {
		t.Errorf("error messages differ from %s (rerun with -update after a deliberate change):\n%s", golden, text)
	}
}
