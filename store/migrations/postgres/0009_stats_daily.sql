-- Daily rollups in the store's time zone, so a year of analytics reads a
-- few thousand rows instead of every hour or every cancelled order (see
-- store/stats.go and store/stats_daily.go). day is always the Unix seconds
-- of the local midnight that starts the day.
--
-- order_stats_daily: the columns of order_stats_hourly, each row the sum
-- of the hourly rows whose hour starts in that day.
CREATE TABLE order_stats_daily (
    day              BIGINT NOT NULL,
    currency         TEXT   NOT NULL,
    reason           TEXT   NOT NULL DEFAULT '',
    source           TEXT   NOT NULL DEFAULT '',
    placed_count     BIGINT NOT NULL DEFAULT 0,
    placed_value     BIGINT NOT NULL DEFAULT 0,
    cohort_cancelled BIGINT NOT NULL DEFAULT 0,
    cancelled_count  BIGINT NOT NULL DEFAULT 0,
    cancelled_value  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, currency, reason, source)
);

-- Orders cancelled on a day (of the cancel), by payment method ('' none).
CREATE TABLE cancel_stats_payment (
    day            BIGINT NOT NULL,
    payment_method TEXT   NOT NULL,
    cancelled      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, payment_method)
);

-- Units cancelled (line_items.cancelled_quantity) of the orders cancelled
-- on a day, by SKU; lines without a SKU are left out.
CREATE TABLE cancel_stats_sku (
    day   BIGINT NOT NULL,
    sku   TEXT   NOT NULL,
    units BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, sku)
);

-- Orders cancelled on a day by the class of their time from order to
-- cancel (store.delayClass): where the median lies, so that the exact
-- median is read from the few orders of one class through the index below.
CREATE TABLE cancel_stats_delay (
    day       BIGINT NOT NULL,
    class     INTEGER NOT NULL,
    cancelled BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, class)
);
CREATE INDEX orders_cancel_delay ON orders ((cancelled_at - created_at), cancelled_at) WHERE cancelled_at IS NOT NULL;

-- The zone the days are kept in; '' until DB.SetStatsZone first builds
-- them (from order_stats_hourly and the orders), and again whenever the
-- store's zone changes.
CREATE TABLE order_stats_zone (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    zone TEXT NOT NULL
);
INSERT INTO order_stats_zone (id, zone) VALUES (1, '');
