package safe_test

import (
	"strings"
	"testing"

	"smista/ui/safe"
)

func TestString(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":           {"Hello, world", "Hello, world"},
		"osc52 clipboard": {"Hi \x1b]52;c;cm0gLXJmIH4=\x07there", "Hi there"},
		"osc st":          {"a\x1b]0;title\x1b\\b", "ab"},
		"csi clear":       {"x\x1b[2Jy\x1b[31mred\x1b[0m", "xyred"},
		"c1 csi":          {"a\u009b31mb", "ab"},
		"c1 osc":          {"a\u009d52;c;AAAA\u009cb", "ab"},
		"dcs":             {"a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		"controls":        {"a\x00b\x07c\x08d\x7fe", "abcde"},
		"newline":         {"a\nb\r\nc", "a b  c"},
		"bidi":            {"abc\u202edef", "abcdef"},
		"invalid utf8":    {"a\xffb", "ab"},
		"unicode kept":    {"Però già così — 日本", "Però già così — 日本"},
		"unterminated":    {"a\x1b]52;c;AAAA", "a"},
		"charset":         {"a\x1b(Bb", "ab"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := safe.String(tt.in)
			if got != tt.want {
				t.Fatalf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.ContainsRune(got, 0x1b) {
				t.Fatalf("ESC survived in %q", got)
			}
		})
	}
}

func TestText(t *testing.T) {
	got := safe.Text("line1\r\nline2\rline3\n\tx\x1b[2J")
	want := "line1\nline2\nline3\n    x"
	if got != want {
		t.Fatalf("Text = %q, want %q", got, want)
	}
}

func FuzzString(f *testing.F) {
	f.Add("a\x1b]52;c;x\x07b")
	f.Add("\x1b[2J\u009b1m")
	f.Fuzz(func(t *testing.T, s string) {
		for _, got := range []string{safe.String(s), safe.Text(s)} {
			for _, r := range got {
				if r == 0x1b || (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) {
					t.Fatalf("control %U survived in %q (from %q)", r, got, s)
				}
			}
		}
	})
}
