package ui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"smista/db"
	"smista/ui"
	"smista/ui/safe"
)

// sgr matches the styling lipgloss itself emits (Select Graphic Rendition).
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// cleanStore is the store as the screens would see it had every untrusted
// field been stored already cleaned: a rendering through it and through
// the raw store must be byte-identical.
type cleanStore struct{ ui.Store }

func (s cleanStore) Inbox(ctx context.Context, f db.InboxFilter, p db.Page) ([]db.InboxRow, error) {
	rows, err := s.Store.Inbox(ctx, f, p)
	for i := range rows {
		r := &rows[i]
		r.FromName, r.Subject, r.Suggestion = safe.String(r.FromName), safe.String(r.Subject), safe.String(r.Suggestion)
	}
	return rows, err
}

func (s cleanStore) MessageDetail(ctx context.Context, id string) (*db.MessageDetail, error) {
	md, err := s.Store.MessageDetail(ctx, id)
	if err != nil {
		return nil, err
	}
	m := md.Message
	m.Subject, m.From.Name, m.Text = safe.String(m.Subject), safe.String(m.From.Name), safe.Text(m.Text)
	if t := md.Triage; t != nil {
		t.Summary, t.Suggestion = safe.String(t.Summary), safe.String(t.Suggestion)
		for i := range t.Reasons {
			t.Reasons[i] = safe.String(t.Reasons[i])
		}
	}
	return md, nil
}

func (s cleanStore) Attempts(ctx context.Context, f db.AttemptFilter) ([]db.AttemptItem, error) {
	atts, err := s.Store.Attempts(ctx, f)
	for i := range atts {
		atts[i].ResponseBody = []byte(safe.Bytes(atts[i].ResponseBody))
	}
	return atts, err
}

func (s cleanStore) Deliveries(ctx context.Context, f db.DeliveryFilter) ([]db.DeliveryItem, error) {
	dls, err := s.Store.Deliveries(ctx, f)
	for i := range dls {
		dls[i].Subject = safe.String(dls[i].Subject)
	}
	return dls, err
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
			deps := testDeps(seededDB(t))
			deps.Store = cleanStore{deps.Store}
			clean := newModel(t, deps, 120, 50)
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
