// Package dbtest opens and fills stores for the tests of other packages.
// It uses db's public methods only, so a test sees the rows the program
// would write, and no test outside package db writes SQL.
package dbtest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/mail"
	"smista/triage"
	"smista/webhook"
)

// MustOpen opens a fresh store in a file under tb's temp dir (WAL, as in
// production) and closes it when the test ends.
func MustOpen(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), filepath.Join(tb.TempDir(), "smista.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// Message returns a plain message with a Message-ID made from key, dated
// at, with the email id the program derives from that Message-ID.
func Message(key, subject string, at time.Time) *mail.Message {
	mid := "<" + key + "@dbtest.invalid>"
	return &mail.Message{
		ID: mail.EmailID(mid), MessageID: mid, ThreadID: mail.EmailID(mid),
		From:    mail.Address{Name: "Customer", Addr: "customer@dbtest.invalid"},
		To:      []mail.Address{{Addr: "support@dbtest.invalid"}},
		Subject: subject, Date: at, Text: "I cannot log in.", Raw: []byte("Subject: " + subject + "\r\n\r\nI cannot log in."),
	}
}

// SeedMessages stores msgs (source "test") and returns the ids it added.
func SeedMessages(tb testing.TB, d *db.DB, msgs ...*mail.Message) []string {
	tb.Helper()
	ids, err := d.SaveMessages(context.Background(), "test", msgs)
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// SeedEndpoint stores an enabled endpoint for url with a fresh secret and
// returns both.
func SeedEndpoint(tb testing.TB, d *db.DB, url string) (id, secret string) {
	tb.Helper()
	secret, err := webhook.GenerateSecret()
	if err != nil {
		tb.Fatal(err)
	}
	id, err = d.CreateEndpoint(context.Background(), url, secret)
	if err != nil {
		tb.Fatal(err)
	}
	return id, secret
}

// SeedEvents queues one ticket.suggested event per payload, without an
// email (what the sender sees of a ticket), in one transaction, each with a
// delivery per endpoint; it returns the event ids.
func SeedEvents(tb testing.TB, d *db.DB, payloads ...string) []string {
	tb.Helper()
	evs := make([]db.NewEvent, len(payloads))
	for i, p := range payloads {
		evs[i] = db.NewEvent{Type: triage.EventTicketSuggested, Payload: []byte(p)}
	}
	ids, err := d.EnqueueEvents(context.Background(), evs...)
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// SeedTicket stores a message with subject and triages it as a ticket, the
// way triage does (result, engine decision, and the ticket.suggested
// event with one delivery per endpoint, in one transaction). It returns
// the email id.
func SeedTicket(tb testing.TB, d *db.DB, subject string) string {
	tb.Helper()
	m := Message(db.NewID("ticket"), subject, d.Now())
	SeedMessages(tb, d, m)
	r := triage.Result{Intent: triage.IntentSupport, Confidence: 0.95, Priority: triage.PriorityNormal,
		Summary: subject, Language: "en", Model: "dbtest/1"}
	payload, err := triage.TicketPayload(m, r, "")
	if err != nil {
		tb.Fatal(err)
	}
	rec := triage.Record{EmailID: m.ID, Result: r, Payload: payload,
		Decision: triage.Decision{Action: triage.ActionTicket, Reasons: []string{"seeded by dbtest"}}}
	if _, err := d.SaveTriage(context.Background(), rec); err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

// Count returns how many of what the store holds, read through public
// queries: "messages", "triaged" (messages with a triage result),
// "tickets" (real ticket.suggested events), "deliveries", "deliveries:S"
// (in status S), "webhook deliveries", "webhook deliveries:S" (SMTP
// replies aside), "attempts" (of webhook deliveries), or "drafts:S"
// (drafts in status S, not discarded). Anything else fails the test.
func Count(tb testing.TB, d *db.DB, what string) int {
	tb.Helper()
	n, err := count(context.Background(), d, what)
	if err != nil {
		tb.Fatalf("count %s: %v", what, err)
	}
	return n
}

func count(ctx context.Context, d *db.DB, what string) (int, error) {
	kind, arg, _ := strings.Cut(what, ":")
	switch kind {
	case "webhook deliveries":
		return d.CountDeliveries(ctx, db.DeliveryFilter{Status: arg, Kind: "webhook"})
	case "deliveries":
		return d.CountDeliveries(ctx, db.DeliveryFilter{Status: arg})
	case "drafts":
		if arg == "" || arg == "discarded" {
			break
		}
		drafts, err := d.Drafts(ctx, 1<<20)
		n := 0
		for _, dr := range drafts {
			if dr.Status == arg {
				n++
			}
		}
		return n, err
	}
	if arg != "" {
		return 0, fmt.Errorf("dbtest cannot count %q", what)
	}
	c, err := d.Counts(ctx)
	switch what {
	case "messages":
		return c.Messages, err
	case "triaged":
		return c.Triaged, err
	case "tickets":
		return c.Tickets, err
	case "attempts":
		return c.WebhookAttempts, err
	}
	return 0, fmt.Errorf("dbtest cannot count %q", what)
}
