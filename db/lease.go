package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LeaseSender names the lease that lets one process send for a store.
const LeaseSender = "sender"

// Lease is a named lease in the store: who holds it and until when.
type Lease struct {
	Name string
	// Owner is the holder's random token; Holder says who it is ("smista
	// send (pid 4242 on host)"); Host and PID name its process.
	Owner, Holder, Host              string
	PID                              int
	AcquiredAt, RenewedAt, ExpiresAt time.Time
}

// LeaseRequest is a request for a lease.
type LeaseRequest struct {
	Owner, Holder, Host string
	PID                 int
	TTL                 time.Duration
	// TakeFrom, when set, takes the lease from that owner even before it
	// expires: the caller knows its process is gone (same host, no such
	// pid). Only that owner's lease is taken: one that changed hands
	// meanwhile is left alone.
	TakeFrom string
}

// AcquireLease takes the lease name for r.Owner for r.TTL when it is free,
// expired, r.Owner's already (then it is renewed) or r.TakeFrom's. It
// returns the lease as it now stands and whether r.Owner holds it; it
// fails only when the store cannot be written.
func (d *DB) AcquireLease(ctx context.Context, name string, r LeaseRequest) (Lease, bool, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return Lease{}, false, fmt.Errorf("acquire lease: %w", err)
	}
	defer tx.Rollback()
	now := d.nowMS()
	// One statement: insert, or take over an expired (or abandoned) lease,
	// or renew our own; a live lease of another owner is left as it is.
	if _, err := tx.ExecContext(ctx, `INSERT INTO leases (name, owner, holder, host, pid, acquired_at, renewed_at, expires_at)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, holder = excluded.holder,
			host = excluded.host, pid = excluded.pid,
			acquired_at = CASE WHEN leases.owner = excluded.owner THEN leases.acquired_at ELSE excluded.acquired_at END,
			renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
		WHERE leases.owner = excluded.owner OR leases.expires_at <= excluded.renewed_at OR leases.owner = ?8`,
		name, r.Owner, r.Holder, r.Host, r.PID, now, now+r.TTL.Milliseconds(), r.TakeFrom); err != nil {
		return Lease{}, false, fmt.Errorf("acquire lease: %w", err)
	}
	l, err := scanLease(tx.QueryRowContext(ctx, leaseSQL, name))
	if err != nil {
		return Lease{}, false, fmt.Errorf("acquire lease: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Lease{}, false, fmt.Errorf("acquire lease: %w", err)
	}
	return l, l.Owner == r.Owner, nil
}

// RenewLease extends owner's lease by ttl from now. It returns false when
// owner no longer holds it (another process took it over after it
// expired); it fails only when the store cannot be written.
func (d *DB) RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	now := d.nowMS()
	res, err := d.w.ExecContext(ctx, `UPDATE leases SET renewed_at = ?, expires_at = ? WHERE name = ? AND owner = ?`,
		now, now+ttl.Milliseconds(), name, owner)
	if err != nil {
		return false, fmt.Errorf("renew lease: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReleaseLease gives up owner's lease at once, so a waiting process takes
// over without waiting for it to expire. Releasing a lease owner does not
// hold does nothing.
func (d *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := d.w.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}

// CurrentLease returns the lease name and whether it is held now (present
// and not expired).
func (d *DB) CurrentLease(ctx context.Context, name string) (Lease, bool, error) {
	l, err := scanLease(d.r.QueryRowContext(ctx, leaseSQL, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("lease: %w", err)
	}
	return l, l.ExpiresAt.UnixMilli() > d.nowMS(), nil
}

const leaseSQL = `SELECT name, owner, holder, host, pid, acquired_at, renewed_at, expires_at FROM leases WHERE name = ?`

func scanLease(row *sql.Row) (Lease, error) {
	var l Lease
	var acq, ren, exp int64
	if err := row.Scan(&l.Name, &l.Owner, &l.Holder, &l.Host, &l.PID, &acq, &ren, &exp); err != nil {
		return Lease{}, err
	}
	l.AcquiredAt, l.RenewedAt, l.ExpiresAt = time.UnixMilli(acq), time.UnixMilli(ren), time.UnixMilli(exp)
	return l, nil
}
