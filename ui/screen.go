package ui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/triage"
)

// scrID names a screen. The first five are the tabs, in order.
type scrID int

const (
	scrInbox scrID = iota
	scrDrafts
	scrTickets
	scrDeliveries
	scrEndpoints
	scrMessage
	numScreens
)

// tabNames are the screens reachable with tab, in order.
func tabNames() []string { return []string{"Inbox", "Drafts", "Tickets", "Deliveries", "Endpoints"} }

func screenTitle(s scrID) string {
	if s == scrMessage {
		return "Message"
	}
	return tabNames()[s]
}

// screen is one screen of the UI, a child model of Model. The root model
// hands it the keys pressed while it is shown, the results of the loads it
// started (messages that carry its scrID) and its body size; it draws the
// body between the tab bar and the status bar.
type screen interface {
	// Update handles a key press, a sizeMsg, a clickMsg, a scrollMsg or a
	// message of the screen's own.
	Update(msg tea.Msg) (screen, tea.Cmd)
	// View returns the body's lines (at most the body's height).
	View() []string
	// Help returns the bindings of the short help line and the screen's
	// own column of the full help.
	Help() (short, own []key.Binding)
	// Topics are the stored data the screen shows: when the bus says one
	// changed, the screen reloads (or, hidden, is marked stale).
	Topics() app.Topic
	// Refresh reloads what the screen shows from the store.
	Refresh() tea.Cmd
}

// capturer is a screen that takes every key while it edits text (the
// draft editor): the root's global keys do not apply then.
type capturer interface{ capturing() bool }

// sizeMsg gives a screen its body size.
type sizeMsg struct{ w, h int }

// clickMsg is a left click on line y of the body.
type clickMsg struct{ y int }

// scrollMsg is a mouse wheel turn by d lines.
type scrollMsg struct{ d int }

// routed is a message meant for one screen (a load's result).
type routed interface{ route() scrID }

// common is what every screen shares with the root model: the deps, the
// look, the request counter, and the queue of intents (prompts, navigation,
// status, actions) that the root handles as soon as the screen's Update
// returns, so that a key typed right after takes effect on the new state.
type common struct {
	ctx  context.Context
	deps Deps
	keys KeyMap
	st   Styles
	loc  *time.Location
	seq  uint64
	out  []tea.Msg
}

// nextReq returns a new request id; a result is applied only while its id
// is the one its screen waits for.
func (c *common) nextReq() uint64 { c.seq++; return c.seq }

// emit queues an intent for the root model.
func (c *common) emit(msg tea.Msg) { c.out = append(c.out, msg) }

// query returns a command running fn with the model's context and timeout.
// fn must capture values only, never a screen.
func (c *common) query(fn func(ctx context.Context) tea.Msg) tea.Cmd {
	base, timeout := c.ctx, c.deps.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		return fn(ctx)
	}
}

// acts returns the App's operations, or nil after reporting that what is
// not available (a viewer).
func (c *common) acts(what string) Actions {
	if c.deps.Actions == nil {
		c.emit(statusMsg{text: what + ": " + ErrNotAvailable.Error(), err: true})
	}
	return c.deps.Actions
}

// secretsAllowed reports whether this front end may show a new secret,
// or else reports that what is refused (a session of the team server: a
// secret never crosses the network to a session).
func (c *common) secretsAllowed(what string) bool {
	if c.deps.NoSecrets {
		c.emit(statusMsg{text: what + ": run 'smista endpoints' on the server (secrets never reach a session)", err: true})
		return false
	}
	return true
}

// info shows text in the status bar.
func (c *common) info(text string) { c.emit(statusMsg{text: text}) }

// fail shows an error in the status bar, as it is: the App's and the
// store's errors already name their operation.
func (c *common) fail(err error) { c.emit(statusMsg{text: err.Error(), err: true}) }

// Intents: what a screen asks of the root model.
type (
	// statusMsg shows a line in the status bar.
	statusMsg struct {
		text string
		err  bool
	}
	// askMsg asks a y/n question; y runs the action.
	askMsg struct {
		prompt string
		run    action
	}
	// inputMsg opens the one-line prompt; enter hands the trimmed text to
	// submit, whose message (an intent or a screen's message; nil for
	// none) is handled next. change, when set, gets the text after every
	// edit (a search while typing), and cancel, when set, says that esc
	// closed the prompt.
	inputMsg struct {
		label, placeholder, value string
		submit                    func(string) tea.Msg
		change                    func(string) tea.Msg
		cancel                    func() tea.Msg
	}
	// openMsg opens an email in the message screen.
	openMsg struct {
		id   string
		from scrID
	}
	// backMsg leaves the message screen.
	backMsg struct{}
	// showMsg switches to a screen and hands it then (may be nil).
	showMsg struct {
		to   scrID
		then tea.Msg
	}
)

// action is one operation through the App, run in a command; its result
// reaches the root as an actionDone.
type action struct {
	spin bool // shows the spinner while it runs (slow: the classifier)
	do   func(ctx context.Context) actionDone
}

// simple is an action whose success is reported with text.
func simple(text string, fn func(ctx context.Context) error) action {
	return action{do: func(ctx context.Context) actionDone {
		return actionDone{text: text, err: fn(ctx)}
	}}
}

// actionDone reports an action's outcome in the status bar; the screens
// then reload.
type actionDone struct {
	text string
	err  error
	// secret, when set, is shown once (endpoint added or rotated).
	secret, secretFor string
	spin              bool
	// then, when set, is a question the outcome asks next (files exist:
	// replace them?).
	then *askMsg
}

// threshold is the decision threshold the review queue sorts around.
func (c *common) threshold() float64 {
	if c.deps.Threshold > 0 {
		return c.deps.Threshold
	}
	return triage.DefaultThreshold
}
