package ui_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"smista/app"
	"smista/db"
	"smista/ui"
	"smista/ui/internal/fixture"
)

// The tests of this file change the store from another goroutine, through
// the App, with the UI's clock turned off (Deps.Tick < 0): only the bus
// can make the screen show the change, and no key is pressed after it.

// liveEnv is a flow env without the periodic refresh and without a
// running sender (a test starts it when it wants deliveries to go out).
func liveEnv(t *testing.T, setup func(d *db.DB)) *flowEnv {
	t.Helper()
	e := newFlowEnvIdle(t, setup)
	e.deps.Tick = -1
	e.start(t)
	return e
}

// afterTime is a delivery log row without its time column.
func afterTime(row string) string {
	if len(row) < 11 {
		return ""
	}
	return row[11:]
}

// lineWith returns the first line of screen containing every part.
func lineWith(screen string, parts ...string) string {
	for _, l := range strings.Split(screen, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return l
		}
	}
	return ""
}

func TestLiveRefreshAfterDelivery(t *testing.T) {
	e := liveEnv(t, nil)
	e.keys("4")
	e.waitScreen(t, "the order's retrying delivery", func(s string) bool {
		return strings.HasPrefix(afterTime(lineWith(s, "http 503 · Order #5531")), "retrying")
	})
	e.runSender(t) // delivers the overdue retry to the receiver
	e.waitScreen(t, "the order's delivery shown delivered", func(s string) bool {
		l := lineWith(s, "Order #5531", "hooks.example")
		return strings.HasPrefix(afterTime(l), "delivered") && strings.Contains(l, " 200 ")
	})
	if got := e.deliveryStatus(t, "dlv_order_hooks"); got != "delivered" {
		t.Fatalf("stored status %q, want delivered", got)
	}
}

func TestLiveRefreshAfterEndpointTest(t *testing.T) {
	e := liveEnv(t, nil)
	e.keys("4") // load the log once, then leave it: it is hidden when the test is queued
	e.waitScreen(t, "the delivery log", func(s string) bool { return strings.Contains(s, "1–4 of 4") })
	e.keys("5")
	e.waitScreen(t, "the endpoints", func(s string) bool {
		return strings.Contains(lineWith(s, fixture.EndpointOK), " 1/0/1")
	})
	if _, err := e.app.TestEndpoint(context.Background(), fixture.EndpointOK); err != nil {
		t.Fatal(err)
	}
	e.waitScreen(t, "the endpoint's queued count to grow", func(s string) bool {
		return strings.Contains(lineWith(s, fixture.EndpointOK), " 2/0/1")
	})
	// The log was hidden when the bus spoke: it was marked stale and
	// reloads as it is shown.
	e.keys("4")
	s := e.waitScreen(t, "the test delivery in the log", func(s string) bool {
		return strings.Contains(s, "1–5 of 5") && strings.Contains(s, "[test]")
	})
	if strings.Contains(s, "1–4 of 4") {
		t.Fatalf("stale header:\n%s", s)
	}
}

func TestLiveRefreshAfterTriage(t *testing.T) {
	e := liveEnv(t, nil)
	intern := "Hello from the new intern"
	if l := lineWith(e.screen(t), intern); !strings.Contains(l, "–") {
		t.Fatalf("the intern's email should be untriaged: %q", l)
	}
	if _, err := e.app.Triage(context.Background(), app.TriageRequest{IDs: []string{fixture.InternID}}); err != nil {
		t.Fatal(err)
	}
	md := mustDetail(t, e.d, fixture.InternID)
	if md.Triage == nil || md.Triage.Intent == "" {
		t.Fatalf("triage stored nothing: %+v", md.Triage)
	}
	pct := fmt.Sprintf("%.0f%%", md.Triage.Confidence*100)
	e.waitScreen(t, "the intern's email shown triaged", func(s string) bool {
		l := lineWith(s, intern)
		return strings.Contains(l, " "+md.Triage.Intent+" ") && strings.Contains(l, pct)
	})
}

// TestHiddenInboxReloadsWhenShown is issue 10's "tkt queued though all
// were delivered": the deliveries finish while another screen is shown.
func TestHiddenInboxReloadsWhenShown(t *testing.T) {
	e := liveEnv(t, func(d *db.DB) {
		// Both of the order's deliveries can go out.
		if _, err := d.EnableEndpoint(context.Background(), fixture.EndpointBroken); err != nil {
			t.Fatal(err)
		}
	})
	if l := lineWith(e.screen(t), "Order #5531"); !strings.Contains(l, "tkt queued") {
		t.Fatalf("the order starts queued: %q", l)
	}
	e.keys("2")
	e.waitScreen(t, "the drafts", func(s string) bool { return strings.Contains(s, "waiting for approval") })
	e.runSender(t)
	eventually(t, "the order's deliveries", func() bool {
		return e.deliveryStatus(t, "dlv_order_hooks") == "delivered" && e.deliveryStatus(t, "dlv_order_broken") == "delivered"
	})
	e.keys("1")
	e.waitScreen(t, "the inbox to show the ticket sent", func(s string) bool {
		return strings.Contains(lineWith(s, "Order #5531"), "tkt sent")
	})
}

// logHeader matches the delivery log's header: "a–b of N".
var logHeader = regexp.MustCompile(`Delivery log · ([0-9,]+)–([0-9,]+) of ([0-9,]+)`)

// logRows returns the delivery log's header numbers and the rows drawn
// under it.
func logRows(t *testing.T, screen string) (from, to, total int, rows []string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		m := logHeader.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n := func(s string) int {
			v, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		// Rows start under the column headers and end at the first blank
		// line or at the status bar (the last two lines).
		for _, r := range lines[i+2 : len(lines)-3] {
			if strings.TrimSpace(r) == "" {
				break
			}
			rows = append(rows, r)
		}
		return n(m[1]), n(m[2]), n(m[3]), rows
	}
	t.Fatalf("no delivery log header:\n%s", screen)
	return
}

// checkLog fails unless the header and the rows drawn agree: as many rows
// as the header says, none twice.
func checkLog(t *testing.T, screen string) (total int, rows []string) {
	t.Helper()
	from, to, total, rows := logRows(t, screen)
	if len(rows) != to-from+1 {
		t.Fatalf("%d rows drawn under a header saying %d–%d of %d:\n%s", len(rows), from, to, total, screen)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r] {
			t.Fatalf("row drawn twice: %q\n%s", r, screen)
		}
		seen[r] = true
	}
	return total, rows
}

// TestDeliveryLogRowsMatchHeader adds endpoints and tests them from
// another goroutine while the log is shown: at every moment the header's
// numbers match the distinct rows drawn, and once the writes end the log
// shows exactly the store's deliveries, in its order.
func TestDeliveryLogRowsMatchHeader(t *testing.T) {
	e := liveEnv(t, nil)
	e.keys("4")
	e.waitScreen(t, "the delivery log", func(s string) bool { return strings.Contains(s, "1–4 of 4") })
	const n = 8
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx := context.Background()
		for i := range n {
			ep, err := e.app.AddEndpoint(ctx, fmt.Sprintf("http://127.0.0.1:9/ep-%02d", i), "")
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := e.app.TestEndpoint(ctx, ep.ID); err != nil {
				t.Error(err)
				return
			}
		}
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for writing := true; writing; {
		select {
		case <-done:
			writing = false
		default:
		}
		checkLog(t, e.screen(t))
	}
	want, err := e.d.CountDeliveries(context.Background(), db.DeliveryFilter{})
	if err != nil || want != 4+n {
		t.Fatalf("store counts %d deliveries (%v), want %d", want, err, 4+n)
	}
	s := e.waitScreen(t, "the log to show every delivery", func(s string) bool {
		return strings.Contains(s, fmt.Sprintf("of %d", want))
	})
	total, rows := checkLog(t, s)
	stored, err := e.d.Deliveries(context.Background(), db.DeliveryFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(stored) || len(rows) != len(stored) {
		t.Fatalf("header total %d, %d rows drawn, %d stored:\n%s", total, len(rows), len(stored), s)
	}
	for i, dl := range stored {
		if !strings.HasPrefix(afterTime(rows[i]), dl.Status) || !strings.Contains(rows[i], dl.URL[:min(len(dl.URL), 24)]) {
			t.Errorf("row %d = %q, want the store's %s delivery to %s", i, rows[i], dl.Status, dl.URL)
		}
	}
}

// racingStore writes between the count and the page of the delivery log,
// as another process may.
type racingStore struct {
	ui.Store
	between func()
}

func (s racingStore) CountDeliveries(ctx context.Context, f db.DeliveryFilter) (int, error) {
	n, err := s.Store.CountDeliveries(ctx, f)
	if s.between != nil {
		s.between()
	}
	return n, err
}

// TestDeliveryLogTotalFromSameLoad: a delivery queued between the count
// and the page must not leave the header one behind the rows (or a row
// cut from the page).
func TestDeliveryLogTotalFromSameLoad(t *testing.T) {
	d := seededDB(t)
	a := appOn(d)
	deps := testDeps(d)
	deps.Actions = a
	var once sync.Once
	deps.Store = racingStore{Store: d, between: func() {
		once.Do(func() {
			if _, err := a.TestEndpoint(context.Background(), fixture.EndpointOK); err != nil {
				t.Error(err)
			}
		})
	}}
	m := newModel(t, deps, 100, 30)
	press(t, m, "4")
	s := plain(m)
	total, rows := checkLog(t, s)
	want, err := d.CountDeliveries(context.Background(), db.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total != want || len(rows) != want || !strings.Contains(s, "[test]") {
		t.Fatalf("header total %d, %d rows; the store holds %d:\n%s", total, len(rows), want, s)
	}
}

// TestViewerStatusBar: while another process holds the store's sender
// lease, the status bar says who sends; once this process takes over it
// shows its own queue again.
func TestViewerStatusBar(t *testing.T) {
	e := liveEnv(t, nil)
	e.app.Bus().Publish(app.SenderLease{Holder: "smista send (pid 42 on box)"})
	e.waitScreen(t, "the viewer line", func(s string) bool {
		return strings.Contains(s, "viewer · sending: smista send (pid 42 on box)")
	})
	e.app.Bus().Publish(app.SenderLease{Held: true, Holder: "smista tui (pid 7 on box)"})
	e.waitScreen(t, "the sender's own line", func(s string) bool {
		return !strings.Contains(s, "viewer") && strings.Contains(s, "queue 0")
	})
}

// TestStatusBarOffline: the sender's offline state reaches the status
// bar from the bus — "offline: N deliveries waiting" — and leaves it when
// the network is back.
func TestStatusBarOffline(t *testing.T) {
	e := liveEnv(t, nil)
	e.app.Bus().Publish(app.SenderStats{Running: true, Offline: true, Queue: 3})
	e.waitScreen(t, "the offline line", func(s string) bool { return strings.Contains(s, "offline: 3 deliveries waiting") })
	e.app.Bus().Publish(app.SenderStats{Running: true, Queue: 0})
	e.waitScreen(t, "the offline line gone", func(s string) bool { return !strings.Contains(s, "offline:") })
}
