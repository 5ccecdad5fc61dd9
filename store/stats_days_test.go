package store

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

// stDaysFromOrders computes the day rollups of loc independently, from the
// orders table: each order counted on the local day of the instant it was
// placed or cancelled, for the days starting in [from, to).
func stDaysFromOrders(t *testing.T, db *DB, loc *time.Location, from, to time.Time) map[stKey]stTotals {
	t.Helper()
	return stCountOrders(t, db, func(us int64) (int64, bool) {
		lt := time.UnixMicro(us).In(loc)
		d := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
		return d.Unix(), !d.Before(from) && d.Before(to)
	})
}

// stDays sums StatsDays over reasons and sources, checking that every
// bucket is a local midnight of loc and that rows come oldest first.
func stDays(t *testing.T, db *DB, loc *time.Location, from, to time.Time) map[stKey]stTotals {
	t.Helper()
	rs, err := db.StatsDays(rtCtx(t), from, to, loc)
	if err != nil {
		t.Fatalf("StatsDays: %v", err)
	}
	out := map[stKey]stTotals{}
	for i, r := range rs {
		if i > 0 && r.Bucket.Before(rs[i-1].Bucket) {
			t.Fatalf("StatsDays not ordered: %v after %v", r.Bucket, rs[i-1].Bucket)
		}
		if !r.Bucket.Equal(canceldesk.PeriodStart(r.Bucket, loc, canceldesk.GroupDay)) {
			t.Fatalf("bucket %v is not a midnight in %s", r.Bucket.In(loc), loc)
		}
		stAdd(out, r)
	}
	return stNonZero(out)
}

// TestStatsDays: the daily rollups equal the orders counted by local day,
// in zones east and west of UTC and across New York's change to summer
// time (2025-03-09, inside the orders' 30 days), after imports, cancels,
// re-creates and a bulk load, whether the days were kept as the writes
// happened, rebuilt for a new zone, or summed from the hours.
func TestStatsDays(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	taipei, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		t.Fatal(err)
	}
	rtEach(t, func(t *testing.T, db *DB) {
		rng := rand.New(rand.NewPCG(5, 309))
		var orders []*canceldesk.Order
		for i := range 150 {
			orders = append(orders, stRandomOrder(rng, fmt.Sprintf("#D%03d", i)))
		}
		// Imported before the days are built.
		rtImport(t, db, orders[:50]...)
		if err := db.SetStatsZone(rtCtx(t), newYork); err != nil {
			t.Fatalf("SetStatsZone: %v", err)
		}
		rtImport(t, db, orders[50:100]...)
		if err := db.BulkLoad(rtCtx(t), orders[100:]); err != nil {
			t.Fatalf("BulkLoad: %v", err)
		}
		// Cancels, some on the evening of the change to summer time.
		var cancelled []*canceldesk.Order
		for i, o := range orders {
			if o.CancelledAt != nil || i%3 != 0 {
				continue
			}
			at := o.CreatedAt.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))
			if i%2 == 0 {
				at = time.Date(2025, 3, 9, 6, 30, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute) // 01:30–03:xx New York
			}
			if at.Before(o.CreatedAt) {
				at = o.CreatedAt
			}
			db.Now = func() time.Time { return at }
			req := canceldesk.CancelRequest{OrderID: o.ID, Reason: stReasons[rng.IntN(len(stReasons))],
				Refund: canceldesk.RefundLater, IdempotencyKey: fmt.Sprintf("stats-days-%08d", i), Actor: "staff@example.com"}
			if _, err := db.CancelOrder(rtCtx(t), req); err != nil {
				t.Fatalf("CancelOrder %s: %v", o.Name, err)
			}
			cancelled = append(cancelled, o)
		}
		for i, o := range cancelled[:4] {
			at := rtNow.Add(-time.Duration(i) * 11 * time.Hour)
			db.Now = func() time.Time { return at }
			if _, err := db.RecreateOrder(rtCtx(t), o.ID, "staff@example.com"); err != nil {
				t.Fatalf("RecreateOrder %s: %v", o.Name, err)
			}
		}

		from, to := rtNow.Add(-40*24*time.Hour), rtNow.Add(10*24*time.Hour)
		span := func(loc *time.Location) (time.Time, time.Time) {
			return canceldesk.PeriodStart(from, loc, canceldesk.GroupDay), canceldesk.PeriodStart(to, loc, canceldesk.GroupDay)
		}
		check := func(what string, loc *time.Location) {
			t.Helper()
			f, e := span(loc)
			want := stDaysFromOrders(t, db, loc, f, e)
			if len(want) < 30 {
				t.Fatalf("%s: only %d days: the test exercises too little", what, len(want))
			}
			stCompare(t, what, stDays(t, db, loc, f, e), want)
			// The figures of cancelled orders, over whole days and over a
			// few days inside, are those the orders give.
			for i, r := range [][2]time.Time{{f, e}, {f.AddDate(0, 0, 20), f.AddDate(0, 0, 27)}, {f.AddDate(0, 0, 25), f.AddDate(0, 0, 26)}} {
				got, err := db.ExtraFigures(rtCtx(t), r[0], r[1])
				if err != nil {
					t.Fatalf("%s: ExtraFigures: %v", what, err)
				}
				stCompareExtra(t, db, what, got, r[0], r[1], i == 0)
			}
		}
		check("kept in New York", newYork)
		check("summed from the hours for Taipei", taipei)
		check("summed from the hours for UTC", time.UTC)

		// The days really are kept: one row per day and key, not the hours.
		var days, hours int
		if err := db.read.QueryRowContext(rtCtx(t), `SELECT count(*) FROM order_stats_daily`).Scan(&days); err != nil {
			t.Fatal(err)
		}
		if err := db.read.QueryRowContext(rtCtx(t), `SELECT count(*) FROM order_stats_hourly`).Scan(&hours); err != nil {
			t.Fatal(err)
		}
		if days == 0 || days >= hours {
			t.Fatalf("%d daily rows for %d hourly ones", days, hours)
		}

		if err := db.SetStatsZone(rtCtx(t), taipei); err != nil {
			t.Fatalf("SetStatsZone Taipei: %v", err)
		}
		check("rebuilt in Taipei", taipei)
		// Setting the same zone again keeps the rows as they are.
		if err := db.SetStatsZone(rtCtx(t), taipei); err != nil {
			t.Fatal(err)
		}
		check("Taipei again", taipei)

		// Migration 0009, run again, leaves the days to be built from the
		// hours and the orders by the first SetStatsZone.
		for _, q := range []string{`DROP TABLE order_stats_daily`, `DROP TABLE order_stats_zone`, `DROP TABLE cancel_stats_payment`,
			`DROP TABLE cancel_stats_sku`, `DROP TABLE cancel_stats_delay`, `DROP INDEX orders_cancel_delay`} {
			if _, err := db.write.ExecContext(rtCtx(t), q); err != nil {
				t.Fatal(err)
			}
		}
		body, err := migrations.ReadFile("migrations/" + string(db.dialect) + "/0009_stats_daily.sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(rtCtx(t), string(body)); err != nil {
			t.Fatalf("0009 again: %v", err)
		}
		if err := db.SetStatsZone(rtCtx(t), time.UTC); err != nil {
			t.Fatal(err)
		}
		check("built in UTC", time.UTC)
	})
}

// stCompareExtra checks the figures of cancelled orders against those the
// orders give through the scans of extraFromOrders.
func stCompareExtra(t *testing.T, db *DB, what string, got canceldesk.ExtraFigures, from, to time.Time, full bool) {
	t.Helper()
	tx, err := db.readTx(rtCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var want canceldesk.ExtraFigures
	if err := db.extraFromOrders(rtCtx(t), tx, &want, from.UnixMicro(), to.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	for i, c := range want.ByPayment {
		if c.Label == "" {
			want.ByPayment[i].Label = canceldesk.NoPaymentMethod
		}
	}
	if full && (len(want.ByPayment) == 0 || len(want.TopSKUs) == 0 || want.MedianToCancel == 0) {
		t.Fatalf("%s %v–%v: no cancelled orders with SKUs: the test exercises too little", what, from, to)
	}
	if !reflect.DeepEqual(got.TopSKUs, want.TopSKUs) {
		t.Errorf("%s %v–%v: top SKUs %v, orders give %v", what, from, to, got.TopSKUs, want.TopSKUs)
	}
	if !reflect.DeepEqual(got.ByPayment, want.ByPayment) {
		t.Errorf("%s %v–%v: by payment %v, orders give %v", what, from, to, got.ByPayment, want.ByPayment)
	}
	if got.MedianToCancel != want.MedianToCancel {
		t.Errorf("%s %v–%v: median to cancel %v, orders give %v", what, from, to, got.MedianToCancel, want.MedianToCancel)
	}
}

// TestDelayClasses: every time to cancel falls in the class whose range
// holds it, and the classes tile the line.
func TestDelayClasses(t *testing.T) {
	prevHi := int64(0)
	for c := 0; c <= len(delayBounds); c++ {
		lo, hi := delayRange(c)
		if lo >= hi || (c > 0 && lo != prevHi) {
			t.Fatalf("class %d: [%d, %d) after %d", c, lo, hi, prevHi)
		}
		prevHi = hi
		for _, d := range []int64{lo, hi - 1, lo + (hi-lo)/2} {
			if got := delayClass(d); got != c {
				t.Fatalf("delayClass(%d) = %d, want %d", d, got, c)
			}
		}
	}
}

// TestMedianAcrossClasses: the median time to cancel from the daily
// rollups when the two middle times of an even count lie in two classes,
// and of an odd count.
func TestMedianAcrossClasses(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 7)
		if err := db.SetStatsZone(rtCtx(t), time.UTC); err != nil {
			t.Fatal(err)
		}
		cancelled := func(name string, delay time.Duration) *canceldesk.Order {
			return rtOrder(name, func(o *canceldesk.Order) {
				placed := from.Add(time.Hour)
				at := placed.Add(delay)
				o.CreatedAt, o.UpdatedAt = placed, placed
				o.CancelledAt, o.CancelReason = &at, canceldesk.ReasonCustomer
			})
		}
		median := func(want time.Duration) {
			t.Helper()
			f, err := db.ExtraFigures(rtCtx(t), from, to)
			if err != nil {
				t.Fatal(err)
			}
			if f.MedianToCancel != want {
				t.Errorf("median to cancel %v, want %v", f.MedianToCancel, want)
			}
		}
		rtImport(t, db, cancelled("#m1", 30*time.Minute), cancelled("#m2", 72*time.Hour))
		median(36*time.Hour + 15*time.Minute)
		rtImport(t, db, cancelled("#m3", 80*time.Hour))
		median(72 * time.Hour)
		rtImport(t, db, cancelled("#m4", 72*time.Hour+time.Minute))
		median(72*time.Hour + 30*time.Second)
	})
}
