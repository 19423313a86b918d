-- smista: foreign keys off
-- Storage shaped for the queries. The inbox scans the messages table:
-- its row now holds only what a listing shows, sorts and filters on
-- (about 250 bytes instead of the whole mail), and the raw mail moves to
-- message_data, read when one message is opened or classified. The text
-- and HTML bodies, the header map and the attachment list are not stored:
-- they are parsed from the raw mail when needed (mail.FillBody).
--
-- This migration rebuilds messages, which six tables reference. It runs
-- with foreign keys off (the marker on the first line; db.apply checks
-- every reference with PRAGMA foreign_key_check before it commits):
-- dropping the old table must not cascade into its children.

CREATE TABLE messages_new (
	-- seq is the stable rowid message_data hangs on (an INTEGER PRIMARY
	-- KEY survives VACUUM; an implicit rowid does not).
	seq           INTEGER PRIMARY KEY,
	id            TEXT NOT NULL UNIQUE,
	message_id    TEXT NOT NULL UNIQUE,
	thread_id     TEXT NOT NULL,
	from_name     TEXT NOT NULL DEFAULT '',
	from_addr     TEXT NOT NULL DEFAULT '',
	subject       TEXT NOT NULL DEFAULT '',
	date          INTEGER NOT NULL,
	received_at   INTEGER NOT NULL,
	size          INTEGER NOT NULL,
	seen          INTEGER NOT NULL DEFAULT 0,
	source        TEXT NOT NULL DEFAULT '',
	-- What the inbox sorts and filters on, copied from triage_results and
	-- decisions by the triggers below (never written directly): intent
	-- NULL = not triaged; confidence -1 = not triaged; flags a bit set
	-- (1 payments, 2 legal, 4 vip, 8 injection); action NULL = no decision.
	intent        TEXT,
	confidence    REAL NOT NULL DEFAULT -1,
	flags         INTEGER NOT NULL DEFAULT 0,
	action        TEXT,
	-- 1 when a person corrected the intent (corrections): intent is then
	-- theirs, and the model's stays in triage_results.
	corrected     INTEGER NOT NULL DEFAULT 0
);

-- The rest of a message, one row per messages row (same seq). raw is the
-- mail as received, compressed when codec is 1 (S2); codec 0 stores it
-- as is (rows moved by this migration, and mail too small to gain). The
-- reference is checked at commit, so that a multi-row insert keeps no
-- statement journal (see migration 0003).
CREATE TABLE message_data (
	seq          INTEGER PRIMARY KEY REFERENCES messages(seq) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	in_reply_to  TEXT NOT NULL DEFAULT '',
	refs         TEXT NOT NULL DEFAULT '[]',
	to_addrs     TEXT NOT NULL DEFAULT '[]',
	cc_addrs     TEXT NOT NULL DEFAULT '[]',
	reply_to     TEXT NOT NULL DEFAULT '[]',
	codec        INTEGER NOT NULL DEFAULT 0,
	raw          BLOB NOT NULL
);

INSERT INTO messages_new (seq, id, message_id, thread_id, from_name, from_addr, subject, date, received_at,
	size, seen, source)
SELECT rowid, id, message_id, thread_id, from_name, from_addr, subject, date, received_at, size, seen, source
FROM messages;

-- A row stored without its raw mail (only programs and tests did that)
-- keeps its text as a one-part message, so it still reads back.
INSERT INTO message_data (seq, in_reply_to, refs, to_addrs, cc_addrs, reply_to, codec, raw)
SELECT rowid, in_reply_to, refs, to_addrs, cc_addrs, reply_to, 0,
	CASE WHEN length(raw) = 0 AND text_body != ''
	THEN CAST('Content-Type: text/plain; charset=utf-8' || char(13, 10, 13, 10) || text_body AS BLOB)
	ELSE raw END
FROM messages;

DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;

-- Every sort and filter of the inbox reads one index in list order, so the
-- first page is a short index walk whatever the store's size. Each ends
-- in (date DESC, id DESC): the list's order (newest first, ties in a fixed
-- order), and the key a page continues from, compared as one row value.
-- Read backwards, messages_date is also the triage queue (oldest first).
-- The triage indexes hold the triaged messages only, and messages_undecided
-- the others (not triaged, or without a decision: the "untriaged" and the
-- "no decision" filters): a sync inserts a message into two of them, and
-- its triage moves it from one to the others, instead of inserting each
-- message into all of them and moving it again at triage. A sort by
-- confidence reads the triaged messages (messages_confidence), then the
-- untriaged ones.
CREATE INDEX messages_date ON messages(date DESC, id DESC);
CREATE INDEX messages_undecided ON messages(date DESC, id DESC) WHERE intent IS NULL OR action IS NULL;
CREATE INDEX messages_confidence ON messages(confidence DESC, date DESC, id DESC) WHERE intent IS NOT NULL;
CREATE INDEX messages_intent ON messages(intent, date DESC, id DESC) WHERE intent IS NOT NULL;
CREATE INDEX messages_action ON messages(action, date DESC, id DESC) WHERE action IS NOT NULL;
-- Few messages carry a flag: the flagged ones only.
CREATE INDEX messages_flags ON messages(flags, date DESC, id DESC) WHERE flags != 0;

-- The inbox search (a substring of the subject, the sender's name or
-- address, any case) reads a trigram index instead of every row: at
-- 100,000 messages a rare word is found in a millisecond instead of
-- 30 ms. The index holds the three columns of messages (external
-- content) up to search_state.indexed_seq: indexing costs about as much
-- as storing the message, so a sync does not do it; the front ends that
-- search bring it up to date in the background (db.IndexSearch), and a
-- search reads the rows past it directly. A stored message never changes
-- these columns; the triggers keep the index right if one ever does.
CREATE VIRTUAL TABLE messages_search USING fts5(subject, from_name, from_addr,
	content = 'messages', content_rowid = 'seq', tokenize = 'trigram case_sensitive 0');
CREATE TABLE search_state (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	indexed_seq INTEGER NOT NULL
);
INSERT INTO messages_search (messages_search) VALUES ('rebuild');
INSERT INTO search_state (id, indexed_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM messages;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN OLD.seq <= (SELECT indexed_seq FROM search_state) BEGIN
	INSERT INTO messages_search (messages_search, rowid, subject, from_name, from_addr)
	VALUES ('delete', OLD.seq, OLD.subject, OLD.from_name, OLD.from_addr);
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF subject, from_name, from_addr ON messages
WHEN OLD.seq <= (SELECT indexed_seq FROM search_state) BEGIN
	INSERT INTO messages_search (messages_search, rowid, subject, from_name, from_addr)
	VALUES ('delete', OLD.seq, OLD.subject, OLD.from_name, OLD.from_addr);
	INSERT INTO messages_search (rowid, subject, from_name, from_addr)
	VALUES (NEW.seq, NEW.subject, NEW.from_name, NEW.from_addr);
END;

-- Locations are looked up by their key only: without a rowid, one B-tree
-- instead of a table and its key's index.
CREATE TABLE message_locations_new (
	mailbox_id  INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid         INTEGER NOT NULL,
	message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	flags       TEXT NOT NULL DEFAULT '[]',
	modseq      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
INSERT INTO message_locations_new (mailbox_id, uid, message_id, flags, modseq)
SELECT mailbox_id, uid, message_id, flags, modseq FROM message_locations;
DROP TABLE message_locations;
ALTER TABLE message_locations_new RENAME TO message_locations;
CREATE INDEX message_locations_msg ON message_locations(message_id);

-- The inbox no longer reads these; the copies above serve it.
DROP INDEX IF EXISTS triage_results_intent;
DROP INDEX IF EXISTS triage_results_confidence;
DROP INDEX IF EXISTS decisions_action;

-- The copies, kept by the store itself so no writer can forget them.
CREATE TRIGGER triage_results_copy_insert AFTER INSERT ON triage_results BEGIN
	UPDATE messages SET intent = COALESCE((SELECT c.intent FROM corrections c WHERE c.message_id = NEW.message_id), NEW.intent), confidence = NEW.confidence,
		flags = (instr(NEW.flags, '"payments"') > 0) + 2 * (instr(NEW.flags, '"legal"') > 0)
		      + 4 * (instr(NEW.flags, '"vip"') > 0) + 8 * (instr(NEW.flags, '"injection"') > 0)
	WHERE id = NEW.message_id;
END;
CREATE TRIGGER triage_results_copy_update AFTER UPDATE OF intent, confidence, flags ON triage_results BEGIN
	UPDATE messages SET intent = COALESCE((SELECT c.intent FROM corrections c WHERE c.message_id = NEW.message_id), NEW.intent), confidence = NEW.confidence,
		flags = (instr(NEW.flags, '"payments"') > 0) + 2 * (instr(NEW.flags, '"legal"') > 0)
		      + 4 * (instr(NEW.flags, '"vip"') > 0) + 8 * (instr(NEW.flags, '"injection"') > 0)
	WHERE id = NEW.message_id;
END;
CREATE TRIGGER triage_results_copy_delete AFTER DELETE ON triage_results BEGIN
	UPDATE messages SET intent = NULL, confidence = -1, flags = 0 WHERE id = OLD.message_id;
END;
CREATE TRIGGER decisions_copy_insert AFTER INSERT ON decisions BEGIN
	UPDATE messages SET action = NEW.action WHERE id = NEW.message_id;
END;
CREATE TRIGGER decisions_copy_update AFTER UPDATE OF action ON decisions BEGIN
	UPDATE messages SET action = NEW.action WHERE id = NEW.message_id;
END;
CREATE TRIGGER decisions_copy_delete AFTER DELETE ON decisions BEGIN
	UPDATE messages SET action = NULL WHERE id = OLD.message_id;
END;

-- A person's correction is the intent the inbox shows and filters on (of
-- a triaged message: an untriaged one keeps intent NULL, the "untriaged"
-- filter's mark, until its triage copies the correction).
CREATE TRIGGER corrections_copy_insert AFTER INSERT ON corrections BEGIN
	UPDATE messages SET corrected = 1,
		intent = CASE WHEN intent IS NULL THEN NULL ELSE NEW.intent END
	WHERE id = NEW.message_id;
END;
CREATE TRIGGER corrections_copy_update AFTER UPDATE OF intent ON corrections BEGIN
	UPDATE messages SET corrected = 1,
		intent = CASE WHEN intent IS NULL THEN NULL ELSE NEW.intent END
	WHERE id = NEW.message_id;
END;
CREATE TRIGGER corrections_copy_delete AFTER DELETE ON corrections BEGIN
	UPDATE messages SET corrected = 0,
		intent = (SELECT t.intent FROM triage_results t WHERE t.message_id = OLD.message_id)
	WHERE id = OLD.message_id;
END;

-- The copies of the stores moved here.
UPDATE messages SET intent = t.intent, confidence = t.confidence,
	flags = (instr(t.flags, '"payments"') > 0) + 2 * (instr(t.flags, '"legal"') > 0)
	      + 4 * (instr(t.flags, '"vip"') > 0) + 8 * (instr(t.flags, '"injection"') > 0)
FROM triage_results t WHERE t.message_id = messages.id;
UPDATE messages SET action = d.action FROM decisions d WHERE d.message_id = messages.id;
UPDATE messages SET corrected = 1, intent = CASE WHEN messages.intent IS NULL THEN NULL ELSE c.intent END
FROM corrections c WHERE c.message_id = messages.id;
