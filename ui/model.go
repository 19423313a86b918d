package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"smista/app"
	"smista/webhook"
)

type screen int

const (
	scrInbox screen = iota
	scrDrafts
	scrTickets
	scrDeliveries
	scrEndpoints
	scrMessage
)

// tabNames are the screens reachable with tab, in order.
func tabNames() []string { return []string{"Inbox", "Drafts", "Tickets", "Deliveries", "Endpoints"} }

// input modes of the one-line prompt in the status bar.
const (
	inputNone = iota
	inputSearch
	inputAddURL
)

// refreshEvery is how many 1-second ticks pass between store refreshes of
// the visible screen (other processes write to the store too).
const refreshEvery = 3

// Model is the whole application. Create it with New; it implements
// tea.Model with a pointer receiver.
type Model struct {
	ctx    context.Context
	deps   Deps
	keys   KeyMap
	st     Styles
	isDark bool
	loc    *time.Location
	w, h   int

	screen, back screen
	showHelp     bool
	help         help.Model
	spin         spinner.Model
	prog         progress.Model
	reqSeq       uint64
	ticks        int

	inbox   inboxState
	msg     messageState
	drafts  draftsState
	tickets ticketsState
	dlv     deliveriesState
	eps     endpointsState

	events   <-chan app.Event
	unsub    func()
	sync     app.SyncProgress
	syncing  bool
	sender   app.SenderStats
	triage   app.TriageProgress
	busy     int // actions in flight that show the spinner
	spinning bool
	lastErr  string
	info     string

	confirm   *confirmState
	inputMode int
	input     textinput.Model
}

type confirmState struct {
	prompt string
	run    tea.Cmd
}

// New returns the model for deps. Deps.Store must not be nil.
func New(deps Deps) *Model {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Timeout == 0 {
		deps.Timeout = 10 * time.Second
	}
	if deps.Tick == 0 {
		deps.Tick = time.Second
	}
	if deps.User == "" {
		deps.User = "unknown"
	}
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = 500
	tis := ti.Styles()
	tis.Cursor.Blink = false
	ti.SetStyles(tis)
	m := &Model{
		ctx:   context.Background(),
		deps:  deps,
		keys:  DefaultKeyMap(),
		loc:   time.Local,
		w:     80,
		h:     24,
		help:  help.New(),
		spin:  spinner.New(spinner.WithSpinner(spinner.Line)),
		prog:  progress.New(progress.WithWidth(20), progress.WithoutPercentage(), progress.WithFillCharacters('█', '░')),
		input: ti,
	}
	m.isDark = true
	m.setStyles()
	m.msg.vp = viewport.New()
	m.msg.vp.SoftWrap = true
	m.dlv.vp = viewport.New()
	m.dlv.vp.SoftWrap = true
	m.drafts.ta = textarea.New()
	m.drafts.ta.ShowLineNumbers = false
	m.drafts.ta.CharLimit = 0
	// A steady cursor: a blinking one wakes the program twice a second.
	tas := m.drafts.ta.Styles()
	tas.Cursor.Blink = false
	m.drafts.ta.SetStyles(tas)
	m.resize(m.w, m.h)
	return m
}

// WithContext sets the context that bounds every query and action.
func (m *Model) WithContext(ctx context.Context) *Model { m.ctx = ctx; return m }

// WithLocation sets the time zone dates are shown in (tests use UTC).
func (m *Model) WithLocation(loc *time.Location) *Model { m.loc = loc; return m }

func (m *Model) setStyles() {
	m.st = DefaultStyles(m.isDark, m.deps.NoColor)
	hs := help.DefaultStyles(m.isDark)
	if m.deps.NoColor {
		hs = help.Styles{}
	}
	m.help.Styles = hs
}

// Init loads the first screen and starts listening for live progress.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, m.fetchInbox(), m.fetchEndpoints(), m.tick()}
	if m.deps.Events != nil && m.events == nil {
		m.events, m.unsub = m.deps.Events()
		cmds = append(cmds, waitLive(m.events))
	}
	return tea.Batch(cmds...)
}

// bodyHeight is the number of lines between the tab bar (and banner) and the
// two status lines.
func (m *Model) bodyHeight() int {
	return max(1, m.h-3-len(m.bannerLines()))
}

func (m *Model) resize(w, h int) {
	m.w, m.h = max(w, 20), max(h, 6)
	m.help.SetWidth(m.w)
	bh := m.bodyHeight()
	m.msg.vp.SetWidth(m.w)
	m.msg.vp.SetHeight(bh)
	_, dh := m.dlvSplit()
	m.dlv.vp.SetWidth(m.w)
	m.dlv.vp.SetHeight(max(1, dh-1)) // one line for the pane's title
	_, th := m.draftSplit()
	m.drafts.ta.SetWidth(m.w)
	m.drafts.ta.SetHeight(max(1, th-1))
	m.input.SetWidth(m.w - 12)
	if m.msg.detail != nil {
		m.msg.vp.SetContent(m.messageContent())
	}
	m.drafts.scroll(m.draftRows())
	m.inbox.p.moveTo(m.inbox.p.cursor, m.inboxRows())
	m.dlv.p.moveTo(m.dlv.p.cursor, m.dlvRows())
}

type tickMsg time.Time

func (m *Model) tick() tea.Cmd {
	if m.deps.Tick < 0 {
		return nil
	}
	return tea.Tick(m.deps.Tick, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Close ends the model's subscription to the bus.
func (m *Model) Close() {
	if m.unsub != nil {
		m.unsub()
	}
}

type liveMsg struct {
	v  app.Event
	ok bool
}

func waitLive(ch <-chan app.Event) tea.Cmd {
	return func() tea.Msg {
		v, ok := <-ch
		return liveMsg{v, ok}
	}
}

// actionDone reports an action's outcome in the status bar and refreshes
// the screens it touched.
type actionDone struct {
	text string
	err  error
	// secret, when set, is shown once (endpoint added or rotated).
	secret, secretFor string
	spin              bool
}

func (m *Model) nextReq() uint64 { m.reqSeq++; return m.reqSeq }

// Update handles a message and returns the next command.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		return m, m.fetchVisible()
	case tea.BackgroundColorMsg:
		m.isDark = msg.IsDark()
		m.setStyles()
		return m, nil
	case tickMsg:
		return m, m.handleTick()
	case liveMsg:
		return m, m.handleLive(msg)
	case spinner.TickMsg:
		if !m.spinActive() {
			m.spinning = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case actionDone:
		return m, m.handleAction(msg)
	case inboxPage, messageLoaded:
		return m, m.handleInboxMsg(msg)
	case draftsLoaded, editorReady, editorDone:
		return m, m.handleDraftsMsg(msg)
	case ticketsLoaded:
		return m, m.handleTicketsMsg(msg)
	case deliveriesPage, attemptsLoaded:
		return m, m.handleDeliveriesMsg(msg)
	case endpointsLoaded:
		return m, m.handleEndpointsMsg(msg)
	case tea.MouseMsg:
		return m, m.handleMouse(msg)
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		if m.inputMode != inputNone {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			return m, cmd
		}
		if m.drafts.editing {
			var cmd tea.Cmd
			m.drafts.ta, cmd = m.drafts.ta.Update(msg)
			return m, cmd
		}
	}
	return m, nil
}

func (m *Model) spinActive() bool { return m.triage.Working || m.busy > 0 }

// startSpin starts the spinner's ticks if it is not already ticking.
func (m *Model) startSpin() tea.Cmd {
	if m.spinning || !m.spinActive() {
		return nil
	}
	m.spinning = true
	return m.spin.Tick
}

func (m *Model) handleTick() tea.Cmd {
	m.ticks++
	cmds := []tea.Cmd{m.tick()}
	if m.ticks%refreshEvery == 0 {
		cmds = append(cmds, m.refreshVisible(), m.fetchEndpoints())
	}
	return tea.Batch(cmds...)
}

func (m *Model) handleLive(msg liveMsg) tea.Cmd {
	if !msg.ok {
		return nil
	}
	cmds := []tea.Cmd{waitLive(m.events)}
	switch v := msg.v.(type) {
	case app.SyncProgress:
		m.sync = v
		m.syncing = !v.Finished
		if v.Err != "" {
			m.lastErr = "sync: " + clean(v.Err)
		}
	case app.SenderStats:
		m.sender = v
	case app.TriageProgress:
		m.triage = v
		cmds = append(cmds, m.startSpin())
	case app.Notice:
		if v.Error {
			m.lastErr = clean(v.Text)
		} else {
			m.info = clean(v.Text)
		}
	case app.DeliveryNotice:
		text, isErr := deliveryText(v.Notice)
		if isErr {
			m.lastErr = clean(text)
		} else {
			m.info = clean(text)
		}
	case app.Changed:
		if v.Topics&app.TopicEndpoints != 0 {
			cmds = append(cmds, m.fetchEndpoints())
		}
		cmds = append(cmds, m.refreshVisible())
	}
	return tea.Batch(cmds...)
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
	}
	return "sender: " + n.Error, n.Error != ""
}

func (m *Model) handleAction(a actionDone) tea.Cmd {
	if a.spin {
		m.busy = max(0, m.busy-1)
	}
	if a.err != nil {
		m.lastErr = clean(a.text + ": " + a.err.Error())
		m.info = ""
	} else {
		m.info = clean(a.text)
		m.lastErr = ""
	}
	if a.secret != "" {
		m.eps.secret, m.eps.secretFor = a.secret, a.secretFor
	}
	return tea.Batch(m.refreshVisible(), m.fetchEndpoints())
}

// fetchVisible loads what the current screen shows if it is missing.
func (m *Model) fetchVisible() tea.Cmd {
	switch m.screen {
	case scrInbox:
		return m.fetchInbox()
	case scrDeliveries:
		return m.fetchDeliveries()
	}
	return nil
}

// refreshVisible reloads the current screen from the store.
func (m *Model) refreshVisible() tea.Cmd {
	switch m.screen {
	case scrInbox:
		return m.refreshInbox()
	case scrMessage:
		return m.loadMessage(m.msg.id, false)
	case scrDrafts:
		return m.fetchDrafts()
	case scrTickets:
		return m.fetchTickets()
	case scrDeliveries:
		return tea.Batch(m.refreshDeliveries(), m.fetchAttempts())
	case scrEndpoints:
		return m.fetchEndpoints()
	}
	return nil
}

func (m *Model) switchTo(s screen) tea.Cmd {
	if m.screen == s {
		return nil
	}
	m.drafts.editing = false
	m.screen = s
	switch s {
	case scrInbox:
		return m.fetchInbox()
	case scrDrafts:
		return m.fetchDrafts()
	case scrTickets:
		return m.fetchTickets()
	case scrDeliveries:
		return m.fetchDeliveries()
	case scrEndpoints:
		return m.fetchEndpoints()
	}
	return nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if key := msg.String(); key == "ctrl+c" {
		return tea.Quit
	}
	if m.inputMode != inputNone {
		return m.handleInputKey(msg)
	}
	if m.confirm != nil {
		c := m.confirm
		m.confirm = nil
		if keyIs(msg, k.Yes) {
			m.info = ""
			return c.run
		}
		m.info = "canceled"
		return nil
	}
	if m.screen == scrDrafts && m.drafts.editing {
		return m.handleDraftEditKey(msg)
	}
	if m.eps.secret != "" {
		if keyIs(msg, k.Copy) {
			s := m.eps.secret
			m.info = "secret copied to the clipboard"
			m.eps.secret = ""
			return tea.SetClipboard(s)
		}
		m.eps.secret = ""
		return nil
	}
	if m.showHelp {
		m.showHelp = false
		return nil
	}
	switch {
	case keyIs(msg, k.Quit):
		if m.screen == scrMessage {
			m.screen = m.back
			return m.fetchVisible()
		}
		return tea.Quit
	case keyIs(msg, k.Help):
		m.showHelp = true
		return nil
	case keyIs(msg, k.Next):
		return m.switchTo(screen((int(m.tabScreen()) + 1) % len(tabNames())))
	case keyIs(msg, k.Prev):
		return m.switchTo(screen((int(m.tabScreen()) + len(tabNames()) - 1) % len(tabNames())))
	case keyIs(msg, k.Inbox):
		return m.switchTo(scrInbox)
	case keyIs(msg, k.Drafts):
		return m.switchTo(scrDrafts)
	case keyIs(msg, k.Tickets):
		return m.switchTo(scrTickets)
	case keyIs(msg, k.Deliveries):
		return m.switchTo(scrDeliveries)
	case keyIs(msg, k.Endpoints):
		return m.switchTo(scrEndpoints)
	case keyIs(msg, k.Refresh):
		return tea.Batch(m.refreshVisible(), m.fetchEndpoints())
	}
	switch m.screen {
	case scrInbox:
		return m.handleInboxKey(msg)
	case scrMessage:
		return m.handleMessageKey(msg)
	case scrDrafts:
		return m.handleDraftsKey(msg)
	case scrTickets:
		return m.handleTicketsKey(msg)
	case scrDeliveries:
		return m.handleDeliveriesKey(msg)
	case scrEndpoints:
		return m.handleEndpointsKey(msg)
	}
	return nil
}

// tabScreen is the tab the current screen belongs to (the message view
// belongs to the screen it was opened from).
func (m *Model) tabScreen() screen {
	if m.screen == scrMessage {
		return m.back
	}
	return m.screen
}

func (m *Model) handleInputKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.inputMode = inputNone
		m.input.Blur()
		return nil
	case "enter":
		v := strings.TrimSpace(m.input.Value())
		mode := m.inputMode
		m.inputMode = inputNone
		m.input.Blur()
		switch mode {
		case inputSearch:
			m.inbox.filter.Search = v
			m.inbox.p.reset()
			return m.fetchInbox()
		case inputAddURL:
			if v == "" {
				return nil
			}
			return m.addEndpoint(v)
		}
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

func (m *Model) startInput(mode int, placeholder, value string) tea.Cmd {
	m.inputMode = mode
	m.input.Placeholder = placeholder
	m.input.SetValue(value)
	m.input.CursorEnd()
	return m.input.Focus()
}

// ask shows a y/n prompt; run executes on y.
func (m *Model) ask(prompt string, run tea.Cmd) tea.Cmd {
	m.confirm = &confirmState{prompt: prompt, run: run}
	return nil
}

func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	mo := msg.Mouse()
	switch msg := msg.(type) {
	case tea.MouseWheelMsg:
		d := 3
		if mo.Button == tea.MouseWheelUp {
			d = -3
		} else if mo.Button != tea.MouseWheelDown {
			return nil
		}
		return m.scroll(d)
	case tea.MouseClickMsg:
		if mo.Button != tea.MouseLeft {
			return nil
		}
		if mo.Y == 0 {
			x := 0
			for i, name := range tabNames() {
				wd := ansi.StringWidth(tabLabel(i, name))
				if mo.X >= x && mo.X < x+wd {
					return m.switchTo(screen(i))
				}
				x += wd
			}
			return nil
		}
		row := mo.Y - 1 - len(m.bannerLines())
		return m.clickRow(row)
	default:
		_ = msg
	}
	return nil
}

// scroll moves the current list or viewport by d lines.
func (m *Model) scroll(d int) tea.Cmd {
	switch m.screen {
	case scrInbox:
		m.inbox.p.move(d, m.inboxRows())
		return m.fetchInbox()
	case scrMessage:
		if d > 0 {
			m.msg.vp.ScrollDown(d)
		} else {
			m.msg.vp.ScrollUp(-d)
		}
	case scrDrafts:
		m.drafts.move(d)
		m.drafts.scroll(m.draftRows())
	case scrTickets:
		m.tickets.move(d, m.ticketRows())
	case scrDeliveries:
		m.dlv.p.move(d, m.dlvRows())
		return tea.Batch(m.fetchDeliveries(), m.fetchAttempts())
	case scrEndpoints:
		m.eps.move(d)
	}
	return nil
}

// clickRow selects the list row at body line y (a click on the selected
// row opens it).
func (m *Model) clickRow(y int) tea.Cmd {
	switch m.screen {
	case scrInbox:
		i := y - 2 + m.inbox.p.top // two lines: summary and column headers
		if y < 2 || i >= m.inbox.p.total || y-2 >= m.inboxRows() {
			return nil
		}
		if i == m.inbox.p.cursor {
			return m.openSelected()
		}
		m.inbox.p.moveTo(i, m.inboxRows())
	case scrDeliveries:
		i := y - 2 + m.dlv.p.top
		if y < 2 || i >= m.dlv.p.total || y-2 >= m.dlvRows() {
			return nil
		}
		if i == m.dlv.p.cursor {
			m.dlv.detail = !m.dlv.detail
		}
		m.dlv.p.moveTo(i, m.dlvRows())
		return m.fetchAttempts()
	case scrTickets:
		i := y - 2 + m.tickets.top
		if y < 2 || i >= len(m.tickets.items) {
			return nil
		}
		if i == m.tickets.cursor {
			return m.openTicket()
		}
		m.tickets.cursor = i
	case scrDrafts:
		i := y - 2 + m.drafts.top
		if y < 2 || i >= len(m.drafts.items) {
			return nil
		}
		m.drafts.cursor = i
	case scrEndpoints:
		i := y - 2 + max(0, m.eps.cursor-max(1, m.bodyHeight()-4)+1)
		if y < 2 || i >= len(m.eps.items) {
			return nil
		}
		m.eps.cursor = i
	}
	return nil
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
		b.WriteString(fit(m.st.Banner.Render(l), m.w))
		b.WriteByte('\n')
	}
	bh := m.bodyHeight()
	var body []string
	switch {
	case m.showHelp:
		body = strings.Split(m.help.FullHelpView(screenKeys{m.keys, m.screen}.FullHelp()), "\n")
		body = append([]string{m.st.Title.Render("Keys — " + screenTitle(m.screen)), ""}, body...)
		body = append(body, "", m.st.Dim.Render("press any key to close"))
	case m.eps.secret != "":
		body = m.secretView()
	default:
		switch m.screen {
		case scrInbox:
			body = m.inboxView(bh)
		case scrMessage:
			body = m.messageView(bh)
		case scrDrafts:
			body = m.draftsView(bh)
		case scrTickets:
			body = m.ticketsView(bh)
		case scrDeliveries:
			body = m.deliveriesView(bh)
		case scrEndpoints:
			body = m.endpointsView(bh)
		}
	}
	for i := 0; i < bh; i++ {
		if i < len(body) {
			b.WriteString(fit(body[i], m.w))
		}
		b.WriteByte('\n')
	}
	b.WriteString(fit(m.statusLine(), m.w))
	b.WriteByte('\n')
	b.WriteString(fit(m.bottomLine(), m.w))
	return b.String()
}

func screenTitle(s screen) string {
	if s == scrMessage {
		return "Message"
	}
	return tabNames()[s]
}

func tabLabel(i int, name string) string { return fmt.Sprintf(" %d %s ", i+1, name) }

func (m *Model) tabBar() string {
	var b strings.Builder
	cur := m.tabScreen()
	for i, name := range tabNames() {
		l := tabLabel(i, name)
		if screen(i) == cur {
			b.WriteString(m.st.ActiveTab.Render(l))
		} else {
			b.WriteString(m.st.Tab.Render(l))
		}
	}
	right := ""
	if n := m.drafts.pendingCount(); n > 0 {
		right = fmt.Sprintf("%d draft(s) waiting ", n)
	}
	used := ansi.StringWidth(ansi.Strip(b.String()))
	if pad := m.w - used - len(right); pad > 0 && right != "" {
		b.WriteString(strings.Repeat(" ", pad))
		b.WriteString(m.st.Warn.Render(right))
	}
	return fit(b.String(), m.w)
}

// bannerLines warns about auto-disabled endpoints on every screen until
// they are re-enabled or removed.
func (m *Model) bannerLines() []string {
	var out []string
	for _, e := range m.eps.items {
		if e.AutoDisabled() {
			reason := e.DisabledReason
			if !strings.HasPrefix(reason, "auto-disabled") {
				reason = "auto-disabled: " + reason
			}
			out = append(out, fmt.Sprintf(" !! endpoint %s %s · 5 then e re-enables · %s ", e.ID, reason, e.URL))
		}
	}
	if len(out) > 2 {
		out = append(out[:1], fmt.Sprintf(" !! and %d more auto-disabled endpoints — see 5 Endpoints ", len(out)-1))
	}
	return out
}

func (m *Model) statusLine() string {
	if m.inputMode != inputNone {
		label := "/ "
		if m.inputMode == inputAddURL {
			label = "endpoint URL: "
		}
		return m.st.Key.Render(label) + m.input.View()
	}
	if m.confirm != nil {
		return m.st.Warn.Render(m.confirm.prompt + " [y/n]")
	}
	var parts []string
	switch {
	case m.syncing && m.sync.Total > 0:
		p := float64(m.sync.Done) / float64(m.sync.Total)
		parts = append(parts, fmt.Sprintf("sync %s %s %d/%d", clean(m.sync.Mailbox), m.prog.ViewAs(p), m.sync.Done, m.sync.Total))
	case m.syncing:
		parts = append(parts, "sync "+clean(m.sync.Mailbox)+" …")
	}
	parts = append(parts, fmt.Sprintf("queue %d · in-flight %d", m.sender.Queue, m.sender.InFlight))
	if m.sender.Paused {
		parts = append(parts, m.st.Error.Render("sending paused: the store cannot record"))
	}
	if m.triage.Working {
		s := m.spin.View() + " classifying"
		if m.triage.Total > 0 {
			s += fmt.Sprintf(" %d/%d", m.triage.Done, m.triage.Total)
		}
		if m.triage.Model != "" {
			s += " (" + clean(m.triage.Model) + ")"
		}
		parts = append(parts, s)
	} else if m.busy > 0 {
		parts = append(parts, m.spin.View()+" working")
	}
	left := m.st.Status.Render(strings.Join(parts, " │ "))
	right := ""
	switch {
	case m.lastErr != "":
		right = m.st.Error.Render("error: " + m.lastErr)
	case m.info != "":
		right = m.st.OK.Render(m.info)
	}
	if right == "" {
		return left
	}
	return left + " │ " + right
}

func (m *Model) bottomLine() string {
	return m.help.ShortHelpView(screenKeys{m.keys, m.screen}.ShortHelp())
}

// fit truncates a styled line to w cells.
func fit(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// pad truncates or pads plain text to exactly w cells.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// padLeft right-aligns plain text in w cells.
func padLeft(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}

func keyIs(msg tea.KeyPressMsg, b ...interface {
	Keys() []string
	Enabled() bool
}) bool {
	s := msg.String()
	for _, x := range b {
		if !x.Enabled() {
			continue
		}
		for _, k := range x.Keys() {
			if k == s {
				return true
			}
		}
	}
	return false
}

// runAction runs fn in a command and reports it; spin shows the spinner.
func (m *Model) runAction(label string, spin bool, fn func(ctx context.Context) (string, error)) tea.Cmd {
	base, timeout := m.ctx, m.deps.Timeout
	cmd := func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		text, err := fn(ctx)
		if text == "" {
			text = label
		}
		return actionDone{text: text, err: err, spin: spin}
	}
	if spin {
		m.busy++
		return tea.Batch(cmd, m.startSpin())
	}
	return cmd
}

func (m *Model) notAvailable(what string) tea.Cmd {
	m.lastErr = what + ": " + ErrNotAvailable.Error()
	return nil
}

// relTime renders a time relative to now for lists.
func (m *Model) shortTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	now := m.deps.Now().In(m.loc)
	t = t.In(m.loc)
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan 02")
	default:
		return t.Format("2006-01-02")
	}
}

func (m *Model) longTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(m.loc).Format("2006-01-02 15:04:05")
}

// countdown renders "in 23s" until t.
func (m *Model) countdown(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(m.deps.Now())
	if d <= 0 {
		return "now"
	}
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("in %ds", int(d.Seconds()))
	}
	if d < time.Hour {
		return fmt.Sprintf("in %dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return "in " + d.Truncate(time.Minute).String()
}

// Run runs the UI on the terminal until the user quits or ctx ends.
func Run(ctx context.Context, deps Deps, opts ...tea.ProgramOption) error {
	m := New(deps).WithContext(ctx)
	defer m.Close()
	opts = append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)
	p := tea.NewProgram(m, opts...)
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("ui: %w", err)
	}
	return nil
}

var _ tea.Model = (*Model)(nil)
