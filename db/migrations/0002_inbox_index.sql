-- The inbox pages by (date DESC, id): one index serves the ORDER BY
-- directly, so jumping to the last page of 100k messages needs no sort.
CREATE INDEX messages_date_id ON messages(date DESC, id);
