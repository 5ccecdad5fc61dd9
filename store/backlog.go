package store

import (
	"context"
	"database/sql"

	"github.com/canceldesk/canceldesk"
)

// backlogOwed is the condition of the partial index orders_refund_backlog
// (migration 0014), word for word: cancelled orders with paid money not
// given back for certain, so a pending or failed refund still owes.
const backlogOwed = `cancelled_at IS NOT NULL AND total > refunded_succeeded AND financial_status IN ('paid', 'partially_refunded')`

// backlogIDs are the backlog's orders, as (cancelled_at, id): those the
// partial index holds, plus cancelled orders with a failed void (found
// from the partial index refunds_failed). UNION removes orders in both.
// Without statistics SQLite prefers orders_financial (every paid order,
// then a sort), so there the partial index is named; SQLite fails the
// query rather than ignore it.
func (db *DB) backlogIDs() string {
	orders := "orders"
	if db.dialect == sqlite {
		orders = "orders INDEXED BY orders_refund_backlog"
	}
	return `SELECT cancelled_at, id FROM ` + orders + ` WHERE ` + backlogOwed + `
	UNION
	SELECT o.cancelled_at, o.id FROM refunds f JOIN orders o ON o.id = f.order_id
	WHERE f.status = 'failed' AND f.kind = 'void' AND o.cancelled_at IS NOT NULL`
}

// backlogCountQuery counts the backlog.
func (db *DB) backlogCountQuery() string {
	return `SELECT count(*) FROM (` + db.backlogIDs() + `) b`
}

// backlogPageQuery reads the first page of the backlog (one placeholder:
// the limit), oldest cancel first: what is owed is what was paid and not
// refunded for certain, plus what failed voids still have to release.
func (db *DB) backlogPageQuery() string {
	return db.bind(`SELECT o.id, o.name, o.email, o.customer_name, o.cancelled_at, o.cancel_reason, o.currency,
	` + backlogOwedExpr + `,
	coalesce((SELECT c.reason_label FROM cancellations c WHERE c.order_id = o.id ORDER BY c.id DESC LIMIT 1), ''),
	EXISTS (SELECT 1 FROM refunds f WHERE f.order_id = o.id AND f.kind = 'refund' AND f.status = 'failed')
	FROM (` + db.backlogIDs() + ` ORDER BY 1, 2 LIMIT ?) b
	JOIN orders o ON o.id = b.id
	ORDER BY b.cancelled_at, b.id`)
}

// backlogOwedExpr is what a backlog order o is owed: what was paid and not
// refunded for certain, plus what its failed voids still have to release.
const backlogOwedExpr = `CASE WHEN o.financial_status IN ('paid', 'partially_refunded') AND o.total > o.refunded_succeeded
		THEN o.total - o.refunded_succeeded ELSE 0 END
	+ (SELECT coalesce(sum(f.amount), 0) FROM refunds f WHERE f.order_id = o.id AND f.status = 'failed' AND f.kind = 'void')`

// BacklogSummary implements canceldesk.RefundStore in one read
// transaction of two sums: the orders still owed what was paid, from the
// covering partial index alone; then the cancelled orders with failed
// voids, which add what those still have to release (and themselves,
// when the first sum did not count them).
func (db *DB) BacklogSummary(ctx context.Context) (canceldesk.BacklogSummary, error) {
	out := canceldesk.BacklogSummary{Value: map[string]int64{}}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return out, err
	}
	defer tx.Rollback()
	add := func(cur string, n int, owed, since int64) {
		out.Count += n
		out.Value[cur] += owed
		if t := fromMicros(since); n > 0 && (out.Oldest.IsZero() || t.Before(out.Oldest)) {
			out.Oldest = t
		}
	}
	orders := "orders"
	if db.dialect == sqlite {
		orders = "orders INDEXED BY orders_refund_backlog"
	}
	err = eachRow(ctx, tx, `SELECT currency, count(*), CAST(sum(total - refunded_succeeded) AS BIGINT), min(cancelled_at)
		FROM `+orders+` WHERE `+backlogOwed+` GROUP BY currency`, nil, func(rows *sql.Rows) error {
		var (
			cur         string
			n           int
			owed, since int64
		)
		if err := rows.Scan(&cur, &n, &owed, &since); err != nil {
			return err
		}
		add(cur, n, owed, since)
		return nil
	})
	if err != nil {
		return out, err
	}
	err = eachRow(ctx, tx, `SELECT o.currency, o.cancelled_at, CASE WHEN `+backlogOwed+` THEN 1 ELSE 0 END,
		CAST(sum(f.amount) AS BIGINT)
		FROM refunds f JOIN orders o ON o.id = f.order_id
		WHERE f.status = 'failed' AND f.kind = 'void' AND o.cancelled_at IS NOT NULL
		GROUP BY o.id, o.currency, o.cancelled_at, o.total, o.refunded_succeeded, o.financial_status`, nil,
		func(rows *sql.Rows) error {
			var (
				cur           string
				since, failed int64
				counted       int
			)
			if err := rows.Scan(&cur, &since, &counted, &failed); err != nil {
				return err
			}
			add(cur, 1-counted, failed, since)
			return nil
		})
	if err != nil {
		return out, err
	}
	return out, tx.Commit()
}

// RefundBacklog implements canceldesk.RefundStore. limit ≤ 0 only counts
// (the navigation shows the count on every page).
func (db *DB) RefundBacklog(ctx context.Context, limit int) ([]canceldesk.BacklogEntry, int, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, db.backlogCountQuery()).Scan(&total); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || total == 0 {
		return nil, total, tx.Commit()
	}
	rows, err := tx.QueryContext(ctx, db.backlogPageQuery(), limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []canceldesk.BacklogEntry
	for rows.Next() {
		var (
			e         canceldesk.BacklogEntry
			cancelled sql.NullInt64
			reason    string
		)
		if err := rows.Scan(&e.OrderID, &e.Name, &e.Email, &e.Customer, &cancelled, &reason, &e.Refundable.Currency,
			&e.Refundable.Amount, &e.ReasonLabel, &e.RefundFailed); err != nil {
			return nil, 0, err
		}
		e.CancelledAt, e.Reason = fromMicros(cancelled.Int64), canceldesk.CancelReason(reason)
		if e.ReasonLabel == "" {
			e.ReasonLabel = reason
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return out, total, tx.Commit()
}
