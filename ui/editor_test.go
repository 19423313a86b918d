package ui_test

import (
	"errors"
	"slices"
	"testing"

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
