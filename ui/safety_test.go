package ui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"smista/db"
	"smista/ui/internal/fixture"
	"smista/ui/safe"
)

// sgr matches the styling lipgloss itself emits (Select Graphic Rendition).
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// defang rewrites the hostile fixture rows to what they look like once
// cleaned, so a rendering of both stores must be byte-identical.
func defang(tb testing.TB, d *db.DB) {
	tb.Helper()
	ctx := context.Background()
	var subject, fromName, body, suggestion, reasons, summary string
	err := d.Reader().QueryRowContext(ctx, `SELECT m.subject, m.from_name, m.text_body, dc.suggestion, dc.reasons, t.summary
		FROM messages m JOIN decisions dc ON dc.message_id = m.id JOIN triage_results t ON t.message_id = m.id
		WHERE m.id = ?`, fixture.EvilID).Scan(&subject, &fromName, &body, &suggestion, &reasons, &summary)
	if err != nil {
		tb.Fatal(err)
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE messages SET subject = ?, from_name = ?, text_body = ? WHERE id = ?`,
			[]any{safe.String(subject), safe.String(fromName), safe.Text(body), fixture.EvilID}},
		{`UPDATE decisions SET suggestion = ?, reasons = ? WHERE message_id = ?`,
			[]any{safe.String(suggestion), `["intent other "]`, fixture.EvilID}},
		{`UPDATE triage_results SET summary = ? WHERE message_id = ?`, []any{safe.String(summary), fixture.EvilID}},
		{`UPDATE attempts SET response_body = ? WHERE delivery_seq = (SELECT seq FROM deliveries WHERE id = ?) AND status_code = 500`,
			[]any{[]byte(safe.Bytes([]byte("upstream exploded \x1b]52;c;aGk=\x07\x1b[2J"))), fixture.DeliveryDead}},
	}
	for _, s := range stmts {
		if _, err := d.Writer().ExecContext(ctx, s.q, s.args...); err != nil {
			tb.Fatal(err)
		}
	}
}

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
			cleanDB := seededDB(t)
			defang(t, cleanDB)
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
