package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"smista/webhook"
)

// ErrDuplicateEvent is returned when a message would get a second real
// ticket.suggested event: re-triage never queues a second one.
var ErrDuplicateEvent = errors.New("message already has a ticket.suggested event")

// NewEvent is an event to put in the outbox.
type NewEvent struct {
	Type      string // "ticket.suggested"
	MessageID string // the email id; "" for endpoint tests
	Payload   []byte // the exact JSON body
	Test      bool   // an endpoint test: shown as such, exempt from the one-ticket rule
	DecidedBy string // "engine" or "human:<who>"
	// EndpointID restricts delivery to one endpoint (endpoint tests); ""
	// means every endpoint not removed.
	EndpointID string
}

// NewID returns a unique id with the given prefix ("evt_", "dlv_"...):
// 24 hex digits, the first 12 the creation time in unix milliseconds, the
// rest random. Time-ordered ids make the indexes on them grow at their
// right edge, so a transaction writes a few index pages rather than one
// per row; 48 random bits keep ids made in the same millisecond apart.
// The wall clock only orders ids: no decision depends on it.
func NewID(prefix string) string {
	var b [12]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("db: crypto/rand: %v", err)) // the OS RNG does not fail on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// WebhookID derives the Standard Webhooks webhook-id of an event delivered
// to an endpoint: stable across retries, replays and restarts, distinct per
// endpoint, so receivers can deduplicate.
func WebhookID(eventID, endpointID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + endpointID))
	return "msg_" + hex.EncodeToString(sum[:12])
}

// EnqueueEvents queues evs in one transaction, each event with one
// delivery per endpoint (pending for enabled endpoints, paused for
// disabled ones), and returns their ids in order. It fails with an error
// wrapping ErrDuplicateEvent when a message would get a second real
// ticket.suggested event; then nothing is queued. The caller then wakes
// the sender.
func (d *DB) EnqueueEvents(ctx context.Context, evs ...NewEvent) ([]string, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("enqueue events: %w", err)
	}
	defer tx.Rollback()
	e, err := newEnqueuer(ctx, tx, d.newID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(evs))
	for _, ev := range evs {
		id, err := e.enqueue(ctx, d.nowMS(), ev)
		if err != nil {
			e.close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := e.close(); err != nil {
		return nil, fmt.Errorf("enqueue events: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("enqueue events: %w", err)
	}
	return ids, nil
}

// enqueueEventTx inserts the event and one delivery per endpoint inside the
// caller's transaction, with ids from newID: pending for enabled endpoints,
// paused for disabled ones. It returns the event id, or ErrDuplicateEvent
// when the message already has a real ticket.suggested event. The caller
// commits, then wakes the sender.
func enqueueEventTx(ctx context.Context, tx *sql.Tx, newID func(string) string, nowMS int64, ev NewEvent) (string, error) {
	e, err := newEnqueuer(ctx, tx, newID)
	if err != nil {
		return "", err
	}
	defer e.close()
	return e.enqueue(ctx, nowMS, ev)
}

// enqueuer enqueues events inside one transaction with its statements
// prepared once and the endpoints read once: the batch form of
// enqueueEventTx, for callers that queue many events per transaction.
// It must not outlive the transaction; endpoints added or changed inside
// the transaction after newEnqueuer are not seen.
type enqueuer struct {
	tx          *sql.Tx
	newID       func(string) string
	insEvent    *sql.Stmt
	insDelivery *sql.Stmt // one row, prepared when first needed
	insAll      *sql.Stmt // one row per endpoint, when there are several
	eps         []enqueueEndpoint
	args        []any
}

type enqueueEndpoint struct {
	id      string
	enabled bool
}

// newEnqueuer prepares the enqueue statements on tx and reads the
// endpoints; newID makes the ids. Close it before the transaction ends.
func newEnqueuer(ctx context.Context, tx *sql.Tx, newID func(string) string) (*enqueuer, error) {
	e := &enqueuer{tx: tx, newID: newID}
	rows, err := tx.QueryContext(ctx, `SELECT id, enabled FROM endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("enqueue event: %w", err)
	}
	for rows.Next() {
		var ep enqueueEndpoint
		if err := rows.Scan(&ep.id, &ep.enabled); err != nil {
			rows.Close()
			return nil, fmt.Errorf("enqueue event: %w", err)
		}
		e.eps = append(e.eps, ep)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("enqueue event: %w", err)
	}
	if e.insEvent, err = tx.PrepareContext(ctx, `INSERT INTO events (id, type, message_id, payload, test, decided_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`); err != nil {
		return nil, fmt.Errorf("enqueue event: %w", err)
	}
	// The deliveries of an event in one statement: one execution instead
	// of one per endpoint (bounded: 4 variables a row).
	if n := len(e.eps); n > 1 && 2+4*n <= 32766 {
		if e.insAll, err = tx.PrepareContext(ctx, insDeliveriesSQL(n)); err != nil {
			e.insEvent.Close()
			return nil, fmt.Errorf("enqueue event: %w", err)
		}
	}
	return e, nil
}

// insDeliveriesSQL inserts n webhook deliveries of one event, OR FAIL so
// that SQLite keeps no statement journal (see recordChunks). ?1 is the
// event id and ?2 the time, shared by the rows; each row has 4 arguments
// of its own (id, endpoint, webhook-id, status). A pending delivery is due
// now; a paused one has no next attempt.
func insDeliveriesSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR FAIL INTO deliveries
		(id, kind, queue, endpoint_id, event_id, webhook_id, status, next_attempt_at, created_at, updated_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k := 3 + 4*i
		fmt.Fprintf(&b, "(?%d, 'webhook', ?%d, ?%d, ?1, ?%d, ?%d, CASE ?%d WHEN 'pending' THEN ?2 END, ?2, ?2)",
			k, k+1, k+1, k+2, k+3, k+3)
	}
	return b.String()
}

// close releases the prepared statements.
func (e *enqueuer) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{e.insEvent, e.insDelivery, e.insAll} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// enqueue is enqueueEventTx on the enqueuer's transaction.
func (e *enqueuer) enqueue(ctx context.Context, nowMS int64, ev NewEvent) (string, error) {
	id := e.newID("evt_")
	decidedBy := ev.DecidedBy
	if decidedBy == "" {
		decidedBy = "engine"
	}
	var msgID any
	if ev.MessageID != "" {
		msgID = ev.MessageID
	}
	res, err := e.insEvent.ExecContext(ctx, id, ev.Type, msgID, ev.Payload, ev.Test, decidedBy, nowMS)
	if err != nil {
		return "", fmt.Errorf("enqueue event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", ErrDuplicateEvent
	}
	args := append(e.args[:0], id, nowMS)
	for _, ep := range e.eps {
		if ev.EndpointID != "" && ep.id != ev.EndpointID {
			continue
		}
		status := "pending"
		if !ep.enabled {
			status = "paused"
		}
		args = append(args, e.newID("dlv_"), ep.id, WebhookID(id, ep.id), status)
	}
	e.args = args[:0]
	if ev.EndpointID == "" && e.insAll != nil {
		if _, err := e.insAll.ExecContext(ctx, args...); err != nil {
			return "", fmt.Errorf("enqueue event: %w", err)
		}
		return id, nil
	}
	if e.insDelivery == nil && len(args) > 2 {
		st, err := e.tx.PrepareContext(ctx, insDeliveriesSQL(1))
		if err != nil {
			return "", fmt.Errorf("enqueue event: %w", err)
		}
		e.insDelivery = st
	}
	for i := 2; i < len(args); i += 4 {
		if _, err := e.insDelivery.ExecContext(ctx, id, nowMS, args[i], args[i+1], args[i+2], args[i+3]); err != nil {
			return "", fmt.Errorf("enqueue event: %w", err)
		}
	}
	return id, nil
}

// stmtCache keeps statements prepared once per query text on one pool
// (database/sql re-prepares them on each connection that runs them). A
// nil cache prepares nothing: queries are parsed at every call.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	// scratch holds *[]webhook.Delivery buffers for reading pending rows.
	scratch sync.Pool
	// Recently read events, in two generations: a lookup tries both, an
	// addition goes to cur, and a full cur becomes old (so the cache holds
	// between eventCacheSize and twice as many, the most recent).
	evMu         sync.Mutex
	evCur, evOld map[string]eventInfo
}

// eventCacheSize bounds a generation of the event cache: enough for the
// read-ahead of every queue of a sender (Options.Prefetch rows each, the
// same events in every queue).
const eventCacheSize = 2048

// event returns the cached event id; false on a miss or a nil cache.
func (c *stmtCache) event(id string) (eventInfo, bool) {
	if c == nil {
		return eventInfo{}, false
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	if ev, ok := c.evCur[id]; ok {
		return ev, true
	}
	ev, ok := c.evOld[id]
	return ev, ok
}

// addEvent caches an event (nothing on a nil cache).
func (c *stmtCache) addEvent(id string, ev eventInfo) {
	if c == nil {
		return
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	if len(c.evCur) >= eventCacheSize {
		c.evOld, c.evCur = c.evCur, nil
	}
	if c.evCur == nil {
		c.evCur = make(map[string]eventInfo, eventCacheSize)
	}
	c.evCur[id] = ev
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}}
}

// prepare returns the cached statement for q, preparing it on first use;
// nil (and no error) on a nil cache. On the writer pool, call it outside a
// transaction: preparing needs the pool's only connection.
func (c *stmtCache) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	st, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

// query runs q with the cached statement, or on pool without a cache.
func (c *stmtCache) query(ctx context.Context, pool *sql.DB, q string, args ...any) (*sql.Rows, error) {
	if c == nil {
		return pool.QueryContext(ctx, q, args...)
	}
	st, err := c.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// txStmt returns cached bound to tx (no new parse when tx runs on the
// connection it was prepared on), or q prepared on tx when cached is nil.
func txStmt(ctx context.Context, tx *sql.Tx, cached *sql.Stmt, q string) (*sql.Stmt, error) {
	if cached != nil {
		return tx.StmtContext(ctx, cached), nil
	}
	return tx.PrepareContext(ctx, q)
}

var (
	_ webhook.Preparer      = (*DB)(nil)
	_ webhook.PreparedStore = (*OutboxStore)(nil)
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

// Close releases the prepared statements.
func (o *OutboxStore) Close() error {
	return errors.Join(o.r.close(), o.w.close())
}
