package db

import (
	"context"
	"fmt"
)

// undeliveredSQL selects the real ticket.suggested events that have no
// delivery at all: decided while no endpoint existed.
const undeliveredSQL = `FROM events e WHERE e.type = 'ticket.suggested' AND e.test = 0
	AND NOT EXISTS (SELECT 1 FROM deliveries dl WHERE dl.event_id = e.id)`

// UndeliveredTickets returns how many tickets have no delivery: they were
// decided while no endpoint existed.
func (d *DB) UndeliveredTickets(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) `+undeliveredSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("undelivered tickets: %w", err)
	}
	return n, nil
}

// QueueUndeliveredTickets gives every ticket without a delivery one
// delivery per endpoint that exists now, with the same webhook-id rules as
// any delivery, in one transaction, and returns how many tickets it
// queued (none while there is no endpoint).
func (d *DB) QueueUndeliveredTickets(ctx context.Context) (int, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("queue undelivered tickets: %w", err)
	}
	defer tx.Rollback()
	e, err := newEnqueuer(ctx, tx, d.newID)
	if err != nil {
		return 0, fmt.Errorf("queue undelivered tickets: %w", err)
	}
	defer e.close()
	if len(e.eps) == 0 {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT e.id, COALESCE(e.message_id, '') `+undeliveredSQL+` ORDER BY e.created_at, e.id`)
	if err != nil {
		return 0, fmt.Errorf("queue undelivered tickets: %w", err)
	}
	var ids, emails []string
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			rows.Close()
			return 0, fmt.Errorf("queue undelivered tickets: %w", err)
		}
		ids, emails = append(ids, id), append(emails, email)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("queue undelivered tickets: %w", err)
	}
	now := d.nowMS()
	for i, id := range ids {
		if err := e.deliver(ctx, id, emails[i], now, ""); err != nil {
			return 0, fmt.Errorf("queue undelivered tickets: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("queue undelivered tickets: %w", err)
	}
	return len(ids), nil
}
