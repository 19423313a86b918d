package dbtest

import (
	"context"
	"testing"
	"time"
)

// TestSeedsAndCounts seeds through each helper and reads the result back
// through Count: two endpoints, three bare events, one triaged ticket.
func TestSeedsAndCounts(t *testing.T) {
	d := MustOpen(t)
	for what, want := range map[string]int{"messages": 0, "tickets": 0, "deliveries": 0, "attempts": 0} {
		if got := Count(t, d, what); got != want {
			t.Errorf("fresh store: %s = %d, want %d", what, got, want)
		}
	}
	SeedEndpoint(t, d, "http://127.0.0.1:9/a")
	SeedEndpoint(t, d, "http://127.0.0.1:9/b")
	if ids := SeedEvents(t, d, `{"n":1}`, `{"n":2}`, `{"n":3}`); len(ids) != 3 || ids[0] == ids[1] {
		t.Fatalf("event ids %v, want three distinct", ids)
	}
	id := SeedTicket(t, d, "Cannot log in")
	SeedMessages(t, d, Message("plain", "Hello", time.Unix(100, 0)))
	for what, want := range map[string]int{
		"messages":                   2,
		"triaged":                    1,
		"tickets":                    4, // the bare events are real ticket events too
		"deliveries":                 8, // (3 events + 1 ticket) × 2 endpoints
		"deliveries:pending":         8,
		"webhook deliveries:pending": 8,
		"deliveries:delivered":       0,
		"drafts:pending":             0,
	} {
		if got := Count(t, d, what); got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	md, err := d.MessageDetail(context.Background(), id)
	if err != nil || md.Triage == nil || md.Triage.Action != "ticket" || len(md.Deliveries) != 2 {
		t.Fatalf("seeded ticket %s: %+v, %v; want triaged as a ticket with 2 deliveries", id, md, err)
	}
}

func TestCountRefusesUnknown(t *testing.T) {
	d := MustOpen(t)
	for _, what := range []string{"events", "drafts", "drafts:discarded", ""} {
		if _, err := count(context.Background(), d, what); err == nil {
			t.Errorf("count %q: no error", what)
		}
	}
}
