package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"smista/db"
)

// searchDebounce is how long typing pauses before the inbox searches what
// is typed: each key does not start a query of its own.
const searchDebounce = 150 * time.Millisecond

// The inbox's search messages: the text typed so far (searchTyped), its
// turn after the pause (searchTick, dropped when more was typed since),
// enter (searchMsg) and esc (searchCanceled).
type (
	searchTyped struct{ text string }
	searchTick  struct {
		seq  uint64
		text string
	}
	searchMsg      struct{ text string }
	searchCanceled struct{}
	// searchBacklog is how many messages the search indexes lacked
	// when a search was made.
	searchBacklog struct {
		seq uint64
		n   int
	}
)

func (searchBacklog) route() scrID { return scrInbox }

func (searchTyped) route() scrID    { return scrInbox }
func (searchTick) route() scrID     { return scrInbox }
func (searchMsg) route() scrID      { return scrInbox }
func (searchCanceled) route() scrID { return scrInbox }

// inboxSearch is the inbox's search: the query as typed, and while the
// prompt is open the list it started from (esc goes back to it).
type inboxSearch struct {
	query string
	// typing is set while the prompt is open; before and beforeQuery are
	// the list it was opened on.
	typing      bool
	before      db.InboxFilter
	beforeQuery string
	// seq numbers the texts typed; a pause's turn for an older one is
	// dropped.
	seq uint64
	// backlog is how many messages the indexes lacked at the last search
	// (the header says their bodies are not searched yet).
	backlog int
}

// startSearch opens a fresh search prompt (a new query, not the last one
// to add to): results come while typing, enter keeps them, esc returns to
// the list as it was.
func (s *inboxScreen) startSearch() {
	s.search.typing, s.search.before, s.search.beforeQuery = true, s.filter, s.search.query
	s.c.emit(inputMsg{label: "/ ", placeholder: "words · from: subject: intent: flag: is:unread before: after: (7d, 2026-11-20)",
		change: func(v string) tea.Msg { return searchTyped{v} },
		submit: func(v string) tea.Msg { return searchMsg{v} },
		cancel: func() tea.Msg { return searchCanceled{} }})
}

// handleSearch handles the search messages.
func (s *inboxScreen) handleSearch(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case searchTyped:
		s.search.seq++
		seq := s.search.seq
		return tea.Tick(searchDebounce, func(time.Time) tea.Msg { return searchTick{seq: seq, text: msg.text} })
	case searchTick:
		if msg.seq != s.search.seq || !s.search.typing {
			return nil // more was typed since, or the prompt closed
		}
		return s.applySearch(msg.text, false)
	case searchMsg:
		s.search.seq++
		cmd := s.applySearch(msg.text, true)
		s.search.typing = false
		return cmd
	case searchCanceled:
		s.search.seq++
		s.search.typing = false
		s.search.query = s.search.beforeQuery
		return s.research(s.search.before)
	case searchBacklog:
		if msg.seq == s.search.seq {
			s.search.backlog = msg.n
		}
	}
	return nil
}

// checkBacklog asks how many messages the search indexes lack (a store
// just upgraded indexes its bodies in the background for a while).
func (s *inboxScreen) checkBacklog() tea.Cmd {
	store, seq := s.c.deps.Store, s.search.seq
	return s.c.query(func(ctx context.Context) tea.Msg {
		n, err := store.SearchBacklog(ctx)
		if err != nil {
			return nil
		}
		return searchBacklog{seq: seq, n: n}
	})
}

// applySearch shows the emails matching text on the list the search was
// opened on; a term it cannot read is shown in the status line (final:
// after enter, the list is left as it was opened).
func (s *inboxScreen) applySearch(text string, final bool) tea.Cmd {
	// The query the list was opened on is replaced, not added to.
	base := withoutQuery(s.search.before, s.search.beforeQuery, s.c)
	q, err := db.ParseQuery(text, s.c.deps.Now(), s.c.loc)
	if err != nil {
		s.c.emit(statusMsg{text: err.Error(), err: true})
		if final {
			s.search.query = s.search.beforeQuery
			return s.research(s.search.before)
		}
		return nil
	}
	f := base
	f.Search, f.From, f.Subject, f.Unread, f.After, f.Before = q.Search, q.From, q.Subject, q.Unread, q.After, q.Before
	if q.Intent != "" {
		f.Intent = q.Intent
	}
	if q.Flag != "" {
		f.Flag = q.Flag
	}
	s.search.query = text
	return tea.Batch(s.research(f), s.checkBacklog())
}

// withoutQuery is f without what query set: its text and terms (an intent
// or flag it chose goes back to none).
func withoutQuery(f db.InboxFilter, query string, c *common) db.InboxFilter {
	f.Search, f.From, f.Subject, f.Unread, f.After, f.Before = "", "", "", false, time.Time{}, time.Time{}
	if q, err := db.ParseQuery(query, c.deps.Now(), c.loc); err == nil {
		if q.Intent != "" && q.Intent == f.Intent {
			f.Intent = ""
		}
		if q.Flag != "" && q.Flag == f.Flag {
			f.Flag = ""
		}
	}
	return f
}

// research shows the rows of f, the rows shown staying until the answer
// replaces them (typing does not flash "loading").
func (s *inboxScreen) research(f db.InboxFilter) tea.Cmd {
	if f == s.filter {
		return nil
	}
	if !s.list.loaded {
		return s.refilter(f)
	}
	s.filter = f
	store := s.c.deps.Store
	return s.list.retarget(s.c, func(ctx context.Context, w window[inboxLine]) (page[inboxLine], error) {
		return queryInbox(ctx, store, f, w)
	})
}
