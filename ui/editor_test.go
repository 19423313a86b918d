package ui_test

import (
	"errors"
	"os"
	"os/user"
	"slices"
	"strconv"
	"testing"
	"time"

	"smista/ui"
)

func TestEditorArgs(t *testing.T) {
	tests := map[string]struct {
		line string
		want []string
	}{
		"plain":              {"vi", []string{"vi"}},
		"flag":               {"code --wait", []string{"code", "--wait"}},
		"blanks":             {"  emacs \t -nw  ", []string{"emacs", "-nw"}},
		"single quotes":      {`'/opt/My Editor/bin/ed' -x`, []string{"/opt/My Editor/bin/ed", "-x"}},
		"double quotes":      {`"/opt/My Editor/ed" "a \"b\" \\ \$x \n"`, []string{"/opt/My Editor/ed", `a "b" \ $x \n`}},
		"backslash space":    {`/opt/My\ Editor/ed +1`, []string{"/opt/My Editor/ed", "+1"}},
		"quotes join a word": {`a'b c'"d"e`, []string{"ab cde"}},
		"empty quotes":       {`ed ''`, []string{"ed", ""}},
		"no expansion":       {`$HOME/ed ~ *`, []string{"$HOME/ed", "~", "*"}},
		"single keeps \\":    {`ed 'a\b'`, []string{"ed", `a\b`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ui.EditorArgs(tc.line)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("EditorArgs(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{`ed 'open`, `ed "open`, `ed \`, "   "} {
		if got, err := ui.EditorArgs(bad); !errors.Is(err, ui.ErrEditorCommand) {
			t.Errorf("EditorArgs(%q) = %q, %v; want ErrEditorCommand", bad, got, err)
		}
	}
}

func TestEditorCommand(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for want, kv := range map[string]map[string]string{
		"code --wait": {"VISUAL": "code --wait", "EDITOR": "nano"},
		"nano":        {"VISUAL": " ", "EDITOR": "nano"},
		"vi":          {},
	} {
		if got := ui.EditorCommand(env(kv)); got != want {
			t.Errorf("EditorCommand(%v) = %q, want %q", kv, got, want)
		}
	}
}

// TestUserName: without $USER the person is still named: $LOGNAME, else
// the operating system's user, never "unknown".
func TestUserName(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	if got := ui.UserName(env(map[string]string{"USER": "anna", "LOGNAME": "x"})); got != "anna" {
		t.Errorf("with $USER: %q", got)
	}
	if got := ui.UserName(env(map[string]string{"LOGNAME": "bo"})); got != "bo" {
		t.Errorf("with $LOGNAME only: %q", got)
	}
	want := "uid" + strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil && u.Username != "" {
		want = u.Username
	}
	if got := ui.UserName(env(nil)); got != want || got == "unknown" {
		t.Errorf("with neither: %q, want %q", got, want)
	}
}

// TestFmtLatency: a fast attempt shows its latency, never "0s".
func TestFmtLatency(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "<1ms", 400 * time.Microsecond: "<1ms", 3 * time.Millisecond: "3ms",
		999 * time.Millisecond: "999ms", 1234 * time.Millisecond: "1.2s"} {
		if got := ui.FmtLatency(d); got != want {
			t.Errorf("FmtLatency(%v) = %q, want %q", d, got, want)
		}
	}
}
