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
	"time"
)

// ErrDuplicateEvent is returned when a message would get a second real
// ticket.suggested event: re-triage never queues a second one.
var ErrDuplicateEvent = errors.New("message already has a ticket.suggested event")

// openRows is the condition of the partial index deliveries_open (every
// status but delivered), spelled as in migration 0003: a query over several
// statuses carries it verbatim so that SQLite may use the index (a single
// "status = 'x'" term implies it on its own).
const openRows = `(status = 'pending' OR status = 'retrying' OR status = 'paused' OR status = 'dead' OR status = 'canceled')`

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

// WebhookID derives the Standard Webhooks webhook-id of an email's
// ticket.suggested event delivered to the endpoint at endpointURL (the
// normalised URL the endpoint was stored with): stable across retries,
// replays and restarts, distinct per endpoint, and the same in every
// installation — the email id derives from the Message-ID — so that a
// receiver deduplicates the event two agents' installations both send.
func WebhookID(emailID, endpointURL string) string {
	return webhookID("ticket.suggested", emailID, endpointURL)
}

// testWebhookID derives the webhook-id of an endpoint test (an event of no
// email): from the event and the endpoint, so every test is new.
func testWebhookID(eventID, endpointID string) string {
	return webhookID("test", eventID, endpointID)
}

func webhookID(kind, a, b string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + a + "\x00" + b))
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
	id, url string
	enabled bool
}

// newEnqueuer prepares the enqueue statements on tx and reads the
// endpoints; newID makes the ids. Close it before the transaction ends.
func newEnqueuer(ctx context.Context, tx *sql.Tx, newID func(string) string) (*enqueuer, error) {
	e := &enqueuer{tx: tx, newID: newID}
	rows, err := tx.QueryContext(ctx, `SELECT id, url, enabled FROM endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("enqueue event: %w", err)
	}
	for rows.Next() {
		var ep enqueueEndpoint
		if err := rows.Scan(&ep.id, &ep.url, &ep.enabled); err != nil {
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
	emailID := ev.MessageID
	if ev.Test {
		emailID = ""
	}
	if err := e.deliver(ctx, id, emailID, nowMS, ev.EndpointID); err != nil {
		return "", err
	}
	return id, nil
}

// deliver queues event id for every endpoint (or only endpointID): one
// delivery each, pending for an enabled endpoint, paused for a disabled
// one, with the webhook-id of the email (emailID, a real ticket) and the
// endpoint's URL, or else of the event and the endpoint.
func (e *enqueuer) deliver(ctx context.Context, id, emailID string, nowMS int64, endpointID string) error {
	args := append(e.args[:0], id, nowMS)
	for _, ep := range e.eps {
		if endpointID != "" && ep.id != endpointID {
			continue
		}
		status := "pending"
		if !ep.enabled {
			status = "paused"
		}
		wid := testWebhookID(id, ep.id)
		if emailID != "" {
			wid = WebhookID(emailID, ep.url)
		}
		args = append(args, e.newID("dlv_"), ep.id, wid, status)
	}
	e.args = args[:0]
	if endpointID == "" && e.insAll != nil {
		if _, err := e.insAll.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("enqueue event: %w", err)
		}
		return nil
	}
	if e.insDelivery == nil && len(args) > 2 {
		st, err := e.tx.PrepareContext(ctx, insDeliveriesSQL(1))
		if err != nil {
			return fmt.Errorf("enqueue event: %w", err)
		}
		e.insDelivery = st
	}
	for i := 2; i < len(args); i += 4 {
		if _, err := e.insDelivery.ExecContext(ctx, id, nowMS, args[i], args[i+1], args[i+2], args[i+3]); err != nil {
			return fmt.Errorf("enqueue event: %w", err)
		}
	}
	return nil
}
