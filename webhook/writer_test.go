package webhook_test

import (
	"context"
	"testing"
	"time"

	"smista/db/dbtest"
	"smista/webhook"
)

// TestWriterCommitsWhenNothingIsInFlight: the writer waits for more
// outcomes to batch only while attempts are running or handed to a
// worker. With an hour's flush delay a drain still ends as soon as its
// last attempt is made: the commit does not wait out the delay.
func TestWriterCommitsWhenNothingIsInFlight(t *testing.T) {
	clk := newClock()
	d := mustOpenDB(t, clk.Now)
	rv := newReceiver(t, clk.Now)
	_, secret := dbtest.SeedEndpoint(t, d, rv.srv.URL+"/hook")
	rv.setSecrets(secret)
	dbtest.SeedEvents(t, d, `{"email_id":"e1"}`, `{"email_id":"e2"}`, `{"email_id":"e3"}`)
	opts := fastOptions(clk)
	opts.FlushDelay, opts.BusyFlushDelay = time.Hour, time.Hour
	// The bound only ends the test if the writer does wait: the drain
	// itself takes milliseconds.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := webhook.NewSender(d, opts).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the drain ran until its context ended: the writer waited out its flush delay")
	}
	if n := dbtest.Count(t, d, "webhook deliveries:delivered"); n != 3 {
		t.Errorf("%d delivered, want 3", n)
	}
}
