package ui_test

import (
	"context"
	"strings"
	"testing"

	"smista/db"
	"smista/db/dbtest"
)

// The endpoints screen says when tickets have no delivery, and b queues
// them to the endpoints.
func TestEndpointsBackfillKey(t *testing.T) {
	d := dbtest.MustOpen(t)
	dbtest.SeedTicket(t, d, "Cannot log in")
	dbtest.SeedEndpoint(t, d, "http://127.0.0.1:9/hook")
	m := newModel(t, testDeps(d), 100, 24)
	press(t, m, "5")
	if out := plain(m); !strings.Contains(out, "1 ticket(s) have no delivery") || !strings.Contains(out, "b queues them") {
		t.Fatalf("the endpoints screen does not say a ticket has no delivery:\n%s", out)
	}
	press(t, m, "b")
	n, err := d.CountDeliveries(context.Background(), db.DeliveryFilter{})
	if err != nil || n != 1 {
		t.Fatalf("%d deliveries after b (%v), want 1", n, err)
	}
	if out := plain(m); strings.Contains(out, "have no delivery") || !strings.Contains(out, "1 ticket(s) queued") {
		t.Errorf("after b the note must be gone and the action confirmed:\n%s", out)
	}
}
