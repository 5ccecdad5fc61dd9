-- The search document leaves orders for a table of its own, as on SQLite.
-- Every change to an order (a cancel, a refund, its financial status) wrote
-- a new row version whose trigrams, a hundred or so, all went into the GIN
-- index again: 4 ms of a cancel's 10 on a million orders. The document
-- changes only with what it is made of (number, email, customer, lines).
-- Keyed by the order's sort key, named rowid as the SQLite FTS table's is,
-- so one query shape serves both databases.
CREATE TABLE order_search (
    rowid BIGINT PRIMARY KEY,
    doc   TEXT   NOT NULL
);
INSERT INTO order_search (rowid, doc) SELECT sort_key, search_doc FROM orders;
-- fastupdate off: new rows go straight into the index, so search stays fast
-- right after a bulk import instead of waiting for a vacuum.
CREATE INDEX order_search_doc ON order_search USING gin (doc gin_trgm_ops) WITH (fastupdate = off);
DROP INDEX orders_search;
ALTER TABLE orders DROP COLUMN search_doc;
-- The planner's estimates for the new table, now rather than at the next
-- autovacuum: without them it takes every term for a rare one.
ANALYZE order_search;
