-- A cancelled order is re-created at most once: one row per original, the
-- new order unique too. DB.RecreateOrder reads it before writing, and the
-- primary key refuses a second re-create that raced past that read.
CREATE TABLE recreations (
    original_id BIGINT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    order_id    BIGINT NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    actor       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Orders re-created before: the first re-creation of each original, read
-- from its "recreated" event ("Re-created as #1001-R1 (order 42)").
INSERT INTO recreations (original_id, order_id, actor, created_at)
SELECT r.order_id, r.new_id, r.actor, r.created_at
FROM (
    SELECT DISTINCT ON (order_id) order_id, actor, created_at,
           substring(message FROM '\(order ([0-9]+)\)$')::BIGINT AS new_id
    FROM events
    WHERE kind = 'recreated' AND message ~ '\(order [0-9]+\)$'
    ORDER BY order_id, id
) r
WHERE r.new_id IN (SELECT id FROM orders)
ON CONFLICT DO NOTHING;
