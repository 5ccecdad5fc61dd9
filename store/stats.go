package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

// Sources of a cancellation in order_stats_hourly (the domain's); placed
// rows have source and reason "" (empty).
const (
	StatsSourceStaff           = canceldesk.SourceStaff
	StatsSourceCustomerRequest = canceldesk.SourceCustomerRequest
	StatsSourceAutoApproved    = canceldesk.SourceAutoApproved
	StatsSourceImport          = canceldesk.SourceImport
)

// StatsRow is one UTC hour of the cancellation-analytics rollups
// (order_stats_hourly) for one currency, cancel reason and source: the
// domain's canceldesk.StatsRow. Placed rows have Reason and Source "";
// cohort and cancel counters sit in rows keyed by a cancellation's reason
// and source: CohortCancelled under the order's placed hour, Cancelled and
// CancelledValue under the hour of the cancel.
type StatsRow = canceldesk.StatsRow

// StatsRows returns the hourly rollup rows whose hour starts in [from, to),
// ordered by bucket (then currency, reason, source), in one read-only
// transaction over the primary key's range.
func (db *DB) StatsRows(ctx context.Context, from, to time.Time) ([]StatsRow, error) {
	return db.statsRows(ctx, statsHourly, from, to)
}

// statsRows reads the rows of table t whose period starts in [from, to).
func (db *DB) statsRows(ctx context.Context, t statsTable, from, to time.Time) ([]StatsRow, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// A period starts on a whole second: those >= from start at or after
	// from rounded up to a whole second.
	lo, hi := ceilUnix(from), ceilUnix(to)
	q := fmt.Sprintf(`SELECT %[2]s, currency, reason, source, placed_count, placed_value,
		cohort_cancelled, cancelled_count, cancelled_value FROM %[1]s
		WHERE %[2]s >= ? AND %[2]s < ? ORDER BY %[2]s, currency, reason, source`, t.name, t.bucket)
	var out []StatsRow
	err = eachRow(ctx, tx, db.bind(q), []any{lo, hi}, func(rows *sql.Rows) error {
		var (
			r      StatsRow
			bucket int64
			reason string
		)
		if err := rows.Scan(&bucket, &r.Currency, &reason, &r.Source, counter{&r.Placed}, counter{&r.PlacedValue},
			counter{&r.CohortCancelled}, counter{&r.Cancelled}, counter{&r.CancelledValue}); err != nil {
			return fmt.Errorf("store: %s: %w", t.name, err)
		}
		r.Bucket, r.Reason = time.Unix(bucket, 0).UTC(), canceldesk.CancelReason(reason)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := checkSums(out); err != nil {
		return nil, fmt.Errorf("store: %s from %s to %s: %w", t.name, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), err)
	}
	return out, tx.Commit()
}

// counter scans a rollup counter. Anything but a non-negative integer is
// refused with an error wrapping canceldesk.ErrAmountOverflow: SQLite
// turns an integer sum that overflows into a float, and a rollup written
// before amounts were bounded may hold one.
type counter struct{ dst *int64 }

func (c counter) Scan(v any) error {
	if n, ok := v.(int64); ok && n >= 0 {
		*c.dst = n
		return nil
	}
	return fmt.Errorf("a rollup counter holds %v (%T), not a count or an amount: %w", v, v, canceldesk.ErrAmountOverflow)
}

// checkSums makes sure every sum of the counters of rows fits in int64,
// so whoever adds up some of them (the chart, the figures) cannot wrap
// round: the counters are not negative, so no sum of some is more than
// the sum of all.
func checkSums(rows []StatsRow) error {
	var all statsDelta
	for _, r := range rows {
		if err := all.add(statsDelta{placed: r.Placed, placedValue: r.PlacedValue, cohort: r.CohortCancelled,
			cancelled: r.Cancelled, cancelledValue: r.CancelledValue}); err != nil {
			return err
		}
	}
	return nil
}

// ceilUnix is t in whole Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// hourBucket is the rollup bucket of a stored time (microseconds): the Unix
// seconds of its UTC hour, with the same integer math as migration 0007.
func hourBucket(us int64) int64 { return us / 3600000000 * 3600 }

// statsKey is order_stats_hourly's primary key.
type statsKey struct {
	bucket                   int64
	currency, reason, source string
}

// statsDelta is what one change adds to one rollup row.
type statsDelta struct {
	statsKey
	placed, placedValue, cohort, cancelled, cancelledValue int64
}

// placedStats is the delta of placing o.
func placedStats(o *canceldesk.Order) statsDelta {
	return statsDelta{statsKey: statsKey{bucket: hourBucket(o.CreatedAt.UnixMicro()), currency: o.Currency},
		placed: 1, placedValue: o.Total}
}

// cancelStats are the deltas of cancelling o at cancelledAt (microseconds)
// for reason from source: the cohort row of its placed hour and the cancel
// row of the cancel's hour.
func cancelStats(o *canceldesk.Order, cancelledAt int64, reason canceldesk.CancelReason, source string) []statsDelta {
	return []statsDelta{
		{statsKey: statsKey{bucket: hourBucket(o.CreatedAt.UnixMicro()), currency: o.Currency, reason: string(reason), source: source},
			cohort: 1},
		{statsKey: statsKey{bucket: hourBucket(cancelledAt), currency: o.Currency, reason: string(reason), source: source},
			cancelled: 1, cancelledValue: o.Total},
	}
}

// orderStats are the deltas of storing o as it is: placed, and cancelled
// (from source: import, or shopify through the API) when it comes in
// cancelled.
func orderStats(o *canceldesk.Order, source string) []statsDelta {
	out := []statsDelta{placedStats(o)}
	if o.CancelledAt != nil {
		out = append(out, cancelStats(o, o.CancelledAt.UnixMicro(), o.CancelReason, source)...)
	}
	return out
}

// statsChunk is how many rows one upsert carries (9 parameters each).
const statsChunk = 500

// addStats adds the deltas to the hourly rollups and to the daily ones of
// the store's zone, inside tx (see statsStmts), through execShared:
// callers do it last in their transaction.
func (db *DB) addStats(ctx context.Context, tx *sql.Tx, deltas ...statsDelta) error {
	stmts, err := db.statsStmts(deltas)
	if err != nil {
		return err
	}
	return db.execShared(ctx, tx, stmts)
}

// statsStmts are the upserts that add the deltas to the hourly rollups
// and to the daily ones of the store's zone. Deltas of one row are merged
// first, and rows are upserted in primary-key order, hourly before daily,
// so concurrent writers lock them in one order and never deadlock on them.
func (db *DB) statsStmts(deltas []statsDelta) ([]stmt, error) {
	if len(deltas) == 0 {
		return nil, nil
	}
	hourly, err := mergeStats(deltas, func(k statsKey) statsKey { return k })
	if err != nil {
		return nil, err
	}
	stmts := statsTableStmts(statsHourly, hourly)
	loc := db.zone.Load()
	if loc == nil {
		return stmts, nil // the days are not built yet: SetStatsZone builds them from the hours
	}
	daily, err := mergeStats(hourly, func(k statsKey) statsKey { k.bucket = dayOf(k.bucket, loc); return k })
	if err != nil {
		return nil, err
	}
	return append(stmts, statsTableStmts(statsDaily, daily)...), nil
}

// mergeStats sums the deltas by the key that key gives them, in key order.
// A sum that does not fit in int64 is an error wrapping
// canceldesk.ErrAmountOverflow.
func mergeStats(deltas []statsDelta, key func(statsKey) statsKey) ([]statsDelta, error) {
	index := make(map[statsKey]int, len(deltas))
	out := make([]statsDelta, 0, len(deltas))
	for _, d := range deltas {
		k := key(d.statsKey)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, statsDelta{statsKey: k})
		}
		if err := out[i].add(d); err != nil {
			return nil, fmt.Errorf("store: rollup of %s %s: %w", time.Unix(k.bucket, 0).UTC().Format(time.RFC3339), k.currency, err)
		}
	}
	slices.SortFunc(out, func(a, b statsDelta) int {
		return cmp.Or(cmp.Compare(a.bucket, b.bucket), strings.Compare(a.currency, b.currency),
			strings.Compare(a.reason, b.reason), strings.Compare(a.source, b.source))
	})
	return out, nil
}

// add adds the counters of d to m's, refusing a sum that overflows.
func (m *statsDelta) add(d statsDelta) error {
	for _, c := range []struct {
		sum *int64
		v   int64
	}{
		{&m.placed, d.placed}, {&m.placedValue, d.placedValue}, {&m.cohort, d.cohort},
		{&m.cancelled, d.cancelled}, {&m.cancelledValue, d.cancelledValue},
	} {
		s, err := canceldesk.AddAmounts(*c.sum, c.v)
		if err != nil {
			return err
		}
		*c.sum = s
	}
	return nil
}

// A rollup table and the name of its time column.
type statsTable struct{ name, bucket string }

var (
	statsHourly = statsTable{"order_stats_hourly", "bucket"}
	statsDaily  = statsTable{"order_stats_daily", "day"}
)

// statsTableStmts are the upserts that add merged deltas to table t, in
// chunks.
func statsTableStmts(t statsTable, rows []statsDelta) []stmt {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
	var stmts []stmt
	for start := 0; start < len(rows); start += statsChunk {
		chunk := rows[start:min(start+statsChunk, len(rows))]
		var q strings.Builder
		fmt.Fprintf(&q, `INSERT INTO %s (%s, currency, reason, source, placed_count, placed_value,
			cohort_cancelled, cancelled_count, cancelled_value) VALUES `, t.name, t.bucket)
		args := make([]any, 0, 9*len(chunk))
		for i, d := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(row)
			args = append(args, d.bucket, d.currency, d.reason, d.source, d.placed, d.placedValue, d.cohort,
				d.cancelled, d.cancelledValue)
		}
		fmt.Fprintf(&q, ` ON CONFLICT (%[2]s, currency, reason, source) DO UPDATE SET
			placed_count = %[1]s.placed_count + excluded.placed_count,
			placed_value = %[1]s.placed_value + excluded.placed_value,
			cohort_cancelled = %[1]s.cohort_cancelled + excluded.cohort_cancelled,
			cancelled_count = %[1]s.cancelled_count + excluded.cancelled_count,
			cancelled_value = %[1]s.cancelled_value + excluded.cancelled_value`, t.name, t.bucket)
		stmts = append(stmts, stmt{q.String(), args})
	}
	return stmts
}
