package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrDuplicateEvent is returned by EnqueueEventTx when the message already
// has a real ticket.suggested event: re-triage never queues a second one.
var ErrDuplicateEvent = errors.New("message already has a ticket.suggested event")

// NewEvent is an event to put in the outbox.
type NewEvent struct {
	Type      string // "ticket.suggested"
	MessageID string // the email id; "" for endpoint tests
	Payload   []byte // the exact JSON body
	Test      bool   // an endpoint test: shown as such, exempt from the one-ticket rule
	DecidedBy string // "engine" or "human:<who>"
	// EndpointID restricts delivery to one endpoint (endpoint tests); ""
	// means every endpoint not removed.
	EndpointID string
}

// NewID returns a random id with the given prefix ("evt_", "dlv_"...).
func NewID(prefix string) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("db: crypto/rand: %v", err)) // the OS RNG does not fail on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// WebhookID derives the Standard Webhooks webhook-id of an event delivered
// to an endpoint: stable across retries, replays and restarts, distinct per
// endpoint, so receivers can deduplicate.
func WebhookID(eventID, endpointID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + endpointID))
	return "msg_" + hex.EncodeToString(sum[:12])
}

// EnqueueEventTx inserts the event and one delivery per endpoint inside the
// caller's transaction: pending for enabled endpoints, paused for disabled
// ones. It returns the event id, or ErrDuplicateEvent when the message
// already has a real ticket.suggested event. The caller commits, then wakes
// the sender.
func EnqueueEventTx(ctx context.Context, tx *sql.Tx, nowMS int64, ev NewEvent) (string, error) {
	id := NewID("evt_")
	decidedBy := ev.DecidedBy
	if decidedBy == "" {
		decidedBy = "engine"
	}
	var msgID any
	if ev.MessageID != "" {
		msgID = ev.MessageID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO events (id, type, message_id, payload, test, decided_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		id, ev.Type, msgID, ev.Payload, ev.Test, decidedBy, nowMS)
	if err != nil {
		return "", fmt.Errorf("enqueue event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", ErrDuplicateEvent
	}
	q := `SELECT id, enabled FROM endpoints`
	args := []any{}
	if ev.EndpointID != "" {
		q += ` WHERE id = ?`
		args = append(args, ev.EndpointID)
	}
	rows, err := tx.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return "", fmt.Errorf("enqueue event: %w", err)
	}
	type ep struct {
		id      string
		enabled bool
	}
	var eps []ep
	for rows.Next() {
		var e ep
		if err := rows.Scan(&e.id, &e.enabled); err != nil {
			rows.Close()
			return "", fmt.Errorf("enqueue event: %w", err)
		}
		eps = append(eps, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("enqueue event: %w", err)
	}
	for _, e := range eps {
		status := "pending"
		var next any = nowMS
		if !e.enabled {
			status, next = "paused", nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries
			(id, kind, queue, endpoint_id, event_id, webhook_id, status, next_attempt_at, created_at, updated_at)
			VALUES (?, 'webhook', ?, ?, ?, ?, ?, ?, ?, ?)`,
			NewID("dlv_"), e.id, e.id, id, WebhookID(id, e.id), status, next, nowMS, nowMS); err != nil {
			return "", fmt.Errorf("enqueue event: %w", err)
		}
	}
	return id, nil
}
