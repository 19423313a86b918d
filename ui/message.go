package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"smista/db"
	"smista/mail"
	"smista/ui/safe"
)

type messageState struct {
	id      string
	req     uint64
	loaded  bool
	err     string
	title   string // cleaned subject
	detail  *db.MessageDetail
	body    string // cleaned body text
	draftID int64  // the pending draft, 0 if none
	vp      viewport.Model
}

type messageLoaded struct {
	req    uint64
	id     string
	detail *db.MessageDetail
	body   string
	err    error
}

func (m *Model) openMessage(id string, from screen) tea.Cmd {
	m.back = from
	m.screen = scrMessage
	m.msg.vp.GotoTop()
	return m.loadMessage(id, true)
}

// loadMessage reads the message (and marks it read when markSeen).
func (m *Model) loadMessage(id string, markSeen bool) tea.Cmd {
	if id == "" {
		return nil
	}
	if id != m.msg.id {
		m.msg = messageState{id: id, vp: m.msg.vp}
	}
	req := m.nextReq()
	m.msg.req = req
	store, acts, base, timeout := m.deps.Store, m.deps.Actions, m.ctx, m.deps.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		md, err := store.MessageDetail(ctx, id)
		if err != nil {
			return messageLoaded{req: req, id: id, err: err}
		}
		if markSeen && !md.Seen && acts != nil {
			if err := acts.MarkSeen(ctx, id); err == nil {
				md.Seen = true
			}
		}
		body := md.Message.Text
		if strings.TrimSpace(body) == "" && md.Message.HTML != "" {
			body = mail.HTMLToText(md.Message.HTML)
		}
		md.Message.Raw = nil // the view never needs the raw bytes; free them
		return messageLoaded{req: req, id: id, detail: md, body: safe.Text(body)}
	}
}

func (m *Model) handleMessageLoaded(msg messageLoaded) tea.Cmd {
	if msg.req != m.msg.req || msg.id != m.msg.id {
		return nil
	}
	m.msg.loaded = true
	if msg.err != nil {
		m.msg.err = clean(msg.err.Error())
		m.msg.vp.SetContent("")
		return nil
	}
	m.msg.err = ""
	m.msg.detail = msg.detail
	m.msg.body = msg.body
	m.msg.title = clean(msg.detail.Message.Subject)
	m.msg.draftID = 0
	for _, d := range msg.detail.Drafts {
		if d.Status == "pending" {
			m.msg.draftID = d.ID
			break
		}
	}
	y := m.msg.vp.YOffset()
	m.msg.vp.SetContent(m.messageContent())
	m.msg.vp.SetYOffset(y)
	return nil
}

// messageContent builds the scrollable text: headers, triage, deliveries,
// drafts and the body. Every untrusted string is cleaned here.
func (m *Model) messageContent() string {
	md := m.msg.detail
	msg := md.Message
	st := m.st
	var b strings.Builder
	field := func(name, v string) {
		fmt.Fprintf(&b, "%s %s\n", st.Bold.Render(pad(name, 9)), v)
	}
	addrs := func(as []mail.Address) string {
		parts := make([]string, len(as))
		for i, a := range as {
			parts[i] = clean(a.String())
		}
		return strings.Join(parts, ", ")
	}
	field("From:", clean(msg.From.String()))
	if len(msg.To) > 0 {
		field("To:", addrs(msg.To))
	}
	if len(msg.Cc) > 0 {
		field("Cc:", addrs(msg.Cc))
	}
	field("Date:", m.longTime(msg.Date))
	field("Subject:", clean(msg.Subject))
	field("Msg-ID:", clean(msg.MessageID))
	if len(msg.Attachments) > 0 {
		names := make([]string, len(msg.Attachments))
		for i, a := range msg.Attachments {
			names[i] = fmt.Sprintf("%s (%s, %d B)", clean(a.Filename), clean(a.ContentType), a.Size)
		}
		field("Attach:", strings.Join(names, ", "))
	}
	b.WriteString(st.Dim.Render(strings.Repeat("─", max(10, m.w-1))) + "\n")

	t := md.Triage
	switch {
	case t == nil:
		b.WriteString(st.Dim.Render("Not triaged yet (run `smista triage`).") + "\n")
	default:
		if t.Intent != "" {
			conf, band := m.confCell(t.Confidence)
			is, ok := st.Intent[t.Intent]
			if !ok {
				is = st.Dim
			}
			field("Triage:", is.Render(clean(t.Intent))+"  "+band.On(conf)+"  priority "+clean(t.Priority)+
				"  lang "+clean(t.Language))
			field("Model:", clean(t.Model)+st.Dim.Render("  at "+m.longTime(t.At)))
			if len(t.Flags) > 0 {
				field("Flags:", st.Warn.Render(clean(strings.Join(t.Flags, ", "))))
			}
			if t.Summary != "" {
				field("Summary:", clean(t.Summary))
			}
			for _, n := range t.Notes {
				field("Note:", clean(n))
			}
		}
		if t.Action != "" {
			dec := clean(t.Action)
			if t.Suggestion != "" {
				dec += " — " + clean(t.Suggestion)
			}
			field("Decision:", st.Bold.Render(dec)+st.Dim.Render("  by "+clean(t.DecidedBy)+" at "+m.longTime(t.DecidedAt)))
			for _, r := range t.Reasons {
				field("", "• "+clean(r))
			}
		}
	}
	if len(md.Deliveries) > 0 {
		b.WriteString(st.Bold.Render("Webhook deliveries") + "\n")
		for _, d := range md.Deliveries {
			ds, ok := st.Delivery[d.Status]
			if !ok {
				ds = st.Dim
			}
			line := fmt.Sprintf("  %s %s %s  attempts %d", ds.Render(pad(d.Status, 9)), clean(d.EndpointID), clean(d.URL), d.Attempts)
			if d.LastStatusCode != 0 {
				line += fmt.Sprintf("  last %d", d.LastStatusCode)
			}
			if d.LastError != "" {
				line += "  " + st.Error.Render(clean(d.LastError))
			}
			if d.Status == "retrying" || d.Status == "pending" {
				line += "  next " + m.countdown(d.NextAttemptAt)
			}
			b.WriteString(line + "\n")
		}
	}
	for _, d := range md.Drafts {
		s := fmt.Sprintf("Draft #%d %s", d.ID, clean(d.Status))
		if d.Status == "pending" {
			s += " — press D to review"
		}
		b.WriteString(st.Warn.Render(s) + "\n")
	}
	b.WriteString(st.Dim.Render(strings.Repeat("─", max(10, m.w-1))) + "\n")
	if strings.TrimSpace(m.msg.body) == "" {
		b.WriteString(st.Dim.Render("(no text body)"))
	} else {
		b.WriteString(m.msg.body)
	}
	return b.String()
}

func (m *Model) handleMessageKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	vp := &m.msg.vp
	switch {
	case keyIs(msg, k.Back):
		m.screen = m.back
		return m.refreshVisible()
	case keyIs(msg, k.Down):
		vp.ScrollDown(1)
	case keyIs(msg, k.Up):
		vp.ScrollUp(1)
	case keyIs(msg, k.PageDown):
		vp.PageDown()
	case keyIs(msg, k.PageUp):
		vp.PageUp()
	case keyIs(msg, k.Top):
		vp.GotoTop()
	case keyIs(msg, k.Bottom):
		vp.GotoBottom()
	case keyIs(msg, k.SuggestTicket):
		return m.askSuggestTicket(m.msg.id, m.msg.title)
	case keyIs(msg, k.NotTicket):
		return m.askNotTicket(m.msg.id, m.msg.title)
	case keyIs(msg, k.ToDraft):
		if m.msg.draftID == 0 {
			m.info = "this email has no draft waiting"
			return nil
		}
		m.drafts.focus = m.msg.draftID
		m.screen = scrDrafts
		return m.fetchDrafts()
	}
	return nil
}

func (m *Model) messageView(h int) []string {
	if !m.msg.loaded {
		return []string{m.st.Dim.Render("loading…")}
	}
	if m.msg.err != "" {
		return []string{m.st.Error.Render("cannot open this message: " + m.msg.err), "", "esc goes back"}
	}
	return strings.Split(m.msg.vp.View(), "\n")
}

func (m *Model) askSuggestTicket(id, subject string) tea.Cmd {
	if m.deps.Actions == nil {
		return m.notAvailable("suggest as ticket")
	}
	o, who := m.deps.Actions, m.deps.User
	return m.ask(fmt.Sprintf("Suggest %q as a ticket (queues ticket.suggested as human:%s)?", trunc(subject, 30), who),
		m.runAction("suggested as ticket", false, func(ctx context.Context) (string, error) {
			return "", o.SuggestTicket(ctx, id, who)
		}))
}

func (m *Model) askNotTicket(id, subject string) tea.Cmd {
	if m.deps.Actions == nil {
		return m.notAvailable("not a ticket")
	}
	o, who := m.deps.Actions, m.deps.User
	return m.ask(fmt.Sprintf("Mark %q as not a ticket (cancels undelivered deliveries)?", trunc(subject, 30)),
		m.runAction("marked not a ticket", false, func(ctx context.Context) (string, error) {
			_, err := o.NotTicket(ctx, id, who)
			return "", err
		}))
}

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
