package db_test

import (
	"context"
	"testing"

	"smista/db"
	"smista/db/dbtest"
)

// A ticket decided while no endpoint existed is queued, once, to the
// endpoints added later, with the webhook-id every delivery gets.
func TestQueueUndeliveredTickets(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	email := dbtest.SeedTicket(t, d, "Cannot log in")
	if n, err := d.UndeliveredTickets(ctx); err != nil || n != 1 {
		t.Fatalf("undelivered %d, %v; want 1", n, err)
	}
	if n, err := d.QueueUndeliveredTickets(ctx); err != nil || n != 0 {
		t.Fatalf("queue with no endpoint: %d, %v; want 0", n, err)
	}
	ep1, _ := dbtest.SeedEndpoint(t, d, "http://127.0.0.1:9/a")
	ep2, _ := dbtest.SeedEndpoint(t, d, "http://127.0.0.1:9/b")
	if _, err := d.DisableEndpoint(ctx, ep2, "disabled by user"); err != nil {
		t.Fatal(err)
	}
	if n, err := d.QueueUndeliveredTickets(ctx); err != nil || n != 1 {
		t.Fatalf("queue: %d, %v; want 1", n, err)
	}
	if n, err := d.QueueUndeliveredTickets(ctx); err != nil || n != 0 {
		t.Fatalf("queue again: %d, %v; want 0 (never twice)", n, err)
	}
	if n, _ := d.UndeliveredTickets(ctx); n != 0 {
		t.Fatalf("undelivered after queueing: %d", n)
	}
	dls, err := d.Deliveries(ctx, db.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]db.DeliveryItem{}
	for _, dl := range dls {
		got[dl.EndpointID] = dl
	}
	if len(got) != 2 || got[ep1].Status != "pending" || got[ep2].Status != "paused" {
		t.Fatalf("deliveries %+v, want one pending to %s and one paused to %s", dls, ep1, ep2)
	}
	for ep, dl := range got {
		// An email's ticket: the webhook-id of the email and the receiver's URL.
		if dl.EmailID != email || dl.EventID != got[ep1].EventID || dl.WebhookID != db.WebhookID(email, dl.URL) {
			t.Errorf("delivery to %s: email %s event %s webhook-id %s; want the ticket's one event and its derived webhook-id",
				ep, dl.EmailID, dl.EventID, dl.WebhookID)
		}
	}
}
