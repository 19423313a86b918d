package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/db"
)

// endpointsScreen manages the webhook endpoints. Its list is kept loaded
// on every screen: the banner warns about auto-disabled endpoints.
type endpointsScreen struct {
	c    *common
	w, h int
	list list[db.Endpoint] // ID, URL and reason cleaned on arrival
	// undelivered counts the tickets decided while no endpoint existed.
	undelivered    int
	undeliveredReq uint64
}

// undeliveredMsg carries the count of tickets without a delivery.
type undeliveredMsg struct {
	req uint64
	n   int
	err error
}

func (undeliveredMsg) route() scrID { return scrEndpoints }

func newEndpoints(c *common) *endpointsScreen {
	store := c.deps.Store
	s := &endpointsScreen{c: c}
	s.list = newList(scrEndpoints, func(e db.Endpoint) string { return e.ID },
		func(ctx context.Context, _ window[db.Endpoint]) (page[db.Endpoint], error) {
			items, err := store.Endpoints(ctx)
			if err != nil {
				return page[db.Endpoint]{}, err
			}
			for i := range items {
				items[i].ID, items[i].URL, items[i].DisabledReason = clean(items[i].ID), clean(items[i].URL), clean(items[i].DisabledReason)
			}
			return page[db.Endpoint]{rows: items, total: len(items)}, nil
		})
	return s
}

// Topics include the deliveries: the list shows their counts.
func (s *endpointsScreen) Topics() app.Topic { return app.TopicEndpoints | app.TopicDeliveries }

// Refresh implements screen: it reloads what is shown from the store.
func (s *endpointsScreen) Refresh() tea.Cmd {
	store, req := s.c.deps.Store, s.c.nextReq()
	s.undeliveredReq = req
	count := s.c.query(func(ctx context.Context) tea.Msg {
		n, err := store.UndeliveredTickets(ctx)
		return undeliveredMsg{req: req, n: n, err: err}
	})
	return tea.Batch(s.list.refresh(s.c), count)
}

// Help implements screen.
func (s *endpointsScreen) Help() (short, own []key.Binding) {
	k := s.c.keys
	return []key.Binding{k.Add, k.Test, k.Toggle, k.Rotate, k.Remove, k.Help},
		[]key.Binding{k.Add, k.Test, k.Toggle, k.Rotate, k.Remove, k.Copy, k.Backfill}
}

// bannerLines warn about auto-disabled endpoints, on every screen, until
// they are re-enabled or removed.
func (s *endpointsScreen) bannerLines() []string {
	var out []string
	for _, e := range s.list.rows {
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

// Update implements screen.
func (s *endpointsScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sizeMsg:
		s.w, s.h = msg.w, msg.h
		s.list.setHeight(s.h - 4) // title, header, and two lines for the selected endpoint's details
	case pageMsg[db.Endpoint]:
		s.list.fill(s.c, msg)
	case undeliveredMsg:
		if msg.req == s.undeliveredReq {
			if msg.err != nil {
				s.c.fail(msg.err)
			} else {
				s.undelivered = msg.n
			}
		}
	case scrollMsg:
		s.list.move(msg.d)
	case clickMsg:
		if i, ok := s.list.rowAt(msg.y - 2); ok {
			s.list.moveTo(i)
		}
	case tea.KeyPressMsg:
		s.handleKey(msg)
	}
	return s, nil
}

func (s *endpointsScreen) handleKey(msg tea.KeyPressMsg) {
	k := s.c.keys
	if s.list.navigate(msg, k) {
		return
	}
	if key.Matches(msg, k.Backfill) && s.undelivered > 0 {
		if a := s.c.acts("queue undelivered tickets"); a != nil {
			s.c.emit(action{do: func(ctx context.Context) actionDone {
				n, err := a.QueueUndeliveredTickets(ctx)
				return actionDone{text: fmt.Sprintf("%d ticket(s) queued to the endpoints", n), err: err}
			}})
		}
		return
	}
	if key.Matches(msg, k.Add) {
		if !s.c.secretsAllowed("add endpoint") {
			return
		}
		a := s.c.acts("add endpoint")
		if a == nil {
			return
		}
		s.c.emit(inputMsg{label: "endpoint URL: ", placeholder: "https://example.com/hooks/smista",
			submit: func(url string) tea.Msg {
				if url == "" {
					return nil
				}
				return addEndpoint(a, url)
			}})
		return
	}
	sel, ok := s.list.selected()
	if !ok {
		return
	}
	id := sel.ID
	switch {
	case key.Matches(msg, k.Open):
		s.c.emit(showMsg{to: scrDeliveries, then: endpointFilterMsg{id}})
	case key.Matches(msg, k.Test):
		if a := s.c.acts("test endpoint"); a != nil {
			s.c.emit(simple("test event queued for "+id, func(ctx context.Context) error {
				_, err := a.TestEndpoint(ctx, id)
				return err
			}))
		}
	case key.Matches(msg, k.Toggle):
		if a := s.c.acts("enable/disable endpoint"); a != nil {
			s.c.emit(toggleEndpoint(a, id, !sel.Enabled))
		}
	case key.Matches(msg, k.Rotate):
		if !s.c.secretsAllowed("rotate secret") {
			return
		}
		if a := s.c.acts("rotate secret"); a != nil {
			s.c.emit(askMsg{prompt: fmt.Sprintf("Rotate the secret of %s (the old one keeps signing for a grace period)?", id),
				run: rotateSecret(a, id)})
		}
	case key.Matches(msg, k.Remove):
		if a := s.c.acts("remove endpoint"); a != nil {
			s.c.emit(askMsg{prompt: fmt.Sprintf("Remove endpoint %s and its delivery log?", id),
				run: simple("endpoint "+id+" removed", func(ctx context.Context) error {
					_, err := a.RemoveEndpoint(ctx, id, true)
					return err
				})})
		}
	}
}

func addEndpoint(a EndpointActions, url string) action {
	return action{do: func(ctx context.Context) actionDone {
		ep, err := a.AddEndpoint(ctx, url, "")
		if err != nil {
			return actionDone{err: err}
		}
		return actionDone{text: "endpoint " + ep.ID + " added", secret: ep.Secret, secretFor: ep.ID}
	}}
}

func toggleEndpoint(a EndpointActions, id string, enable bool) action {
	label := "endpoint " + id + " disabled"
	if enable {
		label = "endpoint " + id + " enabled: its queue resumes"
	}
	return simple(label, func(ctx context.Context) error {
		var err error
		if enable {
			_, err = a.EnableEndpoint(ctx, id)
		} else {
			_, err = a.DisableEndpoint(ctx, id)
		}
		return err
	})
}

func rotateSecret(a EndpointActions, id string) action {
	return action{do: func(ctx context.Context) actionDone {
		secret, _, err := a.RotateSecret(ctx, id)
		if err != nil {
			return actionDone{err: err}
		}
		return actionDone{text: "secret of " + id + " rotated", secret: secret, secretFor: id}
	}}
}

// View implements screen: the body's lines.
func (s *endpointsScreen) View() []string {
	st := &s.c.st
	l := &s.list
	out := []string{st.Title.Render("Endpoints") + fmt.Sprintf(" · %d", l.total) + st.Dim.Render(" · ticket.suggested is POSTed to each, signed")}
	if !l.loaded {
		return append(out, "", st.Dim.Render("  loading…"))
	}
	note := ""
	if s.undelivered > 0 {
		note = st.Warn.Render(fmt.Sprintf("  %d ticket(s) have no delivery: decided while no endpoint existed", s.undelivered))
	}
	if l.total == 0 {
		return append(out, "", "  No endpoints. Press a to add one (its signing secret is shown once).", note)
	}
	if note != "" {
		note += st.Warn.Render(" · b queues them to every endpoint")
	}
	idW := 4
	for _, x := range l.rows {
		idW = max(idW, len(x.ID)+2)
	}
	idW = min(idW, 29)
	urlW := max(16, s.w-idW-10-16)
	out = append(out, st.Header.Render(pad("ID", idW)+pad("State", 10)+pad("URL", urlW)+pad(" queued/dead/ok", 16)))
	from, to := l.visible()
	for i := from; i < to; i++ {
		x, _ := l.at(i)
		state, ss := "enabled", st.OK
		if !x.Enabled {
			state, ss = "disabled", st.Dim
			if x.AutoDisabled() {
				state, ss = "AUTO-OFF", st.Error
			}
		}
		counts := fmt.Sprintf(" %d/%d/%d", x.Pending, x.Dead, x.Delivered)
		if i == l.cursor {
			out = append(out, st.Selected.Render(pad(x.ID, idW)+pad(state, 10)+pad(x.URL, urlW)+pad(counts, 16)))
		} else {
			out = append(out, pad(x.ID, idW)+ss.Render(pad(state, 10))+pad(x.URL, urlW)+pad(counts, 16))
		}
	}
	if x, ok := l.selected(); ok {
		out = append(out, note) // the line between the list and the details
		if !x.Enabled && x.DisabledReason != "" {
			out = append(out, st.Dim.Render("  "+x.ID+": "+x.DisabledReason+" since "+s.c.longTime(x.DisabledAt)+" · e re-enables"))
		} else {
			out = append(out, st.Dim.Render("  "+x.ID+": created "+s.c.longTime(x.CreatedAt)+" · enter shows its deliveries"))
		}
	}
	return out
}
