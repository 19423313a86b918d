package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/db"
	"smista/triage"
)

// inboxLine is an inbox row with every untrusted string already cleaned.
type inboxLine struct {
	key                 db.InboxKey // its place in the list, for paging
	id, from, subject   string
	date                time.Time
	seen                bool
	intent              string
	conf                float64
	flags               []string
	action, by, suggest string
	draftWaiting        bool
	ticket              string
}

func toInboxLine(r db.InboxRow) inboxLine {
	from := r.FromName
	if from == "" {
		from = r.FromAddr
	}
	return inboxLine{
		key: r.Key(), id: r.ID, from: clean(from), subject: clean(r.Subject), date: r.Date, seen: r.Seen,
		intent: clean(r.Intent), conf: r.Confidence, flags: r.Flags, action: clean(r.Action),
		by: clean(r.DecidedBy), suggest: clean(r.Suggestion), draftWaiting: r.DraftWaiting, ticket: r.TicketState,
	}
}

// inboxScreen is the inbox: a filtered, sorted list of every email.
type inboxScreen struct {
	c      *common
	w, h   int
	filter db.InboxFilter
	search inboxSearch
	list   list[inboxLine]
}

func newInbox(c *common) *inboxScreen {
	s := &inboxScreen{c: c}
	s.setFilter(db.InboxFilter{})
	return s
}

// setFilter sets the filter and forgets the rows of the previous one.
func (s *inboxScreen) setFilter(f db.InboxFilter) {
	s.filter = f
	store := s.c.deps.Store
	s.list = newList(scrInbox, func(l inboxLine) string { return l.id },
		func(ctx context.Context, w window[inboxLine]) (page[inboxLine], error) {
			return queryInbox(ctx, store, f, w)
		})
	s.list.setHeight(s.rows())
}

// queryInbox loads window w of the inbox: by key from a loaded row that
// borders it (a page deep in 100,000 messages costs what the first does),
// the tail from the end, else by offset.
func queryInbox(ctx context.Context, store InboxStore, f db.InboxFilter, w window[inboxLine]) (page[inboxLine], error) {
	total, err := store.InboxCount(ctx, f)
	if err != nil {
		return page[inboxLine]{}, err
	}
	p := db.Page{Offset: w.off, Limit: w.lim}
	off := w.off
	switch {
	case w.off == 0:
	case f.Review > 0:
		// The review queue pages by offset only (its order has no key).
		if w.last {
			off = max(0, total-w.lim)
			p.Offset = off
		}
	case w.prev != nil:
		p.After = &w.prev.key
	case w.next != nil:
		p.Before = &w.next.key
	case w.last:
		p.Last = true
		off = max(0, total-w.lim)
	}
	rows, err := store.Inbox(ctx, f, p)
	if err != nil {
		return page[inboxLine]{}, err
	}
	return pageOf(off, rows, total, toInboxLine), nil
}

// rows is how many table rows fit (two lines hold the summary and the
// column headers).
func (s *inboxScreen) rows() int { return max(1, s.h-2) }

// Topics implements screen: the data the screen shows.
func (s *inboxScreen) Topics() app.Topic {
	return app.TopicMessages | app.TopicTriage | app.TopicDrafts | app.TopicDeliveries
}

// Refresh implements screen: it reloads what is shown from the store.
func (s *inboxScreen) Refresh() tea.Cmd {
	if !s.list.loaded {
		return s.list.load(s.c)
	}
	return s.list.refresh(s.c)
}

// Help implements screen.
func (s *inboxScreen) Help() (short, own []key.Binding) {
	k := s.c.keys
	return []key.Binding{k.Open, k.Search, k.Intent, k.Sort, k.Next, k.Help, k.Quit},
		[]key.Binding{k.Search, k.Intent, k.Flag, k.Decision, k.Sort, k.Clear, k.SuggestTicket, k.NotTicket,
			k.CorrectIntent, k.ConfirmIntent, k.Reply, k.ReplyAll, k.Forward, k.NewMessage}
}

// Update implements screen.
func (s *inboxScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sizeMsg:
		s.w, s.h = msg.w, msg.h
		s.list.setHeight(s.rows())
		if s.list.loaded {
			return s, s.list.load(s.c)
		}
	case pageMsg[inboxLine]:
		if s.list.fill(s.c, msg) {
			return s, s.list.load(s.c)
		}
	case searchTyped, searchTick, searchMsg, searchCanceled, searchBacklog:
		return s, s.handleSearch(msg)
	case scrollMsg:
		s.list.move(msg.d)
		return s, s.list.load(s.c)
	case clickMsg:
		return s, s.click(msg.y)
	case tea.KeyPressMsg:
		return s, s.handleKey(msg)
	}
	return s, nil
}

func (s *inboxScreen) refilter(f db.InboxFilter) tea.Cmd {
	s.setFilter(f)
	return s.list.load(s.c)
}

// click selects the row at body line y; a click on the selected row opens
// it.
func (s *inboxScreen) click(y int) tea.Cmd {
	i, ok := s.list.rowAt(y - 2) // two lines: summary and column headers
	if !ok {
		return nil
	}
	if i == s.list.cursor {
		s.open()
		return nil
	}
	s.list.moveTo(i)
	return nil
}

func (s *inboxScreen) open() {
	r, ok := s.list.selected()
	if !ok {
		return
	}
	if !r.seen {
		// Shown read at once; the store is marked by the message screen.
		r.seen = true
		s.list.rows[s.list.cursor-s.list.start] = r
	}
	s.c.emit(openMsg{id: r.id, from: scrInbox})
}

func (s *inboxScreen) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	f := s.filter
	sel, _ := s.list.selected()
	switch {
	case s.list.navigate(msg, k):
		return s.list.load(s.c)
	case composeKey(s.c, msg, sel.id):
	case key.Matches(msg, k.Open):
		s.open()
	case key.Matches(msg, k.Search):
		s.startSearch()
	case key.Matches(msg, k.Intent):
		f.Intent = cycle([]string{"", "support", "sales", "billing", "legal", "spam", "other", "untriaged"}, f.Intent)
		return s.refilter(f)
	case key.Matches(msg, k.Flag):
		f.Flag = cycle([]string{"", "payments", "legal", "vip", "injection"}, f.Flag)
		return s.refilter(f)
	case key.Matches(msg, k.Decision):
		f.Decision = cycle([]string{"", "ticket", "draft", "suggest", "none"}, f.Decision)
		return s.refilter(f)
	case key.Matches(msg, k.Sort):
		// date → confidence → review queue (closest to the threshold
		// first, nobody decided or corrected yet) → date.
		switch {
		case f.Review > 0:
			f.Review = 0
		case f.ByConfidence:
			f.ByConfidence, f.Review = false, s.c.threshold()
		default:
			f.ByConfidence = true
		}
		return s.refilter(f)
	case key.Matches(msg, k.CorrectIntent):
		if r, ok := s.list.selected(); ok {
			askIntent(s.c, r.id, r.subject)
		}
	case key.Matches(msg, k.ConfirmIntent):
		if r, ok := s.list.selected(); ok && r.intent != "" {
			confirmIntent(s.c, r.id, triage.Intent(r.intent))
		}
	case key.Matches(msg, k.Clear):
		s.search.query = ""
		return s.refilter(db.InboxFilter{})
	case key.Matches(msg, k.SuggestTicket):
		if r, ok := s.list.selected(); ok {
			askSuggestTicket(s.c, r.id, r.subject)
		}
	case key.Matches(msg, k.NotTicket):
		if r, ok := s.list.selected(); ok {
			askNotTicket(s.c, r.id, r.subject)
		}
	}
	return nil
}

// askSuggestTicket asks to queue the email's ticket.suggested event.
func askSuggestTicket(c *common, id, subject string) {
	a := c.acts("suggest as ticket")
	if a == nil {
		return
	}
	who := c.deps.User
	c.emit(askMsg{
		prompt: fmt.Sprintf("Suggest %q as a ticket (queues ticket.suggested as human:%s)?", trunc(subject, 30), who),
		run: simple("suggested as ticket", func(ctx context.Context) error {
			return a.SuggestTicket(ctx, id, who)
		}),
	})
}

// askIntent asks for the intent a person says an email is, and records it:
// the classifier learns from it.
func askIntent(c *common, id, subject string) {
	a := c.acts("correct intent")
	if a == nil {
		return
	}
	names := make([]string, len(triage.Intents))
	for i, in := range triage.Intents {
		names[i] = string(in)
	}
	who := c.deps.User
	c.emit(inputMsg{label: "intent of " + trunc(subject, 24) + ": ", placeholder: strings.Join(names, " / "),
		submit: func(v string) tea.Msg {
			in := triage.Intent(strings.ToLower(strings.TrimSpace(v)))
			if in == "" {
				return nil
			}
			if !slices.Contains(triage.Intents, in) {
				return statusMsg{text: fmt.Sprintf("%q is not an intent: %s", v, strings.Join(names, ", ")), err: true}
			}
			return correctIntent(a, id, in, who)
		}})
}

// confirmIntent records that the classifier's intent is right.
func confirmIntent(c *common, id string, in triage.Intent) {
	if a := c.acts("confirm intent"); a != nil {
		c.emit(correctIntent(a, id, in, c.deps.User))
	}
}

func correctIntent(a MessageActions, id string, in triage.Intent, who string) action {
	return simple("intent "+string(in)+" recorded: triage learns from it", func(ctx context.Context) error {
		return a.CorrectIntent(ctx, id, in, who)
	})
}

// askNotTicket asks to mark the email as not a ticket.
func askNotTicket(c *common, id, subject string) {
	a := c.acts("not a ticket")
	if a == nil {
		return
	}
	who := c.deps.User
	c.emit(askMsg{
		prompt: fmt.Sprintf("Mark %q as not a ticket (cancels undelivered deliveries)?", trunc(subject, 30)),
		run: simple("marked not a ticket", func(ctx context.Context) error {
			_, err := a.NotTicket(ctx, id, who)
			return err
		}),
	})
}

// inboxCols are the column widths for a terminal width.
type inboxCols struct{ mark, date, from, subject, intent, conf, flags, decision int }

func colsFor(w int) inboxCols {
	c := inboxCols{mark: 2, date: 11, intent: 8, conf: 10, flags: 5, decision: 10}
	rest := w - (c.mark + c.date + c.intent + c.conf + c.flags + c.decision)
	c.from = min(28, max(8, rest*2/5))
	c.subject = max(8, rest-c.from-2)
	return c
}

// View implements screen: the body's lines.
func (s *inboxScreen) View() []string {
	l := &s.list
	f := s.filter
	st := &s.c.st
	var sum strings.Builder
	sum.WriteString(st.Title.Render("Inbox"))
	if l.loaded {
		sum.WriteString(" · " + l.header("messages"))
	}
	sort := "date"
	switch {
	case f.Review > 0:
		sort = fmt.Sprintf("review (closest to %.2f first · C confirms, I corrects)", f.Review)
	case f.ByConfidence:
		sort = "confidence"
	}
	sum.WriteString(st.Dim.Render(" · sort " + sort))
	for _, kv := range [][2]string{{"intent", f.Intent}, {"flag", f.Flag}, {"decision", f.Decision}, {"search", trunc(clean(s.search.query), 40)}} {
		if kv[1] != "" {
			sum.WriteString(st.Warn.Render(" · " + kv[0] + " " + kv[1]))
		}
	}
	if s.search.query != "" && s.search.backlog > 0 {
		sum.WriteString(st.Dim.Render(fmt.Sprintf(" · %d bodies not indexed yet", s.search.backlog)))
	}
	out := []string{sum.String()}
	c := colsFor(s.w)
	out = append(out, st.Header.Render(pad("", c.mark)+pad("Received", c.date)+pad("From", c.from+1)+
		pad("Subject", c.subject)+" "+pad("Intent", c.intent)+pad("Conf", c.conf)+pad("Flag", c.flags)+pad("Decision", c.decision)))
	switch {
	case !l.loaded:
		return append(out, "", st.Dim.Render("  loading…"))
	case l.total == 0 && f != (db.InboxFilter{}):
		return append(out, "", "  No message matches these filters. Press c to clear them.")
	case l.total == 0:
		return append(out, "", "  The inbox is empty.", "",
			st.Dim.Render("  Import mail with `smista import PATH` or fetch it with `smista sync`."))
	}
	from, to := l.visible()
	for i := from; i < to; i++ {
		r, ok := l.at(i)
		if !ok {
			out = append(out, st.Dim.Render(pad("", c.mark)+"…"))
			continue
		}
		out = append(out, s.row(r, c, i == l.cursor))
	}
	return out
}

func (s *inboxScreen) row(r inboxLine, c inboxCols, sel bool) string {
	mark := "  "
	if !r.seen {
		mark = "● "
	}
	f := &s.c.st.Fast
	conf, band := confCell(f, r.conf)
	intent := r.intent
	if intent == "" {
		intent = "·"
	}
	flags := flagIcons(r.flags)
	dec := decisionLabel(r)
	date := pad(s.c.shortTime(r.date), c.date)
	from := pad(r.from, c.from) + " "
	subj := pad(r.subject, c.subject) + " "
	if sel {
		return f.Selected.On(mark + date + from + subj + pad(intent, c.intent) + pad(conf, c.conf) +
			pad(flags, c.flags) + pad(dec, c.decision))
	}
	markS := mark
	if !r.seen {
		markS = f.Unread.On(mark)
		from, subj = f.Bold.On(from), f.Bold.On(subj)
	}
	is, ok := f.Intent[r.intent]
	if !ok {
		is = f.Dim
	}
	decS := pad(dec, c.decision)
	switch r.ticket {
	case "failed":
		decS = f.Error.On(decS)
	case "sent":
		decS = f.OK.On(decS)
	}
	return markS + date + from + subj + is.On(pad(intent, c.intent)) + band.On(pad(conf, c.conf)) +
		f.Warn.On(pad(flags, c.flags)) + decS
}

// flagGlyphs are the Flag column's glyphs, in order.
var flagGlyphs = [...]struct{ name, icon string }{{"payments", "$"}, {"legal", "§"}, {"vip", "*"}, {"injection", "!"}}

func flagIcons(flags []string) string {
	var b strings.Builder
	for _, f := range flagGlyphs {
		if slices.Contains(flags, f.name) {
			b.WriteString(f.icon)
		}
	}
	return b.String()
}

// legender is a screen whose help explains its glyphs.
type legender interface{ legend() string }

// legend implements legender: the Flag column's glyphs.
func (s *inboxScreen) legend() string {
	parts := make([]string, len(flagGlyphs))
	for i, f := range flagGlyphs {
		parts[i] = f.icon + " " + f.name
	}
	return "Flag column: " + strings.Join(parts, " · ") + " · ● unread"
}

func decisionLabel(r inboxLine) string {
	switch r.ticket {
	case "sent":
		return "tkt sent"
	case "queued":
		return "tkt queued"
	case "failed":
		return "tkt FAILED"
	case "canceled":
		return "tkt cancel"
	case "no endpoint":
		return "tkt no-ep"
	}
	switch {
	case r.draftWaiting:
		return "draft wait"
	case r.action == "draft":
		return "draft"
	case r.action == "suggest":
		return "suggest"
	case r.action == "ticket":
		return "ticket"
	}
	return ""
}
