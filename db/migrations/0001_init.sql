-- smista schema v1. Times are INTEGER unix milliseconds (UTC); JSON columns
-- hold arrays/objects encoded by the Go side.

CREATE TABLE accounts (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

-- One row per (account, mailbox): the IMAP sync state lives here so an
-- interrupted sync resumes exactly.
CREATE TABLE mailboxes (
	id             INTEGER PRIMARY KEY,
	account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	uidvalidity    INTEGER NOT NULL DEFAULT 0,
	uidnext        INTEGER NOT NULL DEFAULT 0,
	highestmodseq  INTEGER NOT NULL DEFAULT 0,
	last_sync_at   INTEGER,
	UNIQUE (account_id, name)
);

-- messages.id is the stable email_id (mail.EmailID of the Message-ID), so the
-- same mail imported twice or synced from two places is one row.
CREATE TABLE messages (
	id            TEXT PRIMARY KEY,
	message_id    TEXT NOT NULL UNIQUE,
	thread_id     TEXT NOT NULL,
	in_reply_to   TEXT NOT NULL DEFAULT '',
	refs          TEXT NOT NULL DEFAULT '[]',
	from_name     TEXT NOT NULL DEFAULT '',
	from_addr     TEXT NOT NULL DEFAULT '',
	to_addrs      TEXT NOT NULL DEFAULT '[]',
	cc_addrs      TEXT NOT NULL DEFAULT '[]',
	reply_to      TEXT NOT NULL DEFAULT '[]',
	subject       TEXT NOT NULL DEFAULT '',
	date          INTEGER NOT NULL,
	received_at   INTEGER NOT NULL,
	text_body     TEXT NOT NULL DEFAULT '',
	html_body     TEXT NOT NULL DEFAULT '',
	headers       TEXT NOT NULL DEFAULT '{}',
	attachments   TEXT NOT NULL DEFAULT '[]',
	size          INTEGER NOT NULL,
	raw           BLOB NOT NULL,
	seen          INTEGER NOT NULL DEFAULT 0,
	source        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_date ON messages(date DESC);
CREATE INDEX messages_thread ON messages(thread_id);
CREATE INDEX messages_from ON messages(from_addr);

-- Where a message lives on an IMAP server; expunge detection compares UIDs.
CREATE TABLE message_locations (
	mailbox_id  INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid         INTEGER NOT NULL,
	message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	flags       TEXT NOT NULL DEFAULT '[]',
	modseq      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX message_locations_msg ON message_locations(message_id);

-- The classifier's result, one per message (the latest).
CREATE TABLE triage_results (
	message_id     TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
	intent         TEXT NOT NULL,
	confidence     REAL NOT NULL,
	priority       TEXT NOT NULL,
	summary        TEXT NOT NULL DEFAULT '',
	language       TEXT NOT NULL DEFAULT '',
	flags          TEXT NOT NULL DEFAULT '[]',
	draft          TEXT NOT NULL DEFAULT '',
	model          TEXT NOT NULL,
	prompt_version TEXT NOT NULL DEFAULT '',
	tokens_in      INTEGER NOT NULL DEFAULT 0,
	tokens_out     INTEGER NOT NULL DEFAULT 0,
	notes          TEXT NOT NULL DEFAULT '[]',
	created_at     INTEGER NOT NULL
);
CREATE INDEX triage_results_intent ON triage_results(intent);
CREATE INDEX triage_results_confidence ON triage_results(confidence);

-- Raw model answers, so reopening the app never re-bills a model call.
CREATE TABLE llm_cache (
	message_id     TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	model          TEXT NOT NULL,
	prompt_version TEXT NOT NULL,
	response       TEXT NOT NULL,
	tokens_in      INTEGER NOT NULL DEFAULT 0,
	tokens_out     INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	PRIMARY KEY (message_id, model, prompt_version)
);

-- The decision on a message: engine or human, with its reasons.
CREATE TABLE decisions (
	message_id  TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
	action      TEXT NOT NULL CHECK (action IN ('ticket', 'draft', 'suggest')),
	reasons     TEXT NOT NULL DEFAULT '[]',
	suggestion  TEXT NOT NULL DEFAULT '',
	decided_by  TEXT NOT NULL DEFAULT 'engine',
	decided_at  INTEGER NOT NULL
);
CREATE INDEX decisions_action ON decisions(action);

CREATE TABLE drafts (
	id           INTEGER PRIMARY KEY,
	message_id   TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	body         TEXT NOT NULL,
	status       TEXT NOT NULL DEFAULT 'pending'
	             CHECK (status IN ('pending', 'approved', 'sent', 'failed', 'discarded')),
	approved_by  TEXT NOT NULL DEFAULT '',
	approved_at  INTEGER,
	reply_message_id TEXT NOT NULL DEFAULT '',
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
);
CREATE INDEX drafts_message ON drafts(message_id);
CREATE INDEX drafts_status ON drafts(status);

-- Webhook endpoints. The previous secret signs alongside the new one until
-- prev_secret_until (rotation grace period).
CREATE TABLE endpoints (
	id                TEXT PRIMARY KEY,
	url               TEXT NOT NULL,
	secret            TEXT NOT NULL,
	prev_secret       TEXT NOT NULL DEFAULT '',
	prev_secret_until INTEGER,
	enabled           INTEGER NOT NULL DEFAULT 1,
	disabled_reason   TEXT NOT NULL DEFAULT '',
	disabled_at       INTEGER,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL
);

-- One row per event: the exact JSON body sent. A message has at most one
-- real ticket.suggested event, whatever re-triage happens.
CREATE TABLE events (
	id          TEXT PRIMARY KEY,
	type        TEXT NOT NULL,
	message_id  TEXT REFERENCES messages(id) ON DELETE SET NULL,
	payload     BLOB NOT NULL,
	test        INTEGER NOT NULL DEFAULT 0,
	decided_by  TEXT NOT NULL DEFAULT 'engine',
	created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_one_ticket ON events(message_id)
	WHERE type = 'ticket.suggested' AND test = 0 AND message_id IS NOT NULL;

-- The outbox: one row per (event, endpoint) for webhooks, or per approved
-- draft for SMTP replies. seq gives FIFO order within a queue; retry state
-- lives here, never only in memory, so a restart resumes exactly.
CREATE TABLE deliveries (
	seq              INTEGER PRIMARY KEY AUTOINCREMENT,
	id               TEXT NOT NULL UNIQUE,
	kind             TEXT NOT NULL DEFAULT 'webhook' CHECK (kind IN ('webhook', 'smtp')),
	queue            TEXT NOT NULL,
	endpoint_id      TEXT REFERENCES endpoints(id) ON DELETE CASCADE,
	event_id         TEXT REFERENCES events(id),
	draft_id         INTEGER REFERENCES drafts(id),
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
CREATE INDEX deliveries_queue ON deliveries(queue, status, seq);
CREATE INDEX deliveries_status ON deliveries(status, next_attempt_at);
CREATE INDEX deliveries_event ON deliveries(event_id);

-- Every attempt, for the delivery log. Headers are JSON; the secret never is.
CREATE TABLE attempts (
	id               INTEGER PRIMARY KEY,
	delivery_id      TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
	attempt          INTEGER NOT NULL,
	started_at       INTEGER NOT NULL,
	duration_ms      INTEGER NOT NULL,
	status_code      INTEGER NOT NULL DEFAULT 0,
	error_class      TEXT NOT NULL DEFAULT '',
	error            TEXT NOT NULL DEFAULT '',
	request_headers  TEXT NOT NULL DEFAULT '{}',
	request_body     BLOB,
	response_headers TEXT NOT NULL DEFAULT '{}',
	response_body    BLOB,
	UNIQUE (delivery_id, attempt)
);
CREATE INDEX attempts_started ON attempts(started_at);
