package db

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"smista/webhook"
)

var _ webhook.Store = (*DB)(nil)

// ErrEndpointBusy is returned by RemoveEndpoint when the endpoint still has
// deliveries waiting (pending, retrying or paused) and force is false.
var ErrEndpointBusy = errors.New("endpoint has undelivered deliveries")

// ErrNotReplayable is returned by Replay for a delivery that is already
// queued, or whose endpoint is disabled or removed.
var ErrNotReplayable = errors.New("delivery cannot be replayed")

func msOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func msTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

const deliveryCols = `d.seq, d.id, d.kind, d.queue, COALESCE(d.endpoint_id, ''), COALESCE(d.event_id, ''),
	COALESCE(v.type, ''), d.webhook_id, COALESCE(d.draft_id, 0), d.status, COALESCE(v.test, 0), d.attempts,
	CASE WHEN d.deadline IS NULL THEN 0 ELSE
		(SELECT COUNT(*) FROM attempts a WHERE a.delivery_seq = d.seq AND a.started_at >= d.deadline - ?) END,
	d.next_attempt_at, d.deadline, d.created_at,
	COALESCE(e.url, ''), COALESCE(e.secret, ''), COALESCE(e.prev_secret, ''), e.prev_secret_until, COALESCE(v.payload, x'')
	FROM deliveries d LEFT JOIN endpoints e ON e.id = d.endpoint_id LEFT JOIN events v ON v.id = d.event_id`

func scanDelivery(sc interface{ Scan(...any) error }) (webhook.Delivery, error) {
	var d webhook.Delivery
	var next, deadline, prevUntil sql.NullInt64
	var created int64
	if err := sc.Scan(&d.Seq, &d.ID, &d.Kind, &d.Queue, &d.EndpointID, &d.EventID, &d.EventType, &d.WebhookID,
		&d.DraftID, &d.Status, &d.Test, &d.Attempts, &d.RoundAttempts, &next, &deadline, &created,
		&d.URL, &d.Secret, &d.PrevSecret, &prevUntil, &d.Payload); err != nil {
		return d, err
	}
	d.NextAttemptAt, d.Deadline, d.PrevSecretUntil = msTime(next), msTime(deadline), msTime(prevUntil)
	d.CreatedAt = time.UnixMilli(created)
	return d, nil
}

// openRows is the condition of the partial index deliveries_open (every
// status but delivered), spelled as in migration 0003: a query over several
// statuses carries it verbatim so that SQLite may use the index (a single
// "status = 'x'" term implies it on its own).
const openRows = `(status = 'pending' OR status = 'retrying' OR status = 'paused' OR status = 'dead' OR status = 'canceled')`

// Queues implements webhook.Store: the queues with a pending or retrying
// delivery of one of kinds. A skip scan of the partial index of the rows
// not delivered visits each such queue once, so the cost follows the
// number of queues, not the outbox size.
func (d *DB) Queues(ctx context.Context, kinds []string) ([]string, error) {
	return queues(ctx, d.r, nil, kinds)
}

func queues(ctx context.Context, pool *sql.DB, c *stmtCache, kinds []string) ([]string, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	rows, err := c.query(ctx, pool, queuesSQL(len(kinds)), args...)
	if err != nil {
		return nil, fmt.Errorf("outbox queues: %w", err)
	}
	defer rows.Close()
	var qs []string
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return nil, fmt.Errorf("outbox queues: %w", err)
		}
		qs = append(qs, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox queues: %w", err)
	}
	return qs, nil
}

// queuesSQL lists the queues with a pending or retrying delivery of one
// of n kinds.
func queuesSQL(n int) string {
	return `WITH RECURSIVE qs(queue) AS (
		SELECT MIN(queue) FROM deliveries INDEXED BY deliveries_open WHERE ` + openRows + `
		UNION ALL
		SELECT (SELECT MIN(queue) FROM deliveries INDEXED BY deliveries_open WHERE ` + openRows + ` AND queue > qs.queue)
		FROM qs WHERE qs.queue IS NOT NULL
	) SELECT queue FROM qs WHERE queue IS NOT NULL AND EXISTS (
		SELECT 1 FROM deliveries INDEXED BY deliveries_open WHERE deliveries.queue = qs.queue AND ` + openRows + `
		AND status IN ('pending', 'retrying') AND kind IN (` + placeholders(n) + `))`
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Pending implements webhook.Store: a queue's retrying deliveries and its
// pending ones after q.AfterSeq, up to q.Limit in seq order, each read with
// an index range.
func (d *DB) Pending(ctx context.Context, q webhook.PendingQuery) ([]webhook.Delivery, error) {
	return pending(ctx, d.r, nil, q)
}

// pendingCols are deliveryCols without the queue (known), the endpoint's
// (rows of a queue share it, read once per call) and the event's (the
// deliveries of an event share it, one per endpoint: see withEvents).
const pendingCols = `d.seq, d.id, d.kind, COALESCE(d.endpoint_id, ''), COALESCE(d.event_id, ''),
	d.webhook_id, COALESCE(d.draft_id, 0), d.status, d.attempts,
	CASE WHEN d.deadline IS NULL THEN 0 ELSE
		(SELECT COUNT(*) FROM attempts a WHERE a.delivery_seq = d.seq AND a.started_at >= d.deadline - ?) END,
	d.next_attempt_at, d.deadline, d.created_at
	FROM deliveries d`

// retryingSQL reads a queue's retrying deliveries of n kinds, in order.
func retryingSQL(n int) string {
	return `SELECT ` + pendingCols + ` WHERE d.queue = ? AND d.status = 'retrying'
		AND d.kind IN (` + placeholders(n) + `) ORDER BY d.seq LIMIT ?`
}

// pendingAfterSQL reads a queue's pending deliveries of n kinds after a
// seq, in order.
func pendingAfterSQL(n int) string {
	return `SELECT ` + pendingCols + ` WHERE d.queue = ? AND d.status = 'pending' AND d.seq > ?
		AND d.kind IN (` + placeholders(n) + `) ORDER BY d.seq LIMIT ?`
}

const endpointSecretsSQL = `SELECT url, secret, prev_secret, prev_secret_until FROM endpoints WHERE id = ?`

func pending(ctx context.Context, pool *sql.DB, c *stmtCache, q webhook.PendingQuery) ([]webhook.Delivery, error) {
	if len(q.Kinds) == 0 {
		return nil, nil
	}
	limit := max(q.Limit, 1)
	// Two range scans of deliveries_open (queue, status, seq): the retrying
	// rows (few), then the pending ones after AfterSeq; merged by seq.
	round := q.RoundLength.Milliseconds()
	retryArgs := []any{round, q.Queue}
	pendArgs := []any{round, q.Queue, q.AfterSeq}
	for _, k := range q.Kinds {
		retryArgs = append(retryArgs, k)
		pendArgs = append(pendArgs, k)
	}
	// Rows are scanned into a reused buffer, then copied at their exact
	// size: a Delivery is large and the read-ahead is read continuously.
	var buf []webhook.Delivery
	if c != nil {
		if p, ok := c.scratch.Get().(*[]webhook.Delivery); ok {
			buf = (*p)[:0]
		}
	}
	buf, err := scanPending(ctx, pool, c, retryingSQL(len(q.Kinds)), q.Queue, append(retryArgs, limit), buf)
	if err != nil {
		return nil, err
	}
	retrying := len(buf)
	buf, err = scanPending(ctx, pool, c, pendingAfterSQL(len(q.Kinds)), q.Queue, append(pendArgs, limit), buf)
	if err != nil {
		return nil, err
	}
	if retrying > 0 {
		slices.SortFunc(buf, func(a, b webhook.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	out := slices.Clone(buf[:min(len(buf), limit)])
	if c != nil {
		clear(buf)
		c.scratch.Put(&buf)
	}
	if err := withEvents(ctx, pool, c, out); err != nil {
		return nil, err
	}
	return withEndpoints(ctx, pool, c, out)
}

// eventInfo is the part of an event a delivery carries. Events never
// change once written.
type eventInfo struct {
	typ     string
	test    bool
	payload []byte
}

// eventsSQL[i] reads recordChunks[i] events by id.
var eventsSQL = chunkSQL(1, `SELECT id, type, test, payload FROM events WHERE id IN (%s)`)

// withEvents fills in the type, test flag and payload of each delivery's
// event: from c's cache of recent events when it has them (the deliveries
// of an event, one per endpoint, are read by as many queues, so each event
// is read once rather than once per endpoint and its payload shared), the
// others read by id in a few statements.
func withEvents(ctx context.Context, pool *sql.DB, c *stmtCache, ds []webhook.Delivery) error {
	var missing []any
	var found map[string]eventInfo
	for i := range ds {
		id := ds[i].EventID
		if id == "" {
			continue
		}
		if ev, ok := c.event(id); ok {
			ds[i].EventType, ds[i].Test, ds[i].Payload = ev.typ, ev.test, ev.payload
			continue
		}
		if found == nil {
			found = map[string]eventInfo{}
		}
		if _, seen := found[id]; !seen {
			found[id] = eventInfo{}
			missing = append(missing, id)
		}
	}
	for done := 0; done < len(missing); {
		i := chunkFor(len(missing) - done)
		k := recordChunks[i]
		rows, err := c.query(ctx, pool, eventsSQL[i], missing[done:done+k]...)
		if err != nil {
			return fmt.Errorf("pending deliveries: %w", err)
		}
		for rows.Next() {
			var id string
			var ev eventInfo
			if err := rows.Scan(&id, &ev.typ, &ev.test, &ev.payload); err != nil {
				rows.Close()
				return fmt.Errorf("pending deliveries: %w", err)
			}
			if ev.payload == nil {
				ev.payload = []byte{}
			}
			found[id] = ev
			c.addEvent(id, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("pending deliveries: %w", err)
		}
		done += k
	}
	for i := range ds {
		if ev, ok := found[ds[i].EventID]; ok {
			ds[i].EventType, ds[i].Test, ds[i].Payload = ev.typ, ev.test, ev.payload
		}
	}
	return nil
}

// scanPending appends the rows of query to out.
func scanPending(ctx context.Context, pool *sql.DB, c *stmtCache, query, queue string, args []any, out []webhook.Delivery) ([]webhook.Delivery, error) {
	rows, err := c.query(ctx, pool, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d := webhook.Delivery{Queue: queue}
		var next, deadline sql.NullInt64
		var created int64
		if err := rows.Scan(&d.Seq, &d.ID, &d.Kind, &d.EndpointID, &d.EventID, &d.WebhookID,
			&d.DraftID, &d.Status, &d.Attempts, &d.RoundAttempts, &next, &deadline, &created); err != nil {
			return nil, fmt.Errorf("pending deliveries: %w", err)
		}
		d.NextAttemptAt, d.Deadline, d.CreatedAt = msTime(next), msTime(deadline), time.UnixMilli(created)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", err)
	}
	return out, nil
}

// withEndpoints fills in the URL and secrets of each delivery's endpoint,
// one lookup per distinct endpoint. A delivery whose endpoint is gone
// (removed since: its row is canceled) is dropped.
func withEndpoints(ctx context.Context, pool *sql.DB, c *stmtCache, ds []webhook.Delivery) ([]webhook.Delivery, error) {
	type secrets struct {
		url, secret, prev string
		until             time.Time
		ok                bool
	}
	var cur secrets
	curID := ""
	kept := ds[:0]
	for _, d := range ds {
		if d.EndpointID == "" {
			kept = append(kept, d)
			continue
		}
		if d.EndpointID != curID {
			cur, curID = secrets{}, d.EndpointID
			rows, err := c.query(ctx, pool, endpointSecretsSQL, d.EndpointID)
			if err != nil {
				return nil, fmt.Errorf("pending deliveries: %w", err)
			}
			if rows.Next() {
				var until sql.NullInt64
				if err := rows.Scan(&cur.url, &cur.secret, &cur.prev, &until); err != nil {
					rows.Close()
					return nil, fmt.Errorf("pending deliveries: %w", err)
				}
				cur.until, cur.ok = msTime(until), true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("pending deliveries: %w", err)
			}
		}
		if !cur.ok {
			continue
		}
		d.URL, d.Secret, d.PrevSecret, d.PrevSecretUntil = cur.url, cur.secret, cur.prev, cur.until
		kept = append(kept, d)
	}
	return kept, nil
}

// Delivery implements webhook.Store: one delivery by id, or an error
// wrapping ErrNotFound and webhook.ErrNotFound.
func (d *DB) Delivery(ctx context.Context, id string, roundLength time.Duration) (webhook.Delivery, error) {
	dl, err := scanDelivery(d.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` WHERE d.id = ?`, roundLength.Milliseconds(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return dl, fmt.Errorf("delivery %s: %w %w", id, ErrNotFound, webhook.ErrNotFound)
	}
	if err != nil {
		return dl, fmt.Errorf("delivery %s: %w", id, err)
	}
	return dl, nil
}

// headerJSON encodes h as the JSON object json.Marshal would produce
// (sorted keys, arrays of strings), without reflection: it runs for two
// headers of every attempt on the writer's hot path.
func headerJSON(buf []byte, h http.Header) []byte {
	buf = buf[:0]
	if len(h) == 0 {
		return append(buf, "{}"...)
	}
	var small [16]string
	keys := small[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		vs := h[k]
		if vs == nil {
			buf = append(buf, "null"...)
			continue
		}
		buf = append(buf, '[')
		for j, v := range vs {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, v)
		}
		buf = append(buf, ']')
	}
	return append(buf, '}')
}

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
	for _, family := range []*chunked{&insertAttemptsSQL, &updateDeliveriesSQL, &markDeliveredSQL} {
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
	gone := map[string]string{}    // endpoint → reason (410)
	var order []string
	for _, o := range outcomes {
		if ep := o.Delivery.EndpointID; !o.Result.OK() && ep != "" {
			if _, seen := failures[ep]; !seen {
				order = append(order, ep)
			}
			failures[ep] = max(failures[ep], o.Result.Started.UnixMilli())
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

// recentFailuresSQL counts an endpoint's failed attempts since a time and
// since its last disable (attempts_failed holds the failed ones only).
const recentFailuresSQL = `SELECT COUNT(*) FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq
	WHERE d.endpoint_id = ?1 AND a.error_class != '' AND a.started_at > ?2
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
	attemptArgs  = 11 // arguments per attempt row
	deliveryArgs = 7  // arguments per delivery row
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

// recordArgs returns the arguments of the attempt rows of outcomes
// (attemptArgs each), of the delivery rows of those not delivered
// (deliveryArgs each), and the seqs of those delivered by status code. The
// body sent is left out (NULL) when it is the event's payload, which is
// stored once, in events.
func recordArgs(outcomes []webhook.Outcome) (ins, upd []any, delivered map[int][]any) {
	ins = make([]any, 0, attemptArgs*len(outcomes))
	var buf []byte
	for _, o := range outcomes {
		dl, r := o.Delivery, o.Result
		var body any
		if dl.EventID == "" || !bytes.Equal(r.RequestBody, dl.Payload) {
			body = r.RequestBody
		}
		buf = headerJSON(buf, r.RequestHeaders)
		reqH := string(buf)
		buf = headerJSON(buf, r.ResponseHeaders)
		ins = append(ins, dl.Seq, dl.ID, r.Started.UnixMilli(), r.Duration.Milliseconds(), r.StatusCode, r.Class, r.Err,
			reqH, body, string(buf), r.ResponseBody)
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
func recordTx(ctx context.Context, tx *sql.Tx, c *stmtCache, ins, upd []any, delivered map[int][]any, now int64) error {
	if err := execChunks(ctx, tx, c, &insertAttemptsSQL, nil, ins, attemptArgs); err != nil {
		return err
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

// CreateEndpoint stores a new enabled endpoint with an already validated
// URL and secret and returns its id.
func (d *DB) CreateEndpoint(ctx context.Context, url, secret string) (string, error) {
	id := d.newID("ep_")
	now := d.nowMS()
	if _, err := d.w.ExecContext(ctx, `INSERT INTO endpoints (id, url, secret, enabled, created_at, updated_at)
		VALUES (?, ?, ?, 1, ?, ?)`, id, url, secret, now, now); err != nil {
		return "", fmt.Errorf("create endpoint: %w", err)
	}
	return id, nil
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
// current one keeps signing alongside it until graceUntil. It fails with
// an error wrapping ErrNotFound.
func (d *DB) RotateEndpointSecret(ctx context.Context, id, secret string, graceUntil time.Time) error {
	res, err := d.w.ExecContext(ctx, `UPDATE endpoints SET prev_secret = secret, prev_secret_until = ?, secret = ?, updated_at = ?
		WHERE id = ?`, graceUntil.UnixMilli(), secret, d.nowMS(), id)
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
	return waiting, nil
}

// EnqueueTestEvent queues payload as a test ticket.suggested event for one
// endpoint and returns the delivery id. It fails with an error wrapping
// ErrNotFound when the endpoint does not exist.
func (d *DB) EnqueueTestEvent(ctx context.Context, endpointID string, payload []byte) (string, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("enqueue test event: %w", err)
	}
	defer tx.Rollback()
	if err := endpointExistsTx(ctx, tx, endpointID); err != nil {
		return "", fmt.Errorf("enqueue test event: %w", err)
	}
	evID, err := enqueueEventTx(ctx, tx, d.newID, d.nowMS(), NewEvent{
		Type: "ticket.suggested", Payload: payload, Test: true, DecidedBy: "human:endpoints-test", EndpointID: endpointID,
	})
	if err != nil {
		return "", fmt.Errorf("enqueue test event: %w", err)
	}
	var id string
	if err := tx.QueryRowContext(ctx, `SELECT id FROM deliveries WHERE event_id = ?`, evID).Scan(&id); err != nil {
		return "", fmt.Errorf("enqueue test event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("enqueue test event: %w", err)
	}
	return id, nil
}

// Replay starts a new attempt sequence for a delivery: same event, same
// webhook-id, a fresh retry round; attempt numbers continue. It fails with
// ErrNotFound, or ErrNotReplayable when the delivery is already queued or
// its endpoint is disabled or removed.
func (d *DB) Replay(ctx context.Context, id string) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer tx.Rollback()
	var status string
	var enabled sql.NullBool
	err = tx.QueryRowContext(ctx, `SELECT d.status, e.enabled FROM deliveries d LEFT JOIN endpoints e ON e.id = d.endpoint_id
		WHERE d.id = ?`, id).Scan(&status, &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("replay %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	switch {
	case status == "pending" || status == "retrying":
		return fmt.Errorf("replay %s: already %s: %w", id, status, ErrNotReplayable)
	case status == "paused" || (enabled.Valid && !enabled.Bool):
		return fmt.Errorf("replay %s: endpoint is disabled, enable it first: %w", id, ErrNotReplayable)
	case !enabled.Valid:
		return fmt.Errorf("replay %s: endpoint was removed: %w", id, ErrNotReplayable)
	}
	now := d.nowMS()
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, deadline = NULL, updated_at = ?
		WHERE id = ?`, now, now, id); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}
