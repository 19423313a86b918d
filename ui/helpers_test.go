package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"smista/app"
	"smista/db"
	"smista/db/dbtest"
	"smista/ui"
	"smista/ui/internal/fixture"
	"smista/webhook"
)

// MustOpenDB opens a fresh store in a temp dir, on the fixture's clock.
func MustOpenDB(tb testing.TB) *db.DB {
	tb.Helper()
	d := dbtest.MustOpen(tb)
	d.Now = fixture.Now
	return d
}

// seededDB is MustOpenDB with the fixture loaded.
func seededDB(tb testing.TB) *db.DB {
	tb.Helper()
	d := MustOpenDB(tb)
	if err := fixture.Seed(context.Background(), d); err != nil {
		tb.Fatal(err)
	}
	return d
}

// seedBulk adds n generated, triaged messages to d (the fixture's bulk
// rows: benchmarks and paging tests).
func seedBulk(tb testing.TB, d *db.DB, n int) {
	tb.Helper()
	if err := fixture.SeedBulk(context.Background(), d, n); err != nil {
		tb.Fatal(err)
	}
}

// mustDraft reads draft id.
func mustDraft(tb testing.TB, d *db.DB, id int64) db.Draft {
	tb.Helper()
	dr, err := d.Draft(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return dr
}

// mustDetail reads an email's detail.
func mustDetail(tb testing.TB, d *db.DB, id string) *db.MessageDetail {
	tb.Helper()
	md, err := d.MessageDetail(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return md
}

// testDeps are the deps of a UI on d with the fixed clock and no ticker,
// acting through a real App on d.
func testDeps(d *db.DB) ui.Deps {
	return ui.Deps{Store: d, Actions: appOn(d), Now: fixture.Now, Tick: -1, User: "tester"}
}

// appOn returns an App on d (the caller closes d), on the fixture's clock.
func appOn(d *db.DB) *app.App {
	a, err := app.New(app.Options{Store: d, Now: fixture.Now,
		Sender: webhook.Options{Guard: webhook.Guard{AllowPrivate: true}}})
	if err != nil {
		panic(err) // the offline classifier is embedded: it always loads
	}
	return a
}

// newModel builds the model at w×h and runs its start-up commands.
func newModel(tb testing.TB, deps ui.Deps, w, h int) *ui.Model {
	tb.Helper()
	m := ui.New(deps).WithLocation(time.UTC)
	settle(tb, m, m.Init())
	_, cmd := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	settle(tb, m, cmd)
	return m
}

// settle runs cmd and every command that follows synchronously, feeding
// the messages back into m, the way the program would (bounded).
func settle(tb testing.TB, m *ui.Model, cmd tea.Cmd) {
	tb.Helper()
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 10000 {
			tb.Fatal("settle: too many commands")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := runCmd(tb, c).(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case spinner.TickMsg:
			// The spinner would tick forever; its first frame is enough.
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// runCmd runs c. Tests turn the ticker off and cursors do not blink, so
// every command returns at once or after a query; a stuck one fails.
func runCmd(tb testing.TB, c tea.Cmd) tea.Msg {
	tb.Helper()
	ch := make(chan tea.Msg, 1)
	go func() { ch <- c() }()
	select {
	case msg := <-ch:
		return msg
	case <-time.After(20 * time.Second):
		tb.Fatal("a command did not return within 20 s")
		return nil
	}
}

// keyMsg turns "j", "enter", "tab", "esc" into a key press.
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+s":
		return tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// press sends each key and settles after each.
func press(tb testing.TB, m *ui.Model, keys ...string) {
	tb.Helper()
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		settle(tb, m, cmd)
	}
}

// typeText types s one rune at a time.
func typeText(tb testing.TB, m *ui.Model, s string) {
	tb.Helper()
	for _, r := range s {
		_, cmd := m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		settle(tb, m, cmd)
	}
}

// plain renders m without styling, trailing spaces trimmed.
func plain(m *ui.Model) string {
	lines := strings.Split(ansi.Strip(m.Render()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}
