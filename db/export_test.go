package db

import (
	"context"
	"database/sql"
)

// This file gives the tests of package db (db_test included) what other
// packages do not get: the pools, to check rows and pragmas directly, and
// the enqueuer inside a caller's transaction.

// Writer returns the single-connection pool used for writes.
func (d *DB) Writer() *sql.DB { return d.w }

// Reader returns the read-only pool.
func (d *DB) Reader() *sql.DB { return d.r }

// EnqueueEventTx is enqueueEventTx with ids from NewID.
func EnqueueEventTx(ctx context.Context, tx *sql.Tx, nowMS int64, ev NewEvent) (string, error) {
	return enqueueEventTx(ctx, tx, NewID, nowMS, ev)
}

// Enqueuer is the enqueuer of one transaction.
type Enqueuer struct{ e *enqueuer }

// NewEnqueuer is newEnqueuer with ids from NewID.
func NewEnqueuer(ctx context.Context, tx *sql.Tx) (Enqueuer, error) {
	e, err := newEnqueuer(ctx, tx, NewID)
	return Enqueuer{e}, err
}

// Enqueue queues one event on the enqueuer's transaction.
func (x Enqueuer) Enqueue(ctx context.Context, nowMS int64, ev NewEvent) (string, error) {
	return x.e.enqueue(ctx, nowMS, ev)
}

// Close releases the enqueuer's statements.
func (x Enqueuer) Close() error { return x.e.close() }

// EventWebhookID is the webhook-id of an event of no email.
func EventWebhookID(eventID, endpointID string) string { return testWebhookID(eventID, endpointID) }
