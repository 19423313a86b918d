-- Team mode (issue 13): one sender per store, an installation's identity
-- on a shared mailbox, and who did what.

-- The sender lease: only its owner sends. The owner renews it well before
-- expires_at; another process takes it over once it expired (the owner
-- died or hangs), or at once when host and pid name a process of this
-- machine that is gone. holder says who holds it, for the status bar.
CREATE TABLE leases (
	name        TEXT PRIMARY KEY,
	owner       TEXT NOT NULL,
	holder      TEXT NOT NULL DEFAULT '',
	host        TEXT NOT NULL DEFAULT '',
	pid         INTEGER NOT NULL DEFAULT 0,
	acquired_at INTEGER NOT NULL,
	renewed_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
);

-- This store's identity as an installation (one row): its claims on a
-- shared mailbox carry it, so that after a crash it recognises its own.
CREATE TABLE installation (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	id  TEXT NOT NULL
);
INSERT INTO installation (one, id) VALUES (1, lower(hex(randomblob(8))));

-- Every action of a person ("human:<name>"): overrides, drafts, replays,
-- endpoint changes. email_id ties an action to an email (no foreign key:
-- the record outlives the message).
CREATE TABLE audit (
	id       INTEGER PRIMARY KEY,
	at       INTEGER NOT NULL,
	actor    TEXT NOT NULL,
	action   TEXT NOT NULL,
	target   TEXT NOT NULL DEFAULT '',
	email_id TEXT
);
CREATE INDEX audit_email ON audit(email_id, at) WHERE email_id IS NOT NULL;
CREATE INDEX audit_at ON audit(at);
