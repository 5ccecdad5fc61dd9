-- Timeline entries are stored as data (see canceldesk.EventData), as JSON,
-- and rendered in the reader's language. The English message stays only
-- on older rows, shown as it was written.
ALTER TABLE events ADD COLUMN data TEXT NOT NULL DEFAULT '';
