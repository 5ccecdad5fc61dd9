-- Partial refunds, returns, store credit, manual restocks and settings.
-- Times are INTEGER microseconds since the Unix epoch, UTC by construction;
-- money is INTEGER minor units of the order's currency.

-- The part of the shipping charge given back, and the payment's id at its
-- provider (e.g. a Stripe charge "ch_…") that gateway refunds point at.
ALTER TABLE orders ADD COLUMN shipping_refunded INTEGER NOT NULL DEFAULT 0;
-- tax given back so far: each refund's tax is what the refunded items owe
-- in total, less this, so rounding never adds up past the order's tax
ALTER TABLE orders ADD COLUMN tax_refunded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN payment_reference TEXT NOT NULL DEFAULT '';

-- Shipped units that came back, came back and went to stock, and were
-- refunded (see canceldesk.LineItem).
ALTER TABLE line_items ADD COLUMN returned_quantity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE line_items ADD COLUMN return_restocked_quantity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE line_items ADD COLUMN refunded_shipped_quantity INTEGER NOT NULL DEFAULT 0;

-- A refund made after (or without) a cancel has cancellation_id NULL.
ALTER TABLE refunds ADD COLUMN shipping INTEGER NOT NULL DEFAULT 0;
-- the gateway's own id, e.g. Stripe's "re_…"
ALTER TABLE refunds ADD COLUMN provider_id TEXT NOT NULL DEFAULT '';
-- staff-only
ALTER TABLE refunds ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN actor TEXT NOT NULL DEFAULT '';
-- the plan carried out (canceldesk.RefundPlan as JSON), for replays
ALTER TABLE refunds ADD COLUMN plan TEXT NOT NULL DEFAULT '{}';
-- SQLite cannot add a CHECK to an existing column: triggers keep method to
-- 'original' or 'store_credit'.
CREATE TRIGGER refunds_method_insert BEFORE INSERT ON refunds
    WHEN NEW.method NOT IN ('original', 'store_credit')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: refunds.method'); END;
CREATE TRIGGER refunds_method_update BEFORE UPDATE OF method ON refunds
    WHEN NEW.method NOT IN ('original', 'store_credit')
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: refunds.method'); END;
-- refunds the gateway refused, for the backlog
CREATE INDEX refunds_failed ON refunds (order_id) WHERE status = 'failed';

-- A credit for a future order, issued as a refund.
CREATE TABLE store_credits (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    refund_id  INTEGER NOT NULL UNIQUE REFERENCES refunds (id) ON DELETE CASCADE,
    -- "CD-XXXX-XXXX-XXXX", shown to staff and sent to the customer
    code       TEXT    NOT NULL UNIQUE,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    currency   TEXT    NOT NULL,
    -- NULL: never expires
    expires_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX store_credits_order ON store_credits (order_id, id);

-- Manual restocks, one per rendered dialog: a second submission of the
-- same key writes nothing.
CREATE TABLE restocks (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    idempotency_key TEXT    NOT NULL UNIQUE,
    actor           TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX restocks_order ON restocks (order_id);

-- The store's rules that managers set: key 'store' holds canceldesk.Settings
-- as JSON.
CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    actor      TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL DEFAULT 0
);

-- The refund backlog: cancelled orders with money still owed, oldest cancel
-- first. Its condition is repeated word for word by store.RefundBacklog, so
-- the planner can prove the query implies it.
CREATE INDEX orders_refund_backlog ON orders (cancelled_at, id)
    WHERE cancelled_at IS NOT NULL AND total > refunded_amount AND financial_status IN ('paid', 'partially_refunded');

-- A SKU's ledger, newest first.
CREATE INDEX inventory_movements_sku_id ON inventory_movements (sku, id);
