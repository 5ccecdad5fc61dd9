package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

var _ canceldesk.AnalyticsStore = (*DB)(nil)

// The queries of ExtraFigures, each taking the range's [from, to) in unix
// micros. Those over cancelled orders repeat "cancelled_at IS NOT NULL" so
// the partial index orders_cancelled_at (migration 0008) serves the range
// on both databases; without the index they are as correct, by scan.
// refunds and cancellation_requests have no index on these times: both
// are scanned.
const (
	extraRefundedQuery = `SELECT currency, CAST(sum(amount) AS BIGINT) FROM refunds
WHERE kind = 'refund' AND status = 'succeeded' AND created_at >= ? AND created_at < ?
GROUP BY currency`

	// The one or two middle durations: rows (n+1)/2 and (n+2)/2 of n.
	extraMedianQuery = `SELECT d FROM (
	SELECT cancelled_at - created_at AS d,
		row_number() OVER (ORDER BY cancelled_at - created_at) AS rn,
		count(*) OVER () AS n
	FROM orders
	WHERE cancelled_at IS NOT NULL AND cancelled_at >= ? AND cancelled_at < ?
) AS m WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2
ORDER BY d`

	extraRequestsQuery = `SELECT count(*), CAST(coalesce(sum(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), 0) AS BIGINT)
FROM cancellation_requests
WHERE status IN ('approved', 'declined') AND decided_at >= ? AND decided_at < ?`

	extraTopSKUsQuery = `SELECT li.sku, CAST(sum(li.cancelled_quantity) AS BIGINT) AS units
FROM orders o JOIN line_items li ON li.order_id = o.id
WHERE o.cancelled_at IS NOT NULL AND o.cancelled_at >= ? AND o.cancelled_at < ?
	AND li.cancelled_quantity > 0 AND li.sku <> ''
GROUP BY li.sku
ORDER BY units DESC, li.sku
LIMIT ?`

	extraByPaymentQuery = `SELECT payment_method, count(*) AS n FROM orders
WHERE cancelled_at IS NOT NULL AND cancelled_at >= ? AND cancelled_at < ?
GROUP BY payment_method
ORDER BY n DESC, payment_method`
)

// readTx begins a read-only transaction that sees one snapshot: SQLite's
// (WAL) read transactions do; PostgreSQL's need REPEATABLE READ.
func (db *DB) readTx(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return db.read.BeginTx(ctx, opts)
}

// ExtraFigures implements canceldesk.AnalyticsStore in one read-only
// transaction over one snapshot.
func (db *DB) ExtraFigures(ctx context.Context, from, to time.Time) (canceldesk.ExtraFigures, error) {
	out := canceldesk.ExtraFigures{Refunded: map[string]int64{}}
	lo, hi := from.UnixMicro(), to.UnixMicro()
	tx, err := db.readTx(ctx)
	if err != nil {
		return out, err
	}
	defer tx.Rollback()

	// The money refunded: from the daily rollups over whole days, else
	// from the refunds.
	refundedQuery, refundedArgs := extraRefundedQuery, []any{lo, hi}
	if _, ok := db.keptDays(from, to); ok {
		refundedQuery, refundedArgs = daysRefundedQuery, []any{from.Unix(), to.Unix()}
	}
	err = eachRow(ctx, tx, db.bind(refundedQuery), refundedArgs, func(rows *sql.Rows) error {
		var cur string
		var sum int64
		if err := rows.Scan(&cur, &sum); err != nil {
			return err
		}
		out.Refunded[cur] = sum
		return nil
	})
	if err != nil {
		return out, sumOutOfRange(err)
	}

	if err := tx.QueryRowContext(ctx, db.bind(extraRequestsQuery), lo, hi).Scan(&out.Requests, &out.Approved); err != nil {
		return out, err
	}
	fromOrders := true
	if _, ok := db.keptDays(from, to); ok {
		switch err := db.extraFromDays(ctx, tx, &out, from, to); {
		case err == nil:
			fromOrders = false
		case errors.Is(err, errDaysOutOfStep):
			// Exact figures from the orders rather than wrong ones.
			out.TopSKUs, out.ByPayment, out.MedianToCancel = nil, nil, 0
		default:
			return out, err
		}
	}
	if fromOrders {
		if err := db.extraFromOrders(ctx, tx, &out, lo, hi); err != nil {
			return out, err
		}
	}
	for i, c := range out.ByPayment {
		if c.Label == "" {
			out.ByPayment[i].Label = canceldesk.NoPaymentMethod
		}
	}
	return out, tx.Commit()
}

// extraFromOrders fills the top SKUs, payment methods and median time to
// cancel of [lo, hi) (microseconds) from the cancelled orders.
func (db *DB) extraFromOrders(ctx context.Context, tx *sql.Tx, out *canceldesk.ExtraFigures, lo, hi int64) error {
	var mid []int64
	err := eachRow(ctx, tx, db.bind(extraMedianQuery), []any{lo, hi}, func(rows *sql.Rows) error {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return err
		}
		mid = append(mid, d)
		return nil
	})
	if err != nil {
		return err
	}
	switch len(mid) {
	case 1:
		out.MedianToCancel = time.Duration(mid[0]) * time.Microsecond
	case 2:
		// a + (b−a)/2 cannot overflow where (a+b)/2 could
		out.MedianToCancel = time.Duration(mid[0]+(mid[1]-mid[0])/2) * time.Microsecond
	}

	err = eachRow(ctx, tx, db.bind(extraTopSKUsQuery), []any{lo, hi, canceldesk.MaxTopSKUs}, func(rows *sql.Rows) error {
		var c canceldesk.CountBy
		if err := rows.Scan(&c.Label, &c.Count); err != nil {
			return err
		}
		out.TopSKUs = append(out.TopSKUs, c)
		return nil
	})
	if err != nil {
		return err
	}

	return eachRow(ctx, tx, db.bind(extraByPaymentQuery), []any{lo, hi}, func(rows *sql.Rows) error {
		var c canceldesk.CountBy
		if err := rows.Scan(&c.Label, &c.Count); err != nil {
			return err
		}
		out.ByPayment = append(out.ByPayment, c)
		return nil
	})
}

// sumOutOfRange wraps canceldesk.ErrAmountOverflow around the database's
// refusal of a sum past int64 (SQLite's "integer overflow", PostgreSQL's
// numeric_value_out_of_range), so the figure is reported unavailable
// rather than failing the page; other errors are returned as they are.
func sumOutOfRange(err error) error {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) && pg.SQLState() == "22003" || err != nil && strings.Contains(err.Error(), "integer overflow") {
		return fmt.Errorf("store: %w: %w", err, canceldesk.ErrAmountOverflow)
	}
	return err
}

// eachRow runs a query and calls fn on each row.
func eachRow(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// feedbackQuery lists commented requests of a range, newest first; the
// reason filter is added when given. Requests are kept whatever their
// status; the table has no index on created_at for every status, so the
// range is a scan.
const feedbackQuery = `SELECT id, coalesce(order_id, 0), order_name, reason, comment, created_at
FROM cancellation_requests
WHERE created_at >= ? AND created_at < ? AND comment <> ''`

// Feedback implements canceldesk.AnalyticsStore.
func (db *DB) Feedback(ctx context.Context, from, to time.Time, reason string, limit int) ([]canceldesk.Feedback, error) {
	if reason != "" && !slices.Contains(canceldesk.CustomerReasons, reason) {
		return nil, &canceldesk.Error{Code: canceldesk.EINVALID, Field: "reason", Key: "validation.request_reason",
			Message: "Choose a reason."}
	}
	if limit <= 0 {
		return nil, nil
	}
	q, args := feedbackQuery, []any{from.UnixMicro(), to.UnixMicro()}
	if reason != "" {
		q += ` AND reason = ?`
		args = append(args, reason)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	var out []canceldesk.Feedback
	err := eachRow(ctx, db.read, db.bind(q), args, func(rows *sql.Rows) error {
		var f canceldesk.Feedback
		var created int64
		if err := rows.Scan(&f.RequestID, &f.OrderID, &f.OrderName, &f.Reason, &f.Comment, &created); err != nil {
			return err
		}
		f.CreatedAt = fromMicros(created)
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
