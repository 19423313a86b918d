-- Indexes an initial sync into an empty store dropped, to build them once
-- after its last batch (db/bulkindex.go): their CREATE INDEX text, as
-- sqlite_master held it. A row left here by a sync that did not finish is
-- built when the store is next opened.
CREATE TABLE deferred_indexes (
	name TEXT PRIMARY KEY,
	sql  TEXT NOT NULL
) WITHOUT ROWID;
