-- The cancellations export: cancelled orders by the time of the cancel,
-- oldest first (see store.ExportCancellations).
CREATE INDEX orders_cancelled_at ON orders (cancelled_at, id) WHERE cancelled_at IS NOT NULL;
