package ui

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"smista/db"
)

type endpointsState struct {
	items  []db.Endpoint // URL and reason cleaned on arrival
	cursor int
	req    uint64
	loaded bool
	// secret is a freshly generated secret, shown once until a key is pressed.
	secret, secretFor string
}

type endpointsLoaded struct {
	req   uint64
	items []db.Endpoint
	err   error
}

func (e *endpointsState) move(d int) {
	if len(e.items) == 0 {
		return
	}
	e.cursor = min(max(e.cursor+d, 0), len(e.items)-1)
}

func (m *Model) fetchEndpoints() tea.Cmd {
	req := m.nextReq()
	m.eps.req = req
	store, base, timeout := m.deps.Store, m.ctx, m.deps.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		items, err := store.Endpoints(ctx)
		for i := range items {
			items[i].ID, items[i].URL, items[i].DisabledReason = clean(items[i].ID), clean(items[i].URL), clean(items[i].DisabledReason)
		}
		return endpointsLoaded{req: req, items: items, err: err}
	}
}

func (m *Model) handleEndpointsMsg(msg endpointsLoaded) tea.Cmd {
	if msg.req != m.eps.req {
		return nil
	}
	if msg.err != nil {
		m.lastErr = clean("endpoints: " + msg.err.Error())
		return nil
	}
	before := len(m.bannerLines())
	m.eps.items, m.eps.loaded = msg.items, true
	m.eps.move(0)
	if len(m.bannerLines()) != before {
		m.resize(m.w, m.h) // the banner changed the body height
		return m.fetchVisible()
	}
	return nil
}

func (m *Model) addEndpoint(url string) tea.Cmd {
	if m.deps.Actions == nil {
		return m.notAvailable("add endpoint")
	}
	a, base, timeout := m.deps.Actions, m.ctx, m.deps.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		ep, err := a.AddEndpoint(ctx, url, "")
		if err != nil {
			return actionDone{text: "add endpoint", err: err}
		}
		return actionDone{text: "endpoint " + ep.ID + " added", secret: ep.Secret, secretFor: ep.ID}
	}
}

func (m *Model) handleEndpointsKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	e := &m.eps
	switch {
	case keyIs(msg, k.Down):
		e.move(1)
		return nil
	case keyIs(msg, k.Up):
		e.move(-1)
		return nil
	case keyIs(msg, k.Top):
		e.cursor = 0
		return nil
	case keyIs(msg, k.Bottom):
		e.move(len(e.items))
		return nil
	case keyIs(msg, k.Add):
		if m.deps.Actions == nil {
			return m.notAvailable("add endpoint")
		}
		return m.startInput(inputAddURL, "https://example.com/hooks/smista", "")
	}
	if e.cursor >= len(e.items) {
		return nil
	}
	sel := e.items[e.cursor]
	id := sel.ID
	switch {
	case keyIs(msg, k.Open):
		m.dlv.filter = db.DeliveryFilter{EndpointID: id}
		m.dlv.p.reset()
		return m.switchTo(scrDeliveries)
	case keyIs(msg, k.Test):
		if m.deps.Actions == nil {
			return m.notAvailable("test endpoint")
		}
		t := m.deps.Actions
		return m.runAction("test event queued for "+id, false, func(ctx context.Context) (string, error) {
			_, err := t.TestEndpoint(ctx, id)
			return "", err
		})
	case keyIs(msg, k.Toggle):
		if m.deps.Actions == nil {
			return m.notAvailable("enable/disable endpoint")
		}
		a, enable := m.deps.Actions, !sel.Enabled
		label := "endpoint " + id + " disabled"
		if enable {
			label = "endpoint " + id + " enabled: its queue resumes"
		}
		return m.runAction(label, false, func(ctx context.Context) (string, error) {
			var err error
			if enable {
				_, err = a.EnableEndpoint(ctx, id)
			} else {
				_, err = a.DisableEndpoint(ctx, id)
			}
			return "", err
		})
	case keyIs(msg, k.Rotate):
		if m.deps.Actions == nil {
			return m.notAvailable("rotate secret")
		}
		a, base, timeout := m.deps.Actions, m.ctx, m.deps.Timeout
		return m.ask(fmt.Sprintf("Rotate the secret of %s (the old one keeps signing for a grace period)?", id), func() tea.Msg {
			ctx, cancel := context.WithTimeout(base, timeout)
			defer cancel()
			s, _, err := a.RotateSecret(ctx, id)
			if err != nil {
				return actionDone{text: "rotate secret", err: err}
			}
			return actionDone{text: "secret of " + id + " rotated", secret: s, secretFor: id}
		})
	case keyIs(msg, k.Remove):
		if m.deps.Actions == nil {
			return m.notAvailable("remove endpoint")
		}
		a := m.deps.Actions
		return m.ask(fmt.Sprintf("Remove endpoint %s and its delivery log?", id),
			m.runAction("endpoint "+id+" removed", false, func(ctx context.Context) (string, error) {
				_, err := a.RemoveEndpoint(ctx, id, true)
				return "", err
			}))
	}
	return nil
}

func (m *Model) endpointsView(h int) []string {
	e := &m.eps
	st := m.st
	out := []string{st.Title.Render("Endpoints") + fmt.Sprintf(" · %d", len(e.items)) + st.Dim.Render(" · ticket.suggested is POSTed to each, signed")}
	if !e.loaded {
		return append(out, "", st.Dim.Render("  loading…"))
	}
	if len(e.items) == 0 {
		return append(out, "", "  No endpoints. Press a to add one (its signing secret is shown once).")
	}
	idW := 4
	for _, x := range e.items {
		idW = max(idW, len(x.ID)+2)
	}
	idW = min(idW, 29)
	urlW := max(16, m.w-idW-10-16)
	out = append(out, st.Header.Render(pad("ID", idW)+pad("State", 10)+pad("URL", urlW)+pad(" queued/dead/ok", 16)))
	rows := max(1, h-4) // title, header, and two lines for the selected endpoint's details
	top := max(0, e.cursor-rows+1)
	for i := top; i < len(e.items) && i < top+rows; i++ {
		x := e.items[i]
		state, ss := "enabled", st.OK
		if !x.Enabled {
			state, ss = "disabled", st.Dim
			if x.AutoDisabled() {
				state, ss = "AUTO-OFF", st.Error
			}
		}
		counts := fmt.Sprintf(" %d/%d/%d", x.Pending, x.Dead, x.Delivered)
		if i == e.cursor {
			out = append(out, st.Selected.Render(pad(x.ID, idW)+pad(state, 10)+pad(x.URL, urlW)+pad(counts, 16)))
		} else {
			out = append(out, pad(x.ID, idW)+ss.Render(pad(state, 10))+pad(x.URL, urlW)+pad(counts, 16))
		}
	}
	if e.cursor < len(e.items) {
		x := e.items[e.cursor]
		out = append(out, "")
		switch {
		case !x.Enabled && x.DisabledReason != "":
			out = append(out, st.Dim.Render("  "+x.ID+": "+x.DisabledReason+" since "+m.longTime(x.DisabledAt)+" · e re-enables"))
		default:
			out = append(out, st.Dim.Render("  "+x.ID+": created "+m.longTime(x.CreatedAt)+" · enter shows its deliveries"))
		}
	}
	return out
}

// secretView shows a newly generated secret once.
func (m *Model) secretView() []string {
	st := m.st
	return []string{
		st.Title.Render("Signing secret for " + m.eps.secretFor),
		"",
		"  " + st.Bold.Render(m.eps.secret),
		"",
		"  This secret is shown once. Give it to the receiver so it can verify",
		"  the webhook-signature header (Standard Webhooks).",
		"",
		st.Dim.Render("  c copies it to the clipboard · any other key closes"),
	}
}
