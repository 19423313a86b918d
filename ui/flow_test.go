package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"smista/app"
	"smista/db"
	"smista/ui"
	"smista/ui/internal/fixture"
	"smista/webhook"
)

// syncBuffer is a bytes.Buffer safe for the receiver's handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// flowEnv is the fixture store with a real outbox sender whose webhook
// transport delivers every event to a real receiver on 127.0.0.1 that
// verifies signatures (whatever URL and secret the endpoint stores).
type flowEnv struct {
	d     *db.DB
	rv    *webhook.Receiver
	out   *syncBuffer
	deps  ui.Deps
	app   *app.App
	tm    *teatest.TestModel
	model *ui.Model
}

// redirect hands every delivery to next as if the endpoint were url,
// signed with secret.
type redirect struct {
	url, secret string
	next        webhook.Transport
}

func (r redirect) Deliver(ctx context.Context, d webhook.Delivery) webhook.Result {
	d.URL, d.Secret, d.PrevSecret = r.url, r.secret, ""
	return r.next.Deliver(ctx, d)
}

// newFlowEnv builds the env; setup may change the store first. The sender
// runs unless the test starts it itself (e.runSender).
func newFlowEnv(t *testing.T, setup func(d *db.DB)) *flowEnv {
	t.Helper()
	e := newFlowEnvIdle(t, setup)
	e.runSender(t)
	return e
}

// newFlowEnvIdle is newFlowEnv without the sender.
func newFlowEnvIdle(t *testing.T, setup func(d *db.DB)) *flowEnv {
	t.Helper()
	d := seededDB(t)
	d.Now = time.Now
	secret, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	e := &flowEnv{d: d, out: &syncBuffer{}}
	e.rv, err = webhook.NewReceiver(secret, webhook.ReceiverOptions{OnRequest: func(r webhook.Received) {
		fmt.Fprintf(e.out, "%s %s %d %s\n", r.WebhookID, r.Problem, r.Status, r.Body)
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.rv)
	t.Cleanup(srv.Close)
	if setup != nil {
		setup(d)
	}
	guard := webhook.Guard{AllowPrivate: true}
	h := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: guard})
	t.Cleanup(h.Close)
	e.app, err = app.New(app.Options{Store: d, Sender: webhook.Options{
		Guard:      guard,
		Retries:    []time.Duration{50 * time.Millisecond},
		Timeout:    5 * time.Second,
		Transports: map[string]webhook.Transport{webhook.KindWebhook: redirect{url: srv.URL + "/hook", secret: secret, next: h}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.deps = ui.Deps{
		Store: d, Actions: e.app, Events: ui.BusEvents(e.app.Bus()),
		User: "tester", Tick: 50 * time.Millisecond, Timeout: 5 * time.Second,
	}
	return e
}

// runSender runs the App's outbox sender until the test ends.
func (e *flowEnv) runSender(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.app.RunSender(ctx, false)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// probe wraps the model under test so that the test can read its screen
// on the program's goroutine (no race with Update).
type probe struct{ m *ui.Model }

// snapshotMsg asks the probe for the screen, unstyled.
type snapshotMsg chan string

func (p probe) Init() tea.Cmd { return p.m.Init() }

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ch, ok := msg.(snapshotMsg); ok {
		ch <- plain(p.m)
		return p, nil
	}
	_, cmd := p.m.Update(msg)
	return p, cmd
}

func (p probe) View() tea.View { return p.m.View() }

// start runs the UI under teatest at 100×30 and waits for the inbox.
func (e *flowEnv) start(t *testing.T) {
	t.Helper()
	e.model = ui.New(e.deps).WithLocation(time.UTC)
	e.tm = teatest.NewTestModel(t, probe{e.model}, teatest.WithInitialTermSize(100, 30))
	t.Cleanup(func() { _ = e.tm.Quit() })
	e.waitOutput(t, "Order #5531")
}

func (e *flowEnv) waitOutput(t *testing.T, s string) {
	t.Helper()
	teatest.WaitFor(t, e.tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// screen returns the screen as the model draws it now, unstyled.
func (e *flowEnv) screen(t *testing.T) string {
	t.Helper()
	ch := make(snapshotMsg, 1)
	e.tm.Send(ch)
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the program did not answer a snapshot within 10 s")
		return ""
	}
}

// waitScreen polls the screen (bounded: 10 s) until cond holds, and
// returns it; it fails with what and the last screen if it never does.
func (e *flowEnv) waitScreen(t *testing.T, what string, cond func(screen string) bool) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.screen(t)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; the screen:\n%s", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *flowEnv) keys(keys ...string) {
	for _, k := range keys {
		e.tm.Send(keyMsg(k))
	}
}

// final quits and returns the final screen, unstyled.
func (e *flowEnv) final(t *testing.T) string {
	t.Helper()
	if err := e.tm.Quit(); err != nil {
		t.Fatal(err)
	}
	p := e.tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(probe)
	return plain(p.m)
}

// eventually polls cond (bounded: 10 s) and fails with what if it never holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deliveryStatus returns the stored status of delivery id.
func (e *flowEnv) deliveryStatus(t *testing.T, id string) string {
	t.Helper()
	dls, err := e.d.Deliveries(context.Background(), db.DeliveryFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, dl := range dls {
		if dl.ID == id {
			return dl.Status
		}
	}
	t.Fatalf("no delivery %s", id)
	return ""
}

func TestFlowOpenMessage(t *testing.T) {
	e := newFlowEnv(t, nil)
	e.start(t)
	e.keys("j", "enter")
	e.waitOutput(t, "Webhook deliveries")
	eventually(t, "the message marked read", func() bool {
		return mustDetail(t, e.d, fixture.LoginID).Seen
	})
	out := e.final(t)
	for _, want := range []string{"Subject:  Cannot log in since this morning", "Decision: ticket", "confidence 0.91 > 0.80", "Hello,"} {
		if !strings.Contains(out, want) {
			t.Errorf("message view lacks %q:\n%s", want, out)
		}
	}
}

func TestFlowOverrideIntoTicket(t *testing.T) {
	e := newFlowEnv(t, nil)
	e.start(t)
	// The intern's email (second to last by date) has no decision.
	e.keys("G", "k", "T")
	e.waitOutput(t, "[y/n]")
	e.keys("y")
	eventually(t, "the receiver to verify the ticket", func() bool {
		return strings.Contains(e.out.String(), fixture.InternID)
	})
	_, valid, _ := e.rv.Stats()
	if valid < 1 {
		t.Fatalf("receiver verified %d deliveries, want ≥ 1", valid)
	}
	md, err := e.d.MessageDetail(context.Background(), fixture.InternID)
	if err != nil {
		t.Fatal(err)
	}
	if md.Triage == nil || md.Triage.Action != "ticket" || md.Triage.DecidedBy != "human:tester" {
		t.Fatalf("decision = %+v, want ticket by human:tester", md.Triage)
	}
	// The status bar confirms the override, or already the delivery
	// that followed it.
	if out := e.final(t); !strings.Contains(out, "suggested as ticket") && !strings.Contains(out, "delivered dlv_") {
		t.Errorf("status bar does not confirm the override:\n%s", out)
	}
}

func TestFlowReplayDead(t *testing.T) {
	e := newFlowEnv(t, func(d *db.DB) {
		// Replaying needs an enabled endpoint: the dead delivery's endpoint
		// was fixed by hand.
		if _, err := d.EnableEndpoint(context.Background(), fixture.EndpointBroken); err != nil {
			t.Fatal(err)
		}
	})
	e.start(t)
	e.keys("4")
	e.waitOutput(t, "upstream exploded") // the log has loaded
	e.keys("j", "j", "r")
	eventually(t, "the dead delivery to be delivered", func() bool {
		return e.deliveryStatus(t, fixture.DeliveryDead) == "delivered"
	})
	if !strings.Contains(e.out.String(), fixture.WebhookDead) {
		t.Errorf("the receiver did not get webhook-id %s:\n%s", fixture.WebhookDead, e.out.String())
	}
	if out := e.final(t); !strings.Contains(out, "replay queued for "+fixture.DeliveryDead) &&
		!strings.Contains(out, "delivered "+fixture.DeliveryDead) {
		t.Errorf("status bar does not confirm the replay:\n%s", out)
	}
}

func TestFlowReenableEndpoint(t *testing.T) {
	e := newFlowEnv(t, nil)
	e.start(t)
	e.keys("5")
	e.waitOutput(t, "AUTO-OFF")
	e.keys("j", "e")
	eventually(t, "the paused delivery to go out", func() bool {
		return e.deliveryStatus(t, "dlv_order_broken") == "delivered"
	})
	// Let a refresh tick reach the model, then check the banner is gone.
	time.Sleep(200 * time.Millisecond)
	out := e.final(t)
	if strings.Contains(out, "auto-disabled") {
		t.Errorf("the banner is still shown after re-enabling:\n%s", out)
	}
	if !strings.Contains(out, "enabled: its queue resumes") && !strings.Contains(out, "delivered dlv_order_broken") {
		t.Errorf("status bar does not confirm:\n%s", out)
	}
}

var _ tea.Model = (*ui.Model)(nil)

func TestFlowExternalEditor(t *testing.T) {
	e := newFlowEnv(t, nil)
	// The "editor" rewrites the file it is given, as a person would.
	e.deps.Editor = "sed -i s/thank/THANK/"
	e.start(t)
	e.keys("2")
	e.waitOutput(t, "thank you for letting us know") // the list has loaded
	e.keys("E")
	eventually(t, "the edited draft to be saved", func() bool {
		return strings.Contains(mustDraft(t, e.d, 1).Body, "THANK you for letting us know")
	})
	// The store has it; the drafts screen reloads and shows the edited
	// text. Read from the model's screen, not the terminal stream: after
	// the editor hands the terminal back, the renderer may redraw only
	// the changed cells, or draw the reload in the frame that restores the
	// screen, and the status bar's "saved" may already be replaced by the
	// sender's next notice.
	e.waitScreen(t, "the edited draft on the drafts screen", func(screen string) bool {
		return strings.Contains(screen, "THANK you for letting us know")
	})
}
