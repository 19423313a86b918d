package ui

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/db"
)

// boxLine is one choice of the switcher: the unified inbox (both ""), an
// account (mailbox ""), or one mailbox.
type boxLine struct {
	account, mailbox string
	count            int // stored emails; -1 when not counted
}

func (b boxLine) key() string { return b.account + "\x00" + b.mailbox }

// pickMailboxMsg opens the switcher with the current choice selected.
type pickMailboxMsg struct{ current [2]string }

// mailboxMsg tells the inbox which account and mailbox to show.
type mailboxMsg struct{ account, mailbox string }

func (mailboxMsg) route() scrID { return scrInbox }

// mailboxesScreen is the switcher of account and folder: the unified
// inbox, each account, each of its synced mailboxes.
type mailboxesScreen struct {
	c    *common
	w, h int
	list list[boxLine]
}

func newMailboxes(c *common) *mailboxesScreen {
	store := c.deps.Store
	s := &mailboxesScreen{c: c}
	s.list = newList(scrMailboxes, boxLine.key,
		func(ctx context.Context, _ window[boxLine]) (page[boxLine], error) {
			fs, err := store.Folders(ctx)
			if err != nil {
				return page[boxLine]{}, err
			}
			lines := boxLines(fs)
			return page[boxLine]{rows: lines, total: len(lines)}, nil
		})
	return s
}

// boxLines are the switcher's choices for the synced folders.
func boxLines(fs []db.Folder) []boxLine {
	out := []boxLine{{count: -1}}
	for i, f := range fs {
		if i == 0 || fs[i-1].Account != f.Account {
			out = append(out, boxLine{account: clean(f.Account), count: -1})
		}
		out = append(out, boxLine{account: clean(f.Account), mailbox: clean(f.Mailbox), count: f.Count})
	}
	return out
}

// open loads the choices and selects current.
func (s *mailboxesScreen) open(current [2]string) tea.Cmd {
	s.list.want = boxLine{account: current[0], mailbox: current[1]}.key()
	return s.list.refresh(s.c)
}

// Topics implements screen.
func (s *mailboxesScreen) Topics() app.Topic { return app.TopicMessages }

// Refresh implements screen.
func (s *mailboxesScreen) Refresh() tea.Cmd { return s.list.refresh(s.c) }

// Help implements screen.
func (s *mailboxesScreen) Help() (short, own []key.Binding) {
	k := s.c.keys
	return []key.Binding{k.Open, k.Back, k.Help}, nil
}

// Update implements screen.
func (s *mailboxesScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sizeMsg:
		s.w, s.h = msg.w, msg.h
		s.list.setHeight(max(1, s.h-2))
	case pageMsg[boxLine]:
		s.list.fill(s.c, msg)
	case scrollMsg:
		s.list.move(msg.d)
	case clickMsg:
		if i, ok := s.list.rowAt(msg.y - 2); ok {
			if i == s.list.cursor {
				s.choose()
			}
			s.list.moveTo(i)
		}
	case tea.KeyPressMsg:
		k := s.c.keys
		switch {
		case s.list.navigate(msg, k):
		case key.Matches(msg, k.Open):
			s.choose()
		case key.Matches(msg, k.Back):
			s.c.emit(showMsg{to: scrInbox})
		}
	}
	return s, nil
}

// choose shows the inbox of the selected choice.
func (s *mailboxesScreen) choose() {
	if b, ok := s.list.selected(); ok {
		s.c.emit(showMsg{to: scrInbox, then: mailboxMsg{account: b.account, mailbox: b.mailbox}})
	}
}

// View implements screen.
func (s *mailboxesScreen) View() []string {
	st := &s.c.st
	out := []string{st.Title.Render("Account and folder") + st.Dim.Render(" · enter shows it in the inbox"), ""}
	if !s.list.loaded {
		return append(out, st.Dim.Render("  loading…"))
	}
	from, to := s.list.visible()
	for i := from; i < to; i++ {
		b, _ := s.list.at(i)
		var label string
		switch {
		case b.account == "":
			label = "All accounts (unified inbox, done mail left out)"
		case b.mailbox == "":
			label = b.account + " (every folder)"
		default:
			label = fmt.Sprintf("  %s / %s · %d", b.account, b.mailbox, b.count)
		}
		line := pad("  "+label, max(10, s.w))
		if i == s.list.cursor {
			line = st.Fast.Selected.On(line)
		}
		out = append(out, line)
	}
	if s.list.total == 1 {
		out = append(out, "", st.Dim.Render("  No folder synced yet: `smista sync` fetches the configured mailboxes."))
	}
	return out
}
