package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"smista/webhook"
)

var _ webhook.Store = (*DB)(nil)

var (
	_ webhook.Preparer      = (*DB)(nil)
	_ webhook.PreparedStore = (*OutboxStore)(nil)
	_ webhook.Checkpointer  = (*OutboxStore)(nil)
)

// OutboxStore is the webhook.Store of one sender run: the DB's outbox
// methods with their statements prepared once and reused (the sender's
// queries and group commits run thousands of times a second, and parsing
// SQL is a large part of their cost in the pure-Go SQLite). Close it when
// the run ends.
type OutboxStore struct {
	d *DB
	r *stmtCache
	w *stmtCache
}

// PrepareStore implements webhook.Preparer.
func (d *DB) PrepareStore() webhook.PreparedStore {
	return &OutboxStore{d: d, r: newStmtCache(d.r), w: newStmtCache(d.w)}
}

// Queues implements webhook.Store.
func (o *OutboxStore) Queues(ctx context.Context, kinds []string) ([]string, error) {
	return queues(ctx, o.d.r, o.r, kinds)
}

// Pending implements webhook.Store.
func (o *OutboxStore) Pending(ctx context.Context, q webhook.PendingQuery) ([]webhook.Delivery, error) {
	return pending(ctx, o.d.r, o.r, q)
}

// Record implements webhook.Store.
func (o *OutboxStore) Record(ctx context.Context, outcomes []webhook.Outcome, policy webhook.DisablePolicy) ([]webhook.Disabled, error) {
	return o.d.record(ctx, o.w, outcomes, policy)
}

// Delivery implements webhook.Store.
func (o *OutboxStore) Delivery(ctx context.Context, id string, roundLength time.Duration) (webhook.Delivery, error) {
	return o.d.Delivery(ctx, id, roundLength)
}

// CheckpointSoon implements webhook.Checkpointer: a background checkpoint
// (PASSIVE, on a connection of the read pool) starts now.
func (o *OutboxStore) CheckpointSoon() { o.d.ckpt.request() }

// Close releases the prepared statements.
func (o *OutboxStore) Close() error {
	return errors.Join(o.r.close(), o.w.close())
}

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

// Pending implements webhook.Store: a queue's retrying deliveries and its
// pending ones after q.AfterSeq, up to q.Limit in seq order, each read with
// an index range.
func (d *DB) Pending(ctx context.Context, q webhook.PendingQuery) ([]webhook.Delivery, error) {
	return pending(ctx, d.r, nil, q)
}

// pendingCols are deliveryCols without the queue and the status (known
// from the query), the endpoint's (rows of a queue share it, read once
// per call), the event's (the deliveries of an event share it, one per
// endpoint: see withEvents) and the creation time (the sender has no use
// for it: Pending leaves Delivery.CreatedAt zero); the delivery's four
// ids come as one text (idsSep between them, split by splitIDs). Every
// column read costs the driver two to four calls under the connection's
// mutex, and a text column a string, for each of the thousands of rows a
// sender reads a second.
const pendingCols = `d.seq, d.id || char(31) || COALESCE(d.endpoint_id, '') || char(31) || COALESCE(d.event_id, '')
	|| char(31) || d.webhook_id, d.kind, COALESCE(d.draft_id, 0), d.attempts,
	CASE WHEN d.deadline IS NULL THEN 0 ELSE
		(SELECT COUNT(*) FROM attempts a WHERE a.delivery_seq = d.seq AND a.started_at >= d.deadline - ?
			AND a.error_class != 'offline') END,
	d.next_attempt_at, d.deadline
	FROM deliveries d`

// idsSep separates the ids of pendingCols: char(31), the ASCII unit
// separator, which no id holds (smista makes them: a prefix and hex
// digits).
const idsSep = "\x1f"

// errPackedIDs is returned for a row whose packed ids do not split in
// four: an id holding idsSep.
var errPackedIDs = errors.New("a delivery id holds the unit separator")

// splitIDs splits the packed ids of pendingCols into d (substrings of
// one string: one allocation for the four).
func splitIDs(packed string, d *webhook.Delivery) error {
	var parts [4]string
	for i := range 3 {
		j := strings.IndexByte(packed, idsSep[0])
		if j < 0 {
			return errPackedIDs
		}
		parts[i], packed = packed[:j], packed[j+1:]
	}
	if strings.IndexByte(packed, idsSep[0]) >= 0 {
		return errPackedIDs
	}
	d.ID, d.EndpointID, d.EventID, d.WebhookID = parts[0], parts[1], parts[2], packed
	return nil
}

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
	buf, err := scanPending(ctx, pool, c, retryingSQL(len(q.Kinds)), q.Queue, webhook.StatusRetrying, append(retryArgs, limit), buf)
	if err != nil {
		return nil, err
	}
	retrying := len(buf)
	buf, err = scanPending(ctx, pool, c, pendingAfterSQL(len(q.Kinds)), q.Queue, webhook.StatusPending, append(pendArgs, limit), buf)
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

// scanPending appends the rows of query, all in status, to out.
func scanPending(ctx context.Context, pool *sql.DB, c *stmtCache, query, queue, status string, args []any, out []webhook.Delivery) ([]webhook.Delivery, error) {
	rows, err := c.query(ctx, pool, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d := webhook.Delivery{Queue: queue, Status: status}
		var next, deadline sql.NullInt64
		var ids string
		if err := rows.Scan(&d.Seq, &ids, &d.Kind, &d.Ref, &d.Attempts, &d.RoundAttempts, &next, &deadline); err != nil {
			return nil, fmt.Errorf("pending deliveries: %w", err)
		}
		if err := splitIDs(ids, &d); err != nil {
			return nil, fmt.Errorf("pending deliveries: seq %d: %w", d.Seq, err)
		}
		d.NextAttemptAt, d.Deadline = msTime(next), msTime(deadline)
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

const deliveryCols = `d.seq, d.id, d.kind, d.queue, COALESCE(d.endpoint_id, ''), COALESCE(d.event_id, ''),
	COALESCE(v.type, ''), d.webhook_id, COALESCE(d.draft_id, 0), d.status, COALESCE(v.test, 0), d.attempts,
	CASE WHEN d.deadline IS NULL THEN 0 ELSE
		(SELECT COUNT(*) FROM attempts a WHERE a.delivery_seq = d.seq AND a.started_at >= d.deadline - ?
			AND a.error_class != 'offline') END,
	d.next_attempt_at, d.deadline, d.created_at,
	COALESCE(e.url, ''), COALESCE(e.secret, ''), COALESCE(e.prev_secret, ''), e.prev_secret_until, COALESCE(v.payload, x'')
	FROM deliveries d LEFT JOIN endpoints e ON e.id = d.endpoint_id LEFT JOIN events v ON v.id = d.event_id`

func scanDelivery(sc interface{ Scan(...any) error }) (webhook.Delivery, error) {
	var d webhook.Delivery
	var next, deadline, prevUntil sql.NullInt64
	var created int64
	if err := sc.Scan(&d.Seq, &d.ID, &d.Kind, &d.Queue, &d.EndpointID, &d.EventID, &d.EventType, &d.WebhookID,
		&d.Ref, &d.Status, &d.Test, &d.Attempts, &d.RoundAttempts, &next, &deadline, &created,
		&d.URL, &d.Secret, &d.PrevSecret, &prevUntil, &d.Payload); err != nil {
		return d, err
	}
	d.NextAttemptAt, d.Deadline, d.PrevSecretUntil = msTime(next), msTime(deadline), msTime(prevUntil)
	d.CreatedAt = time.UnixMilli(created)
	return d, nil
}
