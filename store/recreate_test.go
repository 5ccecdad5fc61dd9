package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

const recreator = "staff@example.com"

// recreateFixture is a paid order with everything a re-create copies:
// 2 × Mug (MUG), 1 × Bowl (BOWL) and a gift card without SKU.
func recreateFixture(name string) *canceldesk.Order {
	return cancelOrder(name, func(o *canceldesk.Order) {
		o.ExternalID, o.Discounts, o.Total = "5550001", 100, 3950
		o.LineItems = append(o.LineItems, canceldesk.LineItem{Name: "Gift card", Quantity: 1, Price: 1000})
		o.Subtotal = 3500
		o.BillingAddress = canceldesk.Address{Name: "Olivia O'Brien", Address1: "1 Main St", City: "Springfield",
			Zip: "12345", Country: "US", Phone: "+1 555 0100"}
		o.ShippingAddress = canceldesk.Address{Name: "Ollie O'Brien", Address1: "2 Side St", City: "Shelbyville", Country: "US"}
		o.Notes, o.Tags, o.Risk, o.Source = "Leave at the door.", []string{"vip", "gift wrap"}, canceldesk.RiskMedium, "web"
	})
}

func recreate(t *testing.T, db *store.DB, id int64, actor string) *canceldesk.Order {
	t.Helper()
	n, err := db.RecreateOrder(ctx(t), id, actor)
	if err != nil {
		t.Fatalf("RecreateOrder(%d): %v", id, err)
	}
	return n
}

func eventsOf(t *testing.T, db *store.DB, orderID int64, kind string) []canceldesk.Event {
	t.Helper()
	all, err := db.Events(ctx(t), orderID)
	if err != nil {
		t.Fatal(err)
	}
	var out []canceldesk.Event
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// checkLink checks that e names the order other by name, as data (no
// English message, no internal id).
func checkLink(t *testing.T, e canceldesk.Event, kind string, other *canceldesk.Order) {
	t.Helper()
	if e.Kind != kind || e.Actor != recreator || !e.CreatedAt.Equal(fixedNow) || e.Message != "" ||
		!reflect.DeepEqual(e.Data, canceldesk.EventData{Order: other.Name}) {
		t.Errorf("%s event = %+v, want a link to %s", kind, e, other.Name)
	}
}

func TestRecreateOrder(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db) // 5 MUG, 5 BOWL

		orig := recreateFixture("#1001")
		importOrders(t, db, orig)
		if _, err := db.CancelOrder(ctx(t), cancelReq(orig, loc, cancelKey(101))); err != nil {
			t.Fatal(err)
		}
		stockOf := func() (int, int) {
			s, err := db.Stock(ctx(t), []string{"MUG", "BOWL"})
			if err != nil {
				t.Fatal(err)
			}
			return onHand(s, "MUG"), onHand(s, "BOWL")
		}
		if m, b := stockOf(); m != 7 || b != 6 {
			t.Fatalf("stock after cancel = %d MUG, %d BOWL, want 7, 6", m, b)
		}
		cancelled, err := db.Order(ctx(t), orig.ID)
		if err != nil {
			t.Fatal(err)
		}

		var r1 *canceldesk.Order
		t.Run("CopiesTheOrderAsANewOpenOne", func(t *testing.T) {
			r1 = recreate(t, db, orig.ID, recreator)
			stored, err := db.Order(ctx(t), r1.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stored, r1) {
				t.Errorf("returned order differs from the stored one:\n got %+v\nwant %+v", r1, stored)
			}
			want := &canceldesk.Order{ID: r1.ID, Name: "#1001-R1", Email: "olivia@example.com", Currency: "USD",
				Subtotal: 3500, Shipping: 300, Taxes: 250, Discounts: 100, Total: 3950,
				FinancialStatus: canceldesk.FinancialPending, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
				BillingAddress: orig.BillingAddress, ShippingAddress: orig.ShippingAddress, Notes: "Leave at the door.",
				Tags: []string{"vip", "gift wrap", "recreated"}, Risk: canceldesk.RiskMedium, Source: "cancel-desk",
				CreatedAt: fixedNow, UpdatedAt: fixedNow}
			for i, li := range cancelled.LineItems {
				want.LineItems = append(want.LineItems, canceldesk.LineItem{ID: stored.LineItems[i].ID, OrderID: r1.ID,
					Position: i + 1, Name: li.Name, SKU: li.SKU, Quantity: li.Quantity, Price: li.Price})
			}
			checkOrder(t, stored, want)
			if stored.Cancelled() || stored.PaidAt != nil || stored.RefundedAmount != 0 || stored.PaymentMethod != "" {
				t.Errorf("new order carries the original's payment or cancel: %+v", stored)
			}
			// The original is untouched.
			if after, err := db.Order(ctx(t), orig.ID); err != nil || !reflect.DeepEqual(after, cancelled) {
				t.Errorf("original changed:\n got %+v\nwant %+v (%v)", after, cancelled, err)
			}
		})

		t.Run("TakesStockAgainWhereTheCancelPutItBack", func(t *testing.T) {
			if m, b := stockOf(); m != 5 || b != 5 {
				t.Errorf("stock after re-create = %d MUG, %d BOWL, want 5, 5", m, b)
			}
			if n := rowCount(t, raw, `SELECT count(*) FROM inventory_movements WHERE order_id = %d AND kind = 'sale' AND location_id = %d`, r1.ID, loc.ID); n != 2 {
				t.Errorf("sale movements = %d, want 2 (lines with a SKU)", n)
			}
			if n := rowCount(t, raw, `SELECT coalesce(sum(delta), 0) FROM inventory_movements WHERE order_id = %d`, r1.ID); n != -3 {
				t.Errorf("moved units = %d, want -3", n)
			}
		})

		t.Run("LinksBothTimelines", func(t *testing.T) {
			ev := eventsOf(t, db, orig.ID, canceldesk.EventRecreated)
			if len(ev) != 1 {
				t.Fatalf("recreated events on the original = %+v", ev)
			}
			checkLink(t, ev[0], canceldesk.EventRecreated, r1)
			all, err := db.Events(ctx(t), r1.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 1 {
				t.Fatalf("events on the new order = %+v, want one", all)
			}
			checkLink(t, all[0], canceldesk.EventRecreatedFrom, cancelled)
		})

		// again re-creates orig as actor, concurrently n times, and checks
		// that each returns r1 and nothing is written anywhere.
		again := func(t *testing.T, actor string, n int) {
			t.Helper()
			before := footprintOf(t, db, raw, orig.ID)
			newBefore := footprintOf(t, db, raw, r1.ID)
			orders := countOrders(t, db)
			got := make([]*canceldesk.Order, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { got[i], errs[i] = db.RecreateOrder(ctx(t), orig.ID, actor) })
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("re-create %d: %v", i, errs[i])
				}
				if !reflect.DeepEqual(got[i], r1) {
					t.Errorf("re-create %d = %+v, want %+v", i, got[i], r1)
				}
			}
			if countOrders(t, db) != orders {
				t.Error("a second order was created")
			}
			sameFootprint(t, "re-create again (original)", footprintOf(t, db, raw, orig.ID), before)
			sameFootprint(t, "re-create again (new order)", footprintOf(t, db, raw, r1.ID), newBefore)
			if n := rowCount(t, raw, `SELECT count(*) FROM recreations WHERE original_id = %d`, orig.ID); n != 1 {
				t.Errorf("recreations rows = %d, want 1", n)
			}
		}

		t.Run("DoubleClickReturnsTheSameOrder", func(t *testing.T) { again(t, recreator, 1) })

		t.Run("LaterOrByAnotherActorReturnsTheSameOrder", func(t *testing.T) {
			defer func() { db.Now = func() time.Time { return fixedNow } }()
			db.Now = func() time.Time { return fixedNow.Add(time.Hour) }
			again(t, "other@example.com", 1)
			if m, b := stockOf(); m != 5 || b != 5 {
				t.Errorf("stock = %d MUG, %d BOWL, want 5, 5 (taken once)", m, b)
			}
		})

		t.Run("FortyAtOnceReturnTheSameOrder", func(t *testing.T) { again(t, recreator, 40) })

		t.Run("RecreationNamesTheNewOrder", func(t *testing.T) {
			r, err := db.Recreation(ctx(t), orig.ID)
			if err != nil || r.OrderID != r1.ID || r.OrderName != "#1001-R1" || r.Actor != recreator || !r.CreatedAt.Equal(fixedNow) {
				t.Errorf("Recreation = %+v, %v; want #1001-R1 (id %d)", r, err, r1.ID)
			}
			if _, err := db.Recreation(ctx(t), r1.ID); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
				t.Errorf("Recreation(new order) = %v, want ENOTFOUND", err)
			}
		})

		t.Run("TheDatabaseRefusesASecondRecreation", func(t *testing.T) {
			other := cancelOrder("#1001-X")
			importOrders(t, db, other)
			_, err := raw.Exec(fmt.Sprintf(`INSERT INTO recreations (original_id, order_id, actor, created_at)
				VALUES (%d, %d, 'x', 0)`, orig.ID, other.ID))
			if err == nil {
				t.Error("a second recreations row for one order was accepted")
			}
		})

		t.Run("SkipsTakenNames", func(t *testing.T) {
			o := cancelOrder("#2002")
			taken := cancelOrder("#2002-R1")
			importOrders(t, db, o, taken)
			if _, err := db.CancelOrder(ctx(t), cancelReq(o, loc, cancelKey(102))); err != nil {
				t.Fatal(err)
			}
			if n := recreate(t, db, o.ID, recreator); n.Name != "#2002-R2" {
				t.Errorf("name = %s, want #2002-R2", n.Name)
			}
		})

		t.Run("ReCreatingAReCreatedOrderCountsFromTheOriginal", func(t *testing.T) {
			if _, err := db.CancelOrder(ctx(t), cancelReq(r1, loc, cancelKey(103))); err != nil {
				t.Fatal(err)
			}
			if n := recreate(t, db, r1.ID, recreator); n.Name != "#1001-R2" {
				t.Errorf("name = %s, want #1001-R2", n.Name)
			}
		})

		t.Run("NoStockMovedWhenTheCancelDidNotRestock", func(t *testing.T) {
			o := cancelOrder("#3003")
			imported := cancelOrder("#3004", func(o *canceldesk.Order) {
				at := day(3)
				o.CancelledAt, o.CancelReason = &at, canceldesk.ReasonCustomer
			})
			importOrders(t, db, o, imported)
			req := cancelReq(o, loc, cancelKey(104))
			req.Restock = false
			if _, err := db.CancelOrder(ctx(t), req); err != nil {
				t.Fatal(err)
			}
			m0, b0 := stockOf()
			for _, id := range []int64{o.ID, imported.ID} {
				n := recreate(t, db, id, recreator)
				if c := rowCount(t, raw, `SELECT count(*) FROM inventory_movements WHERE order_id = %d`, n.ID); c != 0 {
					t.Errorf("%s: %d movements, want none", n.Name, c)
				}
			}
			if m, b := stockOf(); m != m0 || b != b0 {
				t.Errorf("stock moved: %d, %d → %d, %d", m0, b0, m, b)
			}
		})

		t.Run("OpenOrderConflictsAndWritesNothing", func(t *testing.T) {
			o := cancelOrder("#4004")
			importOrders(t, db, o)
			before := footprintOf(t, db, raw, o.ID)
			orders := countOrders(t, db)
			_, err := db.RecreateOrder(ctx(t), o.ID, recreator)
			checkError(t, "RecreateOrder(open)", err, canceldesk.ECONFLICT, canceldesk.RecreateNotCancelled)
			sameFootprint(t, "re-create of an open order", footprintOf(t, db, raw, o.ID), before)
			if countOrders(t, db) != orders {
				t.Error("an order was created")
			}
		})

		t.Run("UnknownOrderIsNotFound", func(t *testing.T) {
			if _, err := db.RecreateOrder(ctx(t), 987654, recreator); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
				t.Errorf("RecreateOrder(unknown) = %v, want ENOTFOUND", err)
			}
		})
	})
}

func TestCacheRecreateOrderInvalidates(t *testing.T) {
	c := context.Background()
	db, cache, rdb := cachedStore(t)
	loc := stockedLocation(t, db)
	o := cancelOrder("#cache-recreate-" + time.Now().Format("150405.000000"))
	importOrders(t, db, o)
	key := "canceldesk:order:v3:" + itoa(o.ID)
	t.Cleanup(func() { rdb.Del(c, key) })
	if _, err := db.CancelOrder(c, cancelReq(o, loc, cancelKey(1))); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Order(c, o.ID); err != nil {
		t.Fatal(err)
	}
	n, err := db.RecreateOrder(c, o.ID, recreator)
	if err != nil || n.Name != o.Name+"-R1" {
		t.Fatalf("RecreateOrder: %+v, %v", n, err)
	}
	if got, _ := rdb.Exists(c, key).Result(); got != 0 {
		t.Error("the original is still cached after the re-create")
	}
}

// TestRecreationsMigrationKeepsEarlierRecreations: a store upgraded to the
// recreations table (migration 0011) counts an order re-created before as
// re-created, by its first re-creation, so it is not re-created again.
func TestRecreationsMigrationKeepsEarlierRecreations(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		db, raw := openStore(t, dsn), openRaw(t, dsn)
		orig, r1, r2 := cancelOrder("#5005"), cancelOrder("#5005-R1"), cancelOrder("#5005-R2")
		importOrders(t, db, orig, r1, r2)
		// As the store stood before 0011: two "recreated" events, no table.
		for _, stmt := range []string{
			`DROP TABLE recreations`,
			`DELETE FROM schema_migrations WHERE version = 11`,
			fmt.Sprintf(`INSERT INTO events (order_id, kind, actor, message, created_at) VALUES (%d, 'recreated', 'a@example.com', '%s', 1)`,
				orig.ID, fmt.Sprintf("Re-created as %s (order %d)", r1.Name, r1.ID)),
			fmt.Sprintf(`INSERT INTO events (order_id, kind, actor, message, created_at) VALUES (%d, 'recreated', 'b@example.com', '%s', 2)`,
				orig.ID, fmt.Sprintf("Re-created as %s (order %d)", r2.Name, r2.ID)),
		} {
			if _, err := raw.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		db.Close()
		db = openStore(t, dsn) // applies 0011 again
		r, err := db.Recreation(ctx(t), orig.ID)
		if err != nil || r.OrderID != r1.ID || r.OrderName != r1.Name || r.Actor != "a@example.com" {
			t.Fatalf("Recreation after the upgrade = %+v, %v; want %s (id %d)", r, err, r1.Name, r1.ID)
		}
		if _, err := db.Recreation(ctx(t), r1.ID); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			t.Errorf("Recreation(%s) = %v, want ENOTFOUND", r1.Name, err)
		}
	})
}
