package ui

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"smista/app/config"
	"smista/ui/safe"
)

// ErrCancelled is returned when the user leaves the form (esc, ctrl+c).
var ErrCancelled = errors.New("setup cancelled: nothing was written")

// InitForm is the Bubble Tea form of "smista init": one question at a
// time with its default filled in (editable), the answers so far above
// it, and the provider the address led to. It asks the Wizard's questions;
// the one that needs I/O (recognising the provider) runs in a command.
type InitForm struct {
	ctx    context.Context
	w      *Wizard
	qs     []question
	cur    int // index into qs; -1 when finished
	input  textinput.Model
	errMsg string
	busy   bool // waiting for the provider lookup
	done   bool
	quit   bool
	st     initStyles
}

type initStyles struct{ title, label, value, hint, err lipgloss.Style }

// recognisedMsg carries the provider an address led to, looked up in a
// command.
type recognisedMsg struct {
	idx      int
	address  string
	provider config.Provider
	how      string
	err      error
}

// NewInitForm returns the form over w; ctx bounds the provider lookup.
func NewInitForm(ctx context.Context, w *Wizard) *InitForm {
	ti := textinput.New()
	ti.Prompt = "> "
	ti.CharLimit = 300
	ti.SetWidth(60)
	f := &InitForm{ctx: ctx, w: w, qs: w.questions(), input: ti, st: initStyles{
		title: lipgloss.NewStyle().Bold(true),
		label: lipgloss.NewStyle().Faint(true),
		value: lipgloss.NewStyle(),
		hint:  lipgloss.NewStyle().Faint(true).Italic(true),
		err:   lipgloss.NewStyle().Foreground(lipgloss.Color("9")),
	}}
	f.cur = w.next(f.qs, 0)
	f.load()
	return f
}

// load puts the current question's default into the input.
func (f *InitForm) load() {
	if f.cur < 0 {
		return
	}
	f.input.SetValue(f.qs[f.cur].def(f.w))
	f.input.CursorEnd()
	f.input.Focus()
}

// Init implements tea.Model.
func (f *InitForm) Init() tea.Cmd { return textinput.Blink }

// Update implements tea.Model.
func (f *InitForm) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case recognisedMsg:
		return f, f.handleRecognised(msg)
	case tea.KeyPressMsg:
		switch msg.String() {
		case "ctrl+c", "esc":
			f.quit = true
			return f, tea.Quit
		case "enter":
			if f.busy || f.cur < 0 {
				return f, nil
			}
			return f, f.submit()
		}
	}
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(msg)
	return f, cmd
}

// submit checks the current answer; the address's provider is looked
// up (DNS) in a command, since Update does no I/O.
func (f *InitForm) submit() tea.Cmd {
	q := f.qs[f.cur]
	v, err := f.w.value(q, f.input.Value())
	if err != nil {
		f.errMsg = err.Error()
		return nil
	}
	if q.key == "address" && f.w.Recognise != nil {
		f.busy = true
		idx, recognise, ctx := f.cur, f.w.Recognise, f.ctx
		return func() tea.Msg {
			p, how, err := recognise(ctx, v)
			return recognisedMsg{idx: idx, address: v, provider: p, how: how, err: err}
		}
	}
	f.w.set(q.key, v, config.Provider{}, "")
	return f.advance()
}

func (f *InitForm) handleRecognised(msg recognisedMsg) tea.Cmd {
	f.busy = false
	if msg.idx != f.cur {
		return nil // stale
	}
	if msg.err != nil {
		f.errMsg = msg.err.Error()
		return nil
	}
	f.w.set("address", msg.address, msg.provider, msg.how)
	return f.advance()
}

// advance moves to the next question, or ends the form.
func (f *InitForm) advance() tea.Cmd {
	f.errMsg = ""
	f.cur = f.w.next(f.qs, f.cur+1)
	if f.cur < 0 {
		f.done = true
		return tea.Quit
	}
	f.load()
	return nil
}

// View implements tea.Model.
func (f *InitForm) View() tea.View { return tea.NewView(f.Render()) }

// Render returns the form as text.
func (f *InitForm) Render() string {
	var b strings.Builder
	b.WriteString(f.st.title.Render("smista init — connect your own mailbox"))
	b.WriteString("\n\n")
	for i, q := range f.qs {
		if f.cur >= 0 && i >= f.cur {
			break
		}
		v, ok := f.w.answers[q.key]
		if !ok || (q.skip != nil && q.skip(f.w)) || q.key == "write" {
			continue
		}
		if v == "" {
			v = "—"
		}
		b.WriteString(f.st.label.Render(f.w.prompt(q)+": ") + f.st.value.Render(safe.String(v)) + "\n")
		if q.key == "address" && f.w.Recognised() != "" {
			b.WriteString(f.st.hint.Render("  → "+safe.String(f.w.Recognised())) + "\n")
		}
	}
	if f.cur >= 0 {
		b.WriteString("\n" + f.st.title.Render(f.w.prompt(f.qs[f.cur])) + "\n")
		b.WriteString(f.input.View() + "\n")
		switch {
		case f.busy:
			b.WriteString(f.st.hint.Render("looking up the provider…") + "\n")
		case f.errMsg != "":
			b.WriteString(f.st.err.Render("✗ "+safe.String(f.errMsg)) + "\n")
		}
		b.WriteString("\n" + f.st.hint.Render("enter: next · esc: cancel (nothing is written)") + "\n")
	}
	return b.String()
}

// Result returns the answers once the form finished, or ErrCancelled.
func (f *InitForm) Result() (InitAnswers, error) {
	if !f.done || f.quit {
		return InitAnswers{}, ErrCancelled
	}
	return f.w.Answers(), nil
}

// RunInitForm runs the form as a program on the given options (input and
// output) and returns the answers.
func RunInitForm(ctx context.Context, w *Wizard, opts ...tea.ProgramOption) (InitAnswers, error) {
	f := NewInitForm(ctx, w)
	opts = append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)
	if _, err := tea.NewProgram(f, opts...).Run(); err != nil {
		return InitAnswers{}, err
	}
	return f.Result()
}
