-- Cancellations, the refunds they issue and the customer messages they owe.
-- Times are INTEGER microseconds since the Unix epoch, UTC by construction.

-- One cancel of an order: everything it did points back here.
CREATE TABLE cancellations (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    -- Shopify's code, and the label the staff picked as shown
    reason          TEXT    NOT NULL CHECK (reason IN ('customer', 'declined', 'fraud', 'inventory', 'staff', 'other')),
    reason_label    TEXT    NOT NULL DEFAULT '',
    -- never shown to the customer
    staff_note      TEXT    NOT NULL DEFAULT '',
    refund_choice   TEXT    NOT NULL CHECK (refund_choice IN ('now', 'later')),
    restock         INTEGER NOT NULL CHECK (restock IN (0, 1)),
    location_id     INTEGER REFERENCES locations (id),
    notify          INTEGER NOT NULL CHECK (notify IN (0, 1)),
    -- one per rendered dialog: a second submission replays the first
    idempotency_key TEXT    NOT NULL UNIQUE,
    actor           TEXT    NOT NULL,
    -- the plan carried out (canceldesk.CancelPlan as JSON), for replays
    plan            TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL
);
CREATE INDEX cancellations_order ON cancellations (order_id, id);

-- Money given back, or an authorization voided. The idempotency key is
-- sent to the gateway and survives retries.
CREATE TABLE refunds (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    cancellation_id INTEGER REFERENCES cancellations (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('refund', 'void')),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    currency        TEXT    NOT NULL,
    -- 'original' payment method (store credit may come later)
    method          TEXT    NOT NULL DEFAULT 'original',
    -- 'manual', or the order's payment method
    gateway         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    idempotency_key TEXT    NOT NULL UNIQUE,
    error           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id, id);
CREATE INDEX refunds_cancellation ON refunds (cancellation_id);
CREATE INDEX refunds_pending ON refunds (id) WHERE status = 'pending';

-- Customer messages owed by committed actions, delivered after commit.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER REFERENCES orders (id) ON DELETE CASCADE,
    -- 'order_cancelled'
    kind       TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    -- JSON; never holds the staff note
    payload    TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
CREATE INDEX outbox_order ON outbox (order_id);
