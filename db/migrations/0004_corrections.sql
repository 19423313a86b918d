-- Human corrections of a classification, and the adaptive layer the
-- offline classifier learns from them.

-- One correction per email: the intent a person says it is. The model's
-- verdict stays in triage_results (the eval compares them); the inbox and
-- the message view show the correction.
CREATE TABLE corrections (
	message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
	intent     TEXT NOT NULL,
	decided_by TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- The learned layer, one row: triage.Adaptive's binary form, rewritten
-- after each correction.
CREATE TABLE adaptive (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	data       BLOB NOT NULL,
	updated_at INTEGER NOT NULL
);
