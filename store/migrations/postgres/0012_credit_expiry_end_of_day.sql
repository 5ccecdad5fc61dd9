-- A store credit's expires_at is the last microsecond of its last day in
-- the store's time zone (canceldesk.StoreCreditExpiry), so the day shown in
-- that zone is the day chosen. It was the first microsecond of the next
-- day, shown there as the day after: move each one back to its day.
UPDATE store_credits SET expires_at = expires_at - 1 WHERE expires_at IS NOT NULL;
