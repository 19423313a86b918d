package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// runApp runs the CLI in-process with a temp DB and no config, returning the
// exit status and both streams.
func runApp(t *testing.T, dbPath string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"HOME": t.TempDir()}
	a := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	full := append([]string{"--db", dbPath}, args...)
	code := a.Run(context.Background(), full)
	return code, out.String(), errb.String()
}

func TestCLIHelpAndErrors(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "s.db")
	code, _, stderr := runApp(t, dbPath, "help")
	if code != 0 || !strings.Contains(stderr, "Commands:") {
		t.Fatalf("help: code %d, stderr %q", code, stderr)
	}
	for _, c := range commands() {
		code, _, stderr := runApp(t, dbPath, c.name, "--help")
		if code != 0 || !strings.Contains(stderr, "Usage: smista "+c.name) {
			t.Errorf("%s --help: code %d, stderr %q", c.name, code, stderr)
		}
	}
	code, _, stderr = runApp(t, dbPath, "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: code %d, stderr %q", code, stderr)
	}
}

func TestCLIBadConfigIsOneLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	writeFile(t, cfg, "[triage]\nbogus = 1\n")
	code, _, stderr := runApp(t, filepath.Join(dir, "s.db"), "--config", cfg, "triage")
	if code != 1 {
		t.Fatalf("bad config: exit %d, want 1 (stderr %q)", code, stderr)
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "bogus") {
		t.Fatalf("want one line naming the key, got %q", stderr)
	}
}
