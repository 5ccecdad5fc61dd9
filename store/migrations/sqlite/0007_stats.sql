-- Cancellation analytics: hourly UTC rollups kept exact in the transactions
-- that create and cancel orders (see store/stats.go). bucket is the Unix
-- seconds of the UTC hour's start; a whole-hour time zone's days, weeks and
-- months are unions of these hours.
--   placed rows:  reason '' and source '', placed_count and placed_value;
--   cancel rows:  the cancel's reason and source ('staff',
--                 'customer_request', 'auto_approved', 'import'):
--                 cohort_cancelled under the hour the order was PLACED,
--                 cancelled_count and cancelled_value under the hour the
--                 cancel HAPPENED.
CREATE TABLE order_stats_hourly (
    bucket           INTEGER NOT NULL,
    currency         TEXT   NOT NULL,
    reason           TEXT   NOT NULL DEFAULT '',
    source           TEXT   NOT NULL DEFAULT '',
    placed_count     INTEGER NOT NULL DEFAULT 0,
    placed_value     INTEGER NOT NULL DEFAULT 0,
    cohort_cancelled INTEGER NOT NULL DEFAULT 0,
    cancelled_count  INTEGER NOT NULL DEFAULT 0,
    cancelled_value  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, currency, reason, source)
);

-- Backfill from the orders there are. A cancelled order's source is its
-- latest cancellation's: 'auto_approved' for the rule (actor 'rule' or a
-- 'request:' key), 'staff' otherwise; 'import' when it came in cancelled.
WITH cancelled AS (
    SELECT o.created_at, o.cancelled_at, o.currency, o.cancel_reason, o.total,
        CASE WHEN c.id IS NULL THEN 'import'
            WHEN c.actor = 'rule' OR substr(c.idempotency_key, 1, 8) = 'request:' THEN 'auto_approved'
            WHEN substr(c.idempotency_key, 1, 9) = 'approval:' THEN 'customer_request'
            ELSE 'staff' END AS source
    FROM orders o
    LEFT JOIN cancellations c ON c.id = (SELECT max(l.id) FROM cancellations l WHERE l.order_id = o.id)
    WHERE o.cancelled_at IS NOT NULL
)
INSERT INTO order_stats_hourly (bucket, currency, reason, source, placed_count, placed_value,
    cohort_cancelled, cancelled_count, cancelled_value)
SELECT bucket, currency, reason, source, sum(placed_count), sum(placed_value),
    sum(cohort_cancelled), sum(cancelled_count), sum(cancelled_value)
FROM (
    SELECT (created_at / 3600000000) * 3600 AS bucket, currency, '' AS reason, '' AS source,
        1 AS placed_count, total AS placed_value, 0 AS cohort_cancelled, 0 AS cancelled_count, 0 AS cancelled_value
    FROM orders
    UNION ALL
    SELECT (c.created_at / 3600000000) * 3600, c.currency, c.cancel_reason, c.source, 0, 0, 1, 0, 0
    FROM cancelled c
    UNION ALL
    SELECT (c.cancelled_at / 3600000000) * 3600, c.currency, c.cancel_reason, c.source, 0, 0, 0, 1, c.total
    FROM cancelled c
) AS d
GROUP BY bucket, currency, reason, source;
