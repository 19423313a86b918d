package ui

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/ui/safe"
	"smista/webhook"
)

// notifier tells the person at the terminal of new work, the way the
// configuration says (Deps.Notify): a bell or a desktop notification
// through the terminal (OSC 9, OSC 777). It is off unless configured.
type notifier struct {
	mode string
	// since is when support requests were last counted.
	since time.Time
}

// supportCount carries how many support requests arrived since the last
// count, up to at.
type supportCount struct {
	n   int
	at  time.Time
	err error
}

// on reports whether notices are configured.
func (n *notifier) on() bool { return n.mode != "" && n.mode != "off" }

// live looks at a bus event: a finished triage run counts the new support
// requests; a disabled endpoint is told at once.
func (m *Model) notifyLive(e app.Event) tea.Cmd {
	n := &m.notify
	if !n.on() {
		return nil
	}
	switch v := e.(type) {
	case app.TriageProgress:
		if v.Working {
			return nil
		}
		store, since, now := m.c.deps.Store, n.since, m.c.deps.Now()
		return m.c.query(func(ctx context.Context) tea.Msg {
			c, err := store.NewSupport(ctx, since)
			return supportCount{n: c, at: now, err: err}
		})
	case app.DeliveryNotice:
		if v.Kind == webhook.NoticeDisabled {
			return n.tell("smista: endpoint " + v.EndpointID + " disabled")
		}
	}
	return nil
}

// counted tells of the support requests a count found.
func (m *Model) counted(c supportCount) tea.Cmd {
	n := &m.notify
	if c.err != nil {
		return nil // a notice is a courtesy: the inbox shows the mail anyway
	}
	n.since = c.at
	switch {
	case c.n == 1:
		return n.tell("smista: a new support request")
	case c.n > 1:
		return n.tell(fmt.Sprintf("smista: %d new support requests", c.n))
	}
	return nil
}

// tell writes the notice to the terminal.
func (n *notifier) tell(text string) tea.Cmd {
	return tea.Raw(notifySequence(n.mode, text))
}

// notifySequence is the terminal's sequence for a notice: BEL, OSC 9 or
// OSC 777, its text stripped of control characters and ";" (which would
// end the OSC 777 title).
func notifySequence(mode, text string) string {
	text = safe.String(text)
	switch mode {
	case "osc9":
		return "\x1b]9;" + text + "\x07"
	case "osc777":
		return "\x1b]777;notify;smista;" + replaceSemicolons(text) + "\x07"
	}
	return "\a"
}

func replaceSemicolons(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == ';' {
			b[i] = ','
		}
	}
	return string(b)
}
