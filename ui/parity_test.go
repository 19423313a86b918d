package ui_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"smista/app"
	"smista/db"
	"smista/ui"
	"smista/ui/internal/fixture"
	"smista/webhook"
)

// The tests of this file do one operation through the TUI on one fixture
// store and directly through the App on another, and compare what the two
// stores hold afterwards (through public db methods) and the error the
// user sees.

// parityPair is a fixture store driven through the TUI, and another
// driven directly through an App.
type parityPair struct {
	tuiDB, appDB *db.DB
	m            *ui.Model
	app          *app.App
}

func newParity(t *testing.T, allowPrivate bool) *parityPair {
	t.Helper()
	on := func(d *db.DB) *app.App {
		a, err := app.New(app.Options{Store: d, Now: fixture.Now,
			Sender: webhook.Options{Guard: webhook.Guard{AllowPrivate: allowPrivate}}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	p := &parityPair{tuiDB: seededDB(t), appDB: seededDB(t)}
	p.app = on(p.appDB)
	deps := testDeps(p.tuiDB)
	deps.Actions = on(p.tuiDB)
	// Wide enough that the status bar shows a whole error.
	p.m = newModel(t, deps, 240, 30)
	return p
}

// endpoints returns the stored endpoints with the generated ids blanked.
func endpoints(t *testing.T, d *db.DB) []db.Endpoint {
	t.Helper()
	eps, err := d.Endpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range eps {
		if eps[i].ID != fixture.EndpointOK && eps[i].ID != fixture.EndpointBroken {
			eps[i].ID = ""
		}
	}
	return eps
}

// detail returns an email's stored decision and deliveries with the
// generated ids blanked. The webhook-id is one of them today: db derives
// it from the (random) event id, not from the Message-ID and the URL as
// DESIGN.md's "Identity across installations" says.
func detail(t *testing.T, d *db.DB, id string) (*db.TriageInfo, []db.DeliveryItem) {
	t.Helper()
	md := mustDetail(t, d, id)
	for i := range md.Deliveries {
		md.Deliveries[i].ID, md.Deliveries[i].EventID, md.Deliveries[i].WebhookID = "", "", ""
	}
	return md.Triage, md.Deliveries
}

func (p *parityPair) sameEndpoints(t *testing.T) {
	t.Helper()
	if a, b := endpoints(t, p.tuiDB), endpoints(t, p.appDB); !reflect.DeepEqual(a, b) {
		t.Errorf("stored endpoints differ:\nTUI %+v\nApp %+v", a, b)
	}
}

func (p *parityPair) sameDetail(t *testing.T, id string) {
	t.Helper()
	ta, da := detail(t, p.tuiDB, id)
	tb, dbb := detail(t, p.appDB, id)
	if !reflect.DeepEqual(ta, tb) || !reflect.DeepEqual(da, dbb) {
		t.Errorf("stored state of %s differs:\nTUI %+v %+v\nApp %+v %+v", id, ta, da, tb, dbb)
	}
}

// sameError fails unless the TUI's status bar shows err as it is, with
// no prefix stacked in front.
func (p *parityPair) sameError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("the App accepted what it should refuse")
	}
	out := plain(p.m)
	want := "│ error: " + err.Error() + "\n"
	if !strings.Contains(out, want) {
		t.Errorf("the status bar does not show %q:\n%s", want, out)
	}
}

func TestParityEndpointAddRefused(t *testing.T) {
	tests := map[string]string{
		"cloud metadata (link-local)":   "http://169.254.169.254/latest/meta-data",
		"private, allow_private=false":  "http://10.1.2.3/hook",
		"loopback, allow_private=false": "http://127.0.0.1:8080/hook",
		"not http":                      "ftp://hooks.example.com/x",
	}
	for name, url := range tests {
		t.Run(name, func(t *testing.T) {
			p := newParity(t, false)
			press(t, p.m, "5", "a")
			typeText(t, p.m, url)
			press(t, p.m, "enter")
			_, err := p.app.AddEndpoint(context.Background(), url, "")
			p.sameError(t, err)
			p.sameEndpoints(t)
			if eps := endpoints(t, p.tuiDB); len(eps) != 2 {
				t.Errorf("%d endpoints stored, want the fixture's 2", len(eps))
			}
		})
	}
}

func TestParityEndpointAddNormalised(t *testing.T) {
	p := newParity(t, true)
	raw := "HTTP://127.0.0.1:9/new hook"
	press(t, p.m, "5", "a")
	typeText(t, p.m, raw)
	press(t, p.m, "enter", "esc") // esc closes the secret
	ep, err := p.app.AddEndpoint(context.Background(), raw, "")
	if err != nil {
		t.Fatal(err)
	}
	if ep.URL == raw {
		t.Fatalf("the URL %q was not normalised", raw)
	}
	p.sameEndpoints(t)
	if eps := endpoints(t, p.tuiDB); len(eps) != 3 || eps[2].URL != ep.URL {
		t.Errorf("TUI stored %+v, want a third endpoint at %s", eps, ep.URL)
	}
}

func TestParityRotate(t *testing.T) {
	p := newParity(t, true)
	press(t, p.m, "5", "r", "y")
	if out := plain(p.m); !strings.Contains(out, "Signing secret for "+fixture.EndpointOK) {
		t.Fatalf("rotation did not show the new secret:\n%s", out)
	}
	press(t, p.m, "esc")
	if _, _, err := p.app.RotateSecret(context.Background(), fixture.EndpointOK); err != nil {
		t.Fatal(err)
	}
	p.sameEndpoints(t)
	if eps := endpoints(t, p.tuiDB); eps[0].RotatingUntil.IsZero() {
		t.Errorf("no rotation stored: %+v", eps[0])
	}
}

func TestParityOverride(t *testing.T) {
	p := newParity(t, true)
	ctx := context.Background()
	// T on the intern's email (second to last by date).
	press(t, p.m, "G", "k", "T", "y")
	if err := p.app.SuggestTicket(ctx, fixture.InternID, "tester"); err != nil {
		t.Fatal(err)
	}
	p.sameDetail(t, fixture.InternID)
	if tr, dls := detail(t, p.tuiDB, fixture.InternID); tr == nil || tr.Action != "ticket" || len(dls) == 0 {
		t.Fatalf("T stored no ticket: %+v %+v", tr, dls)
	}

	// N on the same email: its undelivered deliveries are canceled.
	press(t, p.m, "N", "y")
	if _, err := p.app.NotTicket(ctx, fixture.InternID, "tester"); err != nil {
		t.Fatal(err)
	}
	p.sameDetail(t, fixture.InternID)

	// T again is refused the same way (the email has its event).
	press(t, p.m, "T", "y")
	p.sameError(t, p.app.SuggestTicket(ctx, fixture.InternID, "tester"))
	p.sameDetail(t, fixture.InternID)

	// N on the order email is refused: a delivery was attempted.
	press(t, p.m, "g", "N", "y")
	_, err := p.app.NotTicket(ctx, fixture.OrderID, "tester")
	p.sameError(t, err)
	p.sameDetail(t, fixture.OrderID)
}
