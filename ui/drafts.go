package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/db"
	"smista/ui/safe"
)

// draftsLimit bounds the drafts list (pending ones come first).
const draftsLimit = 500

type draftLine struct {
	id                    int64
	emailID               string
	kind                  string
	to, subject, status   string
	body                  string // cleaned for display
	approvedBy, lastError string
	editedBy              string // who wrote the body ("" the classifier)
	updated               time.Time
	pending               bool
}

func toDraftLine(r db.DraftItem) draftLine {
	// A reply goes to the email's sender unless the person wrote a To.
	to := r.To
	if to == "" {
		to = r.FromName
	}
	if to == "" {
		to = r.FromAddr
	}
	return draftLine{
		id: r.ID, emailID: r.MessageID, kind: r.Kind, to: clean(to), subject: clean(r.Subject), status: clean(r.Status),
		body: safe.Text(r.Body), approvedBy: clean(r.ApprovedBy), lastError: clean(r.LastError),
		editedBy: clean(r.EditedBy), updated: r.UpdatedAt, pending: r.Status == "pending",
	}
}

// kindLabel names a draft's kind in the list.
func kindLabel(kind string) string {
	switch kind {
	case db.DraftReplyAll:
		return "reply all"
	case db.DraftForward:
		return "forward"
	case db.DraftNew:
		return "new"
	}
	return "reply"
}

// draftsScreen lists the drafts (replies, replies to all, forwards, new
// messages) with a preview of the selected one, and edits one in place or
// in the external editor (compose.go). Nothing is sent without approval.
type draftsScreen struct {
	c    *common
	w, h int
	list list[draftLine]
	// The draft being edited in place: its id, the text it started
	// with, and whether it was created for this edit.
	editing bool
	edit    editing
	ta      textarea.Model
}

// focusDraftMsg selects a draft once the list is loaded.
type focusDraftMsg struct{ id int64 }

func (focusDraftMsg) route() scrID { return scrDrafts }

func newDrafts(c *common) *draftsScreen {
	store := c.deps.Store
	s := &draftsScreen{c: c, ta: textarea.New()}
	s.list = newList(scrDrafts, func(d draftLine) string { return strconv.FormatInt(d.id, 10) },
		func(ctx context.Context, _ window[draftLine]) (page[draftLine], error) {
			rows, err := store.Drafts(ctx, draftsLimit)
			if err != nil {
				return page[draftLine]{}, err
			}
			return pageOf(0, rows, len(rows), toDraftLine), nil
		})
	s.ta.ShowLineNumbers = false
	s.ta.CharLimit = 0
	// A steady cursor: a blinking one wakes the program twice a second.
	tas := s.ta.Styles()
	tas.Cursor.Blink = false
	s.ta.SetStyles(tas)
	return s
}

// pendingCount is the number of drafts waiting for approval (0 until the
// list was loaded once).
func (s *draftsScreen) pendingCount() int {
	n := 0
	for _, x := range s.list.rows {
		if x.pending {
			n++
		}
	}
	return n
}

func (s *draftsScreen) capturing() bool { return s.editing }

// Topics include the deliveries: a sent reply changes its draft's status.
func (s *draftsScreen) Topics() app.Topic { return app.TopicDrafts | app.TopicDeliveries }

// Refresh implements screen: it reloads what is shown from the store.
func (s *draftsScreen) Refresh() tea.Cmd { return s.list.refresh(s.c) }

// Help implements screen.
func (s *draftsScreen) Help() (short, own []key.Binding) {
	k := s.c.keys
	return []key.Binding{k.Edit, k.Approve, k.Regenerate, k.Discard, k.Next, k.Help},
		[]key.Binding{k.Edit, k.ExtEdit, k.Save, k.Approve, k.Regenerate, k.Discard, k.NewMessage}
}

// split divides the body between the list and the preview or editor.
func (s *draftsScreen) split() (list, preview int) {
	list = max(3, s.h*2/5)
	return list, max(1, s.h-list)
}

// Update implements screen.
func (s *draftsScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sizeMsg:
		s.w, s.h = msg.w, msg.h
		l, p := s.split()
		s.list.setHeight(l - 2)
		s.ta.SetWidth(s.w)
		s.ta.SetHeight(max(1, p-1))
	case pageMsg[draftLine]:
		s.list.fill(s.c, msg)
	case focusDraftMsg:
		want := strconv.FormatInt(msg.id, 10)
		if i := s.list.find(want); i >= 0 {
			s.list.moveTo(i)
			return s, nil
		}
		s.list.want = want
		return s, s.Refresh()
	case answeredMsg:
		s.askApprove(msg)
	case composeMsg:
		return s, s.compose(msg)
	case editText:
		return s, s.openEditor(msg)
	case editorReady:
		return s, s.runEditor(msg)
	case editorDone:
		return s, s.editorDone(msg)
	case tea.PasteMsg:
		if s.editing {
			var cmd tea.Cmd
			s.ta, cmd = s.ta.Update(msg)
			return s, cmd
		}
	case scrollMsg:
		s.list.move(msg.d)
	case clickMsg:
		if i, ok := s.list.rowAt(msg.y - 2); ok {
			s.list.moveTo(i)
		}
	case tea.KeyPressMsg:
		if s.editing {
			return s, s.handleEditKey(msg)
		}
		return s, s.handleKey(msg)
	}
	return s, nil
}

func (s *draftsScreen) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	sel, ok := s.list.selected()
	switch {
	case s.list.navigate(msg, k):
	case key.Matches(msg, k.Open):
		if ok && sel.emailID != "" {
			s.c.emit(openMsg{id: sel.emailID, from: scrDrafts})
		}
	case key.Matches(msg, k.NewMessage):
		s.c.emit(composeMsg{kind: db.DraftNew})
	case !ok:
	case !sel.pending && key.Matches(msg, k.Edit, k.ExtEdit):
		s.c.info("only pending drafts can be edited")
	case !sel.pending && key.Matches(msg, k.Approve, k.Regenerate, k.Discard):
		s.c.info("this draft is " + sel.status)
	case key.Matches(msg, k.Edit):
		return s.beginEdit(sel.id, false)
	case key.Matches(msg, k.ExtEdit):
		if !s.externalEditor() {
			return nil
		}
		return s.beginEdit(sel.id, true)
	case key.Matches(msg, k.Approve):
		return s.approve(sel)
	case key.Matches(msg, k.Regenerate):
		s.regenerate(sel)
	case key.Matches(msg, k.Discard):
		a := s.c.acts("discard draft")
		if a == nil {
			return nil
		}
		id := sel.id
		s.c.emit(askMsg{prompt: fmt.Sprintf("Discard draft #%d (nothing is sent)?", id),
			run: simple(fmt.Sprintf("draft #%d discarded", id), func(ctx context.Context) error {
				return a.DiscardDraft(ctx, id)
			})})
	}
	return nil
}

// regenerate replaces a reply's text with a new suggestion, asking first
// when a person wrote it.
func (s *draftsScreen) regenerate(sel draftLine) {
	a := s.c.acts("regenerate draft")
	if a == nil {
		return
	}
	if sel.kind == db.DraftForward || sel.kind == db.DraftNew {
		s.c.info("only replies have a suggested text")
		return
	}
	id, replace := sel.id, sel.editedBy != ""
	run := simple(fmt.Sprintf("draft #%d regenerated", id), func(ctx context.Context) error {
		return a.RegenerateDraft(ctx, id, replace)
	})
	run.spin = true
	if !replace {
		s.c.emit(run)
		return
	}
	who := strings.TrimPrefix(sel.editedBy, "human:")
	if who == "human" || who == "" {
		who = "a person"
	}
	s.c.emit(askMsg{prompt: fmt.Sprintf("Draft #%d holds edits by %s: replace them with a new suggestion?", id, who), run: run})
}

// approve first looks for a reply another agent gave the same customer
// lately (answeredMsg), then asks.
func (s *draftsScreen) approve(sel draftLine) tea.Cmd {
	a := s.c.acts("approve draft")
	if a == nil {
		return nil
	}
	who, id, from := s.c.deps.User, sel.id, sel.to
	return s.c.query(func(ctx context.Context) tea.Msg {
		others, err := a.OthersAnswered(ctx, id, who)
		return answeredMsg{id: id, from: from, others: others, err: err}
	})
}

// answeredMsg carries the replies other agents gave the customer of a
// draft about to be approved.
type answeredMsg struct {
	id     int64
	from   string
	others []app.Answered
	err    error
}

func (answeredMsg) route() scrID { return scrDrafts }

// askApprove asks to approve a draft, first saying who else answered the
// customer lately.
func (s *draftsScreen) askApprove(msg answeredMsg) {
	a := s.c.acts("approve draft")
	if a == nil {
		return
	}
	if msg.err != nil {
		s.c.fail(msg.err)
		return
	}
	who, id := s.c.deps.User, msg.id
	prompt := fmt.Sprintf("Approve draft #%d and send it to %s?", id, trunc(msg.from, 30))
	if len(msg.others) > 0 {
		o := msg.others[0]
		ago := int(max(0, s.c.deps.Now().Sub(o.At)).Minutes())
		prompt = fmt.Sprintf("%s answered %s %d min ago — send draft #%d as well?",
			clean(strings.TrimPrefix(o.By, "human:")), trunc(msg.from, 24), ago, id)
	}
	s.c.emit(askMsg{prompt: prompt,
		run: simple(fmt.Sprintf("draft #%d approved: queued for sending", id), func(ctx context.Context) error {
			return a.ApproveDraft(ctx, id, who)
		})})
}

// View implements screen: the body's lines.
func (s *draftsScreen) View() []string {
	st := &s.c.st
	head := st.Title.Render("Drafts")
	if s.list.loaded && s.list.total > 0 {
		head += " · " + s.list.header("drafts")
	}
	out := []string{head + fmt.Sprintf(" · %d waiting for approval", s.pendingCount()) +
		st.Dim.Render(" · nothing is sent without approval")}
	if !s.list.loaded {
		return append(out, "", st.Dim.Render("  loading…"))
	}
	if s.list.total == 0 {
		return append(out, "", "  No drafts. Replies suggested by triage appear here for review.")
	}
	listH, _ := s.split()
	subjW := max(10, s.w-6-10-24-12)
	out = append(out, st.Header.Render(pad("#", 6)+pad("Status", 10)+pad("To", 24)+pad("Subject", subjW)+pad("Updated", 11)))
	from, to := s.list.visible()
	for i := from; i < to; i++ {
		x, _ := s.list.at(i)
		line := pad(fmt.Sprint(x.id), 6) + pad(x.status, 10) + pad(x.to, 23) + " " + pad(x.subject, subjW-1) + " " + pad(s.c.shortTime(x.updated), 11)
		if i == s.list.cursor {
			line = st.Selected.Render(line)
		} else if x.pending {
			line = st.Bold.Render(line)
		}
		out = append(out, line)
	}
	for len(out) < listH {
		out = append(out, "")
	}
	return append(out, s.preview(len(out))...)
}

// preview is the selected draft (or the editor) under the list; used lines
// are already taken by the list.
func (s *draftsScreen) preview(used int) []string {
	st := &s.c.st
	if s.editing {
		out := []string{st.Key.Render(fmt.Sprintf("Editing draft #%d — ctrl+s save · esc cancel", s.edit.id))}
		return append(out, strings.Split(s.ta.View(), "\n")...)
	}
	sel, _ := s.list.selected()
	head := fmt.Sprintf("Draft #%d, %s to %s — %s", sel.id, kindLabel(sel.kind), sel.to, sel.status)
	if sel.approvedBy != "" {
		head += " by " + sel.approvedBy
	} else if sel.editedBy != "" {
		head += " · edited by " + sel.editedBy
	}
	out := []string{st.Bold.Render(head)}
	if sel.lastError != "" {
		out = append(out, st.Error.Render("last error: "+sel.lastError))
	}
	for _, l := range strings.Split(sel.body, "\n") {
		if used+len(out) >= s.h {
			break
		}
		out = append(out, "  "+l)
	}
	return out
}
