package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// ticketsLimit bounds the tickets list (newest first).
const ticketsLimit = 500

type ticketDelivery struct{ endpoint, status string }

type ticketLine struct {
	emailID, from, subject, by string
	at                         time.Time
	deliveries                 []ticketDelivery
}

type ticketsState struct {
	items       []ticketLine
	cursor, top int
	req         uint64
	loaded      bool
}

type ticketsLoaded struct {
	req   uint64
	items []ticketLine
	err   error
}

func (t *ticketsState) move(delta, height int) {
	if len(t.items) == 0 {
		return
	}
	t.cursor = min(max(t.cursor+delta, 0), len(t.items)-1)
	if t.cursor < t.top {
		t.top = t.cursor
	}
	if t.cursor >= t.top+height {
		t.top = t.cursor - height + 1
	}
}

func (m *Model) ticketRows() int { return max(1, m.bodyHeight()-2) }

func (m *Model) fetchTickets() tea.Cmd {
	req := m.nextReq()
	m.tickets.req = req
	store, base, timeout := m.deps.Store, m.ctx, m.deps.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		rows, err := store.Tickets(ctx, 0, ticketsLimit)
		if err != nil {
			return ticketsLoaded{req: req, err: err}
		}
		items := make([]ticketLine, len(rows))
		for i, r := range rows {
			from := r.FromName
			if from == "" {
				from = r.FromAddr
			}
			t := ticketLine{emailID: r.MessageID, from: clean(from), subject: clean(r.Subject), by: clean(r.DecidedBy), at: r.CreatedAt}
			for _, d := range r.Deliveries {
				t.deliveries = append(t.deliveries, ticketDelivery{endpoint: clean(d.EndpointID), status: d.Status})
			}
			items[i] = t
		}
		return ticketsLoaded{req: req, items: items}
	}
}

func (m *Model) handleTicketsMsg(msg ticketsLoaded) tea.Cmd {
	if msg.req != m.tickets.req {
		return nil
	}
	if msg.err != nil {
		m.lastErr = clean("tickets: " + msg.err.Error())
		return nil
	}
	m.tickets.items, m.tickets.loaded = msg.items, true
	m.tickets.move(0, m.ticketRows())
	return nil
}

func (m *Model) openTicket() tea.Cmd {
	if m.tickets.cursor >= len(m.tickets.items) {
		return nil
	}
	t := m.tickets.items[m.tickets.cursor]
	if t.emailID == "" {
		return nil
	}
	return m.openMessage(t.emailID, scrTickets)
}

func (m *Model) handleTicketsKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	h := m.ticketRows()
	t := &m.tickets
	switch {
	case keyIs(msg, k.Down):
		t.move(1, h)
	case keyIs(msg, k.Up):
		t.move(-1, h)
	case keyIs(msg, k.PageDown):
		t.move(h, h)
	case keyIs(msg, k.PageUp):
		t.move(-h, h)
	case keyIs(msg, k.Top):
		t.move(-len(t.items), h)
	case keyIs(msg, k.Bottom):
		t.move(len(t.items), h)
	case keyIs(msg, k.Open):
		return m.openTicket()
	}
	return nil
}

func (m *Model) ticketsView(h int) []string {
	t := &m.tickets
	st := m.st
	count := fmt.Sprintf(" · %d ticket.suggested events", len(t.items))
	if len(t.items) >= ticketsLimit {
		count = fmt.Sprintf(" · the newest %d ticket.suggested events (older ones: 4, the delivery log)", ticketsLimit)
	}
	out := []string{st.Title.Render("Tickets") + count + st.Dim.Render(" · newest first")}
	if !t.loaded {
		return append(out, "", st.Dim.Render("  loading…"))
	}
	if len(t.items) == 0 {
		return append(out, "", "  No tickets suggested yet.", "",
			st.Dim.Render("  A support email above the confidence threshold, or T on any email, queues one."))
	}
	delW := max(16, m.w/3)
	subjW := max(10, m.w-11-16-8-delW)
	out = append(out, st.Header.Render(pad("Queued", 11)+pad("From", 16)+pad("Subject", subjW)+pad("By", 8)+pad("Deliveries", delW)))
	for i := t.top; i < len(t.items) && i < t.top+m.ticketRows(); i++ {
		x := t.items[i]
		by := "engine"
		if strings.HasPrefix(x.by, "human:") {
			by = "human"
		}
		var dels []string
		for _, d := range x.deliveries {
			dels = append(dels, d.endpoint+":"+d.status)
		}
		if len(dels) == 0 {
			dels = []string{"no endpoint"}
		}
		plain := pad(m.shortTime(x.at), 11) + pad(x.from, 15) + " " + pad(x.subject, subjW-1) + " " + pad(by, 8)
		if i == t.cursor {
			out = append(out, st.Selected.Render(plain+pad(strings.Join(dels, " "), delW)))
			continue
		}
		var styled []string
		for _, d := range x.deliveries {
			ds, ok := st.Delivery[d.status]
			if !ok {
				ds = st.Dim
			}
			styled = append(styled, d.endpoint+":"+ds.Render(d.status))
		}
		if len(styled) == 0 {
			styled = []string{st.Warn.Render("no endpoint")}
		}
		out = append(out, plain+strings.Join(styled, " "))
	}
	return out
}
