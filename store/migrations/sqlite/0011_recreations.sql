-- A cancelled order is re-created at most once: one row per original, the
-- new order unique too. DB.RecreateOrder reads it before writing, and the
-- primary key refuses a second re-create that raced past that read.
CREATE TABLE recreations (
    original_id INTEGER PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    order_id    INTEGER NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    actor       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Orders re-created before: the first re-creation of each original, read
-- from its "recreated" event ("Re-created as #1001-R1 (order 42)").
INSERT INTO recreations (original_id, order_id, actor, created_at)
SELECT e.order_id, r.new_id, e.actor, e.created_at
FROM (
    SELECT order_id, min(id) AS id,
           CAST(substr(message, instr(message, '(order ') + 7,
                length(message) - instr(message, '(order ') - 7) AS INTEGER) AS new_id
    FROM events
    WHERE kind = 'recreated' AND instr(message, '(order ') > 0
    GROUP BY order_id
) r
JOIN events e ON e.id = r.id
WHERE r.new_id IN (SELECT id FROM orders)
ON CONFLICT DO NOTHING;
