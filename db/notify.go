package db

import (
	"context"
	"fmt"
	"time"
)

// NewSupport returns how many unread emails were triaged as support
// requests after since: the new work a person is told of.
func (d *DB) NewSupport(ctx context.Context, since time.Time) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM triage_results t JOIN messages m ON m.id = t.message_id
		WHERE t.created_at > ? AND t.intent = 'support' AND m.seen = 0`, since.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("new support requests: %w", err)
	}
	return n, nil
}
