-- Full-text search over the bodies. The header index of migration 0007
-- (trigram: any substring of the subject, the sender's name or address)
-- stays; the bodies get a word index of their own (unicode61, accents
-- removed: "cafe" finds "café"), since a trigram index of whole bodies is
-- several times the size of a word index of them (docs/benchmarks.md).
-- It is contentless: the text is parsed from the raw mail (the text part,
-- else the text of the HTML part), its first 64 KiB indexed, and kept
-- nowhere else; contentless_delete lets a deleted message leave it.
--
-- It is filled in the background, up to search_state.body_seq, by the
-- same db.IndexSearch that keeps the header index, not by the
-- transaction that stores a message: indexing a body means parsing the
-- whole MIME message that a sync stores without parsing (it reads the
-- header fields only), and measured on the SpamAssassin corpus storing
-- with the bodies indexed in the same transaction ran at about 0.2× the
-- speed of storing alone (1,700–2,000 against 8,800–10,900 messages/s;
-- the goal was 0.8×): the parse and the index's inserts cost about four
-- times what storing does (docs/benchmarks.md). A search
-- meanwhile finds the newest messages by their subject and sender; the
-- front ends catch up within seconds. Existing stores start at 0: their
-- bodies are indexed by the same background indexer.
CREATE VIRTUAL TABLE messages_body USING fts5(body, content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2');
ALTER TABLE search_state ADD COLUMN body_seq INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER messages_body_delete AFTER DELETE ON messages
WHEN OLD.seq <= (SELECT body_seq FROM search_state) BEGIN
	DELETE FROM messages_body WHERE rowid = OLD.seq;
END;

-- The search term is:unread walks the unread messages in list order.
CREATE INDEX messages_unread ON messages(date DESC, id DESC) WHERE seen = 0;
