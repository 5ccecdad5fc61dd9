package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/canceldesk/canceldesk"
)

// exportQuery lists the cancelled orders of a range with their latest
// cancellation, refunds and restocked units. The source is the
// cancellation's (migration 0016); no cancellation row is an import, or a
// cancel made in Shopify's admin for an order synced from the shop's API
// (migration 0017). The range reads orders_cancelled_at (migration 0008).
const exportQuery = `SELECT o.id, o.name, o.created_at, o.cancelled_at, o.cancel_reason, o.currency,
	coalesce(c.reason_label, ''), coalesce(c.staff_note, ''), coalesce(c.actor, ''),
	coalesce(c.source, CASE WHEN o.shopify_updated_at IS NULL THEN 'import' ELSE 'shopify' END),
	o.total, o.financial_status, o.refunded_succeeded,
	CAST(coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund' AND r.status = 'pending'), 0) AS BIGINT),
	CAST(coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund' AND r.status = 'failed'), 0) AS BIGINT),
	CAST(coalesce((SELECT sum(li.restocked_quantity + li.return_restocked_quantity) FROM line_items li
		WHERE li.order_id = o.id), 0) AS BIGINT)
FROM orders o
LEFT JOIN cancellations c ON c.id = (SELECT max(l.id) FROM cancellations l WHERE l.order_id = o.id)
WHERE o.cancelled_at IS NOT NULL AND o.cancelled_at >= ? AND o.cancelled_at < ?
ORDER BY o.cancelled_at, o.id`

// ExportCancellations implements canceldesk.ExportStore: in one read-only
// transaction, it calls fn with the row of every order cancelled in
// [from, to), oldest cancel first, and stops at fn's first error. The
// refund status and amount are the order's canceldesk.RefundBalance, as
// the order page reads it: money given back for certain only.
func (db *DB) ExportCancellations(ctx context.Context, from, to time.Time, fn func(canceldesk.ExportRow) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, db.bind(exportQuery), from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return sumOutOfRange(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r                 canceldesk.ExportRow
			placed, cancelled int64
			reason, fin       string
			restocked         int64
			o                 canceldesk.Order
			pending, failed   canceldesk.Refund
		)
		if err := rows.Scan(&r.OrderID, &r.Order, &placed, &cancelled, &reason, &r.Currency,
			&r.ReasonLabel, &r.StaffNote, &r.Actor, &r.Source, &o.Total, &fin, &o.RefundedSucceeded,
			&pending.Amount, &failed.Amount, &restocked); err != nil {
			return sumOutOfRange(err)
		}
		o.Currency, o.FinancialStatus = r.Currency, canceldesk.FinancialStatus(fin)
		pending.Kind, pending.Status = canceldesk.RefundKindRefund, canceldesk.RefundPending
		failed.Kind, failed.Status = canceldesk.RefundKindRefund, canceldesk.RefundFailed
		b := canceldesk.BalanceOf(&o, []canceldesk.Refund{pending, failed})
		r.Refunded, r.RefundStatus = b.Refunded, b.State()
		r.PlacedAt, r.CancelledAt = fromMicros(placed), fromMicros(cancelled)
		r.Reason, r.RestockedUnits = canceldesk.CancelReason(reason), int(restocked)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return sumOutOfRange(err)
	}
	return tx.Commit()
}
