-- State a person shares with the mail server, and conversations.
--
-- flagged mirrors \Flagged (a star) as seen mirrors \Seen: set by a
-- person in smista (and stored on the server), or by a sync that found
-- it changed on the server. done is a person's "done": an email from
-- IMAP is also moved into the account's archive mailbox; an imported one
-- keeps it here only. The unified inbox leaves done emails out.
ALTER TABLE messages ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN done INTEGER NOT NULL DEFAULT 0;

-- A conversation's messages, oldest first; also a thread's size for an
-- inbox row (migration 0007 rebuilt messages without the thread index).
CREATE INDEX messages_thread ON messages(thread_id, date, id);


-- The unified inbox leaves done emails out. Every index the inbox walks
-- or counts on ends in done, so that a page and a count still read the
-- index alone (a count that had to read each row for done was 5 times
-- slower at 100,000 messages), and the unfiltered count is all messages
-- (a count of the table itself, which SQLite does from its pages) less
-- the done ones (messages_done, which holds those only).
DROP INDEX messages_date;
DROP INDEX messages_undecided;
DROP INDEX messages_confidence;
DROP INDEX messages_intent;
DROP INDEX messages_action;
DROP INDEX messages_flags;
DROP INDEX messages_unread;
CREATE INDEX messages_date ON messages(date DESC, id DESC, done);
CREATE INDEX messages_undecided ON messages(date DESC, id DESC, done) WHERE intent IS NULL OR action IS NULL;
CREATE INDEX messages_confidence ON messages(confidence DESC, date DESC, id DESC, done) WHERE intent IS NOT NULL;
CREATE INDEX messages_intent ON messages(intent, date DESC, id DESC, done) WHERE intent IS NOT NULL;
CREATE INDEX messages_action ON messages(action, date DESC, id DESC, done) WHERE action IS NOT NULL;
CREATE INDEX messages_flags ON messages(flags, date DESC, id DESC, done) WHERE flags != 0;
CREATE INDEX messages_unread ON messages(date DESC, id DESC, done) WHERE seen = 0;
CREATE INDEX messages_done ON messages(done) WHERE done != 0;

-- A reply that carries neither In-Reply-To nor References joins the
-- conversation of the newest earlier email with its subject (less its
-- Re:/Fwd: prefixes): a seek here instead of a walk of every message.
CREATE INDEX messages_subject ON messages(subject, date);
