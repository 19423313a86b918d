package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// handleInputKey gives a key to the open prompt: enter submits its text,
// esc closes it, any other key edits it.
func (m *Model) handleInputKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Cancel):
		p := m.prompt
		m.prompt = nil
		m.input.Blur()
		if p.cancel != nil {
			m.c.emit(p.cancel())
		}
		return nil
	case key.Matches(msg, k.Submit):
		p := m.prompt
		m.prompt = nil
		m.input.Blur()
		if next := p.submit(strings.TrimSpace(m.input.Value())); next != nil {
			m.c.emit(next)
		}
		return nil
	}
	return m.editInput(msg)
}

// editInput gives msg (a key, a paste) to the prompt's input, and its new
// text to the prompt's change when it changed.
func (m *Model) editInput(msg tea.Msg) tea.Cmd {
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if v := m.input.Value(); v != before && m.prompt.change != nil {
		m.promptErr = ""
		if next := m.prompt.change(v); next != nil {
			m.c.emit(next)
		}
	}
	return cmd
}
