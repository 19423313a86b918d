package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"smista/db"
	"smista/ui/safe"
)

// clean makes one line of untrusted text inert.
func clean(s string) string { return safe.String(s) }

// inboxLine is an inbox row with every untrusted string already cleaned.
type inboxLine struct {
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
		id: r.ID, from: clean(from), subject: clean(r.Subject), date: r.Date, seen: r.Seen,
		intent: clean(r.Intent), conf: r.Confidence, flags: r.Flags, action: clean(r.Action),
		by: clean(r.DecidedBy), suggest: clean(r.Suggestion), draftWaiting: r.DraftWaiting, ticket: r.TicketState,
	}
}

type inboxState struct {
	p      pager[inboxLine]
	filter db.InboxFilter
}

type inboxPage struct {
	req    uint64
	offset int
	rows   []inboxLine
	total  int
	err    error
}

// inboxRows is how many table rows fit (two lines hold the summary and the
// column headers).
func (m *Model) inboxRows() int { return max(1, m.bodyHeight()-2) }

// fetchInbox loads the window around the visible rows if it is not loaded.
func (m *Model) fetchInbox() tea.Cmd {
	off, lim, ok := m.inbox.p.need(m.inboxRows())
	if !ok {
		return nil
	}
	return m.loadInbox(off, lim)
}

// refreshInbox reloads the loaded window (the store changed).
func (m *Model) refreshInbox() tea.Cmd {
	if !m.inbox.p.loaded {
		return m.fetchInbox()
	}
	h := m.inboxRows()
	return m.loadInbox(max(0, m.inbox.p.top-margin(h)), h+2*margin(h))
}

func (m *Model) loadInbox(off, lim int) tea.Cmd {
	req := m.nextReq()
	m.inbox.p.req, m.inbox.p.wantOff, m.inbox.p.wantLim = req, off, lim
	store, f, base, timeout := m.deps.Store, m.inbox.filter, m.ctx, m.deps.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		return queryInbox(ctx, store, f, req, off, lim)
	}
}

func queryInbox(ctx context.Context, store InboxStore, f db.InboxFilter, req uint64, off, lim int) inboxPage {
	total, err := store.InboxCount(ctx, f)
	if err != nil {
		return inboxPage{req: req, err: err}
	}
	rows, err := store.Inbox(ctx, f, off, lim)
	if err != nil {
		return inboxPage{req: req, err: err}
	}
	lines := make([]inboxLine, len(rows))
	for i, r := range rows {
		lines[i] = toInboxLine(r)
	}
	return inboxPage{req: req, offset: off, rows: lines, total: total}
}

func (m *Model) handleInboxMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case inboxPage:
		if msg.req != m.inbox.p.req {
			return nil // stale: a newer fetch is in flight
		}
		if msg.err != nil {
			m.inbox.p.req = 0
			m.lastErr = clean("inbox: " + msg.err.Error())
			return nil
		}
		m.inbox.p.fill(msg.offset, msg.rows, msg.total, m.inboxRows())
		return m.fetchInbox()
	case messageLoaded:
		return m.handleMessageLoaded(msg)
	}
	return nil
}

func (m *Model) openSelected() tea.Cmd {
	r, ok := m.inbox.p.selected()
	if !ok {
		return nil
	}
	if !r.seen {
		r.seen = true
		m.inbox.p.rows[m.inbox.p.cursor-m.inbox.p.start] = r
	}
	return m.openMessage(r.id, scrInbox)
}

func cycle(list []string, cur string) string {
	i := slices.Index(list, cur)
	return list[(i+1)%len(list)]
}

func (m *Model) handleInboxKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	h := m.inboxRows()
	p := &m.inbox.p
	refilter := func() tea.Cmd {
		p.reset()
		return m.fetchInbox()
	}
	switch {
	case keyIs(msg, k.Down):
		p.move(1, h)
	case keyIs(msg, k.Up):
		p.move(-1, h)
	case keyIs(msg, k.PageDown):
		p.move(h, h)
	case keyIs(msg, k.PageUp):
		p.move(-h, h)
	case keyIs(msg, k.Top):
		p.moveTo(0, h)
	case keyIs(msg, k.Bottom):
		p.moveTo(p.total-1, h)
	case keyIs(msg, k.Open):
		return m.openSelected()
	case keyIs(msg, k.Search):
		return m.startInput(inputSearch, "search subject and sender", m.inbox.filter.Search)
	case keyIs(msg, k.Intent):
		m.inbox.filter.Intent = cycle([]string{"", "support", "sales", "billing", "legal", "spam", "other", "untriaged"}, m.inbox.filter.Intent)
		return refilter()
	case keyIs(msg, k.Flag):
		m.inbox.filter.Flag = cycle([]string{"", "payments", "legal", "vip", "injection"}, m.inbox.filter.Flag)
		return refilter()
	case keyIs(msg, k.Decision):
		m.inbox.filter.Decision = cycle([]string{"", "ticket", "draft", "suggest", "none"}, m.inbox.filter.Decision)
		return refilter()
	case keyIs(msg, k.Sort):
		m.inbox.filter.ByConfidence = !m.inbox.filter.ByConfidence
		return refilter()
	case keyIs(msg, k.Clear):
		m.inbox.filter = db.InboxFilter{}
		return refilter()
	case keyIs(msg, k.SuggestTicket):
		if r, ok := p.selected(); ok {
			return m.askSuggestTicket(r.id, r.subject)
		}
	case keyIs(msg, k.NotTicket):
		if r, ok := p.selected(); ok {
			return m.askNotTicket(r.id, r.subject)
		}
	}
	return m.fetchInbox()
}

// inboxColumns computes column widths for the terminal width.
type inboxCols struct{ mark, date, from, subject, intent, conf, flags, decision int }

func colsFor(w int) inboxCols {
	c := inboxCols{mark: 2, date: 11, intent: 8, conf: 10, flags: 5, decision: 10}
	rest := w - (c.mark + c.date + c.intent + c.conf + c.flags + c.decision)
	c.from = min(28, max(8, rest*2/5))
	c.subject = max(8, rest-c.from-2)
	return c
}

func (m *Model) inboxView(h int) []string {
	p := &m.inbox.p
	f := m.inbox.filter
	var sum strings.Builder
	sum.WriteString(m.st.Title.Render("Inbox"))
	if p.loaded {
		if p.total == 0 {
			sum.WriteString(" · 0 messages")
		} else {
			fmt.Fprintf(&sum, " · %s–%s of %s", thousands(p.top+1), thousands(min(p.top+m.inboxRows(), p.total)), thousands(p.total))
		}
	}
	sort := "date"
	if f.ByConfidence {
		sort = "confidence"
	}
	sum.WriteString(m.st.Dim.Render(" · sort " + sort))
	for _, kv := range [][2]string{{"intent", f.Intent}, {"flag", f.Flag}, {"decision", f.Decision}, {"search", clean(f.Search)}} {
		if kv[1] != "" {
			sum.WriteString(m.st.Warn.Render(" · " + kv[0] + " " + kv[1]))
		}
	}
	out := []string{sum.String()}
	c := colsFor(m.w)
	out = append(out, m.st.Header.Render(pad("", c.mark)+pad("Received", c.date)+pad("From", c.from+1)+
		pad("Subject", c.subject)+" "+pad("Intent", c.intent)+pad("Conf", c.conf)+pad("Flag", c.flags)+pad("Decision", c.decision)))
	if !p.loaded {
		return append(out, "", m.st.Dim.Render("  loading…"))
	}
	if p.total == 0 {
		if f != (db.InboxFilter{}) {
			return append(out, "", "  No message matches these filters. Press c to clear them.")
		}
		return append(out, "", "  The inbox is empty.", "",
			m.st.Dim.Render("  Import mail with `smista import PATH` or fetch it with `smista sync`."))
	}
	rows := m.inboxRows()
	for i := p.top; i < p.top+rows && i < p.total; i++ {
		r, ok := p.at(i)
		if !ok {
			out = append(out, m.st.Dim.Render(pad("", c.mark)+"…"))
			continue
		}
		out = append(out, m.inboxRow(r, c, i == p.cursor))
	}
	return out
}

func (m *Model) inboxRow(r inboxLine, c inboxCols, sel bool) string {
	mark := "  "
	if !r.seen {
		mark = "● "
	}
	conf, band := m.confCell(r.conf)
	intent := r.intent
	if intent == "" {
		intent = "·"
	}
	flags := flagIcons(r.flags)
	dec := decisionLabel(r)
	date := pad(m.shortTime(r.date), c.date)
	from := pad(r.from, c.from) + " "
	subj := pad(r.subject, c.subject) + " "
	f := &m.st.Fast
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

// confCell renders confidence as a 4-cell bar and a percentage, with the
// paint of its band (high ≥ 0.80, medium ≥ 0.50, low below).
func (m *Model) confCell(conf float64) (string, Paint) {
	f := &m.st.Fast
	if conf < 0 {
		return "    –", f.Dim
	}
	n := int(conf*4 + 0.5)
	bar := strings.Repeat("█", n) + strings.Repeat("░", 4-n)
	s := fmt.Sprintf("%s%4.0f%%", bar, conf*100)
	switch {
	case conf >= 0.80:
		return s, f.High
	case conf >= 0.50:
		return s, f.Medium
	}
	return s, f.Low
}

func flagIcons(flags []string) string {
	var b strings.Builder
	for _, f := range []struct{ name, icon string }{{"payments", "$"}, {"legal", "§"}, {"vip", "*"}, {"injection", "!"}} {
		if slices.Contains(flags, f.name) {
			b.WriteString(f.icon)
		}
	}
	return b.String()
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

// thousands formats n with thin separators: 100000 → 100,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
