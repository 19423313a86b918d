package ui_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"

	"smista/db"
	"smista/ui"
)

func TestWriteInboxTableSanitisesAndAligns(t *testing.T) {
	date := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	rows := []db.InboxRow{
		{FromName: "Evil\x1b]0;pwned\x07 Sender", FromAddr: "evil@spam.test",
			Subject: "\x1b[2J\x1b[31mred\x1b[0m alert\r\nInjected: header", Date: date, Confidence: -1},
		{FromAddr: "noname@example.com", Date: date.Add(-time.Hour), Confidence: 0.5, Intent: "support", Action: "ticket", TicketState: "queued"},
		{FromName: "山田 太郎", Subject: strings.Repeat("長い件名", 40), Date: date.Add(-2 * time.Hour), Confidence: -1, DraftWaiting: true},
	}
	// 80 columns is the narrowest terminal smista supports.
	for _, width := range []int{80, 120, 160} {
		var buf bytes.Buffer
		if err := ui.WriteInboxTable(&buf, rows, width, time.UTC); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.ContainsAny(out, "\x1b\x07\r") {
			t.Errorf("escape or control characters reached the output: %q", out)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("got %d lines, want header + 3: %q", len(lines), out)
		}
		for _, l := range lines {
			if w := runewidth.StringWidth(l); w > width {
				t.Errorf("width %d: line is %d columns: %q", width, w, l)
			}
		}
		if width == 160 && !strings.Contains(lines[1], "red alert Injected: header") {
			t.Errorf("sanitised subject = %q", lines[1])
		}
		if !strings.Contains(lines[2], "noname@") || !strings.Contains(lines[2], "(no subject)") ||
			!strings.Contains(lines[2], "ticket queued") || !strings.Contains(lines[2], "0.50") {
			t.Errorf("fallbacks or state missing: %q", lines[2])
		}
		if !strings.Contains(lines[3], "…") || !strings.Contains(lines[3], "draft waiting") {
			t.Errorf("long subject not truncated with an ellipsis, or no draft state: %q", lines[3])
		}
	}
}
