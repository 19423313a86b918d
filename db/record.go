package db

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"smista/webhook"
)

// Record implements webhook.Store: the attempts and delivery states of a
// whole batch in one transaction (the sender's group commit), written by
// multi-row statements (recordChunks); then endpoint disabling.
func (d *DB) Record(ctx context.Context, outcomes []webhook.Outcome, policy webhook.DisablePolicy) ([]webhook.Disabled, error) {
	return d.record(ctx, nil, outcomes, policy)
}

func (d *DB) record(ctx context.Context, c *stmtCache, outcomes []webhook.Outcome, policy webhook.DisablePolicy) ([]webhook.Disabled, error) {
	outcomes = uniqueDeliveries(outcomes)
	// Cached statements are prepared before the transaction takes the
	// writer's only connection (once per store: then these are lookups).
	for _, family := range []*chunked{&insertAttemptsSQL, &insertPlainAttemptsSQL, &updateDeliveriesSQL, &markDeliveredSQL} {
		for _, q := range family {
			if _, err := c.prepare(ctx, q); err != nil {
				return nil, fmt.Errorf("record attempts: %w", err)
			}
		}
	}
	// The arguments (headers encoded) are built before the transaction:
	// the writer's only connection is held for the statements alone.
	ins, upd, delivered := recordArgs(outcomes)
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	defer tx.Rollback()
	now := d.nowMS()
	if err := recordTx(ctx, tx, c, ins, upd, delivered, now); err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	failures := map[string]int64{} // endpoint → latest failed attempt start
	inBatch := map[string]int{}    // endpoint → failed attempts in this batch
	gone := map[string]string{}    // endpoint → reason (410)
	var order []string
	for _, o := range outcomes {
		// An attempt made while offline is the machine's failure, not the
		// endpoint's: it never counts toward auto-disable.
		if ep := o.Delivery.EndpointID; !o.Result.OK() && o.Result.Class != webhook.ClassOffline && ep != "" {
			if _, seen := failures[ep]; !seen {
				order = append(order, ep)
			}
			failures[ep] = max(failures[ep], o.Result.Started.UnixMilli())
			inBatch[ep]++
			if o.Result.Disable != "" {
				gone[ep] = o.Result.Disable
			}
		}
	}
	var disabled []webhook.Disabled
	for _, ep := range order {
		reason := gone[ep]
		if reason == "" && policy.After > 0 {
			since := failures[ep] - policy.Window.Milliseconds()
			var count int
			if err := tx.QueryRowContext(ctx, recentFailuresSQL, ep, since).Scan(&count); err != nil {
				return nil, fmt.Errorf("record attempts: %w", err)
			}
			if count >= policy.After {
				reason = policy.Reason
			} else if w, ok := crossed(policy.WarnAt, count-inBatch[ep], count); ok {
				disabled = append(disabled, webhook.Disabled{EndpointID: ep, At: time.UnixMilli(now), Warning: true, Failures: w})
			}
		}
		if reason == "" {
			continue
		}
		ok, err := disableTx(ctx, tx, ep, reason, now)
		if err != nil {
			return nil, fmt.Errorf("record attempts: %w", err)
		}
		if ok {
			disabled = append(disabled, webhook.Disabled{EndpointID: ep, Reason: reason, At: time.UnixMilli(now)})
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	return disabled, nil
}

// crossed returns the highest of marks that a count going from before to
// after reached (before < mark <= after).
func crossed(marks []int, before, after int) (int, bool) {
	best, ok := 0, false
	for _, m := range marks {
		if before < m && m <= after && m > best {
			best, ok = m, true
		}
	}
	return best, ok
}

// recentFailuresSQL counts an endpoint's failed attempts since a time and
// since its last disable (attempts_failed holds the failed ones only);
// attempts made while offline do not count.
const recentFailuresSQL = `SELECT COUNT(*) FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq
	WHERE d.endpoint_id = ?1 AND a.error_class != '' AND a.error_class != 'offline' AND a.started_at > ?2
	AND a.started_at > COALESCE((SELECT disabled_at FROM endpoints WHERE id = ?1), -1)`

// recordChunks are the row counts of the group commit's multi-row
// statements, largest first. The statements are OR FAIL: a failing
// constraint fails the statement without undoing its earlier rows, so
// SQLite keeps no statement journal (a copy of every page the statement
// touches; the foreign keys of the outbox are deferred for the same
// reason, migration 0003); the caller rolls the transaction back. A batch is written in chunks of these sizes:
// a few statements per batch (the fixed cost of a statement is a large
// part of a small row's), of five shapes prepared once each.
var recordChunks = [...]int{256, 64, 16, 4, 1}

const (
	attemptArgs      = 11 // arguments per attempt row
	plainAttemptArgs = 7  // arguments per plain attempt row
	deliveryArgs     = 7  // arguments per delivery row
)

// chunked is a statement in one shape per recordChunks size: the i-th
// takes recordChunks[i] rows.
type chunked [len(recordChunks)]string

// insertAttemptsSQL[i] logs recordChunks[i] attempts, each numbered from
// its delivery row (so a concurrent "endpoints test" cannot collide); a
// delivery deleted meanwhile logs nothing. Rows are found by seq (the
// rowid), checked by id.
var insertAttemptsSQL = chunkSQL(attemptArgs, `INSERT OR FAIL INTO attempts (delivery_seq, attempt, started_at, duration_ms,
	status_code, error_class, error, request_headers, request_body, response_headers, response_body)
	SELECT d.seq, d.attempts + 1, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8, v.column9,
	v.column10, v.column11
	FROM (VALUES %s) AS v JOIN deliveries d ON d.seq = v.column1 AND d.id = v.column2
	WHERE true ON CONFLICT (delivery_seq, attempt) DO NOTHING`)

// insertPlainAttemptsSQL[i] is insertAttemptsSQL for plain attempts:
// no error, the event's payload sent (no body stored), no response body
// — nearly every attempt of a healthy receiver. Four columns fewer to
// bind a row (each bound value costs the driver a call or two under the
// connection's mutex, a text one a C copy), the constants in the SQL.
var insertPlainAttemptsSQL = chunkSQL(plainAttemptArgs, `INSERT OR FAIL INTO attempts (delivery_seq, attempt, started_at, duration_ms,
	status_code, error_class, error, request_headers, request_body, response_headers, response_body)
	SELECT d.seq, d.attempts + 1, v.column3, v.column4, v.column5, '', '', v.column6, NULL, v.column7, NULL
	FROM (VALUES %s) AS v JOIN deliveries d ON d.seq = v.column1 AND d.id = v.column2
	WHERE true ON CONFLICT (delivery_seq, attempt) DO NOTHING`)

// updateDeliveriesSQL[i] moves recordChunks[i] deliveries after failed
// attempts (run after insertAttemptsSQL, which reads the attempt count).
// A 2xx is the truth whatever happened to the row meanwhile (a delivered
// outcome goes through markDeliveredSQL, but this statement handles one
// too); a failure only moves a row the sender owns (pending, retrying),
// and pauses it when its endpoint is disabled. The first argument is the
// time of the update.
var updateDeliveriesSQL = chunkSQL(deliveryArgs, `UPDATE OR FAIL deliveries SET
	status = CASE WHEN v.column1 = 'delivered' THEN 'delivered'
		WHEN status NOT IN ('pending', 'retrying') THEN status
		WHEN v.column1 = 'dead' THEN 'dead'
		WHEN EXISTS (SELECT 1 FROM endpoints e WHERE e.id = deliveries.endpoint_id AND e.enabled = 0) THEN 'paused'
		ELSE 'retrying' END,
	next_attempt_at = CASE WHEN v.column1 = 'delivered' THEN NULL
		WHEN status NOT IN ('pending', 'retrying') THEN next_attempt_at
		WHEN v.column1 = 'dead' THEN NULL
		WHEN EXISTS (SELECT 1 FROM endpoints e WHERE e.id = deliveries.endpoint_id AND e.enabled = 0) THEN NULL
		ELSE v.column2 END,
	attempts = attempts + 1, deadline = v.column3, last_status_code = v.column4, last_error = v.column5,
	updated_at = ?
	FROM (VALUES %s) AS v WHERE deliveries.seq = v.column6 AND deliveries.id = v.column7`)

// markDeliveredSQL[i] marks recordChunks[i] deliveries delivered, all
// answered with the same status code (first argument; the time of the
// update second), by seq: the common outcome in a statement that reads
// each row once (an UPDATE ... FROM first joins into a temporary table). A
// delivered row has no retry round left: its deadline is cleared.
var markDeliveredSQL = chunkSQL(1, `UPDATE OR FAIL deliveries SET status = 'delivered', next_attempt_at = NULL, deadline = NULL,
	attempts = attempts + 1, last_status_code = ?, last_error = '', updated_at = ?
	WHERE seq IN (%s)`)

// chunkFor returns the index in recordChunks of the largest chunk that
// fits in left (> 0) rows.
func chunkFor(left int) int {
	i := 0
	for recordChunks[i] > left {
		i++
	}
	return i
}

// chunkSQL returns q with its VALUES list of recordChunks[i] rows of cols
// placeholders (a plain list for one column), for each i.
func chunkSQL(cols int, q string) chunked {
	row := "(" + placeholders(cols) + ")"
	if cols == 1 {
		row = "?"
	}
	var out chunked
	for i, n := range recordChunks {
		out[i] = fmt.Sprintf(q, strings.TrimSuffix(strings.Repeat(row+",", n), ","))
	}
	return out
}

// uniqueDeliveries drops an outcome whose delivery already has one earlier
// in the batch (impossible, one attempt is in flight per delivery, but a
// multi-row statement must not see a row twice).
func uniqueDeliveries(outcomes []webhook.Outcome) []webhook.Outcome {
	if len(outcomes) < 2 {
		return outcomes
	}
	seen := make(map[int64]bool, len(outcomes))
	var out []webhook.Outcome // nil until a duplicate: then a copy without it
	for i, o := range outcomes {
		if seen[o.Delivery.Seq] {
			if out == nil {
				out = append(out, outcomes[:i]...)
			}
			continue
		}
		seen[o.Delivery.Seq] = true
		if out != nil {
			out = append(out, o)
		}
	}
	if out == nil {
		return outcomes
	}
	return out
}

// attemptRun is a run of consecutive attempt rows of one shape: plain
// (plainAttemptArgs each, insertPlainAttemptsSQL) or not (attemptArgs
// each, insertAttemptsSQL).
type attemptRun struct {
	plain bool
	args  []any
}

// recordArgs returns the arguments of the attempt rows of outcomes, in
// runs of one shape in the order of outcomes (the log's ids follow it), of
// the delivery rows of those not delivered (deliveryArgs each), and the
// seqs of those delivered by status code. The body sent is left out (NULL)
// when it is the event's payload, which is stored once, in events.
func recordArgs(outcomes []webhook.Outcome) (ins []attemptRun, upd []any, delivered map[int][]any) {
	var buf []byte
	for _, o := range outcomes {
		dl, r := o.Delivery, o.Result
		var body any
		if dl.EventID == "" || !bytes.Equal(r.RequestBody, dl.Payload) {
			body = r.RequestBody
		}
		plain := body == nil && r.Class == "" && r.Err == "" && r.ResponseBody == nil
		if len(ins) == 0 {
			ins = append(ins, attemptRun{plain: plain, args: make([]any, 0, attemptArgs*len(outcomes))})
		} else if ins[len(ins)-1].plain != plain {
			ins = append(ins, attemptRun{plain: plain}) // rare: grows as it goes
		}
		buf = headerJSON(buf, r.RequestHeaders)
		reqH := string(buf)
		buf = headerJSON(buf, r.ResponseHeaders)
		run := &ins[len(ins)-1]
		if plain {
			run.args = append(run.args, dl.Seq, dl.ID, r.Started.UnixMilli(), r.Duration.Milliseconds(), r.StatusCode, reqH, string(buf))
		} else {
			run.args = append(run.args, dl.Seq, dl.ID, r.Started.UnixMilli(), r.Duration.Milliseconds(), r.StatusCode, r.Class, r.Err,
				reqH, body, string(buf), r.ResponseBody)
		}
		if o.Status == webhook.StatusDelivered {
			if delivered == nil {
				delivered = map[int][]any{}
			}
			delivered[r.StatusCode] = append(delivered[r.StatusCode], dl.Seq)
			continue
		}
		upd = append(upd, o.Status, msOrNil(o.NextAttemptAt), msOrNil(o.Deadline), r.StatusCode, o.LastError, dl.Seq, dl.ID)
	}
	return ins, upd, delivered
}

// recordTx logs the attempts and moves their deliveries, with the
// arguments of recordArgs: the attempts first (they are numbered from
// the rows' attempt counts), then the delivered rows, then the others.
func recordTx(ctx context.Context, tx *sql.Tx, c *stmtCache, ins []attemptRun, upd []any, delivered map[int][]any, now int64) error {
	for _, run := range ins {
		q, n := &insertAttemptsSQL, attemptArgs
		if run.plain {
			q, n = &insertPlainAttemptsSQL, plainAttemptArgs
		}
		if err := execChunks(ctx, tx, c, q, nil, run.args, n); err != nil {
			return err
		}
	}
	for code, seqs := range delivered {
		if err := execChunks(ctx, tx, c, &markDeliveredSQL, []any{code, now}, seqs, 1); err != nil {
			return err
		}
	}
	return execChunks(ctx, tx, c, &updateDeliveriesSQL, []any{now}, upd, deliveryArgs)
}

// execChunks runs the statement q over rows (perRow arguments each) in
// chunks of recordChunks rows, largest first, each with prefix's
// arguments first. Statements come from c, prepared before the
// transaction (or are prepared on tx without a cache).
func execChunks(ctx context.Context, tx *sql.Tx, c *stmtCache, q *chunked, prefix, rows []any, perRow int) error {
	n := len(rows) / perRow
	args := make([]any, 0, len(prefix)+perRow*min(n, recordChunks[0]))
	for done := 0; done < n; {
		i := chunkFor(n - done)
		k := recordChunks[i]
		cached, err := c.prepare(ctx, q[i])
		if err != nil {
			return err
		}
		st, err := txStmt(ctx, tx, cached, q[i])
		if err != nil {
			return err
		}
		args = append(append(args[:0], prefix...), rows[perRow*done:perRow*(done+k)]...)
		_, err = st.ExecContext(ctx, args...)
		st.Close()
		if err != nil {
			return err
		}
		done += k
	}
	return nil
}
