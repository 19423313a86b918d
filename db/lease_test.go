package db_test

import (
	"context"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
)

// TestLeaseOneHolder: a live lease has one owner; another takes it over
// only once it expired, and then the old owner's renewal fails (it must
// stop sending); a release frees it at once.
func TestLeaseOneHolder(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpen(t)
	now := time.UnixMilli(1_700_000_000_000)
	d.Now = func() time.Time { return now }
	ttl := 8 * time.Second

	l, ok, err := d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "a", Holder: "smista send (a)", TTL: ttl})
	if err != nil || !ok {
		t.Fatalf("first acquire: ok=%v err=%v", ok, err)
	}
	if !l.ExpiresAt.Equal(now.Add(ttl)) {
		t.Errorf("expires at %v, want %v", l.ExpiresAt, now.Add(ttl))
	}
	l, ok, err = d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "b", Holder: "smista tui (b)", TTL: ttl})
	if err != nil || ok {
		t.Fatalf("acquire of a live lease by b: ok=%v err=%v, want refused", ok, err)
	}
	if l.Owner != "a" || l.Holder != "smista send (a)" {
		t.Errorf("b sees the lease held by %q (%q), want a", l.Owner, l.Holder)
	}

	now = now.Add(ttl - time.Millisecond)
	if ok, err := d.RenewLease(ctx, db.LeaseSender, "a", ttl); err != nil || !ok {
		t.Fatalf("renew by a before expiry: ok=%v err=%v", ok, err)
	}
	now = now.Add(ttl - time.Millisecond)
	if _, ok, _ := d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "b", Holder: "b", TTL: ttl}); ok {
		t.Fatal("b took a lease a had renewed")
	}

	// a stops renewing (killed): once expired, b takes it over.
	now = now.Add(time.Millisecond)
	if _, held, _ := d.CurrentLease(ctx, db.LeaseSender); held {
		t.Error("CurrentLease says held at its expiry time")
	}
	l, ok, err = d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "b", Holder: "b", TTL: ttl})
	if err != nil || !ok || l.Owner != "b" {
		t.Fatalf("b after expiry: ok=%v owner=%q err=%v, want b holds it", ok, l.Owner, err)
	}
	if ok, err := d.RenewLease(ctx, db.LeaseSender, "a", ttl); err != nil || ok {
		t.Fatalf("renew by a after the takeover: ok=%v err=%v, want lost", ok, err)
	}
	// b renews by acquiring again: acquired_at stays.
	now = now.Add(time.Second)
	l2, ok, _ := d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "b", Holder: "b", TTL: ttl})
	if !ok || !l2.AcquiredAt.Equal(l.AcquiredAt) || !l2.ExpiresAt.Equal(now.Add(ttl)) {
		t.Errorf("re-acquire by the owner: %+v, want acquired_at kept and expiry moved", l2)
	}

	if err := d.ReleaseLease(ctx, db.LeaseSender, "a"); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := d.CurrentLease(ctx, db.LeaseSender); !held {
		t.Fatal("a's release freed b's lease")
	}
	if err := d.ReleaseLease(ctx, db.LeaseSender, "b"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "c", Holder: "c", TTL: ttl}); !ok {
		t.Fatal("the lease is not free after its owner released it")
	}

	// A live lease whose process is known gone is taken from that owner
	// only: a TakeFrom naming an older owner takes nothing.
	if _, ok, _ := d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "d", TTL: ttl, TakeFrom: "b"}); ok {
		t.Fatal("d took c's lease by naming b")
	}
	l, ok, err = d.AcquireLease(ctx, db.LeaseSender, db.LeaseRequest{Owner: "d", Holder: "d", Host: "h", PID: 7, TTL: ttl, TakeFrom: "c"})
	if err != nil || !ok || l.Host != "h" || l.PID != 7 {
		t.Fatalf("d taking over from c (gone): ok=%v lease=%+v err=%v", ok, l, err)
	}
}

// TestWebhookIDSameAcrossInstallations: two stores (two agents'
// installations) that queue a ticket for the same email to the same
// receiver give its delivery the same webhook-id; another receiver gets
// another id; endpoint tests always get new ids.
func TestWebhookIDSameAcrossInstallations(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ids := func(d *db.DB, url string) (ticket string, tests []string) {
		epID, _ := dbtest.SeedEndpoint(t, d, url)
		m := dbtest.Message("shared-1", "Login broken", at)
		dbtest.SeedMessages(t, d, m)
		if _, err := d.EnqueueEvents(ctx, db.NewEvent{Type: "ticket.suggested", MessageID: m.ID, Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := d.EnqueueTestEvent(ctx, epID, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := d.Deliveries(ctx, db.DeliveryFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Test {
				tests = append(tests, r.WebhookID)
			} else {
				ticket = r.WebhookID
			}
		}
		return ticket, tests
	}
	a, testsA := ids(dbtest.MustOpen(t), "http://127.0.0.1:9/hook")
	b, testsB := ids(dbtest.MustOpen(t), "http://127.0.0.1:9/hook")
	c, _ := ids(dbtest.MustOpen(t), "http://127.0.0.1:9/other")
	if a == "" || a != b {
		t.Errorf("two installations: webhook-ids %q and %q, want one id", a, b)
	}
	if a != db.WebhookID(dbtest.Message("shared-1", "", at).ID, "http://127.0.0.1:9/hook") {
		t.Errorf("webhook-id %q is not WebhookID(email id, url)", a)
	}
	if c == a {
		t.Error("another receiver got the same webhook-id")
	}
	seen := map[string]bool{a: true}
	for _, id := range append(testsA, testsB...) {
		if seen[id] {
			t.Errorf("endpoint test webhook-id %q repeats", id)
		}
		seen[id] = true
	}
}
