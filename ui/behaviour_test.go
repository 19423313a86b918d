package ui_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"smista/app"
	"smista/db"
	"smista/ui"
	"smista/ui/internal/fixture"
)

func TestInboxPagesLargeStore(t *testing.T) {
	d := seededDB(t)
	seedBulk(t, d, 3000)
	m := newModel(t, testDeps(d), 80, 24)
	if out := plain(m); !strings.Contains(out, "1–18 of 3,009") || !strings.Contains(out, "Order #5531") {
		t.Fatalf("first page:\n%s", out)
	}
	press(t, m, "G")
	if out := plain(m); !strings.Contains(out, "2,992–3,009 of 3,009") || !strings.Contains(out, "Ignore previous") {
		t.Fatalf("last page:\n%s", out)
	}
	press(t, m, "k", "k", "k")
	if out := plain(m); !strings.Contains(out, "2,992–3,009 of 3,009") || !strings.Contains(out, "Sender 9 ") || strings.Contains(out, "\n  …\n") {
		t.Fatalf("after k k k near the end:\n%s", out)
	}
	for i := 0; i < 40; i++ {
		press(t, m, "k")
	}
	if out := plain(m); strings.Contains(out, "2,992–3,009") || !strings.Contains(out, "Sender 97") || strings.Contains(out, "\n  …\n") {
		t.Fatalf("after scrolling up 40 rows the window must be loaded:\n%s", out)
	}
	press(t, m, "g")
	if out := plain(m); !strings.Contains(out, "1–18 of 3,009") {
		t.Fatalf("back at the top:\n%s", out)
	}
}

func TestStaleResultsAreDropped(t *testing.T) {
	m := newModel(t, testDeps(seededDB(t)), 100, 24)
	_, first := m.Update(keyMsg("i"))  // intent support
	_, second := m.Update(keyMsg("i")) // intent sales
	settle(t, m, second)
	settle(t, m, first) // arrives late: must be ignored
	out := plain(m)
	if !strings.Contains(out, "intent sales") || !strings.Contains(out, "Quick question about pricing") {
		t.Fatalf("the sales filter is not shown:\n%s", out)
	}
	if strings.Contains(out, "Order #5531") {
		t.Fatalf("a stale support page replaced the sales page:\n%s", out)
	}
}

func TestMouse(t *testing.T) {
	m := newModel(t, testDeps(seededDB(t)), 100, 24)
	click := func(x, y int) {
		_, cmd := m.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
		settle(t, m, cmd)
	}
	// Rows start at line 4: tab bar, banner, summary, column headers.
	click(10, 5)
	click(10, 5)
	if out := plain(m); !strings.Contains(out, "Subject:  Cannot log in since this morning") {
		t.Fatalf("a second click on the selected row should open it:\n%s", out)
	}
	_, cmd := m.Update(tea.MouseWheelMsg{X: 10, Y: 10, Button: tea.MouseWheelDown})
	settle(t, m, cmd)
	click(40, 0) // the tab bar: " 4 Deliveries " spans cells 33–46
	if out := plain(m); !strings.Contains(out, "Delivery log") {
		t.Fatalf("clicking the Deliveries tab:\n%s", out)
	}
}

func TestNoColor(t *testing.T) {
	color := regexp.MustCompile(`[\[;:](38|48)[;:]`)
	tests := map[string]struct {
		noColor bool
		want    bool
	}{
		"colour":   {false, true},
		"NO_COLOR": {true, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			deps := testDeps(seededDB(t))
			deps.NoColor = tc.noColor
			m := newModel(t, deps, 100, 24)
			if got := color.MatchString(m.Render()); got != tc.want {
				t.Errorf("colour codes present = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLiveProgress(t *testing.T) {
	live := make(chan app.Event, 8)
	live <- app.SyncProgress{Mailbox: "INBOX", Done: 5, Total: 10}
	live <- app.SenderStats{Queue: 3, InFlight: 1}
	live <- app.Notice{Kind: "dead", Text: "delivery dlv_x is dead \x1b]52;c;aGk=\x07", Error: true}
	live <- app.TriageProgress{Working: true, Done: 2, Total: 7, Model: "offline/1"}
	close(live)
	deps := testDeps(seededDB(t))
	deps.Events = func() (<-chan app.Event, func()) { return live, func() {} }
	m := newModel(t, deps, 160, 24)
	out := plain(m)
	for _, want := range []string{"sync INBOX", "5/10", "queue 3 · in-flight 1", "classifying 2/7 (offline/1)", "error: delivery dlv_x is dead"} {
		if !strings.Contains(out, want) {
			t.Errorf("status bar lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(m.Render(), "]52;") {
		t.Error("a notice's escape sequence reached the view")
	}
}

func TestDraftEditInPlace(t *testing.T) {
	d := seededDB(t)
	m := newModel(t, testDeps(d), 80, 24)
	press(t, m, "2", "e", "G")
	typeText(t, m, "PS: thanks")
	press(t, m, "ctrl+s")
	if dr := mustDraft(t, d, 1); !strings.Contains(dr.Body, "PS: thanks") {
		t.Fatalf("draft body = %q, want the typed text saved", dr.Body)
	}
	press(t, m, "x", "y")
	if dr := mustDraft(t, d, 1); dr.Status != "discarded" {
		t.Fatalf("status = %q after x y, want discarded", dr.Status)
	}
	if out := plain(m); !strings.Contains(out, "draft #1 discarded") || !strings.Contains(out, "1 waiting for approval") {
		t.Errorf("after discard:\n%s", out)
	}
}

func TestNotTicketAfterDeliveryStartedIsRefused(t *testing.T) {
	d := seededDB(t)
	deps := testDeps(d)
	m := newModel(t, deps, 160, 24)
	press(t, m, "N", "y") // the order email: a delivery is already retrying
	if out := plain(m); !strings.Contains(out, "delivery already started") {
		t.Fatalf("the refusal is not shown:\n%s", out)
	}
	if n, err := d.CountDeliveries(context.Background(), db.DeliveryFilter{Status: "canceled"}); err != nil || n != 0 {
		t.Fatalf("%d deliveries canceled (%v), want 0", n, err)
	}
}

func TestConfirmationCanBeDeclined(t *testing.T) {
	d := seededDB(t)
	deps := testDeps(d)
	m := newModel(t, deps, 100, 24)
	press(t, m, "G", "k", "T", "n")
	if md := mustDetail(t, d, fixture.InternID); md.Triage != nil || len(md.Deliveries) != 0 {
		t.Fatalf("after declining: decision %+v, deliveries %+v; want none", md.Triage, md.Deliveries)
	}
	if out := plain(m); !strings.Contains(out, "canceled") {
		t.Errorf("no feedback after declining:\n%s", out)
	}
}

// TestTinyTerminals renders every screen at sizes below 80×24: nothing
// panics, the frame has exactly the terminal's height and never overflows
// its width.
func TestTinyTerminals(t *testing.T) {
	screens := map[string][]string{
		"inbox": nil, "message": {"enter"}, "drafts": {"2"}, "editing": {"2", "e"}, "tickets": {"3"},
		"deliveries": {"4", "enter"}, "endpoints": {"5"}, "help": {"?"},
	}
	for name, keys := range screens {
		for _, size := range [][2]int{{79, 23}, {60, 15}, {40, 10}, {20, 6}} {
			t.Run(fmt.Sprintf("%s %dx%d", name, size[0], size[1]), func(t *testing.T) {
				m := newModel(t, testDeps(seededDB(t)), size[0], size[1])
				press(t, m, keys...)
				lines := strings.Split(strings.TrimSuffix(plain(m), "\n"), "\n")
				if len(lines) != size[1] {
					t.Errorf("%d lines, want %d", len(lines), size[1])
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("line %d is %d wide, want ≤ %d: %q", i, w, size[0], l)
					}
				}
			})
		}
	}
}

// pageRecorder is the store as the inbox sees it, recording every page
// the inbox asks for.
type pageRecorder struct {
	ui.Store
	mu    sync.Mutex
	pages []db.Page
}

func (s *pageRecorder) Inbox(ctx context.Context, f db.InboxFilter, p db.Page) ([]db.InboxRow, error) {
	s.mu.Lock()
	s.pages = append(s.pages, p)
	s.mu.Unlock()
	return s.Store.Inbox(ctx, f, p)
}

// TestInboxPagesByKey: scrolling down a long inbox loads each new window
// after the last row it has (by key, never by skipping an offset), and
// the rows shown are exactly those at their place in the list.
func TestInboxPagesByKey(t *testing.T) {
	d := seededDB(t)
	seedBulk(t, d, 3000)
	rec := &pageRecorder{Store: d}
	deps := testDeps(d)
	deps.Store = rec
	m := newModel(t, deps, 80, 24)
	for range 60 {
		press(t, m, "pgdown")
	}
	for _, p := range rec.pages {
		if p.Offset > 0 && p.After == nil && p.Before == nil && !p.Last {
			t.Fatalf("a window was loaded by offset %d: %+v", p.Offset, p)
		}
	}
	if len(rec.pages) < 3 {
		t.Fatalf("%d loads for 60 pages down, want several", len(rec.pages))
	}
	out := plain(m)
	re := regexp.MustCompile(`(\d[\d,]*)–[\d,]+ of 3,009`)
	mm := re.FindStringSubmatch(out)
	if mm == nil {
		t.Fatalf("no header:\n%s", out)
	}
	var first int
	fmt.Sscan(strings.ReplaceAll(mm[1], ",", ""), &first)
	want, err := d.Inbox(context.Background(), db.InboxFilter{}, db.Page{Offset: first - 1, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, l := range strings.Split(out, "\n") {
		if f := regexp.MustCompile(`(Sender \d+) `).FindStringSubmatch(l); f != nil {
			shown = append(shown, f[1])
		}
	}
	for i, r := range want {
		if i >= len(shown) || shown[i] != r.FromName {
			t.Errorf("row %d from the top is %q, want %q (the row at place %d):\n%s", i, shown[min(i, len(shown)-1)], r.FromName, first+i, out)
		}
	}
}
