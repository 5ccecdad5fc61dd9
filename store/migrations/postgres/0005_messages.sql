-- Customer messages: rendered when owed, delivered by the mail worker, and
-- the templates managers edit. Times are BIGINT microseconds since the Unix
-- epoch, UTC by construction, the same as on SQLite.

-- The message as the customer gets it, fixed when the action committed,
-- and its delivery state. The status CHECK of 0003 ('pending', 'sent',
-- 'failed') stays as it is.
ALTER TABLE outbox
    ADD COLUMN subject TEXT NOT NULL DEFAULT '',
    ADD COLUMN text_body TEXT NOT NULL DEFAULT '',
    ADD COLUMN html_body TEXT NOT NULL DEFAULT '',
    -- the RFC 5322 Message-ID every try of this message carries
    ADD COLUMN message_id TEXT NOT NULL DEFAULT '',
    -- the last try's error, for people to read
    ADD COLUMN last_error TEXT NOT NULL DEFAULT '',
    -- a pending message is due from next_attempt_at; a worker that claims
    -- it holds it until claimed_until
    ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0,
    -- when the SMTP server accepted it
    ADD COLUMN sent_at BIGINT,
    ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

-- Rows written before this migration were never rendered: they get a
-- Message-ID of their own and, if still pending, wait for a manager (who
-- may send them again, rendered then) instead of going out late and blank.
UPDATE outbox SET message_id = '<outbox-' || id || '@canceldesk.invalid>', next_attempt_at = created_at,
    updated_at = created_at;
UPDATE outbox SET status = 'failed', last_error = 'Not sent: written before customer emails were set up.'
    WHERE status = 'pending';

-- What the worker claims: due pending messages, oldest first.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
-- The Messages page, newest first, by status.
CREATE INDEX outbox_status ON outbox (status, id);
CREATE UNIQUE INDEX outbox_message_id ON outbox (message_id);

-- Templates managers saved; the built-in defaults (canceldesk.
-- DefaultTemplates) serve every (kind, variant) without a row. variant ''
-- serves every reason without its own.
CREATE TABLE message_templates (
    kind       TEXT   NOT NULL,
    variant    TEXT   NOT NULL DEFAULT '',
    subject    TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    updated_by TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, variant)
);
