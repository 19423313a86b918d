package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"smista/app"
)

// refreshEvery is how many ticks pass between store reloads of the
// visible screen: other processes write to the store too, and the bus
// only tells what this process did.
const refreshEvery = 3

// Model is the root of the UI: it routes messages to the screens (child
// models behind the screen interface), keeps them fresh from the bus, and
// draws the frame: the tab bar, the banner, the status bar, the help, the
// prompts and the one-time secret. Create it with New; it implements
// tea.Model with a pointer receiver.
type Model struct {
	c      *common
	isDark bool
	w, h   int

	cur, back scrID // the screen shown; where the message screen returns
	screens   [numScreens]screen
	// stale marks hidden screens whose data changed: they reload when
	// shown.
	stale  [numScreens]bool
	inbox  *inboxScreen
	msg    *messageScreen
	drafts *draftsScreen
	eps    *endpointsScreen

	showHelp bool
	help     help.Model
	spin     spinner.Model
	prog     progress.Model
	ticks    int

	events   <-chan app.Event
	unsub    func()
	status   statusBar
	presence app.Presence // who shows which email, in the other sessions
	notify   notifier

	confirm           *askMsg
	prompt            *inputMsg
	input             textinput.Model
	promptErr         string // an error about the prompt's text (a search term), shown beside it
	secret, secretFor string // a new secret, shown once until a key is pressed
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
	c := &common{ctx: context.Background(), deps: deps, keys: DefaultKeyMap(), loc: time.Local}
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = 500
	tis := ti.Styles()
	tis.Cursor.Blink = false
	ti.SetStyles(tis)
	m := &Model{
		c:      c,
		isDark: true,
		help:   help.New(),
		spin:   spinner.New(spinner.WithSpinner(spinner.Line)),
		prog:   progress.New(progress.WithWidth(20), progress.WithoutPercentage(), progress.WithFillCharacters('█', '░')),
		input:  ti,
		notify: notifier{mode: deps.Notify, since: deps.Now()},
	}
	m.inbox, m.msg, m.drafts, m.eps = newInbox(c), newMessage(c), newDrafts(c), newEndpoints(c)
	m.screens = [numScreens]screen{
		scrInbox: m.inbox, scrDrafts: m.drafts, scrTickets: newTickets(c),
		scrDeliveries: newDeliveries(c, m.eps), scrEndpoints: m.eps, scrMessage: m.msg,
	}
	for i := range m.stale {
		m.stale[i] = true // nothing is loaded yet
	}
	m.setStyles()
	m.resize(80, 24)
	return m
}

// WithContext sets the context that bounds every query and action.
func (m *Model) WithContext(ctx context.Context) *Model { m.c.ctx = ctx; return m }

// WithLocation sets the time zone dates are shown in (tests use UTC).
func (m *Model) WithLocation(loc *time.Location) *Model { m.c.loc = loc; return m }

func (m *Model) setStyles() {
	m.c.st = DefaultStyles(m.isDark, m.c.deps.NoColor)
	hs := help.DefaultStyles(m.isDark)
	if m.c.deps.NoColor {
		hs = help.Styles{}
	}
	m.help.Styles = hs
}

// Init loads the inbox and the endpoints (the banner needs them on every
// screen) and starts listening to the bus.
func (m *Model) Init() tea.Cmd {
	m.stale[scrInbox], m.stale[scrEndpoints] = false, false
	cmds := []tea.Cmd{tea.RequestBackgroundColor, m.inbox.Refresh(), m.eps.Refresh(), m.tick()}
	if m.c.deps.Events != nil && m.events == nil {
		m.events, m.unsub = m.c.deps.Events()
		cmds = append(cmds, waitLive(m.events))
	}
	return tea.Batch(cmds...)
}

// Close ends the model's subscription to the bus.
func (m *Model) Close() {
	if m.unsub != nil {
		m.unsub()
	}
}

type tickMsg time.Time

func (m *Model) tick() tea.Cmd {
	if m.c.deps.Tick < 0 {
		return nil
	}
	return tea.Tick(m.c.deps.Tick, func(t time.Time) tea.Msg { return tickMsg(t) })
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

// Update handles a message, then the intents the screens emitted while
// handling it, in order, before any other message can arrive.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.handle(msg)
	if len(m.c.out) == 0 {
		return m, cmd
	}
	cmds := []tea.Cmd{cmd}
	for len(m.c.out) > 0 {
		next := m.c.out[0]
		m.c.out = m.c.out[1:]
		cmds = append(cmds, m.handle(next))
	}
	return m, tea.Batch(cmds...)
}

func (m *Model) handle(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return m.resize(msg.Width, msg.Height)
	case tea.BackgroundColorMsg:
		m.isDark = msg.IsDark()
		m.setStyles()
		return nil
	case tickMsg:
		return m.handleTick()
	case liveMsg:
		return m.handleLive(msg)
	case spinner.TickMsg:
		return m.handleSpin(msg)
	case actionDone:
		return m.handleAction(msg)
	case supportCount:
		return m.counted(msg)
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.MouseMsg:
		return m.handleMouse(msg)
	case tea.PasteMsg:
		if m.prompt != nil {
			return m.editInput(msg)
		}
		return m.toScreen(m.cur, msg)
	case routed:
		return m.toScreen(msg.route(), msg)
	}
	return m.handleIntent(msg)
}

// handleIntent carries out what a screen asked for.
func (m *Model) handleIntent(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case statusMsg:
		m.status.set(msg.text, msg.err)
		if m.prompt != nil && msg.err {
			m.promptErr = clean(msg.text)
		}
	case askMsg:
		m.confirm = &msg
	case inputMsg:
		m.prompt, m.promptErr = &msg, ""
		m.input.Placeholder = msg.placeholder
		m.input.SetValue(msg.value)
		m.input.CursorEnd()
		return m.input.Focus()
	case action:
		return m.run(msg)
	case openMsg:
		m.drafts.stopEditing()
		banner := len(m.bannerLines())
		m.back, m.cur = msg.from, scrMessage
		m.stale[scrMessage] = false
		cmd := tea.Batch(m.msg.open(msg.id), m.viewing(msg.id))
		if len(m.bannerLines()) != banner {
			cmd = tea.Batch(cmd, m.layout())
		}
		return cmd
	case backMsg:
		return m.show(m.back)
	case stepMsg:
		if st, ok := m.screens[m.back].(stepper); ok && m.cur == scrMessage {
			return st.step(msg.d)
		}
	case showMsg:
		var cmd tea.Cmd
		if msg.then != nil {
			cmd = m.toScreen(msg.to, msg.then)
		}
		return tea.Batch(cmd, m.show(msg.to))
	}
	return nil
}

// toScreen hands msg to screen id. A change of the endpoints may add or
// remove banner lines: then every screen gets its new body size.
func (m *Model) toScreen(id scrID, msg tea.Msg) tea.Cmd {
	if id != scrEndpoints {
		next, cmd := m.screens[id].Update(msg)
		m.screens[id] = next
		return cmd
	}
	banner := len(m.bannerLines())
	next, cmd := m.screens[id].Update(msg)
	m.screens[id] = next
	if len(m.bannerLines()) != banner {
		return tea.Batch(cmd, m.layout())
	}
	return cmd
}

// show switches to screen id, reloading it if its data changed while it
// was hidden.
func (m *Model) show(id scrID) tea.Cmd {
	if id == m.cur {
		return nil
	}
	if m.cur == scrDrafts {
		m.drafts.stopEditing()
	}
	var left tea.Cmd
	banner := len(m.bannerLines())
	if m.cur == scrMessage {
		left = m.viewing("")
	}
	m.cur = id
	if len(m.bannerLines()) != banner {
		left = tea.Batch(left, m.layout())
	}
	if m.stale[id] {
		m.stale[id] = false
		return tea.Batch(left, m.screens[id].Refresh())
	}
	return left
}

// viewing tells the App which email this session shows ("" none).
func (m *Model) viewing(emailID string) tea.Cmd {
	p, session, user := m.c.deps.Presence, m.c.deps.Session, m.c.deps.User
	if p == nil {
		return nil
	}
	return func() tea.Msg {
		p.SetViewing(session, user, emailID)
		return nil
	}
}

// changed reloads the screens that show topics: the visible one and those
// the frame draws from (the endpoints for the banner, the drafts for the
// tab bar's count once loaded); the others are marked stale.
func (m *Model) changed(topics app.Topic) tea.Cmd {
	var cmds []tea.Cmd
	for i, s := range m.screens {
		id := scrID(i)
		if s.Topics()&topics == 0 {
			continue
		}
		if id == m.cur || id == scrEndpoints || (id == scrDrafts && m.drafts.list.loaded) {
			m.stale[id] = false
			cmds = append(cmds, s.Refresh())
			continue
		}
		m.stale[id] = true
	}
	return tea.Batch(cmds...)
}

// bodyHeight is the number of lines between the tab bar (and banner) and
// the two status lines.
func (m *Model) bodyHeight() int { return max(1, m.h-3-len(m.bannerLines())) }

func (m *Model) resize(w, h int) tea.Cmd {
	m.w, m.h = max(w, 20), max(h, 6)
	m.help.SetWidth(m.w)
	m.input.SetWidth(m.w - 12)
	return m.layout()
}

// layout gives every screen its body size.
func (m *Model) layout() tea.Cmd {
	size := sizeMsg{w: m.w, h: m.bodyHeight()}
	var cmds []tea.Cmd
	for i, s := range m.screens {
		next, cmd := s.Update(size)
		m.screens[i] = next
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *Model) handleTick() tea.Cmd {
	m.ticks++
	if m.ticks%refreshEvery == 0 {
		return tea.Batch(m.tick(), m.changed(app.TopicAll))
	}
	return m.tick()
}

func (m *Model) handleLive(msg liveMsg) tea.Cmd {
	if !msg.ok {
		return nil
	}
	cmds := []tea.Cmd{waitLive(m.events), m.notifyLive(msg.v)}
	switch v := msg.v.(type) {
	case app.TriageProgress:
		m.status.triage = v
		cmds = append(cmds, m.startSpin())
	case app.Changed:
		cmds = append(cmds, m.changed(v.Topics))
	case app.Presence:
		before := len(m.bannerLines())
		m.presence = v
		if len(m.bannerLines()) != before {
			cmds = append(cmds, m.layout())
		}
	case app.Activity:
		if v.Actor != "human:"+m.c.deps.User {
			m.status.set(strings.TrimPrefix(v.Actor, "human:")+": "+v.Action, false)
		}
	default:
		m.status.live(v)
	}
	return tea.Batch(cmds...)
}

func (m *Model) handleAction(a actionDone) tea.Cmd {
	if a.spin {
		m.status.busy = max(0, m.status.busy-1)
	}
	if a.err != nil {
		// The App's errors name their operation: no prefix of ours.
		m.status.set(a.err.Error(), true)
	} else {
		m.status.set(a.text, false)
	}
	if a.secret != "" {
		m.secret, m.secretFor = a.secret, a.secretFor
	}
	if a.then != nil {
		m.confirm = a.then
	}
	// The bus announces what the action changed; a viewer without a bus
	// (and the tests) still needs the screens to show it.
	return m.changed(app.TopicAll)
}

// run runs an action in a command; a slow one shows the spinner.
func (m *Model) run(a action) tea.Cmd {
	do, spin := a.do, a.spin
	cmd := m.c.query(func(ctx context.Context) tea.Msg {
		done := do(ctx)
		done.spin = spin
		return done
	})
	if spin {
		m.status.busy++
		return tea.Batch(cmd, m.startSpin())
	}
	return cmd
}

func (m *Model) handleSpin(msg spinner.TickMsg) tea.Cmd {
	if !m.status.spinActive() {
		m.status.spinning = false
		return nil
	}
	var cmd tea.Cmd
	m.spin, cmd = m.spin.Update(msg)
	return cmd
}

// startSpin starts the spinner's ticks if it is not already ticking.
func (m *Model) startSpin() tea.Cmd {
	if m.status.spinning || !m.status.spinActive() {
		return nil
	}
	m.status.spinning = true
	return m.spin.Tick
}

// handleKey gives a key to whatever has the focus: the prompt, the y/n
// question, a screen's text editor, the secret or help overlay, the global
// keys, then the screen.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.ForceQuit):
		return tea.Quit
	case m.prompt != nil:
		return m.handleInputKey(msg)
	case m.confirm != nil:
		c := m.confirm
		m.confirm = nil
		if key.Matches(msg, k.Yes) {
			m.status.info = ""
			return m.run(c.run)
		}
		m.status.set("canceled", false)
		return nil
	}
	if c, ok := m.screens[m.cur].(capturer); ok && c.capturing() {
		return m.toScreen(m.cur, msg)
	}
	switch {
	case m.secret != "":
		s := m.secret
		m.secret, m.secretFor = "", ""
		if key.Matches(msg, k.Copy) {
			m.status.set("secret copied to the clipboard", false)
			return tea.SetClipboard(s)
		}
		return nil
	case m.showHelp:
		m.showHelp = false
		return nil
	}
	if cmd, ok := m.globalKey(msg); ok {
		return cmd
	}
	return m.toScreen(m.cur, msg)
}

// globalKey handles the keys that work on every screen.
func (m *Model) globalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.c.keys
	tabs := scrID(len(tabNames()))
	for _, t := range []struct {
		b  key.Binding
		to scrID
	}{
		{k.Inbox, scrInbox}, {k.Drafts, scrDrafts}, {k.Tickets, scrTickets}, {k.Deliveries, scrDeliveries},
		{k.Endpoints, scrEndpoints}, {k.Next, (m.tab() + 1) % tabs}, {k.Prev, (m.tab() + tabs - 1) % tabs},
	} {
		if key.Matches(msg, t.b) {
			return m.show(t.to), true
		}
	}
	switch {
	case key.Matches(msg, k.Quit):
		if m.cur == scrMessage {
			return m.show(m.back), true
		}
		return tea.Quit, true
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil, true
	case key.Matches(msg, k.Refresh):
		return m.changed(app.TopicAll), true
	}
	return nil, false
}

// tab is the tab the current screen belongs to (the message screen
// belongs to the screen it was opened from).
func (m *Model) tab() scrID {
	if m.cur == scrMessage {
		return m.back
	}
	return m.cur
}

func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	mo := msg.Mouse()
	switch msg.(type) {
	case tea.MouseWheelMsg:
		switch mo.Button {
		case tea.MouseWheelUp:
			return m.toScreen(m.cur, scrollMsg{d: -3})
		case tea.MouseWheelDown:
			return m.toScreen(m.cur, scrollMsg{d: 3})
		}
	case tea.MouseClickMsg:
		if mo.Button != tea.MouseLeft {
			return nil
		}
		if mo.Y > 0 {
			return m.toScreen(m.cur, clickMsg{y: mo.Y - 1 - len(m.bannerLines())})
		}
		x := 0
		for i, name := range tabNames() {
			wd := ansi.StringWidth(tabLabel(i, name))
			if mo.X >= x && mo.X < x+wd {
				return m.show(scrID(i))
			}
			x += wd
		}
	}
	return nil
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
