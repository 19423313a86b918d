package db

import (
	"context"
	"fmt"
	"time"
)

// Reply is a reply approved for a customer: who approved it and when.
type Reply struct {
	DraftID    int64
	ApprovedBy string // "human:<name>"
	ApprovedAt time.Time
}

// RecentReplies returns the replies approved since since to the customer
// that draft draftID answers (the sender of its email, in any thread),
// other than by, most recent first: what another agent already said.
func (d *DB) RecentReplies(ctx context.Context, draftID int64, by string, since time.Time) ([]Reply, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT o.id, o.approved_by, o.approved_at FROM drafts dr
		JOIN messages m ON m.id = dr.message_id
		JOIN messages om ON om.from_addr = m.from_addr AND m.from_addr != ''
		JOIN drafts o ON o.message_id = om.id
		WHERE dr.id = ? AND o.id != dr.id AND o.status IN ('approved', 'sent') AND o.approved_by != ?
		AND o.approved_at >= ? ORDER BY o.approved_at DESC LIMIT 10`, draftID, by, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("recent replies: %w", err)
	}
	defer rows.Close()
	var out []Reply
	for rows.Next() {
		var r Reply
		var at int64
		if err := rows.Scan(&r.DraftID, &r.ApprovedBy, &at); err != nil {
			return nil, fmt.Errorf("recent replies: %w", err)
		}
		r.ApprovedAt = time.UnixMilli(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent replies: %w", err)
	}
	return out, nil
}
