package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/db"
)

// deliveryLine is a delivery with every untrusted string cleaned.
type deliveryLine struct {
	id, kind, endpoint, url, subject, status, lastErr, webhookID string
	test                                                         bool
	attempts, lastStatus                                         int
	next                                                         time.Time
	// updated is when the delivery last changed: its last attempt, or
	// when it was queued.
	updated time.Time
}

func toDeliveryLine(d db.DeliveryItem) deliveryLine {
	return deliveryLine{
		id: clean(d.ID), kind: d.Kind, endpoint: clean(d.EndpointID), url: clean(d.URL), subject: clean(d.Subject),
		status: d.Status, lastErr: clean(d.LastError), webhookID: clean(d.WebhookID), test: d.Test,
		attempts: d.Attempts, lastStatus: d.LastStatusCode, next: d.NextAttemptAt, updated: d.UpdatedAt,
	}
}

// timeW is the delivery log's time column: "15:04" today, "Jan 02" this
// year, else the date.
const timeW = 11

// deliveriesScreen is the delivery log, filtered by status and endpoint,
// with the attempt log of the selected delivery in a pane below.
type deliveriesScreen struct {
	c      *common
	w, h   int
	eps    *endpointsScreen // the endpoints the filter cycles through
	filter db.DeliveryFilter
	// window shows the deliveries queued within it (0: all time); the
	// filter's Since is computed from it at each load.
	window time.Duration
	list   list[deliveryLine]
	detail bool
	// attempts of the selected delivery, rendered into vp.
	attFor string
	attReq uint64
	vp     viewport.Model
}

// endpointFilterMsg shows the deliveries of one endpoint.
type endpointFilterMsg struct{ id string }

func (endpointFilterMsg) route() scrID { return scrDeliveries }

type attemptsLoaded struct {
	req        uint64
	deliveryID string
	text       string
	err        error
}

func (attemptsLoaded) route() scrID { return scrDeliveries }

func newDeliveries(c *common, eps *endpointsScreen) *deliveriesScreen {
	vp := viewport.New()
	vp.SoftWrap = true
	s := &deliveriesScreen{c: c, eps: eps, vp: vp}
	s.setFilter(db.DeliveryFilter{})
	return s
}

// windows are the time ranges the time filter cycles through.
var windows = []time.Duration{0, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// windowName names a time range for the header and prompts.
func windowName(w time.Duration) string {
	switch w {
	case 0:
		return "all time"
	case time.Hour:
		return "last hour"
	}
	return fmt.Sprintf("last %dh", int(w.Hours()))
}

// query is the filter with the time window applied at now.
func (s *deliveriesScreen) query() db.DeliveryFilter {
	f := s.filter
	if s.window > 0 {
		f.Since = s.c.deps.Now().Add(-s.window)
	}
	return f
}

// setFilter sets the filter and forgets the rows of the previous one.
func (s *deliveriesScreen) setFilter(f db.DeliveryFilter) {
	s.filter = f
	store, span, now := s.c.deps.Store, s.window, s.c.deps.Now
	s.list = newList(scrDeliveries, func(d deliveryLine) string { return d.id },
		func(ctx context.Context, w window[deliveryLine]) (page[deliveryLine], error) {
			off, lim := w.off, w.lim
			if span > 0 {
				f.Since = now().Add(-span)
			}
			total, err := store.CountDeliveries(ctx, f)
			if err != nil {
				return page[deliveryLine]{}, err
			}
			q := f
			q.Offset, q.Limit = off, lim
			rows, err := store.Deliveries(ctx, q)
			if err != nil {
				return page[deliveryLine]{}, err
			}
			return pageOf(off, rows, total, toDeliveryLine), nil
		})
	s.layout()
}

// Topics implements screen: the data the screen shows.
func (s *deliveriesScreen) Topics() app.Topic { return app.TopicDeliveries | app.TopicEndpoints }

// Refresh implements screen: it reloads what is shown from the store.
func (s *deliveriesScreen) Refresh() tea.Cmd {
	if !s.list.loaded {
		return s.list.load(s.c)
	}
	return tea.Batch(s.list.refresh(s.c), s.fetchAttempts())
}

// Help implements screen.
func (s *deliveriesScreen) Help() (short, own []key.Binding) {
	k := s.c.keys
	return []key.Binding{k.Open, k.StatusFilter, k.EndpointFilter, k.TimeFilter, k.Replay, k.ReplayAll, k.Help},
		[]key.Binding{k.StatusFilter, k.EndpointFilter, k.TimeFilter, k.Replay, k.ReplayAll}
}

// split divides the body between the list and the detail pane.
func (s *deliveriesScreen) split() (list, detail int) {
	if !s.detail {
		return s.h, 0
	}
	list = max(4, s.h*2/5)
	return list, max(1, s.h-list)
}

// layout sizes the list and the pane for the body and the pane's state.
func (s *deliveriesScreen) layout() {
	l, d := s.split()
	s.list.setHeight(l - 2)
	s.vp.SetWidth(s.w)
	s.vp.SetHeight(max(1, d-1)) // one line for the pane's title
}

// Update implements screen.
func (s *deliveriesScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sizeMsg:
		s.w, s.h = msg.w, msg.h
		s.layout()
		if s.list.loaded {
			return s, s.list.load(s.c)
		}
	case pageMsg[deliveryLine]:
		if s.list.fill(s.c, msg) {
			return s, tea.Batch(s.list.load(s.c), s.attemptsIfMoved())
		}
	case attemptsLoaded:
		s.attemptsLoaded(msg)
	case endpointFilterMsg:
		s.setFilter(db.DeliveryFilter{EndpointID: msg.id})
		return s, s.list.load(s.c)
	case scrollMsg:
		s.list.move(msg.d)
		return s, tea.Batch(s.list.load(s.c), s.fetchAttempts())
	case clickMsg:
		return s, s.click(msg.y)
	case tea.KeyPressMsg:
		return s, s.handleKey(msg)
	}
	return s, nil
}

// click selects the row at body line y; a click on the selected row
// toggles the detail pane.
func (s *deliveriesScreen) click(y int) tea.Cmd {
	i, ok := s.list.rowAt(y - 2)
	if !ok {
		return nil
	}
	if i == s.list.cursor {
		s.toggleDetail()
	}
	s.list.moveTo(i)
	return s.fetchAttempts()
}

func (s *deliveriesScreen) toggleDetail() {
	s.detail = !s.detail
	s.attFor = ""
	s.layout()
}

// attemptsLimit bounds the attempts the detail pane shows: the most recent,
// far more than a delivery makes (four per retry round).
const attemptsLimit = 1000

// fetchAttempts loads the attempt log of the selected delivery when the
// detail pane is open.
func (s *deliveriesScreen) fetchAttempts() tea.Cmd {
	if !s.detail {
		return nil
	}
	sel, ok := s.list.selected()
	if !ok {
		return nil
	}
	req := s.c.nextReq()
	s.attReq = req
	store, id, loc := s.c.deps.Store, sel.id, s.c.loc
	return s.c.query(func(ctx context.Context) tea.Msg {
		atts, err := store.Attempts(ctx, db.AttemptFilter{DeliveryID: id, Limit: attemptsLimit})
		if err != nil {
			return attemptsLoaded{req: req, deliveryID: id, err: err}
		}
		return attemptsLoaded{req: req, deliveryID: id, text: attemptsText(atts, loc)}
	})
}

// attemptsIfMoved loads the attempts when the selection moved to another
// delivery.
func (s *deliveriesScreen) attemptsIfMoved() tea.Cmd {
	if sel, ok := s.list.selected(); ok && sel.id != s.attFor {
		return s.fetchAttempts()
	}
	return nil
}

func (s *deliveriesScreen) attemptsLoaded(msg attemptsLoaded) {
	if msg.req != s.attReq {
		return
	}
	text := msg.text
	if msg.err != nil {
		text = "cannot load attempts: " + clean(msg.err.Error())
	}
	if s.attFor != msg.deliveryID {
		s.vp.GotoTop()
	}
	s.attFor = msg.deliveryID
	y := s.vp.YOffset()
	s.vp.SetContent(text)
	s.vp.SetYOffset(y)
}

func (s *deliveriesScreen) endpointIDs() []string {
	ids := []string{""}
	for _, e := range s.eps.list.rows {
		ids = append(ids, e.ID)
	}
	return ids
}

func (s *deliveriesScreen) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	f := s.filter
	switch {
	case s.list.navigate(msg, k):
	case key.Matches(msg, k.Open):
		s.toggleDetail()
	case key.Matches(msg, k.Back):
		if s.detail {
			s.toggleDetail()
		}
	case key.Matches(msg, k.StatusFilter):
		f.Status = cycle([]string{"", "pending", "retrying", "delivered", "dead", "paused", "canceled"}, f.Status)
		s.setFilter(f)
		return s.list.load(s.c)
	case key.Matches(msg, k.EndpointFilter):
		ids := s.endpointIDs()
		if !slices.Contains(ids, f.EndpointID) {
			f.EndpointID = ""
		}
		f.EndpointID = cycle(ids, f.EndpointID)
		s.setFilter(f)
		return s.list.load(s.c)
	case key.Matches(msg, k.TimeFilter):
		s.window = cycle(windows, s.window)
		s.setFilter(f)
		return s.list.load(s.c)
	case s.detail && key.Matches(msg, k.DetailDown):
		s.vp.ScrollDown(3)
		return nil
	case s.detail && key.Matches(msg, k.DetailUp):
		s.vp.ScrollUp(3)
		return nil
	case key.Matches(msg, k.Replay):
		s.replay()
	case key.Matches(msg, k.ReplayAll):
		s.replayMatching()
	}
	return tea.Batch(s.list.load(s.c), s.attemptsIfMoved())
}

func (s *deliveriesScreen) replay() {
	sel, ok := s.list.selected()
	if !ok {
		return
	}
	if sel.kind != "webhook" {
		s.c.info("only webhook deliveries are replayed here")
		return
	}
	a := s.c.acts("replay")
	if a == nil {
		return
	}
	id := sel.id
	s.c.emit(simple("replay queued for "+id, func(ctx context.Context) error { return a.Replay(ctx, id) }))
}

// replayMatching asks, then queues again every webhook delivery the
// filters show (the dead ones when the status filter is "all"), each
// with its webhook-id.
func (s *deliveriesScreen) replayMatching() {
	f := s.query()
	f.Kind, f.Offset, f.Limit = "webhook", 0, 0
	switch f.Status {
	case "":
		f.Status = "dead"
	case "pending", "retrying", "paused":
		s.c.info("nothing to replay: " + f.Status + " deliveries are already queued (s changes the status filter)")
		return
	}
	a := s.c.acts("replay")
	if a == nil {
		return
	}
	ep := "every endpoint"
	if f.EndpointID != "" {
		ep = "endpoint " + f.EndpointID
	}
	s.c.emit(askMsg{prompt: fmt.Sprintf("Replay every %s delivery · %s · %s?", f.Status, ep, windowName(s.window)),
		run: action{do: func(ctx context.Context) actionDone {
			res, err := a.ReplayMatching(ctx, f)
			text := fmt.Sprintf("%d %s deliveries queued again (same webhook-ids)", res.Queued, f.Status)
			if res.Skipped > 0 {
				text += fmt.Sprintf("; %d skipped: endpoint disabled or removed", res.Skipped)
			}
			return actionDone{text: text, err: err}
		}}})
}

// View implements screen: the body's lines.
func (s *deliveriesScreen) View() []string {
	l := &s.list
	st := &s.c.st
	f := s.filter
	head := st.Title.Render("Delivery log")
	if l.loaded {
		head += " · " + l.header("deliveries")
	}
	status, ep := f.Status, f.EndpointID
	if status == "" {
		status = "all"
	}
	if ep == "" {
		ep = "all"
	}
	head += st.Dim.Render(" · status ") + status + st.Dim.Render(" · endpoint ") + ep + st.Dim.Render(" · ") + windowName(s.window)
	out := []string{head}
	urlW := max(12, s.w/4)
	subjW := max(8, s.w-timeW-10-4-9-5-urlW-1)
	out = append(out, st.Header.Render(pad("Time", timeW)+pad("Status", 10)+pad("Try", 4)+pad("Next", 9)+pad("Code", 5)+
		pad("Endpoint", urlW+1)+pad("Email / error", subjW)))
	switch {
	case !l.loaded:
		return append(out, "", st.Dim.Render("  loading…"))
	case l.total == 0 && (f != (db.DeliveryFilter{}) || s.window > 0):
		return append(out, "", "  No delivery matches these filters (s, f and t cycle them).")
	case l.total == 0:
		return append(out, "", "  No deliveries yet. Add an endpoint (5) and tickets will be delivered to it.")
	}
	from, to := l.visible()
	for i := from; i < to; i++ {
		r, ok := l.at(i)
		if !ok {
			out = append(out, st.Dim.Render("  …"))
			continue
		}
		out = append(out, s.row(r, urlW, subjW, i == l.cursor))
	}
	if s.detail {
		listH, _ := s.split()
		for len(out) < listH {
			out = append(out, "")
		}
		sel, _ := l.selected()
		out = append(out, st.Bold.Render(fmt.Sprintf("Delivery %s · webhook-id %s · J/K scroll · enter closes", sel.id, sel.webhookID)))
		out = append(out, strings.Split(s.vp.View(), "\n")...)
	}
	return out
}

func (s *deliveriesScreen) row(r deliveryLine, urlW, subjW int, sel bool) string {
	st := &s.c.st
	next := ""
	if r.status == "pending" || r.status == "retrying" {
		next = s.c.countdown(r.next)
	}
	code := ""
	if r.lastStatus != 0 {
		code = fmt.Sprint(r.lastStatus)
	}
	target := r.url
	if r.kind == "smtp" {
		target = "smtp reply"
	}
	what := r.subject
	if r.test {
		what = "[test] " + what
	}
	if r.lastErr != "" && (r.status == "dead" || r.status == "retrying") {
		what = r.lastErr + " · " + what
	}
	when := pad(s.c.shortTime(r.updated), timeW)
	rest := pad(fmt.Sprint(r.attempts), 4) + pad(next, 9) + pad(code, 5) + pad(target, urlW) + " " + pad(what, subjW)
	if sel {
		return st.Fast.Selected.On(when + pad(r.status, 10) + rest)
	}
	ds, ok := st.Fast.Delivery[r.status]
	if !ok {
		ds = st.Fast.Dim
	}
	return when + ds.On(pad(r.status, 10)) + rest
}
