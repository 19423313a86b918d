-- A lighter outbox. A delivered attempt is the hot path of the sender:
-- it now touches as few B-trees as possible.

-- Deliveries are rebuilt with their foreign keys checked at commit
-- (DEFERRABLE INITIALLY DEFERRED). An immediate foreign key makes SQLite
-- keep a statement journal for every multi-row INSERT or UPDATE (a copy of
-- each page the statement touches, in case it must undo half of itself):
-- the sender's group commit and the enqueuer write many rows per
-- statement, and a violation rolls their whole transaction back anyway.
-- Removing an endpoint detaches its deliveries (endpoint_id NULL): the
-- log is never deleted with it.
CREATE TABLE deliveries_new (
	seq              INTEGER PRIMARY KEY AUTOINCREMENT,
	id               TEXT NOT NULL UNIQUE,
	kind             TEXT NOT NULL DEFAULT 'webhook' CHECK (kind IN ('webhook', 'smtp')),
	queue            TEXT NOT NULL,
	endpoint_id      TEXT REFERENCES endpoints(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
	event_id         TEXT REFERENCES events(id) DEFERRABLE INITIALLY DEFERRED,
	draft_id         INTEGER REFERENCES drafts(id) DEFERRABLE INITIALLY DEFERRED,
	webhook_id       TEXT NOT NULL DEFAULT '',
	status           TEXT NOT NULL DEFAULT 'pending'
	                 CHECK (status IN ('pending', 'retrying', 'delivered', 'dead', 'paused', 'canceled')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  INTEGER,
	deadline         INTEGER,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
INSERT INTO deliveries_new (seq, id, kind, queue, endpoint_id, event_id, draft_id, webhook_id, status, attempts,
	next_attempt_at, deadline, last_status_code, last_error, created_at, updated_at)
SELECT seq, id, kind, queue, endpoint_id, event_id, draft_id, webhook_id, status, attempts,
	next_attempt_at, deadline, last_status_code, last_error, created_at, updated_at FROM deliveries;
-- AUTOINCREMENT: seq keeps counting from where it was.
DELETE FROM sqlite_sequence WHERE name = 'deliveries_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'deliveries_new', seq FROM sqlite_sequence WHERE name = 'deliveries';

-- Attempts point at their delivery by seq (its rowid: an integer key, and
-- a rowid lookup for the foreign key) instead of its text id. The body
-- sent is NULL when it is the event's payload, stored once in events.
-- Only failed attempts are indexed by time: auto-disable counts them.
CREATE TABLE attempts_new (
	id               INTEGER PRIMARY KEY,
	delivery_seq     INTEGER NOT NULL REFERENCES deliveries_new(seq) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
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

-- The child first: dropping deliveries deletes its rows, which must not
-- cascade into the attempts just copied.
DROP TABLE attempts;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE attempts_new RENAME TO attempts;

-- The queue index does not hold the status, so a delivery that succeeds
-- does not move in it. The rows not delivered (waiting, dead, paused,
-- canceled: few, and the ones worth a look) get a partial index of their
-- own, which a delivered row leaves and never re-enters. Its condition is
-- spelled as ORs so that a query's "status = 'x'" term implies it (SQLite
-- uses a partial index only when the query's terms imply its condition);
-- queries over several statuses carry the condition verbatim
-- (db.openRows).
CREATE INDEX deliveries_queue ON deliveries(queue, seq);
CREATE INDEX deliveries_open ON deliveries(queue, status, seq)
	WHERE status = 'pending' OR status = 'retrying' OR status = 'paused' OR status = 'dead' OR status = 'canceled';
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX attempts_failed ON attempts(started_at) WHERE error_class != '';
