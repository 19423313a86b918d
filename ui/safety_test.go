package ui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"smista/ui/internal/fixture"
)

// sgr matches the styling lipgloss itself emits (Select Graphic Rendition).
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// TestEscapeInjection renders every screen that shows the hostile email
// (subject with OSC 52, CSI 2J and SGR; body with C1 CSI; response body
// with OSC 52) and checks that no byte of those sequences reaches the view.
func TestEscapeInjection(t *testing.T) {
	tests := map[string]struct {
		keys []string
		want string
	}{
		"inbox":             {want: "Urgent reset RED"},
		"message":           {keys: []string{"j", "j", "j", "enter"}, want: "Body with  clipboard"},
		"deliveries detail": {keys: []string{"4", "j", "j", "enter"}, want: "upstream exploded"},
		"search prompt":     {keys: []string{"/"}, want: "/"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			evil := newModel(t, testDeps(seededDB(t)), 120, 50)
			// The same fixture with the hostile texts stored as they look
			// once cleaned: both stores must render byte for byte alike.
			cleanDB := MustOpenDB(t)
			if err := fixture.SeedWith(context.Background(), cleanDB, fixture.Options{Defang: true}); err != nil {
				t.Fatal(err)
			}
			clean := newModel(t, testDeps(cleanDB), 120, 50)
			press(t, evil, tc.keys...)
			press(t, clean, tc.keys...)

			out := evil.Render()
			if v := evil.View(); v.Content != out {
				t.Fatal("View and Render disagree")
			}
			rest := sgr.ReplaceAllString(out, "")
			if i := strings.IndexAny(rest, "\x1b\x07\u009b\u009d"); i >= 0 {
				t.Fatalf("a control byte reached the view at %d: %q", i, rest[max(0, i-20):min(len(rest), i+20)])
			}
			for _, frag := range []string{"]52;", "[2J", "[5m", "]0;"} {
				if strings.Contains(rest, frag) {
					t.Errorf("fragment %q of an escape sequence reached the view", frag)
				}
			}
			if !strings.Contains(rest, tc.want) {
				t.Errorf("view lacks %q:\n%s", tc.want, rest)
			}
			if want := clean.Render(); out != want {
				t.Errorf("the hostile store renders differently from its cleaned copy:\n%s\n---\n%s", rest, sgr.ReplaceAllString(want, ""))
			}
		})
	}
}
