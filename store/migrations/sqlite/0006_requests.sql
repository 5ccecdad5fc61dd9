-- Customers' cancellation requests from the public form, and the rule that
-- approves some of them at once. Times are INTEGER microseconds since the
-- Unix epoch, UTC by construction.

CREATE TABLE cancellation_requests (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER REFERENCES orders (id) ON DELETE CASCADE,
    -- as the order is named, and the email the customer typed
    order_name      TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    reason          TEXT    NOT NULL CHECK (reason IN ('changed_mind', 'ordered_by_mistake', 'better_price', 'delivery_too_long', 'other')),
    comment         TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'refused')),
    -- hex SHA-256 of the status link's token; the token itself is never stored
    token_hash      TEXT    NOT NULL UNIQUE,
    -- the store's message to the customer (declined, or why it was refused)
    decision        TEXT    NOT NULL DEFAULT '',
    -- an account email, or 'rule'
    decided_by      TEXT    NOT NULL DEFAULT '',
    -- the auto-approval rule that approved it, in words
    rule            TEXT    NOT NULL DEFAULT '',
    cancellation_id INTEGER REFERENCES cancellations (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    decided_at      INTEGER
);
-- The staff queue: pending requests, oldest first.
CREATE INDEX cancellation_requests_pending ON cancellation_requests (created_at, id) WHERE status = 'pending';
CREATE INDEX cancellation_requests_order ON cancellation_requests (order_id);

-- The auto-approval rule is kept as JSON in settings under key
-- 'auto_approval' (see store/requests.go); no row means the default.
