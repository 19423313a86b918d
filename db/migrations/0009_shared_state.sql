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


-- The unified inbox leaves done emails out: the date index holds done, so
-- its first page stays an index-only walk.
DROP INDEX messages_date;
CREATE INDEX messages_date ON messages(date DESC, id DESC, done);

-- A reply that carries neither In-Reply-To nor References joins the
-- conversation of the newest earlier email with its subject (less its
-- Re:/Fwd: prefixes): a seek here instead of a walk of every message.
CREATE INDEX messages_subject ON messages(subject, date);
