-- The live Shopify connection. Times are INTEGER microseconds since the
-- Unix epoch, UTC by construction.

-- When Shopify last changed the order, as its Admin API said; NULL for an
-- order the API has not shown (a CSV import, the demo). An older payload
-- never overwrites a newer state.
ALTER TABLE orders ADD COLUMN shopify_updated_at INTEGER;
-- Orders are matched to the shop's by Shopify's numeric id.
CREATE INDEX orders_external_id ON orders (external_id) WHERE external_id <> '';

-- Shopify's ids of lines (gid://shopify/LineItem/…) and locations
-- (gid://shopify/Location/…); '' when unknown or made here.
ALTER TABLE line_items ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX locations_external_id ON locations (external_id) WHERE external_id <> '';

-- Webhook deliveries, queued as they arrive and processed after the 200.
-- A repeated X-Shopify-Webhook-Id is not queued again. A claim leases a
-- row until lease_until; a failed attempt keeps its error and is claimed
-- again once the lease ends.
CREATE TABLE shopify_webhooks (
    id                 INTEGER PRIMARY KEY,
    webhook_id         TEXT    NOT NULL UNIQUE,
    topic              TEXT    NOT NULL,
    order_external_id  TEXT    NOT NULL DEFAULT '',
    payload_updated_at INTEGER,
    received_at        INTEGER NOT NULL,
    processed_at       INTEGER,
    attempts           INTEGER NOT NULL DEFAULT 0,
    lease_until        INTEGER,
    error              TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX shopify_webhooks_pending ON shopify_webhooks (received_at, id) WHERE processed_at IS NULL;

-- Calls Cancel Desk owes Shopify (the outbox): written in the action's
-- transaction, sent until Shopify answers, applied here once it has done
-- them. request is the canceldesk.CancelRequest or RestockRequest as JSON.
CREATE TABLE shopify_calls (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL CHECK (kind IN ('cancel', 'restock')),
    state            TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    idempotency_key  TEXT    NOT NULL UNIQUE,
    request          TEXT    NOT NULL,
    shopify_notifies INTEGER NOT NULL DEFAULT 0 CHECK (shopify_notifies IN (0, 1)),
    job_id           TEXT    NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_at          INTEGER NOT NULL,
    error            TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
-- One open call per order.
CREATE UNIQUE INDEX shopify_calls_open ON shopify_calls (order_id) WHERE state IN ('queued', 'running');
CREATE INDEX shopify_calls_due ON shopify_calls (next_at, id) WHERE state IN ('queued', 'running');

-- The connection's state: one row.
CREATE TABLE shopify_state (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    last_sync_at         INTEGER,
    last_seen_updated_at INTEGER,
    sync_cursor          TEXT    NOT NULL DEFAULT '',
    orders_synced        INTEGER NOT NULL DEFAULT 0,
    webhooks_received    INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT    NOT NULL DEFAULT '',
    last_error_at        INTEGER
);
INSERT INTO shopify_state (id) VALUES (1);
