package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"smista/app"
)

// ticketsLimit bounds the tickets list (newest first).
const ticketsLimit = 500

type ticketDelivery struct{ endpoint, status string }

type ticketLine struct {
	eventID, emailID, from, subject, by string
	at                                  time.Time
	deliveries                          []ticketDelivery
}

// ticketsScreen lists the ticket.suggested events with their deliveries.
type ticketsScreen struct {
	c    *common
	w, h int
	list list[ticketLine]
}

func newTickets(c *common) *ticketsScreen {
	store := c.deps.Store
	s := &ticketsScreen{c: c}
	s.list = newList(scrTickets, func(t ticketLine) string { return t.eventID },
		func(ctx context.Context, _ window[ticketLine]) (page[ticketLine], error) {
			rows, err := store.Tickets(ctx, 0, ticketsLimit)
			if err != nil {
				return page[ticketLine]{}, err
			}
			items := make([]ticketLine, len(rows))
			for i, r := range rows {
				from := r.FromName
				if from == "" {
					from = r.FromAddr
				}
				t := ticketLine{eventID: r.EventID, emailID: r.MessageID, from: clean(from), subject: clean(r.Subject),
					by: clean(r.DecidedBy), at: r.CreatedAt}
				for _, d := range r.Deliveries {
					t.deliveries = append(t.deliveries, ticketDelivery{endpoint: clean(d.EndpointID), status: d.Status})
				}
				items[i] = t
			}
			return page[ticketLine]{rows: items, total: len(items)}, nil
		})
	return s
}

// Topics implements screen: the data the screen shows.
func (s *ticketsScreen) Topics() app.Topic { return app.TopicTriage | app.TopicDeliveries }

// Refresh implements screen: it reloads what is shown from the store.
func (s *ticketsScreen) Refresh() tea.Cmd { return s.list.refresh(s.c) }

// Help implements screen.
func (s *ticketsScreen) Help() (short, own []key.Binding) {
	k := s.c.keys
	return []key.Binding{k.Open, k.Next, k.Help, k.Quit}, nil
}

// Update implements screen.
func (s *ticketsScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sizeMsg:
		s.w, s.h = msg.w, msg.h
		s.list.setHeight(s.h - 2)
	case pageMsg[ticketLine]:
		s.list.fill(s.c, msg)
	case scrollMsg:
		s.list.move(msg.d)
	case clickMsg:
		if i, ok := s.list.rowAt(msg.y - 2); ok {
			if i == s.list.cursor {
				s.open()
			}
			s.list.moveTo(i)
		}
	case tea.KeyPressMsg:
		if !s.list.navigate(msg, s.c.keys) && key.Matches(msg, s.c.keys.Open) {
			s.open()
		}
	}
	return s, nil
}

func (s *ticketsScreen) open() {
	if t, ok := s.list.selected(); ok && t.emailID != "" {
		s.c.emit(openMsg{id: t.emailID, from: scrTickets})
	}
}

// View implements screen: the body's lines.
func (s *ticketsScreen) View() []string {
	st := &s.c.st
	n := s.list.total
	count := fmt.Sprintf(" · %d ticket.suggested events", n)
	if n >= ticketsLimit {
		count = fmt.Sprintf(" · the newest %d ticket.suggested events (older ones: 4, the delivery log)", ticketsLimit)
	}
	out := []string{st.Title.Render("Tickets") + count + st.Dim.Render(" · newest first")}
	if !s.list.loaded {
		return append(out, "", st.Dim.Render("  loading…"))
	}
	if n == 0 {
		return append(out, "", "  No tickets suggested yet.", "",
			st.Dim.Render("  A support email above the confidence threshold, or T on any email, queues one."))
	}
	delW := max(16, s.w/3)
	subjW := max(10, s.w-11-16-8-delW)
	out = append(out, st.Header.Render(pad("Queued", 11)+pad("From", 16)+pad("Subject", subjW)+pad("By", 8)+pad("Deliveries", delW)))
	from, to := s.list.visible()
	for i := from; i < to; i++ {
		x, _ := s.list.at(i)
		out = append(out, s.row(x, subjW, delW, i == s.list.cursor))
	}
	return out
}

func (s *ticketsScreen) row(x ticketLine, subjW, delW int, sel bool) string {
	st := &s.c.st
	by := "engine"
	if strings.HasPrefix(x.by, "human:") {
		by = "human"
	}
	plain := pad(s.c.shortTime(x.at), 11) + pad(x.from, 15) + " " + pad(x.subject, subjW-1) + " " + pad(by, 8)
	labels := deliveryLabels(x.deliveries, delW)
	if sel {
		var dels []string
		for _, l := range labels {
			dels = append(dels, l.text)
		}
		if len(dels) == 0 {
			dels = []string{"no endpoint"}
		}
		return st.Selected.Render(plain + pad(strings.Join(dels, " "), delW))
	}
	var styled []string
	for _, l := range labels {
		ds, ok := st.Delivery[l.status]
		if !ok {
			ds = st.Dim
		}
		styled = append(styled, l.prefix+ds.Render(l.status))
	}
	if len(styled) == 0 {
		styled = []string{st.Warn.Render("no endpoint")}
	}
	return plain + strings.Join(styled, " ")
}

// deliveryLabel is one delivery's status as the tickets list shows it: a
// prefix (the endpoint, or a count) and the status, painted.
type deliveryLabel struct{ prefix, status, text string }

// deliveryLabels fits a ticket's deliveries into w cells, keeping every
// status visible: "endpoint:status" each; else the statuses alone; else
// how many of each ("2 dead 1 paused").
func deliveryLabels(ds []ticketDelivery, w int) []deliveryLabel {
	width := func(ls []deliveryLabel) int {
		n := 0
		for _, l := range ls {
			n += len([]rune(l.text)) + 1
		}
		return n - 1
	}
	var full, bare []deliveryLabel
	for _, d := range ds {
		full = append(full, deliveryLabel{prefix: d.endpoint + ":", status: d.status, text: d.endpoint + ":" + d.status})
		bare = append(bare, deliveryLabel{status: d.status, text: d.status})
	}
	if width(full) <= w {
		return full
	}
	if width(bare) <= w {
		return bare
	}
	var counted []deliveryLabel
	seen := map[string]int{}
	for _, d := range ds {
		if i, ok := seen[d.status]; ok {
			n, _ := strconv.Atoi(strings.TrimSpace(counted[i].prefix))
			counted[i].prefix = strconv.Itoa(n+1) + " "
			counted[i].text = counted[i].prefix + d.status
			continue
		}
		seen[d.status] = len(counted)
		counted = append(counted, deliveryLabel{prefix: "1 ", status: d.status, text: "1 " + d.status})
	}
	return counted
}
