-- Money returned has one owner: a pending or failed refund is never counted
-- as refunded (see canceldesk.RefundBalance). Imported refunds and
-- cancellations enter the same tables as the ones made here.

-- What the gateways confirmed given back (manual and store credit at once,
-- imported refunds as they came), kept by syncFinancialStatus in the
-- transaction that settles a refund; refunded_amount still reserves
-- pending and failed refunds so nothing is refunded twice.
ALTER TABLE orders ADD COLUMN refunded_succeeded INTEGER NOT NULL DEFAULT 0;

-- An order imported "refunded" without an amount gave back its total.
UPDATE orders SET refunded_amount = total
WHERE financial_status = 'refunded' AND refunded_amount = 0 AND total > 0
    AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = orders.id);

-- An import's refunded amount (Shopify's "Refunded Amount") becomes a
-- refund row of its own, succeeded, through the manual gateway (given back
-- outside Cancel Desk), at the cancel's time or else the order's: the
-- analytics "Refunded" total and the export read refunds.
INSERT INTO refunds (order_id, cancellation_id, kind, amount, shipping, currency, method, gateway, status,
    idempotency_key, provider_id, error, note, actor, plan, created_at, updated_at)
SELECT o.id, NULL, 'refund',
    o.refunded_amount - coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund'), 0),
    0, o.currency, 'original', 'manual', 'succeeded', 'import:' || o.id, '', '', '', 'import', '{}',
    coalesce(o.cancelled_at, o.created_at), coalesce(o.cancelled_at, o.created_at)
FROM orders o
WHERE o.refunded_amount > coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund'), 0);

UPDATE orders SET refunded_succeeded = refunded_amount - coalesce((SELECT sum(r.amount) FROM refunds r
    WHERE r.order_id = orders.id AND r.kind = 'refund' AND r.status <> 'succeeded'), 0);

-- An order imported cancelled had its unshipped units cancelled in the
-- shop: its lines say so, so "Most cancelled SKUs" counts them as every
-- other breakdown counts the order.
UPDATE line_items SET cancelled_quantity = quantity - fulfilled_quantity
WHERE cancelled_quantity = 0 AND quantity > fulfilled_quantity AND order_id IN (
    SELECT o.id FROM orders o WHERE o.cancelled_at IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM cancellations c WHERE c.order_id = o.id)
    AND NOT EXISTS (SELECT 1 FROM line_items l WHERE l.order_id = o.id AND l.cancelled_quantity > 0));
-- The daily rollups are built again at start-up from the lines.
UPDATE order_stats_zone SET zone = '';

-- The refund-later backlog owes what was paid and not given back for
-- certain, so a failed or pending refund is in it.
DROP INDEX orders_refund_backlog;
CREATE INDEX orders_refund_backlog ON orders (cancelled_at, id, currency, total, refunded_succeeded)
    WHERE cancelled_at IS NOT NULL AND total > refunded_succeeded AND financial_status IN ('paid', 'partially_refunded');

-- A customer message about a refund through a gateway waits for it: the
-- refund it waits for, NULL once it may go (see DB.releaseMessages).
ALTER TABLE outbox ADD COLUMN waits_for_refund INTEGER REFERENCES refunds (id) ON DELETE SET NULL;
CREATE INDEX outbox_waits_for_refund ON outbox (waits_for_refund) WHERE waits_for_refund IS NOT NULL;
