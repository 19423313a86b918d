package db

import (
	"context"
	"fmt"
)

// InstallationID returns this store's installation id (16 hex digits,
// made once by its migration): its claims on a shared mailbox carry it.
func (d *DB) InstallationID(ctx context.Context) (string, error) {
	var id string
	if err := d.r.QueryRowContext(ctx, `SELECT id FROM installation WHERE one = 1`).Scan(&id); err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	return id, nil
}
