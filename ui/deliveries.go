package ui

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"smista/db"
	"smista/ui/safe"
)

// deliveryLine is a delivery with every untrusted string cleaned.
type deliveryLine struct {
	id, kind, endpoint, url, subject, status, lastErr, webhookID string
	test                                                         bool
	attempts, lastStatus                                         int
	next                                                         time.Time
}

type deliveriesState struct {
	p      pager[deliveryLine]
	filter db.DeliveryFilter
	detail bool
	// attempts of the selected delivery, rendered into vp.
	attFor string
	attReq uint64
	vp     viewport.Model
}

type deliveriesPage struct {
	req    uint64
	offset int
	rows   []deliveryLine
	total  int
	err    error
}

type attemptsLoaded struct {
	req        uint64
	deliveryID string
	text       string
	err        error
}

func toDeliveryLine(d db.DeliveryItem) deliveryLine {
	return deliveryLine{
		id: clean(d.ID), kind: d.Kind, endpoint: clean(d.EndpointID), url: clean(d.URL), subject: clean(d.Subject),
		status: d.Status, lastErr: clean(d.LastError), webhookID: clean(d.WebhookID), test: d.Test,
		attempts: d.Attempts, lastStatus: d.LastStatusCode, next: d.NextAttemptAt,
	}
}

// dlvSplit divides the body between the list and the detail pane.
func (m *Model) dlvSplit() (list, detail int) {
	bh := m.bodyHeight()
	if !m.dlv.detail {
		return bh, 0
	}
	list = max(4, bh*2/5)
	return list, max(1, bh-list)
}

func (m *Model) dlvRows() int {
	l, _ := m.dlvSplit()
	return max(1, l-2)
}

func (m *Model) fetchDeliveries() tea.Cmd {
	off, lim, ok := m.dlv.p.need(m.dlvRows())
	if !ok {
		return nil
	}
	return m.loadDeliveries(off, lim)
}

func (m *Model) refreshDeliveries() tea.Cmd {
	if !m.dlv.p.loaded {
		return m.fetchDeliveries()
	}
	h := m.dlvRows()
	return m.loadDeliveries(max(0, m.dlv.p.top-margin(h)), h+2*margin(h))
}

func (m *Model) loadDeliveries(off, lim int) tea.Cmd {
	req := m.nextReq()
	m.dlv.p.req, m.dlv.p.wantOff, m.dlv.p.wantLim = req, off, lim
	store, f, base, timeout := m.deps.Store, m.dlv.filter, m.ctx, m.deps.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		total, err := store.CountDeliveries(ctx, f)
		if err != nil {
			return deliveriesPage{req: req, err: err}
		}
		f.Offset, f.Limit = off, lim
		rows, err := store.Deliveries(ctx, f)
		if err != nil {
			return deliveriesPage{req: req, err: err}
		}
		lines := make([]deliveryLine, len(rows))
		for i, r := range rows {
			lines[i] = toDeliveryLine(r)
		}
		return deliveriesPage{req: req, offset: off, rows: lines, total: total}
	}
}

// attemptsLimit bounds the attempts the detail pane shows: the most recent,
// far more than a delivery makes (four per retry round).
const attemptsLimit = 1000

// fetchAttempts loads the attempt log of the selected delivery when the
// detail pane is open.
func (m *Model) fetchAttempts() tea.Cmd {
	if !m.dlv.detail {
		return nil
	}
	sel, ok := m.dlv.p.selected()
	if !ok {
		return nil
	}
	req := m.nextReq()
	m.dlv.attReq = req
	store, base, timeout, id, loc := m.deps.Store, m.ctx, m.deps.Timeout, sel.id, m.loc
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		atts, err := store.Attempts(ctx, db.AttemptFilter{DeliveryID: id, Limit: attemptsLimit})
		if err != nil {
			return attemptsLoaded{req: req, deliveryID: id, err: err}
		}
		return attemptsLoaded{req: req, deliveryID: id, text: attemptsText(atts, loc)}
	}
}

// attemptsText renders every attempt, cleaning headers and bodies.
func attemptsText(atts []db.AttemptItem, loc *time.Location) string {
	if len(atts) == 0 {
		return "No attempt yet."
	}
	var b strings.Builder
	for i, a := range atts {
		if i > 0 {
			b.WriteString("\n")
		}
		res := "no response"
		if a.StatusCode != 0 {
			res = fmt.Sprintf("HTTP %d", a.StatusCode)
		}
		fmt.Fprintf(&b, "Attempt %d · %s · %s · %s", a.Attempt, a.StartedAt.In(loc).Format("2006-01-02 15:04:05"),
			a.Duration.Round(time.Millisecond), res)
		if a.ErrorClass != "" {
			fmt.Fprintf(&b, " · error %s", clean(a.ErrorClass))
		}
		b.WriteString("\n")
		if a.Error != "" {
			b.WriteString("  error: " + clean(a.Error) + "\n")
		}
		b.WriteString("  Request headers:\n")
		writeHeaders(&b, a.RequestHeaders)
		b.WriteString("  Request body:\n")
		writeBody(&b, a.RequestBody)
		if a.StatusCode != 0 || len(a.ResponseHeaders) > 0 || len(a.ResponseBody) > 0 {
			b.WriteString("  Response headers:\n")
			writeHeaders(&b, a.ResponseHeaders)
			b.WriteString("  Response body:\n")
			writeBody(&b, a.ResponseBody)
		}
	}
	return b.String()
}

func writeHeaders(b *strings.Builder, h map[string][]string) {
	if len(h) == 0 {
		b.WriteString("    (none)\n")
		return
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString("    " + clean(k) + ": " + clean(v) + "\n")
		}
	}
}

func writeBody(b *strings.Builder, body []byte) {
	if len(body) == 0 {
		b.WriteString("    (empty)\n")
		return
	}
	for _, l := range strings.Split(strings.TrimRight(safe.Bytes(body), "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
}

func (m *Model) handleDeliveriesMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case deliveriesPage:
		if msg.req != m.dlv.p.req {
			return nil
		}
		if msg.err != nil {
			m.dlv.p.req = 0
			m.lastErr = clean("deliveries: " + msg.err.Error())
			return nil
		}
		m.dlv.p.fill(msg.offset, msg.rows, msg.total, m.dlvRows())
		return tea.Batch(m.fetchDeliveries(), m.fetchAttemptsIfChanged())
	case attemptsLoaded:
		if msg.req != m.dlv.attReq {
			return nil
		}
		text := msg.text
		if msg.err != nil {
			text = "cannot load attempts: " + clean(msg.err.Error())
		}
		if m.dlv.attFor != msg.deliveryID {
			m.dlv.vp.GotoTop()
		}
		m.dlv.attFor = msg.deliveryID
		y := m.dlv.vp.YOffset()
		m.dlv.vp.SetContent(text)
		m.dlv.vp.SetYOffset(y)
	}
	return nil
}

func (m *Model) fetchAttemptsIfChanged() tea.Cmd {
	if sel, ok := m.dlv.p.selected(); ok && sel.id != m.dlv.attFor {
		return m.fetchAttempts()
	}
	return nil
}

func (m *Model) endpointIDs() []string {
	ids := []string{""}
	for _, e := range m.eps.items {
		ids = append(ids, e.ID)
	}
	return ids
}

func (m *Model) handleDeliveriesKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	p := &m.dlv.p
	h := m.dlvRows()
	refilter := func() tea.Cmd {
		p.reset()
		return m.fetchDeliveries()
	}
	sel, ok := p.selected()
	switch {
	case keyIs(msg, k.Down):
		p.move(1, h)
	case keyIs(msg, k.Up):
		p.move(-1, h)
	case keyIs(msg, k.PageDown):
		p.move(h, h)
	case keyIs(msg, k.PageUp):
		p.move(-h, h)
	case keyIs(msg, k.Top):
		p.moveTo(0, h)
	case keyIs(msg, k.Bottom):
		p.moveTo(p.total-1, h)
	case keyIs(msg, k.Open):
		m.dlv.detail = !m.dlv.detail
		m.resize(m.w, m.h)
		m.dlv.attFor = ""
	case keyIs(msg, k.Back):
		if m.dlv.detail {
			m.dlv.detail = false
			m.resize(m.w, m.h)
		}
	case keyIs(msg, k.StatusFilter):
		m.dlv.filter.Status = cycle([]string{"", "pending", "retrying", "delivered", "dead", "paused", "canceled"}, m.dlv.filter.Status)
		return refilter()
	case keyIs(msg, k.EndpointFilter):
		ids := m.endpointIDs()
		if !slices.Contains(ids, m.dlv.filter.EndpointID) {
			m.dlv.filter.EndpointID = ""
		}
		m.dlv.filter.EndpointID = cycle(ids, m.dlv.filter.EndpointID)
		return refilter()
	case msg.String() == "J" && m.dlv.detail:
		m.dlv.vp.ScrollDown(3)
		return nil
	case msg.String() == "K" && m.dlv.detail:
		m.dlv.vp.ScrollUp(3)
		return nil
	case keyIs(msg, k.Replay):
		if !ok {
			return nil
		}
		if sel.kind != "webhook" {
			m.info = "only webhook deliveries are replayed here"
			return nil
		}
		if m.deps.Actions == nil {
			return m.notAvailable("replay")
		}
		r, id := m.deps.Actions, sel.id
		return m.runAction("replay queued for "+id, false, func(ctx context.Context) (string, error) {
			return "", r.Replay(ctx, id)
		})
	case keyIs(msg, k.ReplayDead):
		ep := m.dlv.filter.EndpointID
		if ep == "" && ok {
			ep = sel.endpoint
		}
		if ep == "" {
			return nil
		}
		if m.deps.Actions == nil {
			return m.notAvailable("replay dead")
		}
		r := m.deps.Actions
		return m.ask(fmt.Sprintf("Replay every dead delivery of endpoint %s?", ep),
			m.runAction("", false, func(ctx context.Context) (string, error) {
				n, err := r.ReplayDead(ctx, ep)
				return fmt.Sprintf("%d dead deliveries of %s queued again", n, ep), err
			}))
	}
	return tea.Batch(m.fetchDeliveries(), m.fetchAttemptsIfChanged())
}

func (m *Model) deliveriesView(h int) []string {
	p := &m.dlv.p
	st := m.st
	f := m.dlv.filter
	head := st.Title.Render("Delivery log")
	if p.loaded && p.total > 0 {
		head += fmt.Sprintf(" · %s–%s of %s", thousands(p.top+1), thousands(min(p.top+m.dlvRows(), p.total)), thousands(p.total))
	} else if p.loaded {
		head += " · 0 deliveries"
	}
	status, ep := f.Status, f.EndpointID
	if status == "" {
		status = "all"
	}
	if ep == "" {
		ep = "all"
	}
	head += st.Dim.Render(" · status ") + status + st.Dim.Render(" · endpoint ") + ep
	out := []string{head}
	urlW := max(12, m.w/4)
	subjW := max(8, m.w-10-4-9-5-urlW-1)
	out = append(out, st.Header.Render(pad("Status", 10)+pad("Try", 4)+pad("Next", 9)+pad("Code", 5)+pad("Endpoint", urlW+1)+pad("Email / error", subjW)))
	if !p.loaded {
		return append(out, "", st.Dim.Render("  loading…"))
	}
	if p.total == 0 {
		if f != (db.DeliveryFilter{}) {
			return append(out, "", "  No delivery matches these filters (s and f cycle them).")
		}
		return append(out, "", "  No deliveries yet. Add an endpoint (5) and tickets will be delivered to it.")
	}
	rows := m.dlvRows()
	for i := p.top; i < p.top+rows && i < p.total; i++ {
		r, ok := p.at(i)
		if !ok {
			out = append(out, st.Dim.Render("  …"))
			continue
		}
		next := ""
		if r.status == "pending" || r.status == "retrying" {
			next = m.countdown(r.next)
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
		rest := pad(fmt.Sprint(r.attempts), 4) + pad(next, 9) + pad(code, 5) + pad(target, urlW) + " " + pad(what, subjW)
		if i == p.cursor {
			out = append(out, st.Fast.Selected.On(pad(r.status, 10)+rest))
			continue
		}
		ds, ok := st.Fast.Delivery[r.status]
		if !ok {
			ds = st.Fast.Dim
		}
		out = append(out, ds.On(pad(r.status, 10))+rest)
	}
	if m.dlv.detail {
		listH, _ := m.dlvSplit()
		for len(out) < listH {
			out = append(out, "")
		}
		sel, _ := p.selected()
		out = append(out, st.Bold.Render(fmt.Sprintf("Delivery %s · webhook-id %s · J/K scroll · enter closes", sel.id, sel.webhookID)))
		out = append(out, strings.Split(m.dlv.vp.View(), "\n")...)
	}
	return out
}
