-- The refund-later backlog's summary (DB.BacklogSummary) reads only this
-- partial index: it now also carries what the sum needs, so summing a
-- backlog of any length touches no order row.
DROP INDEX orders_refund_backlog;
CREATE INDEX orders_refund_backlog ON orders (cancelled_at, id, currency, total, refunded_amount)
    WHERE cancelled_at IS NOT NULL AND total > refunded_amount AND financial_status IN ('paid', 'partially_refunded');
