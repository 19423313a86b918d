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

// ErrEndpointBusy is returned by RemoveEndpoint when the endpoint still has
// deliveries waiting (pending, retrying or paused) and force is false.
var ErrEndpointBusy = errors.New("endpoint has undelivered deliveries")

// Endpoint is a webhook endpoint as listings show it, with its delivery
// counts: never its secret, which leaves the store only to sign (and once
// to the user when generated or rotated).
type Endpoint struct {
	ID             string
	URL            string
	Enabled        bool
	DisabledReason string
	DisabledAt     time.Time // zero while enabled
	CreatedAt      time.Time
	// RotatingUntil is the end of a secret rotation grace period (zero
	// when none): until then the previous secret signs too.
	RotatingUntil time.Time
	// Scheme is the signing scheme: "v1" (HMAC-SHA256) or "v1a"
	// (Ed25519); PublicKey is the whpk_ key a v1a receiver verifies with
	// ("" for v1: its secret is never shown again).
	Scheme    string
	PublicKey string
	Pending   int // pending, retrying or paused deliveries
	Dead      int
	Delivered int
}

// AutoDisabled reports whether the endpoint was disabled by the sender's
// failure policy rather than by a person: that needs the user's attention.
func (e Endpoint) AutoDisabled() bool {
	if e.Enabled || e.DisabledReason == "" {
		return false
	}
	r := strings.ToLower(e.DisabledReason)
	for _, p := range []string{"manual", "user", "human", "disabled by"} {
		if strings.HasPrefix(r, p) {
			return false
		}
	}
	return true
}

// endpointsSQL reads endpoints with their counts of deliveries waiting,
// dead and delivered, then a WHERE clause or an ORDER BY. Delivered rows
// have no index of their own: they are every row of the queue less those
// in deliveries_open.
const endpointsSQL = `SELECT ep.id, ep.url, ep.enabled, ep.disabled_reason,
	COALESCE(ep.disabled_at, 0), ep.created_at, CASE WHEN ep.prev_secret != '' THEN ep.prev_secret_until END,
	ep.scheme, ep.public_key,
	(SELECT COUNT(*) FROM deliveries dl WHERE dl.queue = ep.id AND ` + openRows + `
		AND dl.status IN ('pending', 'retrying', 'paused')),
	(SELECT COUNT(*) FROM deliveries dl WHERE dl.queue = ep.id AND dl.status = 'dead'),
	(SELECT COUNT(*) FROM deliveries dl WHERE dl.queue = ep.id)
		- (SELECT COUNT(*) FROM deliveries dl WHERE dl.queue = ep.id AND ` + openRows + `)
	FROM endpoints ep`

func scanEndpoint(sc interface{ Scan(...any) error }, now int64) (Endpoint, error) {
	var e Endpoint
	var dis, c int64
	var until sql.NullInt64
	if err := sc.Scan(&e.ID, &e.URL, &e.Enabled, &e.DisabledReason, &dis, &c, &until, &e.Scheme, &e.PublicKey,
		&e.Pending, &e.Dead, &e.Delivered); err != nil {
		return e, err
	}
	if dis > 0 && !e.Enabled {
		e.DisabledAt = time.UnixMilli(dis)
	}
	e.CreatedAt = time.UnixMilli(c)
	if until.Valid && until.Int64 > now {
		e.RotatingUntil = time.UnixMilli(until.Int64)
	}
	return e, nil
}

// Endpoints returns every endpoint, oldest first, with delivery counts.
func (d *DB) Endpoints(ctx context.Context) ([]Endpoint, error) {
	rows, err := d.r.QueryContext(ctx, endpointsSQL+` ORDER BY ep.created_at, ep.id`)
	if err != nil {
		return nil, fmt.Errorf("endpoints: %w", err)
	}
	defer rows.Close()
	now := d.nowMS()
	var out []Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows, now)
		if err != nil {
			return nil, fmt.Errorf("endpoints: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("endpoints: %w", err)
	}
	return out, nil
}

// Endpoint returns one endpoint with its delivery counts; it fails with an
// error wrapping ErrNotFound when there is no such endpoint.
func (d *DB) Endpoint(ctx context.Context, id string) (Endpoint, error) {
	e, err := scanEndpoint(d.r.QueryRowContext(ctx, endpointsSQL+` WHERE ep.id = ?`, id), d.nowMS())
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("endpoint %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("endpoint %s: %w", id, err)
	}
	return e, nil
}

// CreateEndpoint stores a new enabled endpoint with an already validated
// URL and secret and returns its id. The secret's form sets the signing
// scheme: a whsk_ key signs v1a, anything else v1.
func (d *DB) CreateEndpoint(ctx context.Context, url, secret string) (string, error) {
	scheme, pub := schemeOf(secret)
	id := d.newID("ep_")
	now := d.nowMS()
	if _, err := d.w.ExecContext(ctx, `INSERT INTO endpoints (id, url, secret, enabled, created_at, updated_at, scheme, public_key)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?)`, id, url, secret, now, now, scheme, pub); err != nil {
		return "", fmt.Errorf("create endpoint: %w", err)
	}
	return id, nil
}

// schemeOf returns the signing scheme of an (already validated) secret
// and, for v1a, the public key stored beside it.
func schemeOf(secret string) (scheme, public string) {
	if webhook.Scheme(secret) != webhook.SchemeEd25519 {
		return webhook.SchemeHMAC, ""
	}
	public, _ = webhook.PublicKey(secret)
	return webhook.SchemeEd25519, public
}

// DisableEndpoint disables an endpoint with reason; its pending and
// retrying deliveries become paused. It returns how many were paused, or an
// error wrapping ErrNotFound.
func (d *DB) DisableEndpoint(ctx context.Context, id, reason string) (int, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("disable endpoint: %w", err)
	}
	defer tx.Rollback()
	if err := endpointExistsTx(ctx, tx, id); err != nil {
		return 0, fmt.Errorf("disable endpoint: %w", err)
	}
	if _, err := disableTx(ctx, tx, id, reason, d.nowMS()); err != nil {
		return 0, fmt.Errorf("disable endpoint: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, countPausedSQL, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("disable endpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("disable endpoint: %w", err)
	}
	return n, nil
}

func endpointExistsTx(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM endpoints WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("endpoint %s: %w", id, ErrNotFound)
	}
	return err
}

// EnableEndpoint re-enables an endpoint: its paused deliveries become
// pending again, in their original order, each with a fresh retry round.
// Failures before the last disable no longer count toward auto-disable. It
// returns how many deliveries resumed, or an error wrapping ErrNotFound.
func (d *DB) EnableEndpoint(ctx context.Context, id string) (int, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("enable endpoint: %w", err)
	}
	defer tx.Rollback()
	if err := endpointExistsTx(ctx, tx, id); err != nil {
		return 0, fmt.Errorf("enable endpoint: %w", err)
	}
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET enabled = 1, disabled_reason = '', updated_at = ? WHERE id = ?`, now, id); err != nil {
		return 0, fmt.Errorf("enable endpoint: %w", err)
	}
	res, err := tx.ExecContext(ctx, resumeQueueSQL, now, id)
	if err != nil {
		return 0, fmt.Errorf("enable endpoint: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("enable endpoint: %w", err)
	}
	return int(n), nil
}

// RotateEndpointSecret makes secret the endpoint's signing secret; the
// current one keeps signing alongside it until graceUntil. The new
// secret's form sets the scheme, so a rotation can move an endpoint from
// v1 to v1a (both signatures are sent during the grace period). It fails
// with an error wrapping ErrNotFound.
func (d *DB) RotateEndpointSecret(ctx context.Context, id, secret string, graceUntil time.Time) error {
	scheme, pub := schemeOf(secret)
	res, err := d.w.ExecContext(ctx, `UPDATE endpoints SET prev_secret = secret, prev_secret_until = ?, secret = ?, updated_at = ?,
		scheme = ?, public_key = ? WHERE id = ?`, graceUntil.UnixMilli(), secret, d.nowMS(), scheme, pub, id)
	if err != nil {
		return fmt.Errorf("rotate secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("rotate secret: endpoint %s: %w", id, ErrNotFound)
	}
	return nil
}

// RemoveEndpoint deletes an endpoint. Its deliveries and their attempt log
// are kept (detached from the endpoint, still listed by the log). When some
// are still waiting (pending, retrying, paused) it fails with
// ErrEndpointBusy unless force, which marks them canceled. It returns the
// number of deliveries canceled.
func (d *DB) RemoveEndpoint(ctx context.Context, id string, force bool) (int, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("remove endpoint: %w", err)
	}
	defer tx.Rollback()
	if err := endpointExistsTx(ctx, tx, id); err != nil {
		return 0, fmt.Errorf("remove endpoint: %w", err)
	}
	var waiting int
	if err := tx.QueryRowContext(ctx, countWaitingSQL, id).Scan(&waiting); err != nil {
		return 0, fmt.Errorf("remove endpoint: %w", err)
	}
	if waiting > 0 && !force {
		return 0, fmt.Errorf("remove endpoint %s: %d waiting: %w", id, waiting, ErrEndpointBusy)
	}
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, detachQueueSQL, now, id); err != nil {
		return 0, fmt.Errorf("remove endpoint: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM endpoints WHERE id = ?`, id); err != nil {
		return 0, fmt.Errorf("remove endpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("remove endpoint: %w", err)
	}
	if err := d.wipeWAL(ctx); err != nil {
		return waiting, fmt.Errorf("remove endpoint: %w", err)
	}
	return waiting, nil
}

// ExpireSecrets erases the previous secrets whose rotation grace period
// has ended (they no longer sign anything) and returns how many it erased.
// Open calls it; a long-running sender calls it from time to time.
func (d *DB) ExpireSecrets(ctx context.Context) (int, error) {
	res, err := d.w.ExecContext(ctx, `UPDATE endpoints SET prev_secret = '', prev_secret_until = NULL
		WHERE prev_secret != '' AND COALESCE(prev_secret_until, 0) <= ?`, d.nowMS())
	if err != nil {
		return 0, fmt.Errorf("expire secrets: %w", err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if err := d.wipeWAL(ctx); err != nil {
			return int(n), fmt.Errorf("expire secrets: %w", err)
		}
	}
	return int(n), nil
}

// wipeWAL copies the write-ahead log into the database and truncates it,
// so the page images that still held an erased secret leave the WAL file
// (secure_delete has zeroed them in the database itself). A reader that
// holds an old snapshot keeps the log alive: then the next checkpoint
// finishes the job.
func (d *DB) wipeWAL(ctx context.Context) error {
	if d.path == ":memory:" {
		return nil
	}
	if _, err := d.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// disableTx disables an enabled endpoint and pauses its waiting
// deliveries; it reports whether the endpoint was enabled.
func disableTx(ctx context.Context, tx *sql.Tx, id, reason string, now int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE endpoints SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ?
		WHERE id = ? AND enabled = 1`, reason, now, now, id)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, pauseQueueSQL, now, id); err != nil {
		return false, err
	}
	return true, nil
}

// The statements that move or count an endpoint's deliveries: a webhook
// delivery's queue is its endpoint's id, so each reads one range of an
// index on queue.
const (
	pauseQueueSQL = `UPDATE deliveries SET status = 'paused', next_attempt_at = NULL, updated_at = ?1
		WHERE queue = ?2 AND endpoint_id = ?2 AND ` + openRows + ` AND status IN ('pending', 'retrying')`
	countPausedSQL = `SELECT COUNT(*) FROM deliveries WHERE queue = ?1 AND endpoint_id = ?1 AND status = 'paused'`
	resumeQueueSQL = `UPDATE deliveries SET status = 'pending', next_attempt_at = ?1, deadline = NULL, updated_at = ?1
		WHERE queue = ?2 AND endpoint_id = ?2 AND status = 'paused'`
	countWaitingSQL = `SELECT COUNT(*) FROM deliveries WHERE queue = ?1 AND endpoint_id = ?1
		AND ` + openRows + ` AND status IN ('pending', 'retrying', 'paused')`
	detachQueueSQL = `UPDATE deliveries SET
		status = CASE WHEN status IN ('pending', 'retrying', 'paused') THEN 'canceled' ELSE status END,
		next_attempt_at = NULL, endpoint_id = NULL, updated_at = ?1 WHERE queue = ?2 AND endpoint_id = ?2`
)
