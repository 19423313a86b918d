package db

import (
	"context"
	"fmt"
)

// Counts is a summary of the store: what the demo prints at the end and a
// health check shows.
type Counts struct {
	Messages int
	// Triaged counts the messages with a triage result.
	Triaged int
	// Tickets counts the ticket.suggested events (test events excluded).
	Tickets int
	// WebhooksDelivered and WebhookAttempts count webhook deliveries
	// delivered and the attempts of all webhook deliveries.
	WebhooksDelivered int
	WebhookAttempts   int
	// Deliveries counts every outbox row (webhooks and replies).
	Deliveries    int
	DraftsPending int
}

// Counts returns the store's summary counts.
func (d *DB) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := d.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM messages),
		(SELECT COUNT(*) FROM triage_results),
		(SELECT COUNT(*) FROM events WHERE type = 'ticket.suggested' AND test = 0),
		(SELECT COUNT(*) FROM deliveries WHERE kind = 'webhook' AND status = 'delivered'),
		(SELECT COUNT(*) FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq WHERE d.kind = 'webhook'),
		(SELECT COUNT(*) FROM deliveries),
		(SELECT COUNT(*) FROM drafts WHERE status = 'pending')`).
		Scan(&c.Messages, &c.Triaged, &c.Tickets, &c.WebhooksDelivered, &c.WebhookAttempts, &c.Deliveries, &c.DraftsPending)
	if err != nil {
		return c, fmt.Errorf("counts: %w", err)
	}
	return c, nil
}
