package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Correction is a person's intent for an email.
type Correction struct {
	EmailID   string
	Intent    string
	DecidedBy string
	At        time.Time
}

// CorrectIntent records that who says the email is of intent, and stores
// the adaptive layer that learned it (nil: no layer), in one transaction.
// A second correction of the same email replaces the first. It fails with
// an error wrapping ErrNotFound when the email does not exist.
func (d *DB) CorrectIntent(ctx context.Context, emailID, intent, who string, layer []byte) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("correct intent: %w", err)
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE id = ?`, emailID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("correct intent: email %s: %w", emailID, ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("correct intent: %w", err)
	}
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, `INSERT INTO corrections (message_id, intent, decided_by, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (message_id) DO UPDATE SET intent = excluded.intent, decided_by = excluded.decided_by,
		created_at = excluded.created_at`, emailID, intent, "human:"+who, now); err != nil {
		return fmt.Errorf("correct intent: %w", err)
	}
	if layer != nil {
		if err := saveAdaptiveTx(ctx, tx, layer, now); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("correct intent: %w", err)
	}
	return nil
}

func saveAdaptiveTx(ctx context.Context, tx *sql.Tx, layer []byte, now int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO adaptive (id, data, updated_at) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`, layer, now); err != nil {
		return fmt.Errorf("save adaptive layer: %w", err)
	}
	return nil
}

// Corrections returns every correction, oldest first.
func (d *DB) Corrections(ctx context.Context) ([]Correction, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT message_id, intent, decided_by, created_at FROM corrections
		ORDER BY created_at, message_id`)
	if err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	defer rows.Close()
	var out []Correction
	for rows.Next() {
		var c Correction
		var at int64
		if err := rows.Scan(&c.EmailID, &c.Intent, &c.DecidedBy, &at); err != nil {
			return nil, fmt.Errorf("corrections: %w", err)
		}
		c.At = time.UnixMilli(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	return out, nil
}

// AdaptiveLayer returns the stored adaptive layer, nil when none was
// learned (or it was reset).
func (d *DB) AdaptiveLayer(ctx context.Context) ([]byte, error) {
	var data []byte
	err := d.r.QueryRowContext(ctx, `SELECT data FROM adaptive WHERE id = 1`).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("adaptive layer: %w", err)
	}
	return data, nil
}

// ResetAdaptiveLayer forgets the learned layer; the corrections stay (they
// are the store's human labels, for "smista eval").
func (d *DB) ResetAdaptiveLayer(ctx context.Context) error {
	if _, err := d.w.ExecContext(ctx, `DELETE FROM adaptive`); err != nil {
		return fmt.Errorf("reset adaptive layer: %w", err)
	}
	return nil
}
