package store

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

// stTotals are the counters of one (UTC hour, currency), summed over reasons
// and sources.
type stTotals struct{ Placed, PlacedValue, Cohort, Cancelled, CancelledValue int64 }

type stKey struct {
	Bucket   int64
	Currency string
}

// stFromOrders computes the rollups independently, from the orders table,
// for the UTC hours starting in [lo, hi) (Unix seconds).
func stFromOrders(t *testing.T, db *DB, lo, hi int64) map[stKey]stTotals {
	t.Helper()
	return stCountOrders(t, db, func(us int64) (int64, bool) {
		h := time.UnixMicro(us).UTC().Truncate(time.Hour).Unix()
		return h, h >= lo && h < hi
	})
}

// stCountOrders counts every order placed, cohort-cancelled and cancelled
// under the period that period gives the instant (microseconds) of each,
// when it is in range.
func stCountOrders(t *testing.T, db *DB, period func(us int64) (int64, bool)) map[stKey]stTotals {
	t.Helper()
	rows, err := db.read.QueryContext(rtCtx(t), `SELECT created_at, cancelled_at, total, currency FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[stKey]stTotals{}
	add := func(us int64, cur string, f func(*stTotals)) {
		p, ok := period(us)
		if !ok {
			return
		}
		v := out[stKey{p, cur}]
		f(&v)
		out[stKey{p, cur}] = v
	}
	for rows.Next() {
		var (
			created, total int64
			cancelled      *int64
			cur            string
		)
		if err := rows.Scan(&created, &cancelled, &total, &cur); err != nil {
			t.Fatal(err)
		}
		add(created, cur, func(v *stTotals) { v.Placed++; v.PlacedValue += total })
		if cancelled != nil {
			add(created, cur, func(v *stTotals) { v.Cohort++ })
			add(*cancelled, cur, func(v *stTotals) { v.Cancelled++; v.CancelledValue += total })
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stFromRollups sums StatsRows(from, to) over reasons and sources.
func stFromRollups(t *testing.T, db *DB, from, to time.Time) map[stKey]stTotals {
	t.Helper()
	rs, err := db.StatsRows(rtCtx(t), from, to)
	if err != nil {
		t.Fatalf("StatsRows: %v", err)
	}
	out := map[stKey]stTotals{}
	for i, r := range rs {
		if i > 0 && r.Bucket.Before(rs[i-1].Bucket) {
			t.Fatalf("StatsRows not ordered by bucket: %v after %v", r.Bucket, rs[i-1].Bucket)
		}
		if r.Bucket.Location() != time.UTC || !r.Bucket.Equal(r.Bucket.Truncate(time.Hour)) {
			t.Fatalf("bucket %v is not a UTC hour", r.Bucket)
		}
		if (r.Reason == "" && r.Source == "") != (r.CohortCancelled == 0 && r.Cancelled == 0 && r.CancelledValue == 0) ||
			(r.Source != "" && (r.Placed != 0 || r.PlacedValue != 0)) {
			t.Errorf("row mixes placed and cancel counters: %+v", r)
		}
		stAdd(out, r)
	}
	return stNonZero(out)
}

// stAdd adds a rollup row to the totals of its period and currency.
func stAdd(out map[stKey]stTotals, r StatsRow) {
	k := stKey{r.Bucket.Unix(), r.Currency}
	v := out[k]
	v.Placed += r.Placed
	v.PlacedValue += r.PlacedValue
	v.Cohort += r.CohortCancelled
	v.Cancelled += r.Cancelled
	v.CancelledValue += r.CancelledValue
	out[k] = v
}

// stNonZero drops the totals of zero: a row of zeros carries nothing.
func stNonZero(out map[stKey]stTotals) map[stKey]stTotals {
	for k, v := range out {
		if v == (stTotals{}) {
			delete(out, k)
		}
	}
	return out
}

func stCompare(t *testing.T, what string, got, want map[stKey]stTotals) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	n := 0
	for k, w := range want {
		if g := got[k]; g != w && n < 10 {
			n++
			t.Errorf("%s: hour %v %s: rollups %+v, orders %+v", what, time.Unix(k.Bucket, 0).UTC(), k.Currency, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && n < 10 {
			n++
			t.Errorf("%s: hour %v %s: rollups %+v, no orders", what, time.Unix(k.Bucket, 0).UTC(), k.Currency, g)
		}
	}
	t.Fatalf("%s: rollups differ from orders (%d hours vs %d)", what, len(got), len(want))
}

var stReasons = []canceldesk.CancelReason{canceldesk.ReasonCustomer, canceldesk.ReasonDeclined, canceldesk.ReasonFraud,
	canceldesk.ReasonInventory, canceldesk.ReasonStaff, canceldesk.ReasonOther}

// stRandomOrder is an order placed at a random microsecond of the 30 days
// before rtNow, a quarter of them already cancelled (some with no reason).
func stRandomOrder(rng *rand.Rand, name string) *canceldesk.Order {
	created := rtNow.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Microsecond)
	return rtOrder(name, func(o *canceldesk.Order) {
		o.CreatedAt, o.UpdatedAt = created, created
		o.Currency = []string{"USD", "TWD"}[rng.IntN(2)]
		o.Total = 100 + rng.Int64N(100000)
		if rng.IntN(4) == 0 {
			at := created.Add(time.Duration(rng.Int64N(int64(72 * time.Hour)))).Truncate(time.Microsecond)
			o.CancelledAt = &at
			if rng.IntN(6) > 0 {
				o.CancelReason = stReasons[rng.IntN(len(stReasons))]
			}
		}
	})
}

func TestStatsRollups(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		rng := rand.New(rand.NewPCG(7, 2025))
		var all []*canceldesk.Order
		importCancelled := 0
		for batch := range 4 {
			var orders []*canceldesk.Order
			for i := range 50 {
				o := stRandomOrder(rng, fmt.Sprintf("#S%d-%02d", batch, i))
				if o.CancelledAt != nil {
					importCancelled++
				}
				orders = append(orders, o)
			}
			rtImport(t, db, orders...)
			all = append(all, orders...)
		}
		// Importing them again creates nothing and counts nothing.
		again := []*canceldesk.Order{stRandomOrder(rng, all[0].Name), stRandomOrder(rng, all[1].Name)}
		if created, err := db.ImportOrders(rtCtx(t), again, "import"); err != nil || created[0] || created[1] {
			t.Fatalf("re-import: %v, %v", created, err)
		}

		// Cancel some open ones: by staff, and by the rule.
		staff, rule, key := 0, 0, 0
		var cancelled []*canceldesk.Order
		for _, o := range all {
			if o.CancelledAt != nil {
				cancelled = append(cancelled, o)
				continue
			}
			if rng.IntN(3) > 0 {
				continue
			}
			at := o.CreatedAt.Add(time.Duration(rng.Int64N(int64(5 * 24 * time.Hour))))
			db.Now = func() time.Time { return at }
			key++
			req := canceldesk.CancelRequest{OrderID: o.ID, Reason: stReasons[rng.IntN(len(stReasons))],
				Refund: canceldesk.RefundLater, IdempotencyKey: fmt.Sprintf("stats-dialog-%08d", key), Actor: "staff@example.com"}
			if rng.IntN(3) == 0 {
				req.Actor, req.Source = ruleActor, canceldesk.SourceAutoApproved
				rule++
			} else {
				staff++
			}
			if _, err := db.CancelOrder(rtCtx(t), req); err != nil {
				t.Fatalf("CancelOrder %s: %v", o.Name, err)
			}
			// A replay and a second cancel count nothing.
			if res, err := db.CancelOrder(rtCtx(t), req); err != nil || !res.Replayed {
				t.Fatalf("replay: %+v, %v", res, err)
			}
			req.IdempotencyKey += "-again"
			if _, err := db.CancelOrder(rtCtx(t), req); canceldesk.ErrorCode(err) != canceldesk.ECONFLICT {
				t.Fatalf("second cancel: %v", err)
			}
			cancelled = append(cancelled, o)
		}
		if staff == 0 || rule == 0 {
			t.Fatalf("staff %d, rule %d cancels: the seed does not exercise both", staff, rule)
		}

		// Re-create a few cancelled orders.
		for i, o := range cancelled[:6] {
			at := rtNow.Add(time.Duration(i) * 37 * time.Minute)
			db.Now = func() time.Time { return at }
			if _, err := db.RecreateOrder(rtCtx(t), o.ID, "staff@example.com"); err != nil {
				t.Fatalf("RecreateOrder %s: %v", o.Name, err)
			}
		}

		// And a second batch through the bulk loader.
		db.Now = func() time.Time { return rtNow }
		var bulk []*canceldesk.Order
		for i := range 120 {
			o := stRandomOrder(rng, fmt.Sprintf("#B%03d", i))
			if o.CancelledAt != nil {
				importCancelled++
			}
			bulk = append(bulk, o)
		}
		if err := db.BulkLoad(rtCtx(t), bulk); err != nil {
			t.Fatalf("BulkLoad: %v", err)
		}

		// Every hour, every currency, exactly.
		from, to := rtNow.Add(-40*24*time.Hour), rtNow.Add(10*24*time.Hour)
		want := stFromOrders(t, db, from.Unix(), to.Unix())
		if len(want) < 100 {
			t.Fatalf("only %d hours: the test exercises too little", len(want))
		}
		stCompare(t, "all", stFromRollups(t, db, from, to), want)
		// A range that starts and ends inside hours holds the hours that
		// start in it.
		f2, t2 := rtNow.Add(-20*24*time.Hour+30*time.Minute+time.Nanosecond), rtNow.Add(-10*24*time.Hour)
		lo := f2.Truncate(time.Hour).Add(time.Hour).Unix()
		hi := t2.Truncate(time.Hour).Unix()
		if !t2.Equal(t2.Truncate(time.Hour)) {
			hi += 3600
		}
		stCompare(t, "part", stFromRollups(t, db, f2, t2), stFromOrders(t, db, lo, hi))

		// The sources: imports, the rule and staff.
		bySource := map[string]int64{}
		rows, err := db.StatsRows(rtCtx(t), from, to)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			bySource[r.Source] += r.Cancelled
			if r.Source != "" && r.Reason == "" && r.Source != StatsSourceImport {
				t.Errorf("a cancel of source %s without a reason: %+v", r.Source, r)
			}
		}
		wantSources := map[string]int64{"": 0, StatsSourceImport: int64(importCancelled),
			StatsSourceAutoApproved: int64(rule), StatsSourceStaff: int64(staff)}
		if !reflect.DeepEqual(bySource, wantSources) {
			t.Errorf("cancels by source %v, want %v", bySource, wantSources)
		}

		// Migration 0007's backfill, run again on these orders, gives the
		// very rows kept by the writes, reasons and sources included.
		var ordered []StatsRow
		ordered = append(ordered, rows...)
		body, err := migrations.ReadFile("migrations/" + string(db.dialect) + "/0007_stats.sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(rtCtx(t), `DROP TABLE order_stats_hourly`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(rtCtx(t), string(body)); err != nil {
			t.Fatalf("0007 again: %v", err)
		}
		backfilled, err := db.StatsRows(rtCtx(t), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(backfilled, ordered) {
			t.Errorf("backfill gives %d rows, the writes kept %d", len(backfilled), len(ordered))
			for i := range min(len(backfilled), len(ordered)) {
				if backfilled[i] != ordered[i] {
					t.Fatalf("first difference: backfill %+v, kept %+v", backfilled[i], ordered[i])
				}
			}
		}
	})
}

// TestStatsBackfillFrom0006 opens a store built at 0006 with orders in it,
// imported and cancelled: 0007 backfills their rollups.
func TestStatsBackfillFrom0006(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		rng := rand.New(rand.NewPCG(11, 6))
		var orders []*canceldesk.Order
		for i := range 60 {
			orders = append(orders, stRandomOrder(rng, fmt.Sprintf("#M%02d", i)))
		}
		rtImport(t, db, orders...)
		n := 0
		for _, o := range orders {
			if o.CancelledAt == nil && n < 10 {
				n++
				req := canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonFraud, Refund: canceldesk.RefundLater,
					IdempotencyKey: fmt.Sprintf("request:%016d", n), Actor: "staff@example.com",
					Source: canceldesk.SourceAutoApproved}
				if _, err := db.CancelOrder(rtCtx(t), req); err != nil {
					t.Fatal(err)
				}
			}
		}
		from, to := rtNow.Add(-40*24*time.Hour), rtNow.Add(time.Hour)
		kept, err := db.StatsRows(rtCtx(t), from, to)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range kept {
			if r.Reason == canceldesk.ReasonFraud && r.Source != StatsSourceImport && r.Source != StatsSourceAutoApproved {
				t.Errorf("a request: key cancel counted as %q", r.Source)
			}
		}
		// Back to 0006: no table, no record of 0007; reopening migrates.
		for _, q := range []string{`DROP TABLE order_stats_hourly`, `DELETE FROM schema_migrations WHERE version = 7`} {
			if _, err := db.write.ExecContext(rtCtx(t), q); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.migrate(rtCtx(t)); err != nil {
			t.Fatal(err)
		}
		got, err := db.StatsRows(rtCtx(t), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, kept) {
			t.Fatalf("backfill:\n%v\nkept:\n%v", stLines(got), stLines(kept))
		}
		stCompare(t, "backfill", stFromRollups(t, db, from, to), stFromOrders(t, db, from.Unix(), to.Unix()))
	})
}

func stLines(rs []StatsRow) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%+v\n", r)
	}
	return b.String()
}
