package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"

	"smista/db"
	"smista/ui/safe"
)

// draftsLimit bounds the drafts list (pending ones come first).
const draftsLimit = 500

type draftLine struct {
	id                    int64
	emailID               string
	from, subject, status string
	body                  string // cleaned for display
	rawBody               string // as stored, for editing
	approvedBy, lastError string
	updated               time.Time
	pending               bool
}

type draftsState struct {
	items       []draftLine
	cursor, top int
	req         uint64
	loaded      bool
	focus       int64 // select this draft id when the list arrives
	editing     bool
	editID      int64
	ta          textarea.Model
}

type draftsLoaded struct {
	req   uint64
	items []draftLine
	err   error
}

type editorReady struct {
	id   int64
	path string
	err  error
}

type editorDone struct {
	id   int64
	path string
	err  error
}

func (d *draftsState) pendingCount() int {
	n := 0
	for _, x := range d.items {
		if x.pending {
			n++
		}
	}
	return n
}

func (d *draftsState) move(delta int) {
	if len(d.items) == 0 {
		return
	}
	d.cursor = min(max(d.cursor+delta, 0), len(d.items)-1)
}

// scroll keeps the cursor within the rows visible rows.
func (d *draftsState) scroll(rows int) {
	if d.cursor < d.top {
		d.top = d.cursor
	}
	if d.cursor >= d.top+rows {
		d.top = d.cursor - rows + 1
	}
	d.top = max(0, d.top)
}

// draftRows is how many drafts the list shows.
func (m *Model) draftRows() int {
	l, _ := m.draftSplit()
	return max(1, l-2)
}

func (d *draftsState) selected() (draftLine, bool) {
	if d.cursor < 0 || d.cursor >= len(d.items) {
		return draftLine{}, false
	}
	return d.items[d.cursor], true
}

func (m *Model) fetchDrafts() tea.Cmd {
	req := m.nextReq()
	m.drafts.req = req
	store, base, timeout := m.deps.Store, m.ctx, m.deps.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		rows, err := store.Drafts(ctx, draftsLimit)
		if err != nil {
			return draftsLoaded{req: req, err: err}
		}
		items := make([]draftLine, len(rows))
		for i, r := range rows {
			items[i] = toDraftLine(r)
		}
		return draftsLoaded{req: req, items: items}
	}
}

func toDraftLine(r db.DraftItem) draftLine {
	from := r.FromName
	if from == "" {
		from = r.FromAddr
	}
	return draftLine{
		id: r.ID, emailID: r.MessageID, from: clean(from), subject: clean(r.Subject), status: clean(r.Status),
		body: safe.Text(r.Body), rawBody: r.Body, approvedBy: clean(r.ApprovedBy), lastError: clean(r.LastError),
		updated: r.UpdatedAt, pending: r.Status == "pending",
	}
}

func (m *Model) handleDraftsMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case draftsLoaded:
		if msg.req != m.drafts.req {
			return nil
		}
		if msg.err != nil {
			m.lastErr = clean("drafts: " + msg.err.Error())
			return nil
		}
		var keep int64
		if s, ok := m.drafts.selected(); ok {
			keep = s.id
		}
		if m.drafts.focus != 0 {
			keep, m.drafts.focus = m.drafts.focus, 0
		}
		m.drafts.items, m.drafts.loaded = msg.items, true
		m.drafts.cursor = min(m.drafts.cursor, max(0, len(msg.items)-1))
		for i, x := range msg.items {
			if x.id == keep {
				m.drafts.cursor = i
			}
		}
		m.drafts.scroll(m.draftRows())
	case editorReady:
		if msg.err != nil {
			m.lastErr = clean("editor: " + msg.err.Error())
			return nil
		}
		fields := strings.Fields(m.deps.Editor)
		c := exec.Command(fields[0], append(fields[1:], msg.path)...)
		id, path := msg.id, msg.path
		return tea.ExecProcess(c, func(err error) tea.Msg { return editorDone{id: id, path: path, err: err} })
	case editorDone:
		ed, path, id := m.deps.Actions, msg.path, msg.id
		if msg.err != nil {
			m.lastErr = clean("editor: " + msg.err.Error())
			return func() tea.Msg { os.Remove(path); return nil }
		}
		return m.runAction(fmt.Sprintf("draft #%d saved", id), false, func(ctx context.Context) (string, error) {
			b, err := os.ReadFile(path)
			os.Remove(path)
			if err != nil {
				return "", fmt.Errorf("read edited draft: %w", err)
			}
			return "", ed.EditDraft(ctx, id, string(b))
		})
	}
	return nil
}

// draftSplit divides the body between the list and the preview/editor.
func (m *Model) draftSplit() (list, preview int) {
	bh := m.bodyHeight()
	list = max(3, bh*2/5)
	return list, max(1, bh-list)
}

func (m *Model) handleDraftsKey(msg tea.KeyPressMsg) tea.Cmd {
	defer m.drafts.scroll(m.draftRows())
	k := m.keys
	d := &m.drafts
	sel, ok := d.selected()
	switch {
	case keyIs(msg, k.Down):
		d.move(1)
	case keyIs(msg, k.Up):
		d.move(-1)
	case keyIs(msg, k.PageDown):
		d.move(10)
	case keyIs(msg, k.PageUp):
		d.move(-10)
	case keyIs(msg, k.Top):
		d.cursor = 0
	case keyIs(msg, k.Bottom):
		d.move(len(d.items))
	case keyIs(msg, k.Open):
		if ok {
			return m.openMessage(sel.emailID, scrDrafts)
		}
	case !ok:
		return nil
	case keyIs(msg, k.Edit):
		if !sel.pending {
			m.info = "only pending drafts can be edited"
			return nil
		}
		if m.deps.Actions == nil {
			return m.notAvailable("edit draft")
		}
		d.editing, d.editID = true, sel.id
		d.ta.SetValue(sel.rawBody)
		return d.ta.Focus()
	case keyIs(msg, k.ExtEdit):
		if !sel.pending {
			m.info = "only pending drafts can be edited"
			return nil
		}
		if m.deps.Actions == nil || strings.TrimSpace(m.deps.Editor) == "" {
			return m.notAvailable("$EDITOR")
		}
		id, body := sel.id, sel.rawBody
		return func() tea.Msg {
			f, err := os.CreateTemp("", "smista-draft-*.txt")
			if err != nil {
				return editorReady{id: id, err: err}
			}
			_, err = f.WriteString(body)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return editorReady{id: id, path: f.Name(), err: err}
		}
	case keyIs(msg, k.Approve):
		if !sel.pending {
			m.info = "this draft is " + sel.status
			return nil
		}
		if m.deps.Actions == nil {
			return m.notAvailable("approve draft")
		}
		s, who, id := m.deps.Actions, m.deps.User, sel.id
		return m.ask(fmt.Sprintf("Approve draft #%d and send the reply to %s?", id, trunc(sel.from, 30)),
			m.runAction(fmt.Sprintf("draft #%d approved: queued for sending", id), false, func(ctx context.Context) (string, error) {
				return "", s.ApproveDraft(ctx, id, who)
			}))
	case keyIs(msg, k.Regenerate):
		if !sel.pending {
			m.info = "this draft is " + sel.status
			return nil
		}
		if m.deps.Actions == nil {
			return m.notAvailable("regenerate draft")
		}
		s, id := m.deps.Actions, sel.id
		return m.runAction(fmt.Sprintf("draft #%d regenerated", id), true, func(ctx context.Context) (string, error) {
			return "", s.RegenerateDraft(ctx, id)
		})
	case keyIs(msg, k.Discard):
		if !sel.pending {
			m.info = "this draft is " + sel.status
			return nil
		}
		if m.deps.Actions == nil {
			return m.notAvailable("discard draft")
		}
		ed, id := m.deps.Actions, sel.id
		return m.ask(fmt.Sprintf("Discard draft #%d (nothing is sent)?", id),
			m.runAction(fmt.Sprintf("draft #%d discarded", id), false, func(ctx context.Context) (string, error) {
				return "", ed.DiscardDraft(ctx, id)
			}))
	}
	return nil
}

func (m *Model) handleDraftEditKey(msg tea.KeyPressMsg) tea.Cmd {
	d := &m.drafts
	switch {
	case keyIs(msg, m.keys.Save):
		d.editing = false
		d.ta.Blur()
		ed, id, body := m.deps.Actions, d.editID, d.ta.Value()
		return m.runAction(fmt.Sprintf("draft #%d saved", id), false, func(ctx context.Context) (string, error) {
			return "", ed.EditDraft(ctx, id, body)
		})
	case msg.String() == "esc":
		d.editing = false
		d.ta.Blur()
		m.info = "edit canceled"
		return nil
	}
	var cmd tea.Cmd
	d.ta, cmd = d.ta.Update(msg)
	return cmd
}

func (m *Model) draftsView(h int) []string {
	d := &m.drafts
	st := m.st
	out := []string{st.Title.Render("Drafts") + fmt.Sprintf(" · %d waiting for approval", d.pendingCount()) +
		st.Dim.Render(" · nothing is sent without approval")}
	if !d.loaded {
		return append(out, "", st.Dim.Render("  loading…"))
	}
	if len(d.items) == 0 {
		return append(out, "", "  No drafts. Replies suggested by triage appear here for review.")
	}
	listH, _ := m.draftSplit()
	rows := m.draftRows()
	subjW := max(10, m.w-6-10-24-12)
	out = append(out, st.Header.Render(pad("#", 6)+pad("Status", 10)+pad("To", 24)+pad("Subject", subjW)+pad("Updated", 11)))
	for i := d.top; i < len(d.items) && i < d.top+rows; i++ {
		x := d.items[i]
		line := pad(fmt.Sprint(x.id), 6) + pad(x.status, 10) + pad(x.from, 23) + " " + pad(x.subject, subjW-1) + " " + pad(m.shortTime(x.updated), 11)
		if i == d.cursor {
			line = st.Selected.Render(line)
		} else if x.pending {
			line = st.Bold.Render(line)
		}
		out = append(out, line)
	}
	for len(out) < listH {
		out = append(out, "")
	}
	sel, _ := d.selected()
	if d.editing {
		out = append(out, st.Key.Render(fmt.Sprintf("Editing draft #%d — ctrl+s save · esc cancel", d.editID)))
		return append(out, strings.Split(d.ta.View(), "\n")...)
	}
	head := fmt.Sprintf("Draft #%d to %s — %s", sel.id, sel.from, sel.status)
	if sel.approvedBy != "" {
		head += " by " + sel.approvedBy
	}
	out = append(out, st.Bold.Render(head))
	if sel.lastError != "" {
		out = append(out, st.Error.Render("last error: "+sel.lastError))
	}
	for _, l := range strings.Split(sel.body, "\n") {
		if len(out) >= h {
			break
		}
		out = append(out, "  "+l)
	}
	return out
}
