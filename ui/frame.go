package ui

import (
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"smista/app"
	"smista/webhook"
)

// statusBar is what the status bar shows: live progress from the bus and
// the last outcome or error.
type statusBar struct {
	sync     app.SyncProgress
	syncing  bool
	sender   app.SenderStats
	lease    app.SenderLease // who sends for the store
	triage   app.TriageProgress
	busy     int // actions in flight that show the spinner
	spinning bool
	lastErr  string
	info     string
}

func (s *statusBar) spinActive() bool { return s.triage.Working || s.busy > 0 }

// set shows one line, an outcome or an error, in place of the last one.
func (s *statusBar) set(text string, isErr bool) {
	if isErr {
		s.lastErr, s.info = clean(text), ""
		return
	}
	s.info, s.lastErr = clean(text), ""
}

// live takes a progress event or a notice from the bus.
func (s *statusBar) live(e app.Event) {
	switch v := e.(type) {
	case app.SyncProgress:
		s.sync = v
		s.syncing = !v.Finished
		if v.Err != "" {
			s.lastErr = "sync: " + clean(v.Err)
		}
	case app.SenderStats:
		s.sender = v
	case app.SenderLease:
		s.lease = v
	case app.Notice:
		s.notice(v.Text, v.Error)
	case app.DeliveryNotice:
		s.notice(deliveryText(v.Notice))
	}
}

// notice shows a notice without hiding an error by an outcome.
func (s *statusBar) notice(text string, isErr bool) {
	if isErr {
		s.lastErr = clean(text)
	} else {
		s.info = clean(text)
	}
}

// deliveryText is the status bar's line for a sender notice, and whether
// it is an error.
func deliveryText(n webhook.Notice) (string, bool) {
	switch n.Kind {
	case webhook.NoticeDelivered:
		if n.URL == "" {
			return fmt.Sprintf("reply %s sent (SMTP %d)", n.DeliveryID, n.StatusCode), false
		}
		return fmt.Sprintf("delivered %s to %s (HTTP %d)", n.DeliveryID, n.URL, n.StatusCode), false
	case webhook.NoticeFailed, webhook.NoticePaused:
		return fmt.Sprintf("attempt %d of %s failed: %s", n.Attempt, n.DeliveryID, n.Error), false
	case webhook.NoticeDead:
		return fmt.Sprintf("delivery %s is dead: %s (r replays it)", n.DeliveryID, n.Error), true
	case webhook.NoticeDisabled:
		return fmt.Sprintf("endpoint %s %s", n.EndpointID, n.Error), true
	case webhook.NoticeResumed:
		return "sending resumed: the store records again", false
	case webhook.NoticeWarning:
		return fmt.Sprintf("endpoint %s: %s", n.EndpointID, n.Error), true
	case webhook.NoticeOffline:
		return fmt.Sprintf("offline (%s): deliveries wait, no retry is used; sending resumes by itself", n.Error), false
	case webhook.NoticeOnline:
		return "online again: sending resumed (" + n.Error + ")", false
	}
	return "sender: " + n.Error, n.Error != ""
}

// View renders the whole screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "smista"
	return v
}

// Render returns the screen as styled text, exactly m.h lines of at most
// m.w cells. Golden tests strip its ANSI styling.
func (m *Model) Render() string {
	var b strings.Builder
	b.Grow(m.w * m.h * 2)
	b.WriteString(m.tabBar())
	b.WriteByte('\n')
	for _, l := range m.bannerLines() {
		b.WriteString(fit(m.c.st.Banner.Render(l), m.w))
		b.WriteByte('\n')
	}
	bh := m.bodyHeight()
	var body []string
	switch {
	case m.showHelp:
		body = m.helpView()
	case m.secret != "":
		body = m.secretView()
	default:
		body = m.screens[m.cur].View()
	}
	for i := 0; i < bh; i++ {
		if i < len(body) {
			b.WriteString(fit(body[i], m.w))
		}
		b.WriteByte('\n')
	}
	b.WriteString(fit(m.statusLine(), m.w))
	b.WriteByte('\n')
	b.WriteString(fit(m.help.ShortHelpView(m.c.keys.help(m.screens[m.cur]).ShortHelp()), m.w))
	return b.String()
}

func tabLabel(i int, name string) string { return fmt.Sprintf(" %d %s ", i+1, name) }

func (m *Model) tabBar() string {
	st := &m.c.st
	var b strings.Builder
	cur := m.tab()
	for i, name := range tabNames() {
		l := tabLabel(i, name)
		if scrID(i) == cur {
			b.WriteString(st.ActiveTab.Render(l))
		} else {
			b.WriteString(st.Tab.Render(l))
		}
	}
	right := ""
	if n := m.drafts.pendingCount(); n > 0 {
		right = fmt.Sprintf("%d draft(s) waiting ", n)
	}
	used := ansi.StringWidth(ansi.Strip(b.String()))
	if gap := m.w - used - len(right); gap > 0 && right != "" {
		b.WriteString(strings.Repeat(" ", gap))
		b.WriteString(st.Warn.Render(right))
	}
	return fit(b.String(), m.w)
}

// bannerLines warn about auto-disabled endpoints on every screen, and on
// the message screen say who else has the email open.
func (m *Model) bannerLines() []string {
	lines := m.eps.bannerLines()
	if m.cur != scrMessage || m.msg.id == "" {
		return lines
	}
	var names []string
	for _, v := range m.presence.Viewers[m.msg.id] {
		if v.Session != m.c.deps.Session && !slices.Contains(names, v.Agent) {
			names = append(names, clean(v.Agent))
		}
	}
	if len(names) > 0 {
		lines = append(lines, " "+strings.Join(names, ", ")+" "+map[bool]string{true: "is", false: "are"}[len(names) == 1]+" on it ")
	}
	return lines
}

func (m *Model) helpView() []string {
	body := strings.Split(m.help.FullHelpView(m.c.keys.help(m.screens[m.cur]).FullHelp()), "\n")
	body = append([]string{m.c.st.Title.Render("Keys — " + screenTitle(m.cur)), ""}, body...)
	if l, ok := m.screens[m.cur].(legender); ok {
		body = append(body, "", l.legend())
	}
	return append(body, "", m.c.st.Dim.Render("press any key to close"))
}

// secretView shows a newly generated secret once.
func (m *Model) secretView() []string {
	st := &m.c.st
	return []string{
		st.Title.Render("Signing secret for " + m.secretFor),
		"",
		"  " + st.Bold.Render(m.secret),
		"",
		"  This secret is shown once. Give it to the receiver so it can verify",
		"  the webhook-signature header (Standard Webhooks).",
		"",
		st.Dim.Render("  c copies it to the clipboard · any other key closes"),
	}
}

func (m *Model) statusLine() string {
	st := &m.c.st
	if m.prompt != nil {
		in := m.input.View()
		if m.promptErr == "" {
			return st.Key.Render(m.prompt.label) + in
		}
		// The error after the text typed, not after the input's padding.
		return st.Key.Render(m.prompt.label) + strings.TrimRight(in, " ") + "  " + st.Error.Render(m.promptErr)
	}
	if m.confirm != nil {
		return st.Warn.Render(m.confirm.prompt + " [y/n]")
	}
	s := &m.status
	var parts []string
	switch {
	case s.syncing && s.sync.Total > 0:
		p := float64(s.sync.Done) / float64(s.sync.Total)
		parts = append(parts, fmt.Sprintf("sync %s %s %d/%d", clean(s.sync.Mailbox), m.prog.ViewAs(p), s.sync.Done, s.sync.Total))
	case s.syncing:
		parts = append(parts, "sync "+clean(s.sync.Mailbox)+" …")
	}
	if !s.lease.Held && s.lease.Holder != "" {
		// Another process holds the store's sender lease: this one views
		// (its actions still queue; that process delivers them).
		parts = append(parts, "viewer · sending: "+clean(s.lease.Holder))
	} else {
		parts = append(parts, fmt.Sprintf("queue %d · in-flight %d", s.sender.Queue, s.sender.InFlight))
	}
	if s.sender.Paused {
		parts = append(parts, "sending paused: the store cannot record")
	}
	if s.sender.Offline {
		parts = append(parts, st.Warn.Render(fmt.Sprintf("offline: %d deliveries waiting", s.sender.Queue)))
	}
	if s.triage.Working {
		t := m.spin.View() + " classifying"
		if s.triage.Total > 0 {
			t += fmt.Sprintf(" %d/%d", s.triage.Done, s.triage.Total)
		}
		if s.triage.Model != "" {
			t += " (" + clean(s.triage.Model) + ")"
		}
		parts = append(parts, t)
	} else if s.busy > 0 {
		parts = append(parts, m.spin.View()+" working")
	}
	left := st.Status.Render(strings.Join(parts, " │ "))
	right := ""
	switch {
	case s.lastErr != "":
		right = st.Error.Render("error: " + s.lastErr)
	case s.info != "":
		right = st.OK.Render(s.info)
	}
	if right == "" {
		return left
	}
	return left + " │ " + right
}
