package ui_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	tea "charm.land/bubbletea/v2"

	"smista/db"
)

// countingStore counts the inbox queries with a search.
type countingStore struct {
	*db.DB
	searches atomic.Int32
}

func (c *countingStore) Inbox(ctx context.Context, f db.InboxFilter, p db.Page) ([]db.InboxRow, error) {
	if f.Search != "" {
		c.searches.Add(1)
	}
	return c.DB.Inbox(ctx, f, p)
}

// indexed returns the fixture's store with its search indexes up to date
// (as the App's background work keeps them).
func indexed(t *testing.T) *db.DB {
	t.Helper()
	d := seededDB(t)
	for {
		n, err := d.IndexSearch(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return d
		}
	}
}

// TestInboxSearchWhileTyping: the inbox shows the matches while the
// search is typed, without enter; a word found only in a body finds its
// email; / again starts a fresh query (the bug: /quick, enter, /token
// searched "quicktoken"), shown in the header; esc returns to the list
// the prompt was opened on; a bad term is an error in the status line and
// the list stays.
func TestInboxSearchWhileTyping(t *testing.T) {
	m := newModel(t, testDeps(indexed(t)), 120, 30)
	press(t, m, "/")
	typeText(t, m, "quick")
	out := plain(m)
	if !strings.Contains(out, "Quick question about pricing") || strings.Contains(out, "Cannot log in") || !strings.Contains(out, "search quick") {
		t.Fatalf("while typing quick:\n%s", out)
	}
	press(t, m, "enter", "/")
	typeText(t, m, "token")
	out = plain(m)
	if !strings.Contains(out, "search token") || strings.Contains(out, "quicktoken") ||
		!strings.Contains(out, "Cannot log in since this morning") || strings.Contains(out, "Quick question") {
		t.Fatalf("a second search, of a word only in a body:\n%s", out)
	}
	press(t, m, "esc")
	out = plain(m)
	if !strings.Contains(out, "search quick") || !strings.Contains(out, "Quick question") || strings.Contains(out, "Cannot log in") {
		t.Fatalf("esc: the list before the second search is back:\n%s", out)
	}
	press(t, m, "/")
	typeText(t, m, "form:ann")
	out = plain(m)
	if !strings.Contains(out, "form: is not a term") {
		t.Fatalf("a bad term:\n%s", out)
	}
	press(t, m, "enter")
	if out = plain(m); !strings.Contains(out, "search quick") || !strings.Contains(out, "Quick question") {
		t.Fatalf("enter on a bad term leaves the list as it was:\n%s", out)
	}
	press(t, m, "/", "enter")
	if out = plain(m); strings.Contains(out, "· search") || !strings.Contains(out, "Cannot log in") {
		t.Fatalf("an empty search clears it:\n%s", out)
	}
}

// TestInboxSearchDebounced: keys typed faster than the pause start one
// search (the last text), not one per key; the terms combine with the
// inbox's filters.
func TestInboxSearchDebounced(t *testing.T) {
	store := &countingStore{DB: indexed(t)}
	deps := testDeps(store.DB)
	deps.Store = store
	m := newModel(t, deps, 120, 30)
	press(t, m, "/")
	var cmds []tea.Cmd
	for _, r := range "payment intent:billing" {
		_, cmd := m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		cmds = append(cmds, cmd)
	}
	settle(t, m, tea.Batch(cmds...))
	if n := store.searches.Load(); n != 1 {
		t.Errorf("%d searches for one typed text, want 1", n)
	}
	out := plain(m)
	if !strings.Contains(out, "Invoice 2024-113") || !strings.Contains(out, "intent billing") || !strings.Contains(out, "1–1 of 1 ·") {
		t.Fatalf("payment intent:billing:\n%s", out)
	}
}

// TestInboxSearchBacklog: while the bodies are not indexed yet (a store
// just upgraded, mail just synced) the header says how many; once they
// are, the same search finds a word of a body and the note is gone.
func TestInboxSearchBacklog(t *testing.T) {
	d := seededDB(t)
	m := newModel(t, testDeps(d), 120, 30)
	press(t, m, "/")
	typeText(t, m, "token")
	press(t, m, "enter")
	out := plain(m)
	if !strings.Contains(out, "bodies not indexed yet") || strings.Contains(out, "Cannot log in") {
		t.Fatalf("before indexing:\n%s", out)
	}
	for {
		n, err := d.IndexSearch(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	press(t, m, "/")
	typeText(t, m, "token")
	press(t, m, "enter")
	if out = plain(m); strings.Contains(out, "not indexed") || !strings.Contains(out, "Cannot log in") {
		t.Fatalf("once indexed:\n%s", out)
	}
}
