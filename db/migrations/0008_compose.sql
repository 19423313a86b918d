-- Drafts of every kind a person writes: a reply (the triage draft is one),
-- a reply to all, a forward, a new message. A new message answers no email
-- (message_id NULL); the headers the person typed at the top of the editor
-- are kept as they were written ('' means the kind's default, computed from
-- the email when the mail is composed: the triage drafts have none).
-- edited_by names who last edited the body ("human:<name>"), so that
-- regenerating asks before replacing a person's words.
--
-- SQLite cannot drop a NOT NULL in place: the table is rebuilt. The
-- deliveries of approved replies point at drafts(id) with a deferred
-- foreign key: dropping the table counts those rows as violations until a
-- draft with their id is inserted again, so the rows go back in, with
-- their ids, into a table called drafts before the commit checks (a
-- rename would not: it inserts nothing).

CREATE TEMP TABLE drafts_copy AS SELECT * FROM drafts;
DROP TABLE drafts;

CREATE TABLE drafts (
	id           INTEGER PRIMARY KEY,
	message_id   TEXT REFERENCES messages(id) ON DELETE CASCADE,
	kind         TEXT NOT NULL DEFAULT 'reply' CHECK (kind IN ('reply', 'reply_all', 'forward', 'new')),
	to_addrs     TEXT NOT NULL DEFAULT '',
	cc_addrs     TEXT NOT NULL DEFAULT '',
	subject      TEXT NOT NULL DEFAULT '',
	body         TEXT NOT NULL,
	edited_by    TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL DEFAULT 'pending'
	             CHECK (status IN ('pending', 'approved', 'sent', 'failed', 'discarded')),
	approved_by  TEXT NOT NULL DEFAULT '',
	approved_at  INTEGER,
	reply_message_id TEXT NOT NULL DEFAULT '',
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	-- Only a new message stands alone.
	CHECK ((kind = 'new') = (message_id IS NULL))
);

-- Before this version an edit and a regeneration looked alike: a pending
-- draft changed since it was created is taken as a person's edit (asking
-- once too often loses nothing; not asking would).
INSERT INTO drafts (id, message_id, kind, body, edited_by, status, approved_by, approved_at, reply_message_id,
	last_error, created_at, updated_at)
SELECT id, message_id, 'reply', body,
	CASE WHEN status = 'pending' AND updated_at > created_at THEN 'human' ELSE '' END,
	status, approved_by, approved_at, reply_message_id, last_error, created_at, updated_at
FROM drafts_copy ORDER BY id;
DROP TABLE drafts_copy;

CREATE INDEX drafts_message ON drafts(message_id);
CREATE INDEX drafts_status ON drafts(status);
