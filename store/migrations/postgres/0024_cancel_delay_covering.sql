-- The median time to cancel walks this index within one class of delays.
-- PostgreSQL answers from an index alone only when it holds every column
-- the query reads; without created_at it fetched each order's row, 20 ms
-- for a class of a year on a million orders instead of 1.
DROP INDEX orders_cancel_delay;
CREATE INDEX orders_cancel_delay ON orders ((cancelled_at - created_at), cancelled_at) INCLUDE (created_at)
    WHERE cancelled_at IS NOT NULL;
