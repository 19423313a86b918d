package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"smista/ui/internal/fixture"
)

// TestGolden renders every screen at a fixed size, strips ANSI styling and
// compares with testdata/TestGolden/<name>.golden (go test -update rewrites).
func TestGolden(t *testing.T) {
	tests := map[string]struct {
		w, h   int
		empty  bool
		viewer bool // no actions wired
		// conversation adds a conversation to Anna's email (a reply filed
		// in Sent, her follow-up, a reply sent from smista).
		conversation bool
		keys         []string
		want         string // a line the screen must show, checked besides the golden file
	}{
		"inbox_80x24":             {w: 80, h: 24, want: "Order #5531"},
		"inbox_120x40":            {w: 120, h: 40, want: "Cannot log in since this morning"},
		"inbox_empty_80x24":       {w: 80, h: 24, empty: true, want: "The inbox is empty."},
		"inbox_intent_support":    {w: 100, h: 24, keys: []string{"i"}, want: "intent support"},
		"inbox_sort_confidence":   {w: 100, h: 24, keys: []string{"s"}, want: "sort confidence"},
		"inbox_search":            {w: 100, h: 24, keys: []string{"/", "o", "r", "d", "e", "r", "enter"}, want: "search order"},
		"inbox_filter_no_match":   {w: 80, h: 24, keys: []string{"i", "i", "i", "i", "i", "i", "i", "f", "f", "f"}, want: "No message matches"},
		"message_80x24":           {w: 80, h: 24, keys: []string{"j", "enter"}, want: "Decision: ticket"},
		"message_evil_100x30":     {w: 100, h: 30, keys: []string{"j", "j", "j", "enter"}, want: "Subject:  Urgent reset RED now"},
		"message_draft_80x24":     {w: 80, h: 24, keys: []string{"j", "j", "enter"}, want: "press D to review"},
		"drafts_80x24":            {w: 80, h: 24, keys: []string{"2"}, want: "2 waiting for approval"},
		"drafts_empty_80x24":      {w: 80, h: 24, empty: true, keys: []string{"2"}, want: "No drafts."},
		"drafts_editing_80x24":    {w: 80, h: 24, keys: []string{"2", "e"}, want: "Editing draft"},
		"tickets_80x24":           {w: 80, h: 24, keys: []string{"3"}, want: "dead delivered"},
		"tickets_empty_80x24":     {w: 80, h: 24, empty: true, keys: []string{"3"}, want: "No tickets suggested yet."},
		"deliveries_80x24":        {w: 80, h: 24, keys: []string{"4"}, want: "in 25s"},
		"deliveries_detail":       {w: 100, h: 40, keys: []string{"4", "j", "j", "enter"}, want: "Attempt 1 · 2026-11-20 11:32:00"},
		"deliveries_dead_filter":  {w: 80, h: 24, keys: []string{"4", "s", "s", "s", "s"}, want: "status dead"},
		"deliveries_empty_80x24":  {w: 80, h: 24, empty: true, keys: []string{"4"}, want: "No deliveries yet."},
		"endpoints_80x24":         {w: 80, h: 24, keys: []string{"5"}, want: "AUTO-OFF"},
		"endpoints_empty_80x24":   {w: 80, h: 24, empty: true, keys: []string{"5"}, want: "No endpoints."},
		"help_80x24":              {w: 80, h: 24, keys: []string{"?"}, want: "Keys — Inbox"},
		"help_deliveries_80x24":   {w: 80, h: 24, keys: []string{"4", "?"}, want: "replay all matching"},
		"not_available_80x24":     {w: 80, h: 24, keys: []string{"T"}, want: "not available", viewer: true},
		"inbox_thread_star_80x24": {w: 80, h: 24, conversation: true, keys: []string{"*"}, want: "●★"},
		"thread_80x24":            {w: 80, h: 24, conversation: true, keys: []string{"enter"}, want: "4 mails, oldest first"},
		"thread_120x30":           {w: 120, h: 30, conversation: true, keys: []string{"enter", "j"}, want: "↩ sent by giulia"},
		"mailboxes_80x24":         {w: 80, h: 24, keys: []string{"M"}, want: "All accounts (unified inbox"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := MustOpenDB(t)
			if !tc.empty {
				d = seededDB(t)
			}
			if tc.conversation {
				if err := fixture.SeedConversation(context.Background(), d); err != nil {
					t.Fatal(err)
				}
			}
			deps := testDeps(d)
			if tc.viewer {
				deps.Actions = nil
			}
			m := newModel(t, deps, tc.w, tc.h)
			press(t, m, tc.keys...)
			out := plain(m)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != tc.h {
				t.Errorf("rendered %d lines, want %d", len(lines), tc.h)
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > tc.w {
					t.Errorf("line %d is %d cells wide, want ≤ %d: %q", i, w, tc.w, l)
				}
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("screen lacks %q:\n%s", tc.want, out)
			}
			if !tc.empty && name != "inbox_empty_80x24" && !strings.Contains(out, "auto-disabled") {
				t.Errorf("the auto-disabled banner is missing:\n%s", out)
			}
			golden.RequireEqual(t, out)
		})
	}
}
