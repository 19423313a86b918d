package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"smista/db"
)

// Writing a mail: a reply, a reply to all, a forward or a new message
// begins on any screen (composeMsg) and is written on the drafts screen,
// in the external editor ($VISUAL, then $EDITOR, then vi) or, where that
// is off (the team server's sessions), in place. The text holds the
// headers (To, Cc, Subject), a blank line and the body; the App parses it
// back. Nothing is sent until the draft is approved.

// editing is the draft an editor has open.
type editing struct {
	id int64
	// text is what the editor started with: leaving it unchanged saves
	// nothing.
	text string
	// created says the draft was made for this edit: left unchanged, it
	// is dropped again.
	created bool
}

// composeMsg asks the drafts screen to begin a mail of kind about an
// email ("" for a new message).
type composeMsg struct{ emailID, kind string }

func (composeMsg) route() scrID { return scrDrafts }

// editText is a draft's text, ready for an editor.
type editText struct {
	editing
	external bool
	err      error
}

func (editText) route() scrID { return scrDrafts }

type editorReady struct {
	editing
	path string
	err  error
}

func (editorReady) route() scrID { return scrDrafts }

type editorDone struct {
	editing
	path string
	err  error
}

func (editorDone) route() scrID { return scrDrafts }

// askCompose begins a mail of kind about the email id from any screen.
func askCompose(c *common, emailID, kind string) {
	if c.acts("write "+kindLabel(kind)) == nil {
		return
	}
	c.emit(composeMsg{emailID: emailID, kind: kind})
}

// compose starts the mail (App.StartReply) and opens its editor.
func (s *draftsScreen) compose(msg composeMsg) tea.Cmd {
	a := s.c.acts("write " + kindLabel(msg.kind))
	if a == nil {
		return nil
	}
	external := s.c.deps.Editor != ""
	return s.c.query(func(ctx context.Context) tea.Msg {
		st, err := a.StartReply(ctx, msg.emailID, msg.kind)
		return editText{editing: editing{id: st.ID, text: st.Text, created: st.Created}, external: external, err: err}
	})
}

// beginEdit loads a draft's text for an editor.
func (s *draftsScreen) beginEdit(id int64, external bool) tea.Cmd {
	a := s.c.acts("edit draft")
	if a == nil {
		return nil
	}
	return s.c.query(func(ctx context.Context) tea.Msg {
		text, err := a.DraftText(ctx, id)
		return editText{editing: editing{id: id, text: text}, external: external, err: err}
	})
}

// externalEditor reports whether the external editor may run, or says why
// not.
func (s *draftsScreen) externalEditor() bool {
	if s.c.deps.Editor == "" {
		s.c.info("the external editor is off in this session: e edits here")
		return false
	}
	return s.c.acts("edit draft") != nil
}

// openEditor shows the drafts screen on the draft and opens its editor.
func (s *draftsScreen) openEditor(msg editText) tea.Cmd {
	if msg.err != nil {
		s.c.fail(msg.err)
		return nil
	}
	s.c.emit(showMsg{to: scrDrafts, then: focusDraftMsg{msg.id}})
	if !msg.external {
		s.editing, s.edit = true, msg.editing
		s.ta.SetValue(msg.text)
		s.ta.MoveToBegin()
		return s.ta.Focus()
	}
	ed := msg.editing
	return func() tea.Msg {
		f, err := os.CreateTemp("", "smista-draft-*.txt")
		if err != nil {
			return editorReady{editing: ed, err: err}
		}
		_, err = f.WriteString(ed.text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return editorReady{editing: ed, path: f.Name(), err: err}
	}
}

// runEditor runs the external editor on the draft's file; the program
// gives it the terminal until it exits.
func (s *draftsScreen) runEditor(msg editorReady) tea.Cmd {
	if msg.err != nil {
		s.c.fail(fmt.Errorf("editor: %w", msg.err))
		return nil
	}
	args, err := EditorArgs(s.c.deps.Editor)
	if err != nil {
		s.c.fail(err)
		path := msg.path
		return func() tea.Msg { os.Remove(path); return nil }
	}
	c := exec.Command(args[0], append(args[1:], msg.path)...)
	ed, path := msg.editing, msg.path
	return tea.ExecProcess(c, func(err error) tea.Msg { return editorDone{editing: ed, path: path, err: err} })
}

// editorDone saves what the editor wrote, unless it is what it started
// with.
func (s *draftsScreen) editorDone(msg editorDone) tea.Cmd {
	path := msg.path
	if msg.err != nil {
		s.c.fail(fmt.Errorf("editor %s: %w (draft #%d not saved)", s.c.deps.Editor, msg.err, msg.id))
		return func() tea.Msg { os.Remove(path); return nil }
	}
	a, ed, who := s.c.deps.Actions, msg.editing, s.c.deps.User
	return func() tea.Msg {
		b, err := os.ReadFile(path)
		if err != nil {
			return actionDone{err: fmt.Errorf("read the edited draft %s: %w", path, err)}
		}
		if sameText(string(b), ed.text) {
			os.Remove(path)
			return unchanged(a, ed)
		}
		ctx := context.Background()
		if err := a.SaveDraftText(ctx, ed.id, string(b), who); err != nil {
			// The words are kept where the editor left them.
			return actionDone{err: fmt.Errorf("%w (your text is in %s)", err, path)}
		}
		os.Remove(path)
		return actionDone{text: fmt.Sprintf("draft #%d saved · a approves and sends it", ed.id)}
	}
}

// unchanged is the outcome of an editor left without a change: nothing
// saved, and a draft made for the edit dropped again.
func unchanged(a DraftActions, ed editing) tea.Msg {
	if !ed.created {
		return actionDone{text: fmt.Sprintf("draft #%d unchanged: nothing saved", ed.id)}
	}
	if err := a.DiscardDraft(context.Background(), ed.id); err != nil {
		return actionDone{err: err}
	}
	return actionDone{text: "nothing written: the new draft was dropped"}
}

// sameText compares two editor texts, ignoring line endings and the
// trailing newlines editors add on save.
func sameText(a, b string) bool {
	norm := func(s string) string { return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n \t") }
	return norm(a) == norm(b)
}

// handleEditKey is the in-place editor's keys: ctrl+s saves, esc leaves.
func (s *draftsScreen) handleEditKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	switch {
	case key.Matches(msg, k.Save):
		s.stopEditing()
		a, ed, text, who := s.c.deps.Actions, s.edit, s.ta.Value(), s.c.deps.User
		s.c.emit(action{do: func(ctx context.Context) actionDone {
			if sameText(text, ed.text) {
				return unchanged(a, ed).(actionDone)
			}
			if err := a.SaveDraftText(ctx, ed.id, text, who); err != nil {
				return actionDone{err: err}
			}
			return actionDone{text: fmt.Sprintf("draft #%d saved · a approves and sends it", ed.id)}
		}})
		return nil
	case key.Matches(msg, k.Cancel):
		s.stopEditing()
		if s.edit.created {
			a, id := s.c.deps.Actions, s.edit.id
			s.c.emit(simple("canceled: the new draft was dropped", func(ctx context.Context) error {
				return a.DiscardDraft(ctx, id)
			}))
			return nil
		}
		s.c.info("edit canceled")
		return nil
	}
	var cmd tea.Cmd
	s.ta, cmd = s.ta.Update(msg)
	return cmd
}

// stopEditing leaves the in-place editor without saving.
func (s *draftsScreen) stopEditing() {
	s.editing = false
	s.ta.Blur()
}

// composeKey begins a mail for the compose keys (r, A, F, m) on the email
// id ("" when none is selected: only m works); it reports whether msg was
// one of them.
func composeKey(c *common, msg tea.KeyPressMsg, emailID string) bool {
	k := c.keys
	for _, b := range []struct {
		b    key.Binding
		kind string
	}{{k.Reply, db.DraftReply}, {k.ReplyAll, db.DraftReplyAll}, {k.Forward, db.DraftForward}, {k.NewMessage, db.DraftNew}} {
		if !key.Matches(msg, b.b) {
			continue
		}
		if emailID == "" && b.kind != db.DraftNew {
			return true
		}
		if b.kind == db.DraftNew {
			emailID = ""
		}
		askCompose(c, emailID, b.kind)
		return true
	}
	return false
}
