-- The customer's language: an order carries the one its import gave
-- ('' = none, the store's default applies), a request the one of the page
-- it was filed on, and a message the one it was written in (messages
-- written before this were English).
ALTER TABLE orders ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE cancellation_requests ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';

-- Templates managers saved, now per language; those saved before were
-- English.
CREATE TABLE message_templates_lang (
    lang       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    variant    TEXT    NOT NULL DEFAULT '',
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (lang, kind, variant)
);
INSERT INTO message_templates_lang (lang, kind, variant, subject, body, updated_by, updated_at)
    SELECT 'en', kind, variant, subject, body, updated_by, updated_at FROM message_templates;
DROP TABLE message_templates;
ALTER TABLE message_templates_lang RENAME TO message_templates;
