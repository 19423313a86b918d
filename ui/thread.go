package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/db"
)

// threadLine is one mail of a conversation, every untrusted string
// cleaned.
type threadLine struct {
	id, from, subject   string
	date                time.Time
	seen, flagged, done bool
	intent              string
	conf                float64
	flags               []string
	action, summary     string
	sentDraft           int64 // a reply sent from smista (no stored copy)
}

// key names the line in the list (a sent draft has no email id).
func (l threadLine) key() string {
	if l.id == "" {
		return fmt.Sprintf("draft:%d", l.sentDraft)
	}
	return l.id
}

func toThreadLine(it db.ThreadItem) threadLine {
	from := it.FromName
	if from == "" {
		from = it.FromAddr
	}
	if it.SentDraft != 0 {
		from = "↩ sent by " + strings.TrimPrefix(it.SentBy, "human:")
		if it.SentBy == "" {
			from = "↩ sent from smista"
		}
	}
	return threadLine{id: it.ID, from: clean(from), subject: clean(it.Subject), date: it.Date, seen: it.Seen,
		flagged: it.Flagged, done: it.Done, intent: clean(it.Intent), conf: it.Confidence, flags: it.Flags,
		action: clean(it.Action), summary: clean(it.Summary), sentDraft: it.SentDraft}
}

// threadMsg opens the conversation thread, shown from the screen from,
// with the email at selected.
type threadMsg struct {
	thread, subject, at string
	from                scrID
}

// threadScreen is one conversation, oldest first: each email with its
// triage line, and the replies sent from smista.
type threadScreen struct {
	c       *common
	w, h    int
	thread  string
	subject string
	from    scrID  // the screen back leads to
	at      string // the email to select when the conversation arrives
	list    list[threadLine]
}

func newThread(c *common) *threadScreen {
	s := &threadScreen{c: c}
	s.setThread("", "")
	return s
}

func (s *threadScreen) setThread(thread, subject string) {
	s.thread, s.subject = thread, subject
	store := s.c.deps.Store
	s.list = newList(scrThread, threadLine.key,
		func(ctx context.Context, _ window[threadLine]) (page[threadLine], error) {
			if thread == "" {
				return page[threadLine]{}, nil
			}
			items, err := store.Thread(ctx, thread)
			if err != nil {
				return page[threadLine]{}, err
			}
			return pageOf(0, items, len(items), toThreadLine), nil
		})
	s.list.setHeight(max(1, s.h-2))
}

// open shows the conversation thread with the email at selected.
func (s *threadScreen) open(thread, subject, at string, from scrID) tea.Cmd {
	s.from = from
	if thread != s.thread {
		s.setThread(thread, subject)
	}
	s.at = at
	return s.list.refresh(s.c)
}

// Topics implements screen.
func (s *threadScreen) Topics() app.Topic {
	return app.TopicMessages | app.TopicTriage | app.TopicDrafts
}

// Refresh implements screen.
func (s *threadScreen) Refresh() tea.Cmd {
	if !s.list.loaded {
		return s.list.load(s.c)
	}
	return s.list.refresh(s.c)
}

// Help implements screen.
func (s *threadScreen) Help() (short, own []key.Binding) {
	k := s.c.keys
	return []key.Binding{k.Open, k.Back, k.Reply, k.ToggleRead, k.Done, k.Help},
		[]key.Binding{k.ToggleRead, k.Star, k.Done, k.Undo, k.Reply, k.ReplyAll, k.Forward, k.NewMessage}
}

// Update implements screen.
func (s *threadScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sizeMsg:
		s.w, s.h = msg.w, msg.h
		s.list.setHeight(max(1, s.h-2))
	case pageMsg[threadLine]:
		if s.list.fill(s.c, msg) && s.at != "" {
			// The conversation from its start, the email opened from
			// selected.
			if i := s.list.find(s.at); i >= 0 {
				s.list.top = 0
				s.list.moveTo(i)
			}
			s.at = ""
		}
	case scrollMsg:
		s.list.move(msg.d)
	case clickMsg:
		if i, ok := s.list.rowAt(msg.y - 2); ok {
			if i == s.list.cursor {
				s.openLine()
			}
			s.list.moveTo(i)
		}
	case tea.KeyPressMsg:
		return s, s.handleKey(msg)
	}
	return s, nil
}

func (s *threadScreen) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	r, _ := s.list.selected()
	switch {
	case s.list.navigate(msg, k):
	case composeKey(s.c, msg, r.id):
	case key.Matches(msg, k.Back):
		s.c.emit(showMsg{to: s.from})
	case key.Matches(msg, k.Open):
		s.openLine()
	case key.Matches(msg, k.ToggleRead) && r.id != "":
		s.setRow(func(l *threadLine) { l.seen = !r.seen })
		setSeen(s.c, r.id, !r.seen)
	case key.Matches(msg, k.Star) && r.id != "":
		s.setRow(func(l *threadLine) { l.flagged = !r.flagged })
		setStar(s.c, r.id, !r.flagged)
	case key.Matches(msg, k.Done) && r.id != "" && !r.done:
		markDone(s.c, r.id)
	case key.Matches(msg, k.Undo):
		undoLast(s.c)
	}
	return nil
}

// setRow changes the selected row as shown, until the store's reload.
func (s *threadScreen) setRow(change func(*threadLine)) {
	if r, ok := s.list.selected(); ok {
		change(&r)
		s.list.rows[s.list.cursor-s.list.start] = r
	}
}

// openLine opens the selected email; a reply sent from smista has no
// stored copy to open.
func (s *threadScreen) openLine() {
	r, ok := s.list.selected()
	switch {
	case !ok:
	case r.id == "":
		s.c.info("a reply sent from smista: its text is in the drafts list (2, sent)")
	default:
		s.c.emit(openMsg{id: r.id, from: scrThread})
	}
}

// step implements stepper: the message view's n and p walk the
// conversation.
func (s *threadScreen) step(d int) tea.Cmd {
	if id := stepTo(s.c, &s.list, d, func(r threadLine) string { return r.id }); id != "" {
		s.c.emit(openMsg{id: id, from: scrThread})
	}
	return nil
}

// View implements screen.
func (s *threadScreen) View() []string {
	st := &s.c.st
	l := &s.list
	title := st.Title.Render("Conversation") + " · " + clean(s.subject)
	if l.loaded {
		title += st.Dim.Render(fmt.Sprintf(" · %d %s, oldest first", l.total, plural(l.total, "mail", "mails")))
	}
	out := []string{title}
	sumW := max(10, s.w-2-11-20-8-5-5-2)
	out = append(out, st.Header.Render(pad("", 2)+pad("Date", 11)+pad("From", 20)+pad("Intent", 8)+pad("Conf", 5)+
		pad("Flag", 5)+" "+pad("Summary", sumW)))
	switch {
	case !l.loaded:
		return append(out, "", st.Dim.Render("  loading…"))
	case l.total == 0:
		return append(out, "", "  This conversation has no stored email.")
	}
	from, to := l.visible()
	for i := from; i < to; i++ {
		r, ok := l.at(i)
		if !ok {
			out = append(out, st.Dim.Render("  …"))
			continue
		}
		out = append(out, s.row(r, sumW, i == l.cursor))
	}
	return out
}

func (s *threadScreen) row(r threadLine, sumW int, sel bool) string {
	f := &s.c.st.Fast
	mark := " "
	if !r.seen {
		mark = "●"
	}
	if r.flagged {
		mark += "★"
	} else {
		mark += " "
	}
	intent, conf := "·", ""
	if r.intent != "" {
		intent, conf = r.intent, fmt.Sprintf("%.2f", r.conf)
	}
	if r.sentDraft != 0 {
		intent = ""
	}
	summary := r.summary
	if summary == "" || r.sentDraft != 0 {
		summary = r.subject
	}
	if r.action != "" {
		summary = r.action + " · " + summary
	}
	line := mark + pad(s.c.shortTime(r.date), 11) + pad(r.from, 19) + " " + pad(intent, 8) + pad(conf, 5) +
		pad(flagIcons(r.flags), 5) + " " + pad(summary, sumW)
	switch {
	case sel:
		return f.Selected.On(line)
	case r.sentDraft != 0:
		return f.Dim.On(line)
	}
	return line
}

// plural returns one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
