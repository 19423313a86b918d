package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ClaimState is what a claim on the shared mailbox needs to know of an
// email first: whether a person decided it (then the engine claims
// nothing) and whether its ticket event is queued already (re-triage).
type ClaimState struct {
	HumanDecision string // "human:<name>", "" when the engine decides
	Queued        bool
}

// ClaimStateOf returns the ClaimState of an email; an unknown email has
// the zero state.
func (d *DB) ClaimStateOf(ctx context.Context, emailID string) (ClaimState, error) {
	var st ClaimState
	var by string
	err := d.r.QueryRowContext(ctx, `SELECT decided_by FROM decisions WHERE message_id = ?`, emailID).Scan(&by)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return st, fmt.Errorf("claim state %s: %w", emailID, err)
	case by != "engine":
		st.HumanDecision = by
	}
	if err := d.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE message_id = ?
		AND type = 'ticket.suggested' AND test = 0)`, emailID).Scan(&st.Queued); err != nil {
		return st, fmt.Errorf("claim state %s: %w", emailID, err)
	}
	return st, nil
}
