package ui_test

import (
	"context"
	"strings"
	"testing"

	"smista/db"
)

// TestEndpointAdmin walks the endpoints screen through every action with
// the real actions on the store: add (secret shown once), rotate, test,
// disable, remove; and "replay all matching" (the dead ones of an
// endpoint) from the delivery log.
func TestEndpointAdmin(t *testing.T) {
	d := seededDB(t)
	deps := testDeps(d)
	m := newModel(t, deps, 100, 30)
	ctx := context.Background()

	press(t, m, "5", "a")
	typeText(t, m, "http://127.0.0.1:9/new-hook")
	press(t, m, "enter")
	out := plain(m)
	if !strings.Contains(out, "Signing secret for") || !strings.Contains(out, "whsec_") {
		t.Fatalf("the new secret is not shown:\n%s", out)
	}
	press(t, m, "x") // any key but c closes it
	if out := plain(m); strings.Contains(out, "whsec_") || !strings.Contains(out, "http://127.0.0.1:9/new-hook") {
		t.Fatalf("the secret must be shown once, the endpoint listed:\n%s", out)
	}
	eps, err := d.Endpoints(ctx)
	if err != nil || len(eps) != 3 {
		t.Fatalf("endpoints = %v, %v; want 3", eps, err)
	}
	newID := eps[2].ID

	press(t, m, "G", "r", "y")
	if out := plain(m); !strings.Contains(out, "Signing secret for "+newID) {
		t.Fatalf("rotation does not show the new secret:\n%s", out)
	}
	press(t, m, "esc", "t")
	if n, err := d.CountDeliveries(ctx, db.DeliveryFilter{EndpointID: newID}); err != nil || n != 1 {
		t.Fatalf("test deliveries for %s = %d, %v; want 1", newID, n, err)
	}
	press(t, m, "e")
	eps, _ = d.Endpoints(ctx)
	if eps[2].Enabled || eps[2].AutoDisabled() {
		t.Fatalf("after e the endpoint must be disabled by the user: %+v", eps[2])
	}
	press(t, m, "x", "y")
	if eps, _ = d.Endpoints(ctx); len(eps) != 2 {
		t.Fatalf("after x y %d endpoints remain, want 2", len(eps))
	}

	// Re-enable the broken endpoint, then replay all its dead deliveries.
	press(t, m, "g", "j", "e")
	if eps, _ = d.Endpoints(ctx); !eps[1].Enabled {
		t.Fatalf("the auto-disabled endpoint was not re-enabled: %+v", eps[1])
	}
	if out := plain(m); strings.Contains(out, "auto-disabled") {
		t.Fatalf("the banner must go once the endpoint is handled:\n%s", out)
	}
	press(t, m, "4", "f", "f", "R", "y")
	if n, _ := d.CountDeliveries(ctx, db.DeliveryFilter{Status: "dead"}); n != 0 {
		t.Fatalf("%d dead deliveries left after R y", n)
	}
	if out := plain(m); !strings.Contains(out, "1 dead deliveries queued again") {
		t.Errorf("no confirmation:\n%s", out)
	}
	// The time filter narrows what R replays: nothing was queued in the
	// future, so nothing more is replayed after a delivered one dies.
	press(t, m, "t")
	if out := plain(m); !strings.Contains(out, "last hour") {
		t.Errorf("the time filter is not shown:\n%s", out)
	}
}
