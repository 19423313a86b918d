package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"smista/webhook"
)

// replayable are the statuses a bulk replay takes: the deliveries that
// are over. Waiting ones (pending, retrying, paused) are already queued.
var replayable = []string{webhook.StatusDead, webhook.StatusDelivered, webhook.StatusCanceled}

// ReplayResult is what ReplayMatching did.
type ReplayResult struct {
	// Queued deliveries are pending again: same event, same webhook-id, a
	// fresh retry round.
	Queued int
	// Skipped deliveries matched but were left alone: their endpoint is
	// disabled (enable it first) or removed.
	Skipped int
}

// ReplayMatching queues again, in one transaction, every webhook delivery
// to an endpoint that matches f (its Offset and Limit aside): same event,
// same webhook-id, a fresh retry round, attempt numbers continuing. f's
// Status must be dead, delivered or canceled; otherwise it fails with an
// error wrapping ErrNotReplayable and changes nothing.
func (d *DB) ReplayMatching(ctx context.Context, f DeliveryFilter) (ReplayResult, error) {
	var res ReplayResult
	ok := false
	for _, s := range replayable {
		ok = ok || f.Status == s
	}
	if !ok {
		return res, fmt.Errorf("replay: status %q: want %s: %w", f.Status, strings.Join(replayable, ", "), ErrNotReplayable)
	}
	f.Kind, f.Offset, f.Limit = webhook.KindWebhook, 0, 0
	from, where, args := deliveryWhere(f)
	// Tries of "replay --to" (a URL, no endpoint) are never replayed.
	match := `SELECT dl.seq FROM ` + from + where + ` AND dl.url = ''`
	enabled := ` AND EXISTS (SELECT 1 FROM endpoints e WHERE e.id = dl.endpoint_id AND e.enabled = 1)`
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	defer tx.Rollback()
	var all int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+match+`)`, args...).Scan(&all); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	now := d.nowMS()
	r, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, deadline = NULL, updated_at = ?
		WHERE seq IN (`+match+enabled+`)`, append([]any{now, now}, args...)...)
	if err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	n, _ := r.RowsAffected()
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	res.Queued = int(n)
	res.Skipped = all - res.Queued
	return res, nil
}

// LogTry records the attempt o of "smista replay --to": the event of
// delivery from sent to another URL, once. It is logged as a test: a new
// test event with the same body and email, and a delivery to url (no
// endpoint, so nothing counts toward an endpoint's auto-disable) with
// the original's webhook-id, delivered or dead after its one attempt.
// The original delivery, its attempts and its counters are not touched.
// It returns the new delivery's id, or an error wrapping ErrNotFound.
func (d *DB) LogTry(ctx context.Context, from, url string, o webhook.Outcome) (string, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("log try: %w", err)
	}
	defer tx.Rollback()
	evID, dlID, now := d.newID("evt_"), d.newID("dlv_"), d.nowMS()
	r, err := tx.ExecContext(ctx, `INSERT INTO events (id, type, message_id, payload, test, decided_by, created_at)
		SELECT ?, e.type, e.message_id, e.payload, 1, 'human:replay-to', ? FROM deliveries dl JOIN events e ON e.id = dl.event_id
		WHERE dl.id = ?`, evID, now, from)
	if err != nil {
		return "", fmt.Errorf("log try: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return "", fmt.Errorf("log try: delivery %s: %w", from, ErrNotFound)
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (id, kind, queue, event_id, webhook_id, status, url, created_at, updated_at)
		VALUES (?, 'webhook', ?, ?, ?, 'pending', ?, ?, ?) RETURNING seq`,
		dlID, "try:"+from, evID, o.Delivery.WebhookID, url, now, now).Scan(&seq); err != nil {
		return "", fmt.Errorf("log try: %w", err)
	}
	o.Delivery.Seq, o.Delivery.ID, o.Delivery.EventID, o.Delivery.EndpointID = seq, dlID, evID, ""
	o.Delivery.Attempts, o.NextAttemptAt, o.Deadline = 0, time.Time{}, time.Time{}
	if o.Status != webhook.StatusDelivered {
		o.Status = webhook.StatusDead // one try, no retry
	}
	ins, upd, delivered := recordArgs([]webhook.Outcome{o})
	if err := recordTx(ctx, tx, nil, ins, upd, delivered, now); err != nil {
		return "", fmt.Errorf("log try: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("log try: %w", err)
	}
	return dlID, nil
}

// KnownWebhook returns what the store knows of a webhook-id (the doctor's
// "known"): the body of its event and its endpoint's secrets, current
// then previous ("" when none). It fails with an error wrapping
// ErrNotFound when no delivery has that webhook-id. It scans the
// deliveries (no index on webhook_id): a one-off for a diagnosis.
func (d *DB) KnownWebhook(ctx context.Context, webhookID string) (body []byte, secrets []string, err error) {
	var cur, prev string
	err = d.r.QueryRowContext(ctx, `SELECT COALESCE(v.payload, x''), COALESCE(e.secret, ''), COALESCE(e.prev_secret, '')
		FROM deliveries dl LEFT JOIN events v ON v.id = dl.event_id LEFT JOIN endpoints e ON e.id = dl.endpoint_id
		WHERE dl.webhook_id = ? ORDER BY dl.seq DESC LIMIT 1`, webhookID).Scan(&body, &cur, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("webhook-id %s: %w", webhookID, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("webhook-id %s: %w", webhookID, err)
	}
	for _, s := range []string{cur, prev} {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	return body, secrets, nil
}
