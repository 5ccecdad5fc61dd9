package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

// The daily rollups (migration 0009) keep, per day of the store's time
// zone, the hourly rollups' sums and what ExtraFigures needs of cancelled
// orders: how many by payment method, the units by SKU, and how many by
// class of time to cancel. A year of them is a few thousand rows; the
// orders they summarise are read only to pin the exact median. They are
// kept in the transactions that write the hours and the orders, in the
// zone that SetStatsZone set (or that the table names, when the process
// did not set one), and rebuilt when the zone changes.

// loadStatsZone takes the zone of the daily rollups from the database. A
// zone this machine cannot load is forgotten, so the next SetStatsZone
// rebuilds the days rather than trust days no writer keeps.
func (db *DB) loadStatsZone(ctx context.Context) error {
	var name string
	if err := db.read.QueryRowContext(ctx, `SELECT zone FROM order_stats_zone WHERE id = 1`).Scan(&name); err != nil {
		return err
	}
	if name == "" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		_, err = db.write.ExecContext(ctx, `UPDATE order_stats_zone SET zone = '' WHERE id = 1`)
		return err
	}
	db.zone.Store(loc)
	return nil
}

// dayOf is the day in loc of a time in Unix seconds: the Unix seconds of
// the local midnight that starts it.
func dayOf(unix int64, loc *time.Location) int64 {
	return canceldesk.PeriodStart(time.Unix(unix, 0), loc, canceldesk.GroupDay).Unix()
}

// keptDays reports whether [from, to) is whole days of the zone the daily
// rollups are kept in, and that zone.
func (db *DB) keptDays(from, to time.Time) (*time.Location, bool) {
	loc := db.zone.Load()
	if loc == nil {
		return nil, false
	}
	whole := func(t time.Time) bool { return canceldesk.PeriodStart(t, loc, canceldesk.GroupDay).Equal(t) }
	return loc, whole(from) && whole(to)
}

// SetStatsZone keeps the daily rollups in the store's time zone loc,
// rebuilding them, in one transaction, when they were kept in another
// zone or never built. Call it at start-up, before serving; instances
// sharing a database must share the zone, or each start rebuilds the days
// in its own.
func (db *DB) SetStatsZone(ctx context.Context, loc *time.Location) error {
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		if db.dialect == postgres {
			// Writers wait until the days are rebuilt, so none adds to a
			// day of the old zone after the rebuild read the hours.
			if _, err := tx.ExecContext(ctx, `LOCK TABLE order_stats_daily, cancel_stats_payment, cancel_stats_sku,
				cancel_stats_delay, refund_stats_daily IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		var current string
		if err := tx.QueryRowContext(ctx, `SELECT zone FROM order_stats_zone WHERE id = 1`).Scan(&current); err != nil {
			return err
		}
		if current != loc.String() {
			if err := db.rebuildDays(ctx, tx, loc); err != nil {
				return err
			}
		}
		db.zone.Store(loc)
		return nil
	})
}

// rebuildDays recomputes every daily rollup in loc: the sums from
// order_stats_hourly, the money refunded from the refunds, the rest from
// the cancelled orders.
func (db *DB) rebuildDays(ctx context.Context, tx *sql.Tx, loc *time.Location) error {
	for _, table := range []string{"order_stats_daily", "cancel_stats_payment", "cancel_stats_sku", "cancel_stats_delay", "refund_stats_daily"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			return err
		}
	}
	var hours []statsDelta
	err := eachRow(ctx, tx, `SELECT bucket, currency, reason, source, placed_count, placed_value,
		cohort_cancelled, cancelled_count, cancelled_value FROM order_stats_hourly`, nil, func(rows *sql.Rows) error {
		var d statsDelta
		if err := rows.Scan(&d.bucket, &d.currency, &d.reason, &d.source, counter{&d.placed}, counter{&d.placedValue},
			counter{&d.cohort}, counter{&d.cancelled}, counter{&d.cancelledValue}); err != nil {
			return fmt.Errorf("store: order_stats_hourly: %w", err)
		}
		hours = append(hours, d)
		return nil
	})
	if err != nil {
		return err
	}
	days, err := mergeStats(hours, func(k statsKey) statsKey { k.bucket = dayOf(k.bucket, loc); return k })
	if err != nil {
		return err
	}
	if err := db.execShared(ctx, tx, statsTableStmts(statsDaily, days)); err != nil {
		return err
	}
	facts, err := db.cancelledFacts(ctx, tx)
	if err != nil {
		return err
	}
	if err := db.addFacts(ctx, tx, loc, facts...); err != nil {
		return err
	}
	refunds, err := db.succeededRefunds(ctx, tx)
	if err != nil {
		return err
	}
	stmts, err := refundedStmts(loc, refunds)
	if err != nil {
		return err
	}
	if err := db.execShared(ctx, tx, stmts); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, db.bind(`UPDATE order_stats_zone SET zone = ? WHERE id = 1`), loc.String())
	return err
}

// StatsDays implements canceldesk.StatsStore. The rows come from the
// daily rollups when they are kept in loc, else from the hourly ones
// summed by day: the same numbers, more slowly.
func (db *DB) StatsDays(ctx context.Context, from, to time.Time, loc *time.Location) ([]StatsRow, error) {
	if kept := db.zone.Load(); kept == nil || kept.String() != loc.String() {
		hours, err := db.StatsRows(ctx, from, to)
		if err != nil {
			return nil, err
		}
		return sumDays(hours, loc)
	}
	return db.statsRows(ctx, statsDaily, from, to)
}

// sumDays adds hourly rows up by their day in loc.
func sumDays(hours []StatsRow, loc *time.Location) ([]StatsRow, error) {
	deltas := make([]statsDelta, len(hours))
	for i, r := range hours {
		deltas[i] = statsDelta{statsKey: statsKey{dayOf(r.Bucket.Unix(), loc), r.Currency, string(r.Reason), r.Source},
			placed: r.Placed, placedValue: r.PlacedValue, cohort: r.CohortCancelled, cancelled: r.Cancelled,
			cancelledValue: r.CancelledValue}
	}
	days, err := mergeStats(deltas, func(k statsKey) statsKey { return k })
	if err != nil {
		return nil, err
	}
	out := make([]StatsRow, len(days))
	for i, d := range days {
		out[i] = StatsRow{Bucket: time.Unix(d.bucket, 0).UTC(), Currency: d.currency, Reason: canceldesk.CancelReason(d.reason),
			Source: d.source, Placed: d.placed, PlacedValue: d.placedValue, CohortCancelled: d.cohort,
			Cancelled: d.cancelled, CancelledValue: d.cancelledValue}
	}
	return out, nil
}

// cancelFact is what one cancelled order adds to the daily rollups of
// cancelled orders.
type cancelFact struct {
	created, cancelled int64 // microseconds
	payment            string
	units              map[string]int64 // units cancelled by SKU
}

// orderFacts is the fact of an order stored as it is: one when it comes in
// cancelled.
func orderFacts(o *canceldesk.Order) []cancelFact {
	if o.CancelledAt == nil {
		return nil
	}
	return []cancelFact{cancelledFact(o, o.CancelledAt.UnixMicro(), nil)}
}

// cancelledFact is the fact of o cancelled at at, its lines' cancelled
// units raised by now (by line id) in the same cancel.
func cancelledFact(o *canceldesk.Order, at int64, now map[int64]int) cancelFact {
	f := cancelFact{created: o.CreatedAt.UnixMicro(), cancelled: at, payment: o.PaymentMethod, units: map[string]int64{}}
	for _, l := range o.LineItems {
		if n := l.CancelledQuantity + now[l.ID]; l.SKU != "" && n > 0 {
			f.units[l.SKU] += int64(n)
		}
	}
	return f
}

// cancelledFacts reads the facts of every cancelled order, for a rebuild.
func (db *DB) cancelledFacts(ctx context.Context, tx *sql.Tx) ([]cancelFact, error) {
	var facts []cancelFact
	index := map[int64]int{}
	err := eachRow(ctx, tx, `SELECT id, created_at, cancelled_at, payment_method FROM orders WHERE cancelled_at IS NOT NULL`, nil,
		func(rows *sql.Rows) error {
			var id int64
			f := cancelFact{units: map[string]int64{}}
			if err := rows.Scan(&id, &f.created, &f.cancelled, &f.payment); err != nil {
				return err
			}
			index[id] = len(facts)
			facts = append(facts, f)
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, tx, `SELECT li.order_id, li.sku, li.cancelled_quantity FROM line_items li
		JOIN orders o ON o.id = li.order_id
		WHERE o.cancelled_at IS NOT NULL AND li.cancelled_quantity > 0 AND li.sku <> ''`, nil, func(rows *sql.Rows) error {
		var (
			id, n int64
			sku   string
		)
		if err := rows.Scan(&id, &sku, &n); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			facts[i].units[sku] += n
		}
		return nil
	})
	return facts, err
}

// delayBounds are the lower bounds, in microseconds, of the classes of
// time from order to cancel after class 0 (under a minute, or negative):
// 1, 2 and 3 minutes, then four classes per doubling of the minutes, up to
// 2^23 minutes (16 years) and beyond.
var delayBounds = func() []int64 {
	const minute = int64(time.Minute / time.Microsecond)
	b := []int64{minute, 2 * minute, 3 * minute}
	for e := 2; e <= 23; e++ {
		for s := int64(0); s < 4; s++ {
			b = append(b, (int64(1)<<e)*(4+s)/4*minute)
		}
	}
	return b
}()

// delayClass is the class of a time to cancel (microseconds).
func delayClass(d int64) int {
	c, found := slices.BinarySearch(delayBounds, d)
	if found {
		c++
	}
	return c
}

// delayRange is the [lo, hi) of a class, in microseconds.
func delayRange(class int) (lo, hi int64) {
	lo, hi = math.MinInt64/2, math.MaxInt64/2
	if class > 0 {
		lo = delayBounds[class-1]
	}
	if class < len(delayBounds) {
		hi = delayBounds[class]
	}
	return lo, hi
}

// factKey is a row of a daily counter of cancelled orders: a day and a
// label (a payment method or a SKU) or a delay class.
type factKey struct {
	day   int64
	label string
	class int
}

// factTable is a daily counter table, its label column and its value.
type factTable struct {
	name, label, value string
	byClass            bool // the label column is the delay class
}

var (
	factsPayment = factTable{"cancel_stats_payment", "payment_method", "cancelled", false}
	factsSKU     = factTable{"cancel_stats_sku", "sku", "units", false}
	factsDelay   = factTable{"cancel_stats_delay", "class", "cancelled", true}
	refundsDaily = factTable{"refund_stats_daily", "currency", "refunded", false}
)

// addFacts adds the facts to the daily rollups of loc inside tx (nothing
// when the days are not built yet), each table's rows merged and upserted
// in key order (see addStats).
func (db *DB) addFacts(ctx context.Context, tx *sql.Tx, loc *time.Location, facts ...cancelFact) error {
	return db.execShared(ctx, tx, factsStmts(loc, facts))
}

// factsStmts are the upserts of addFacts.
func factsStmts(loc *time.Location, facts []cancelFact) []stmt {
	if loc == nil || len(facts) == 0 {
		return nil
	}
	payment, sku, delay := map[factKey]int64{}, map[factKey]int64{}, map[factKey]int64{}
	for _, f := range facts {
		day := dayOf(time.UnixMicro(f.cancelled).Unix(), loc)
		payment[factKey{day: day, label: f.payment}]++
		delay[factKey{day: day, class: delayClass(f.cancelled - f.created)}]++
		for s, n := range f.units {
			sku[factKey{day: day, label: s}] += n
		}
	}
	stmts := factTableStmts(factsPayment, payment)
	stmts = append(stmts, factTableStmts(factsSKU, sku)...)
	return append(stmts, factTableStmts(factsDelay, delay)...)
}

// addRefunded adds the money the refunds gave back (those of kind refund
// that succeeded; the others are skipped) to refund_stats_daily, through
// execShared. Every write that records a refund succeeded calls it in its
// transaction: at insert (insertRefund's callers) or when it settles.
func (db *DB) addRefunded(ctx context.Context, tx *sql.Tx, rfs ...*canceldesk.Refund) error {
	stmts, err := refundedStmts(db.zone.Load(), rfs)
	if err != nil {
		return err
	}
	return db.execShared(ctx, tx, stmts)
}

// refundedStmts are the upserts of addRefunded in loc (none when the days
// are not built yet): one row per day the refunds were made and currency,
// in key order.
func refundedStmts(loc *time.Location, rfs []*canceldesk.Refund) ([]stmt, error) {
	if loc == nil {
		return nil, nil
	}
	sums := map[factKey]int64{}
	for _, rf := range rfs {
		if rf == nil || rf.Kind != canceldesk.RefundKindRefund || rf.Status != canceldesk.RefundSucceeded {
			continue
		}
		k := factKey{day: dayOf(rf.CreatedAt.Unix(), loc), label: rf.Currency}
		sum, err := canceldesk.AddAmounts(sums[k], rf.Amount)
		if err != nil {
			return nil, fmt.Errorf("store: refunds of %s %s: %w", time.Unix(k.day, 0).UTC().Format(time.DateOnly), k.label, err)
		}
		sums[k] = sum
	}
	return factTableStmts(refundsDaily, sums), nil
}

// succeededRefunds are every refund that gave money back, for
// rebuildDays.
func (db *DB) succeededRefunds(ctx context.Context, tx *sql.Tx) ([]*canceldesk.Refund, error) {
	var out []*canceldesk.Refund
	err := eachRow(ctx, tx, `SELECT currency, amount, created_at FROM refunds WHERE kind = 'refund' AND status = 'succeeded'`, nil,
		func(rows *sql.Rows) error {
			rf := &canceldesk.Refund{Kind: canceldesk.RefundKindRefund, Status: canceldesk.RefundSucceeded}
			var created int64
			if err := rows.Scan(&rf.Currency, &rf.Amount, &created); err != nil {
				return err
			}
			rf.CreatedAt = fromMicros(created)
			out = append(out, rf)
			return nil
		})
	return out, err
}

// factTableStmts are the upserts that add the counts of m to table t.
func factTableStmts(t factTable, m map[factKey]int64) []stmt {
	keys := make([]factKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b factKey) int {
		return cmp.Or(cmp.Compare(a.day, b.day), strings.Compare(a.label, b.label), cmp.Compare(a.class, b.class))
	})
	var stmts []stmt
	for start := 0; start < len(keys); start += statsChunk {
		chunk := keys[start:min(start+statsChunk, len(keys))]
		var q strings.Builder
		fmt.Fprintf(&q, `INSERT INTO %s (day, %s, %s) VALUES `, t.name, t.label, t.value)
		args := make([]any, 0, 3*len(chunk))
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			var label any = k.label
			if t.byClass {
				label = k.class
			}
			args = append(args, k.day, label, m[k])
		}
		fmt.Fprintf(&q, ` ON CONFLICT (day, %[2]s) DO UPDATE SET %[3]s = %[1]s.%[3]s + excluded.%[3]s`, t.name, t.label, t.value)
		stmts = append(stmts, stmt{q.String(), args})
	}
	return stmts
}

// The queries of the figures kept in the daily rollups, over [from, to)
// in days (Unix seconds of local midnights).
const (
	daysTopSKUsQuery = `SELECT sku, CAST(sum(units) AS BIGINT) AS n FROM cancel_stats_sku
WHERE day >= ? AND day < ? GROUP BY sku HAVING sum(units) > 0 ORDER BY n DESC, sku LIMIT ?`
	daysByPaymentQuery = `SELECT payment_method, CAST(sum(cancelled) AS BIGINT) AS n FROM cancel_stats_payment
WHERE day >= ? AND day < ? GROUP BY payment_method HAVING sum(cancelled) > 0 ORDER BY n DESC, payment_method`
	daysRefundedQuery = `SELECT currency, CAST(sum(refunded) AS BIGINT) FROM refund_stats_daily
WHERE day >= ? AND day < ? GROUP BY currency`
	daysDelayQuery = `SELECT class, CAST(sum(cancelled) AS BIGINT) FROM cancel_stats_delay
WHERE day >= ? AND day < ? GROUP BY class ORDER BY class`
	// The offset-th (from 0) shortest times to cancel of a class [lo, hi)
	// among the orders cancelled in [from, to), through orders_cancel_delay.
	delayNthQuery = `SELECT cancelled_at - created_at AS d FROM orders
WHERE cancelled_at IS NOT NULL AND cancelled_at - created_at >= ? AND cancelled_at - created_at < ?
	AND cancelled_at >= ? AND cancelled_at < ?
ORDER BY cancelled_at - created_at LIMIT ? OFFSET ?`
)

// errDaysOutOfStep says a class of the delay rollups holds fewer orders
// than it counts; the figures are then read from the orders.
var errDaysOutOfStep = errors.New("store: daily rollups out of step with the orders")

// extraFromDays fills the top SKUs, payment methods and median time to
// cancel of [from, to), whole days of the zone the rollups are kept in.
func (db *DB) extraFromDays(ctx context.Context, tx *sql.Tx, out *canceldesk.ExtraFigures, from, to time.Time) error {
	lo, hi := from.Unix(), to.Unix()
	countBy := func(q string, args []any, dst *[]canceldesk.CountBy) error {
		return eachRow(ctx, tx, db.bind(q), args, func(rows *sql.Rows) error {
			var c canceldesk.CountBy
			if err := rows.Scan(&c.Label, &c.Count); err != nil {
				return err
			}
			*dst = append(*dst, c)
			return nil
		})
	}
	if err := countBy(daysTopSKUsQuery, []any{lo, hi, canceldesk.MaxTopSKUs}, &out.TopSKUs); err != nil {
		return err
	}
	if err := countBy(daysByPaymentQuery, []any{lo, hi}, &out.ByPayment); err != nil {
		return err
	}
	type class struct{ class, n int64 }
	var classes []class
	var total int64
	err := eachRow(ctx, tx, db.bind(daysDelayQuery), []any{lo, hi}, func(rows *sql.Rows) error {
		var c class
		if err := rows.Scan(&c.class, &c.n); err != nil {
			return err
		}
		classes, total = append(classes, c), total+c.n
		return nil
	})
	if err != nil || total == 0 {
		return err
	}
	// nth is the rank-th (from 1) shortest time to cancel and, when want
	// is 2 and the next one is in the same class, that one too: found in
	// its class's rollup, read exactly from the orders of that class, one
	// walk for both middle ones where it can.
	nth := func(rank int64, want int) ([]int64, error) {
		for _, c := range classes {
			if rank > c.n {
				rank -= c.n
				continue
			}
			dlo, dhi := delayRange(int(c.class))
			var ds []int64
			err := eachRow(ctx, tx, db.bind(delayNthQuery), []any{dlo, dhi, from.UnixMicro(), to.UnixMicro(), want, rank - 1},
				func(rows *sql.Rows) error {
					var d int64
					err := rows.Scan(&d)
					ds = append(ds, d)
					return err
				})
			if err == nil && len(ds) == 0 {
				err = errDaysOutOfStep
			}
			return ds, err
		}
		return nil, errDaysOutOfStep
	}
	mid, err := nth((total+1)/2, int(2-total%2))
	if err != nil {
		return err
	}
	a, b := mid[0], mid[len(mid)-1]
	if total%2 == 0 && len(mid) == 1 {
		next, err := nth(total/2+1, 1)
		if err != nil {
			return err
		}
		b = next[0]
	}
	// a + (b−a)/2 cannot overflow where (a+b)/2 could
	out.MedianToCancel = time.Duration(a+(b-a)/2) * time.Microsecond
	return nil
}
