package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		name      string
		pre, rest []string
	}{
		{nil, "tui", nil, nil},
		{[]string{"--no-send"}, "tui", []string{"--no-send"}, nil},
		{[]string{"--db", "log", "triage", "--json"}, "triage", []string{"--db", "log"}, []string{"--json"}},
		{[]string{"-config", "x", "--db=y", "log", "-n"}, "log", []string{"-config", "x", "--db=y"}, []string{"-n"}},
		{[]string{"--help", "log"}, "help", nil, nil},
		{[]string{"--", "log"}, "tui", []string{"--", "log"}, nil},
	} {
		name, pre, rest := Split(tc.args, "tui", "db", "config")
		if name != tc.name || !slices.Equal(pre, tc.pre) || !slices.Equal(rest, tc.rest) {
			t.Errorf("Split(%q) = %q %q %q, want %q %q %q", tc.args, name, pre, rest, tc.name, tc.pre, tc.rest)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	secret := fs.String("secret", "", "")
	pos, err := ParseInterspersed(fs, []string{"add", "http://a", "--secret", "s", "b"})
	if err != nil || *secret != "s" || !slices.Equal(pos, []string{"add", "http://a", "b"}) {
		t.Fatalf("got %q %q %v", pos, *secret, err)
	}
	if _, err := ParseInterspersed(fs, []string{"a", "--nope"}); !errors.Is(err, ErrUsage) {
		t.Fatalf("unknown flag: %v, want a usage error", err)
	}
	if err := ParseNoArgs(fs, []string{"extra"}); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), `"extra"`) {
		t.Fatalf("positional argument: %v, want a usage error naming it", err)
	}
}

func TestExit(t *testing.T) {
	var buf bytes.Buffer
	for _, tc := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{Usagef("--limit %d", 0), 2, "smista log: usage: --limit 0\n"},
		{errors.Join(errors.New("a\n  b"), errors.New("c")), 1, "smista log: a b; c\n"},
	} {
		buf.Reset()
		if code := Exit(&buf, "log", tc.err); code != tc.code || buf.String() != tc.out {
			t.Errorf("Exit(%v) = %d %q, want %d %q", tc.err, code, buf.String(), tc.code, tc.out)
		}
	}
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	since, until, err := Window{Since: "2h"}.Times(now)
	if err != nil || !since.Equal(now.Add(-2*time.Hour)) || !until.IsZero() {
		t.Fatalf("2h: %v %v %v", since, until, err)
	}
	if _, _, err := (Window{Until: "yesterday-ish"}).Times(now); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "--until") {
		t.Fatalf("bad --until: %v", err)
	}
}

func TestSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(path, []byte("whsec_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		secret, file, stdin, want string
		usage                     bool
	}{
		{"", "", "", "", false},
		{" whsec_flag ", "", "", "whsec_flag", false},
		{"", path, "", "whsec_file", false},
		{"", "-", "whsec_stdin\n", "whsec_stdin", false},
		{"a", path, "", "", true},
	} {
		got, err := Secret(strings.NewReader(tc.stdin), tc.secret, tc.file)
		if got != tc.want || errors.Is(err, ErrUsage) != tc.usage {
			t.Errorf("Secret(%q, %q) = %q, %v", tc.secret, tc.file, got, err)
		}
	}
	if _, err := Secret(nil, "", filepath.Join(t.TempDir(), "missing")); err == nil || strings.Contains(err.Error(), "whsec") {
		t.Fatalf("missing file: %v", err)
	}
}
