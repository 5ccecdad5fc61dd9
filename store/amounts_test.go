package store_test

import (
	"database/sql"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/shopifycsv"
	"github.com/canceldesk/canceldesk/store"
)

// amountsDay is the day the orders of these tests are placed.
var amountsDay = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

// dayTotals are the orders placed on amountsDay, what they are worth and
// what those cancelled that day are worth, as the daily rollups say.
type dayTotals struct{ placed, placedValue, cancelledValue int64 }

func totalsOf(t *testing.T, db *store.DB) dayTotals {
	t.Helper()
	rows, err := db.StatsDays(ctx(t), amountsDay, amountsDay.AddDate(0, 0, 1), time.UTC)
	if err != nil {
		t.Fatalf("StatsDays: %v", err)
	}
	var out dayTotals
	for _, r := range rows {
		out.placed += r.Placed
		out.placedValue += r.PlacedValue
		out.cancelledValue += r.CancelledValue
	}
	return out
}

// TestImportRefusesAmountsOverTheBound: an order above MaxOrderAmount is
// refused with its row by the CSV import, and whole by the store's import
// and bulk load, leaving no order and no rollup behind.
func TestImportRefusesAmountsOverTheBound(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		if err := db.SetStatsZone(ctx(t), time.UTC); err != nil {
			t.Fatal(err)
		}
		file := "Name,Created at,Currency,Total,Lineitem quantity,Lineitem name,Lineitem price\n" +
			"#1,2025-03-10 09:00,USD,\"50,000,000,000,000,000.00\",1,Cup,\"50,000,000,000,000,000.00\"\n" +
			"#2,2025-03-10 09:00,USD,1.00,1,Cup,1.00\n" +
			"#3,2025-03-10 09:00,USD,1.00,2,Cup,\"5,000,000,000.01\"\n"
		sum, err := shopifycsv.Import(ctx(t), db, strings.NewReader(file), shopifycsv.Options{}, "import")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"row 2 (#1): Total 50000000000000000.00 USD is more than 10000000000.00 USD, the most one order may hold",
			"row 4 (#3): Line 1 price × quantity (5000000000.01 USD × 2) is more than 10000000000.00 USD, the most one order may hold",
		}
		var got []string
		for _, e := range sum.Errors {
			got = append(got, e.Error())
		}
		if !reflect.DeepEqual(got, want) || sum.Imported != 1 {
			t.Errorf("imported %d, errors:\n got %q\nwant %q", sum.Imported, got, want)
		}

		huge := func(name string) *canceldesk.Order {
			return newOrder(name, amountsDay.Add(9*time.Hour), func(o *canceldesk.Order) {
				o.Total, o.Subtotal = 5_000_000_000_000_000_000, 5_000_000_000_000_000_000
				o.LineItems[0].Price = o.Total
			})
		}
		_, err = db.ImportOrders(ctx(t), []*canceldesk.Order{newOrder("#4", amountsDay), huge("#5")}, "import")
		if canceldesk.ErrorCode(err) != canceldesk.EINVALID || !strings.Contains(err.Error(), `order "#5": Subtotal 50000000000000000.00 EUR is more than`) {
			t.Errorf("ImportOrders: %v, want the order refused for its amount", err)
		}
		if err := db.BulkLoad(ctx(t), []*canceldesk.Order{newOrder("#6", amountsDay), huge("#7")}); canceldesk.ErrorCode(err) != canceldesk.EINVALID {
			t.Errorf("BulkLoad: %v, want the order refused", err)
		}

		if n := countOrders(t, db); n != 1 {
			t.Errorf("%d orders stored, want #2 alone", n)
		}
		if got := totalsOf(t, db); got != (dayTotals{1, 100, 0}) {
			t.Errorf("rollups hold %+v; want #2 alone", got)
		}
	})
}

// TestOrdersAtTheBound: orders of MaxOrderAmount import, and the rollups
// of their day add them up exactly.
func TestOrdersAtTheBound(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		if err := db.SetStatsZone(ctx(t), time.UTC); err != nil {
			t.Fatal(err)
		}
		bound := canceldesk.MaxOrderAmount
		var orders []*canceldesk.Order
		for i, name := range []string{"#1", "#2", "#3"} {
			orders = append(orders, newOrder(name, amountsDay.Add(time.Duration(i)*time.Hour), func(o *canceldesk.Order) {
				o.Subtotal, o.Total, o.RefundedAmount = bound, bound, bound
				o.LineItems[0].Price, o.LineItems[0].Quantity = bound/4, 4
				cancelled := o.CreatedAt.Add(time.Hour)
				o.CancelledAt, o.CancelReason = &cancelled, canceldesk.ReasonCustomer
			}))
		}
		importOrders(t, db, orders[:2]...)
		if err := db.BulkLoad(ctx(t), orders[2:]); err != nil {
			t.Fatal(err)
		}
		if got, want := totalsOf(t, db), (dayTotals{3, 3 * bound, 3 * bound}); got != want {
			t.Errorf("rollups hold %+v, want %+v", got, want)
		}
	})
}

// TestRollupsOutOfRange: rollups whose sum does not fit in int64 are
// refused with canceldesk.ErrAmountOverflow for the ranges that hold
// them, and only for those.
func TestRollupsOutOfRange(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		if err := db.SetStatsZone(ctx(t), time.UTC); err != nil {
			t.Fatal(err)
		}
		importOrders(t, db, newOrder("#1", amountsDay.Add(-48*time.Hour)))
		// Two rows of one day, each in range, whose sum is not.
		for _, source := range []string{"staff", "import"} {
			for _, table := range []string{"order_stats_daily (day", "order_stats_hourly (bucket"} {
				q := store.Rebind(`INSERT INTO ` + table + `, currency, reason, source, placed_count, placed_value,
					cohort_cancelled, cancelled_count, cancelled_value) VALUES (?, 'EUR', 'customer', ?, 0, 0, 0, 1, ?)`)
				if _, err := raw.ExecContext(ctx(t), q, amountsDay.Unix(), source, int64(math.MaxInt64/2+1)); err != nil {
					t.Fatal(err)
				}
			}
		}
		checkOutOfRange(t, db)
	})
	t.Run("sqlite float left by an overflow", func(t *testing.T) {
		dsn := t.TempDir() + "/canceldesk.db"
		db, raw := openStore(t, dsn), openRaw(t, dsn)
		if err := db.SetStatsZone(ctx(t), time.UTC); err != nil {
			t.Fatal(err)
		}
		importOrders(t, db, newOrder("#1", amountsDay.Add(-48*time.Hour)), newOrder("#2", amountsDay.Add(time.Hour)))
		// What two orders of 50,000,000,000,000,000.00 left before amounts
		// were bounded: SQLite made the overflowing sum a float.
		for _, table := range []string{"order_stats_daily WHERE day", "order_stats_hourly WHERE bucket"} {
			q := `UPDATE ` + strings.Replace(table, " WHERE", " SET placed_value = placed_value + 9223372036854775807 WHERE", 1) + ` >= ?`
			if _, err := raw.ExecContext(ctx(t), q, amountsDay.Unix()); err != nil {
				t.Fatal(err)
			}
		}
		var kind string
		if err := raw.QueryRowContext(ctx(t), `SELECT typeof(placed_value) FROM order_stats_daily WHERE day = ?`, amountsDay.Unix()).Scan(&kind); err != nil || kind != "real" {
			t.Fatalf("the rollup holds a %s (%v), want a real", kind, err)
		}
		checkOutOfRange(t, db)
	})
}

// checkOutOfRange checks that the ranges of amountsDay are refused and
// that one of days before it is read.
func checkOutOfRange(t *testing.T, db *store.DB) {
	t.Helper()
	day, next := amountsDay, amountsDay.AddDate(0, 0, 1)
	for name, read := range map[string]func() error{
		"StatsDays from the days": func() error { _, err := db.StatsDays(ctx(t), day.AddDate(0, 0, -6), next, time.UTC); return err },
		"StatsDays from the hours": func() error {
			_, err := db.StatsDays(ctx(t), day, next, time.FixedZone("UTC+1", 3600))
			return err
		},
		"StatsRows": func() error { _, err := db.StatsRows(ctx(t), day, next); return err },
	} {
		if err := read(); !errors.Is(err, canceldesk.ErrAmountOverflow) || canceldesk.ErrorCode(err) != canceldesk.EUNAVAILABLE {
			t.Errorf("%s: %v, want ErrAmountOverflow", name, err)
		}
	}
	rows, err := db.StatsDays(ctx(t), day.AddDate(0, 0, -3), day, time.UTC)
	if err != nil || len(rows) != 1 || rows[0].Placed != 1 {
		t.Errorf("the days before: %+v, %v; want the order placed then", rows, err)
	}
}

// TestRefundSumsOutOfRange: refunds whose sum the database cannot give as
// an int64 make the figures and the export that add them up unavailable
// (canceldesk.ErrAmountOverflow) instead of failing some other way.
func TestRefundSumsOutOfRange(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		o := newOrder("#1", amountsDay, func(o *canceldesk.Order) {
			cancelled := amountsDay.Add(time.Hour)
			o.CancelledAt, o.CancelReason = &cancelled, canceldesk.ReasonCustomer
		})
		importOrders(t, db, o)
		// Two succeeded (the analytics total), two pending (the export).
		for i, status := range []string{"succeeded", "succeeded", "pending", "pending"} {
			q := store.Rebind(`INSERT INTO refunds (order_id, kind, amount, currency, gateway, status, idempotency_key, created_at, updated_at)
				VALUES (?, 'refund', ?, 'EUR', 'manual', ?, ?, ?, ?)`)
			at := amountsDay.Add(2 * time.Hour).UnixMicro()
			if _, err := raw.ExecContext(ctx(t), q, o.ID, int64(math.MaxInt64/2+1), status, "overflow-"+string(rune('a'+i)), at, at); err != nil {
				t.Fatal(err)
			}
		}
		day, next := amountsDay, amountsDay.AddDate(0, 0, 1)
		if _, err := db.ExtraFigures(ctx(t), day, next); !errors.Is(err, canceldesk.ErrAmountOverflow) {
			t.Errorf("ExtraFigures: %v, want ErrAmountOverflow", err)
		}
		err := db.ExportCancellations(ctx(t), day, next, func(canceldesk.ExportRow) error { return nil })
		if !errors.Is(err, canceldesk.ErrAmountOverflow) {
			t.Errorf("ExportCancellations: %v, want ErrAmountOverflow", err)
		}
		if _, err := db.ExtraFigures(ctx(t), next, next.AddDate(0, 0, 1)); err != nil {
			t.Errorf("ExtraFigures of the next day: %v", err)
		}
	})
}
