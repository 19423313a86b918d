package ui_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// execModel runs a command that exits at once, like an editor closed at
// once, each time it is told to, and shows how many runs came back.
type execModel struct{ runs int }

type runAgain struct{}
type ranOnce struct{ err error }

func (m execModel) Init() tea.Cmd { return nil }

func (m execModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case runAgain:
		return m, tea.ExecProcess(exec.Command("true"), func(err error) tea.Msg { return ranOnce{err} })
	case ranOnce:
		if msg.err != nil {
			return m, tea.Quit
		}
		m.runs++
	}
	return m, nil
}

func (m execModel) View() tea.View {
	v := tea.NewView(fmt.Sprintf("runs %d done", m.runs))
	v.AltScreen = true
	return v
}

// TestScreenComesBackAfterEveryEditorRun: after a program the TUI hands
// the terminal to (the external editor) exits, the screen is drawn again,
// every time. Bubble Tea v2.0.10 lost its frame ticker now and then when
// the command exited quickly: the renderer that stopped for the editor
// stopped the new renderer's ticker as it left, and the TUI drew nothing
// more — a blank terminal after "r" with a fast $VISUAL (the CI's
// e2e-tui flake, about 1 run in 15 under load here). v2.2.0 gives each
// renderer its own ticker.
func TestScreenComesBackAfterEveryEditorRun(t *testing.T) {
	if _, err := exec.LookPath("true"); err != nil {
		t.Fatalf("no true(1) to run: %v", err)
	}
	out := &syncBuffer{} // the program's terminal: everything written to it
	p := tea.NewProgram(execModel{}, tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(40, 5))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	defer func() {
		p.Quit()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the program did not quit")
		}
	}()
	const runs = 60
	for i := 1; i <= runs; i++ {
		p.Send(runAgain{})
		want := fmt.Sprintf("runs %d done", i)
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(out.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("run %d of %d: the screen was not drawn again within 5 s after the command exited", i, runs)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}
