-- Money refunded per day of the store's zone (the day the refund was made)
-- and currency. The analytics added up every succeeded refund of their
-- range: 45 ms for a year of a million orders' refunds, paid again after
-- every cancel under load. Kept with the other daily rollups: built by
-- DB.SetStatsZone (the zone is forgotten here, so the next start builds
-- them all), then by every refund that succeeds, in its transaction.
CREATE TABLE refund_stats_daily (
    day      BIGINT NOT NULL,
    currency TEXT   NOT NULL,
    -- an integer always: a sum past int64 fails the write, as on PostgreSQL,
    -- instead of turning into a float
    refunded BIGINT NOT NULL DEFAULT 0 CHECK (typeof(refunded) = 'integer'),
    PRIMARY KEY (day, currency)
);
UPDATE order_stats_zone SET zone = '' WHERE id = 1;
