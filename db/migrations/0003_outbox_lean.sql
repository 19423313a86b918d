-- A lighter outbox. A delivered attempt is the hot path of the sender:
-- it now touches as few B-trees as possible.

-- Deliveries. The queue index no longer holds the status, so a delivery
-- that succeeds does not move in it. The rows not delivered (waiting,
-- dead, paused, canceled: few, and the ones worth a look) get a partial
-- index of their own, which a delivered row leaves and never re-enters.
-- Its condition is spelled as ORs so that a query's "status = 'x'" term
-- implies it (SQLite uses a partial index only when the query's terms
-- imply its condition); queries over several statuses carry the condition
-- verbatim (db.openRows).
DROP INDEX deliveries_queue;
DROP INDEX deliveries_status;
CREATE INDEX deliveries_queue ON deliveries(queue, seq);
CREATE INDEX deliveries_open ON deliveries(queue, status, seq)
	WHERE status = 'pending' OR status = 'retrying' OR status = 'paused' OR status = 'dead' OR status = 'canceled';

-- Attempts point at their delivery by seq (its rowid: an integer key, and
-- a rowid lookup for the foreign key) instead of its text id. The body
-- sent is NULL when it is the event's payload, stored once in events.
-- Only failed attempts are indexed by time: auto-disable counts them.
CREATE TABLE attempts_new (
	id               INTEGER PRIMARY KEY,
	delivery_seq     INTEGER NOT NULL REFERENCES deliveries(seq) ON DELETE CASCADE,
	attempt          INTEGER NOT NULL,
	started_at       INTEGER NOT NULL,
	duration_ms      INTEGER NOT NULL,
	status_code      INTEGER NOT NULL DEFAULT 0,
	error_class      TEXT NOT NULL DEFAULT '',
	error            TEXT NOT NULL DEFAULT '',
	request_headers  TEXT NOT NULL DEFAULT '{}',
	request_body     BLOB, -- NULL: the event's payload
	response_headers TEXT NOT NULL DEFAULT '{}',
	response_body    BLOB,
	UNIQUE (delivery_seq, attempt)
);
INSERT INTO attempts_new (id, delivery_seq, attempt, started_at, duration_ms, status_code, error_class, error,
	request_headers, request_body, response_headers, response_body)
SELECT a.id, d.seq, a.attempt, a.started_at, a.duration_ms, a.status_code, a.error_class, a.error,
	a.request_headers, CASE WHEN a.request_body = v.payload THEN NULL ELSE a.request_body END,
	a.response_headers, a.response_body
FROM attempts a JOIN deliveries d ON d.id = a.delivery_id LEFT JOIN events v ON v.id = d.event_id;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_failed ON attempts(started_at) WHERE error_class != '';
