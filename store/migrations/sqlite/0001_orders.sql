-- Orders, line items, timeline and the stock ledger.
-- Times are INTEGER microseconds since the Unix epoch, UTC by construction.
CREATE TABLE orders (
    id                 INTEGER PRIMARY KEY,
    external_id        TEXT    NOT NULL DEFAULT '',
    name               TEXT    NOT NULL UNIQUE,
    email              TEXT    NOT NULL DEFAULT '',
    customer_name      TEXT    NOT NULL DEFAULT '',
    currency           TEXT    NOT NULL,
    subtotal           INTEGER NOT NULL DEFAULT 0,
    shipping           INTEGER NOT NULL DEFAULT 0,
    taxes              INTEGER NOT NULL DEFAULT 0,
    discounts          INTEGER NOT NULL DEFAULT 0,
    total              INTEGER NOT NULL DEFAULT 0,
    refunded_amount    INTEGER NOT NULL DEFAULT 0,
    financial_status   TEXT    NOT NULL,
    fulfillment_status TEXT    NOT NULL,
    payment_method     TEXT    NOT NULL DEFAULT '',
    paid_at            INTEGER,
    fulfilled_at       INTEGER,
    cancelled_at       INTEGER,
    cancel_reason      TEXT    NOT NULL DEFAULT '',
    billing_address    TEXT    NOT NULL DEFAULT '{}',
    shipping_address   TEXT    NOT NULL DEFAULT '{}',
    notes              TEXT    NOT NULL DEFAULT '',
    tags               TEXT    NOT NULL DEFAULT '',
    risk               TEXT    NOT NULL DEFAULT 'low',
    source             TEXT    NOT NULL DEFAULT '',
    item_count         INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    -- newest-first order of the list: created_at in whole seconds, then id
    -- (see store.sortKey); also the rowid of the search index on SQLite
    sort_key           INTEGER NOT NULL UNIQUE,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX orders_financial ON orders (financial_status, sort_key);
CREATE INDEX orders_fulfillment ON orders (fulfillment_status, sort_key);
CREATE INDEX orders_cancelled ON orders (sort_key) WHERE cancelled_at IS NOT NULL;
CREATE INDEX orders_email ON orders (email);

CREATE TABLE line_items (
    id                 INTEGER PRIMARY KEY,
    order_id           INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,
    name               TEXT    NOT NULL,
    sku                TEXT    NOT NULL DEFAULT '',
    quantity           INTEGER NOT NULL CHECK (quantity > 0),
    price              INTEGER NOT NULL,
    fulfilled_quantity INTEGER NOT NULL DEFAULT 0,
    cancelled_quantity INTEGER NOT NULL DEFAULT 0,
    refunded_quantity  INTEGER NOT NULL DEFAULT 0,
    restocked_quantity INTEGER NOT NULL DEFAULT 0,
    UNIQUE (order_id, position)
);
CREATE INDEX line_items_sku ON line_items (sku);

-- Substring search over order number, email, customer and products:
-- a contentless FTS5 trigram index whose rowid is the order's sort_key, so
-- matches come out newest first and a page stops after its last row.
CREATE VIRTUAL TABLE order_search USING fts5 (doc, tokenize = 'trigram', content = '', contentless_delete = 1);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    message    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX events_order ON events (order_id, id);

CREATE TABLE locations (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE inventory_movements (
    id          INTEGER PRIMARY KEY,
    sku         TEXT    NOT NULL,
    location_id INTEGER NOT NULL REFERENCES locations (id),
    delta       INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    order_id    INTEGER REFERENCES orders (id),
    actor       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX inventory_movements_sku ON inventory_movements (sku, location_id);
CREATE INDEX inventory_movements_order ON inventory_movements (order_id);

-- Stock on hand, kept equal to the ledger's sum in the same transaction.
CREATE TABLE inventory_levels (
    sku         TEXT    NOT NULL,
    location_id INTEGER NOT NULL REFERENCES locations (id),
    on_hand     INTEGER NOT NULL,
    PRIMARY KEY (sku, location_id)
);
