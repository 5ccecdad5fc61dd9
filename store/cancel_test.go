package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// cancelOrder is a paid, unfulfilled order: 2 × Mug (SKU MUG) at 10.00 and
// 1 × Bowl (SKU BOWL) at 5.00, tax 2.50, shipping 3.00, total 30.50.
func cancelOrder(name string, mods ...func(*canceldesk.Order)) *canceldesk.Order {
	return newOrder(name, day(2), append([]func(*canceldesk.Order){func(o *canceldesk.Order) {
		o.Email, o.Currency, o.PaymentMethod = "olivia@example.com", "USD", "manual"
		o.Subtotal, o.Taxes, o.Shipping, o.Total = 2500, 250, 300, 3050
		o.LineItems = []canceldesk.LineItem{
			{Name: "Mug", SKU: "MUG", Quantity: 2, Price: 1000},
			{Name: "Bowl", SKU: "BOWL", Quantity: 1, Price: 500},
		}
	}}, mods...)...)
}

// stockedLocation creates the location "Main" holding 5 mugs and 5 bowls.
func stockedLocation(t *testing.T, db *store.DB) canceldesk.Location {
	t.Helper()
	loc, err := db.EnsureLocation(ctx(t), "Main")
	if err != nil {
		t.Fatal(err)
	}
	err = db.AddMovements(ctx(t), []canceldesk.InventoryMovement{
		{SKU: "MUG", LocationID: loc.ID, Delta: 5, Kind: canceldesk.MovementInitialReceipt, Actor: "test"},
		{SKU: "BOWL", LocationID: loc.ID, Delta: 5, Kind: canceldesk.MovementInitialReceipt, Actor: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func cancelKey(n int) string { return fmt.Sprintf("dialog-key-%08d", n) }

func cancelReq(o *canceldesk.Order, loc canceldesk.Location, key string) canceldesk.CancelRequest {
	return canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock",
		Refund: canceldesk.RefundNow, Restock: true, LocationID: loc.ID, StaffNote: "Supplier <b>late</b>",
		NotifyCustomer: true, IdempotencyKey: key, Actor: "staff@example.com"}
}

// rowCount runs a count query; q has the order id inlined, no placeholders.
func rowCount(t *testing.T, raw *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := raw.QueryRowContext(ctx(t), fmt.Sprintf(q, args...)).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// footprint is everything a cancel may write about an order.
type footprint struct {
	Order                                    canceldesk.Order
	Cancellations, Refunds, Outbox, Events   int
	Movements, MovedUnits, AllMovementsInAll int
	Stock                                    []canceldesk.StockLevel
}

func footprintOf(t *testing.T, db *store.DB, raw *sql.DB, orderID int64) footprint {
	t.Helper()
	o, err := db.Order(ctx(t), orderID)
	if err != nil {
		t.Fatal(err)
	}
	stock, err := db.Stock(ctx(t), []string{"MUG", "BOWL"})
	if err != nil {
		t.Fatal(err)
	}
	return footprint{
		Order:             *o,
		Cancellations:     rowCount(t, raw, `SELECT count(*) FROM cancellations WHERE order_id = %d`, orderID),
		Refunds:           rowCount(t, raw, `SELECT count(*) FROM refunds WHERE order_id = %d`, orderID),
		Outbox:            rowCount(t, raw, `SELECT count(*) FROM outbox WHERE order_id = %d`, orderID),
		Events:            rowCount(t, raw, `SELECT count(*) FROM events WHERE order_id = %d`, orderID),
		Movements:         rowCount(t, raw, `SELECT count(*) FROM inventory_movements WHERE order_id = %d`, orderID),
		MovedUnits:        rowCount(t, raw, `SELECT coalesce(sum(delta), 0) FROM inventory_movements WHERE order_id = %d`, orderID),
		AllMovementsInAll: rowCount(t, raw, `SELECT count(*) FROM inventory_movements`),
		Stock:             stock,
	}
}

func sameFootprint(t *testing.T, what string, got, want footprint) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s wrote something:\n got %+v\nwant %+v", what, got, want)
	}
}

func onHand(stock []canceldesk.StockLevel, sku string) int {
	for _, s := range stock {
		if s.SKU == sku {
			return s.OnHand
		}
	}
	return 0
}

func TestCancelOrder(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db)

		t.Run("CancelsRefundsRestocksAndOwesAMessage", func(t *testing.T) {
			o := cancelOrder("#full")
			importOrders(t, db, o)
			if _, err := db.Cancellation(ctx(t), o.ID); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
				t.Fatalf("Cancellation before: %v, want ENOTFOUND", err)
			}
			req := cancelReq(o, loc, cancelKey(1))
			res, err := db.CancelOrder(ctx(t), req)
			if err != nil {
				t.Fatalf("CancelOrder: %v", err)
			}
			if res.Replayed || res.OrderID != o.ID || res.CancellationID == 0 || !res.Plan.OK() || res.Plan.RefundTotal != 3050 {
				t.Fatalf("result = %+v", res)
			}
			wantRefund := canceldesk.Refund{ID: res.Refund.ID, OrderID: o.ID, CancellationID: res.CancellationID, Kind: "refund",
				Amount: 3050, Shipping: 300, Currency: "USD", Method: canceldesk.MethodOriginal, Gateway: "manual",
				Status: "succeeded", IdempotencyKey: "refund:" + req.IdempotencyKey, Actor: "staff@example.com",
				CreatedAt: fixedNow, UpdatedAt: fixedNow}
			if res.Refund == nil || res.Refund.ID == 0 || !reflect.DeepEqual(*res.Refund, wantRefund) {
				t.Fatalf("refund = %+v, want %+v", res.Refund, wantRefund)
			}

			got, err := db.Order(ctx(t), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Cancelled() || !got.CancelledAt.Equal(fixedNow) || got.CancelReason != canceldesk.ReasonInventory ||
				got.FinancialStatus != canceldesk.FinancialRefunded || got.RefundedAmount != 3050 ||
				got.FulfillmentStatus != canceldesk.FulfillmentUnfulfilled || !got.UpdatedAt.Equal(fixedNow) {
				t.Errorf("order after cancel = %+v", got)
			}
			for _, li := range got.LineItems {
				if li.CancelledQuantity != li.Quantity || li.RestockedQuantity != li.Quantity || li.RefundedQuantity != li.Quantity {
					t.Errorf("line %s: cancelled %d restocked %d refunded %d of %d", li.SKU, li.CancelledQuantity,
						li.RestockedQuantity, li.RefundedQuantity, li.Quantity)
				}
			}

			c, err := db.Cancellation(ctx(t), o.ID)
			if err != nil {
				t.Fatalf("Cancellation: %v", err)
			}
			wantC := canceldesk.Cancellation{ID: res.CancellationID, OrderID: o.ID, Reason: canceldesk.ReasonInventory,
				ReasonLabel: "Item out of stock", StaffNote: "Supplier <b>late</b>", Refund: canceldesk.RefundNow,
				Restock: true, LocationID: loc.ID, Notify: true, Actor: "staff@example.com", CreatedAt: fixedNow,
				Refunds: []canceldesk.Refund{wantRefund}}
			if !reflect.DeepEqual(*c, wantC) {
				t.Errorf("Cancellation =\n%+v\nwant\n%+v", *c, wantC)
			}

			stock, _ := db.Stock(ctx(t), []string{"MUG", "BOWL"})
			if onHand(stock, "MUG") != 7 || onHand(stock, "BOWL") != 6 {
				t.Errorf("stock after restock = %+v, want 7 mugs and 6 bowls", stock)
			}
			if n := rowCount(t, raw, `SELECT count(*) FROM inventory_movements WHERE order_id = %d AND kind = 'cancel_restock'
				AND location_id = %d AND actor = 'staff@example.com'`, o.ID, loc.ID); n != 2 {
				t.Errorf("%d cancel_restock movements, want 2", n)
			}

			events, err := db.Events(ctx(t), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			msgs := map[string]string{}
			for _, e := range events {
				kinds = append(kinds, e.Kind)
				msgs[e.Kind] = store.EventSummary(e)
				if e.Kind != canceldesk.EventImported && (e.Actor != "staff@example.com" || !e.CreatedAt.Equal(fixedNow)) {
					t.Errorf("event %s by %q at %v", e.Kind, e.Actor, e.CreatedAt)
				}
			}
			wantKinds := []string{"imported", "cancelled", "refund", "restocked", "notification_owed"}
			if !slices.Equal(kinds, wantKinds) {
				t.Errorf("events = %v, want %v", kinds, wantKinds)
			}
			for kind, want := range map[string][]string{"cancelled": {"inventory", "Supplier <b>late</b>"},
				"refund": {"30.50", "USD"}, "restocked": {"2 × MUG", "1 × BOWL", "Main"}, "notification_owed": {"olivia@example.com"}} {
				for _, w := range want {
					if !strings.Contains(msgs[kind], w) {
						t.Errorf("%s event %q lacks %q", kind, msgs[kind], w)
					}
				}
			}

			var recipient, kind, payload, status string
			var attempts int
			err = raw.QueryRowContext(ctx(t), fmt.Sprintf(`SELECT recipient, kind, payload, status, attempts FROM outbox WHERE order_id = %d`, o.ID)).
				Scan(&recipient, &kind, &payload, &status, &attempts)
			if err != nil {
				t.Fatalf("outbox row: %v", err)
			}
			if recipient != "olivia@example.com" || kind != "order_cancelled" || status != "pending" || attempts != 0 {
				t.Errorf("outbox = %s %s %s %d", recipient, kind, status, attempts)
			}
			var msg struct {
				OrderName   string `json:"order_name"`
				Reason      string `json:"reason"`
				ReasonLabel string `json:"reason_label"`
				Refund      struct {
					Kind     string `json:"kind"`
					Amount   int64  `json:"amount"`
					Currency string `json:"currency"`
				} `json:"refund"`
				Restocked []struct {
					SKU      string `json:"sku"`
					Quantity int    `json:"quantity"`
				} `json:"restocked"`
			}
			if err := json.Unmarshal([]byte(payload), &msg); err != nil {
				t.Fatalf("payload %q: %v", payload, err)
			}
			if msg.OrderName != "#full" || msg.Reason != "inventory" || msg.ReasonLabel != "Item out of stock" ||
				msg.Refund.Kind != "refund" || msg.Refund.Amount != 3050 || msg.Refund.Currency != "USD" ||
				len(msg.Restocked) != 2 || msg.Restocked[0].SKU != "MUG" || msg.Restocked[0].Quantity != 2 {
				t.Errorf("payload = %s", payload)
			}
			if strings.Contains(payload, "Supplier") {
				t.Error("the staff note leaked into the customer's message")
			}

			t.Run("SecondCancelConflictsAndWritesNothing", func(t *testing.T) {
				before := footprintOf(t, db, raw, o.ID)
				_, err := db.CancelOrder(ctx(t), cancelReq(o, loc, cancelKey(2)))
				checkError(t, "second cancel", err, canceldesk.ECONFLICT, "cancel.blocked.already_cancelled")
				sameFootprint(t, "a second cancel", footprintOf(t, db, raw, o.ID), before)
			})

			t.Run("SameKeyReplaysAndWritesNothing", func(t *testing.T) {
				before := footprintOf(t, db, raw, o.ID)
				again, err := db.CancelOrder(ctx(t), req)
				if err != nil {
					t.Fatalf("replay: %v", err)
				}
				if !again.Replayed || again.CancellationID != res.CancellationID || again.OrderID != o.ID ||
					!reflect.DeepEqual(again.Plan, res.Plan) || !reflect.DeepEqual(again.Refund, res.Refund) {
					t.Errorf("replay = %+v\nfirst = %+v", again, res)
				}
				sameFootprint(t, "a replay", footprintOf(t, db, raw, o.ID), before)
			})

			t.Run("KeyOfAnotherOrderIsRefused", func(t *testing.T) {
				other := cancelOrder("#other")
				importOrders(t, db, other)
				before := footprintOf(t, db, raw, other.ID)
				_, err := db.CancelOrder(ctx(t), cancelReq(other, loc, req.IdempotencyKey))
				checkError(t, "key of another order", err, canceldesk.EINVALID, "validation.idempotency_key")
				sameFootprint(t, "a reused key", footprintOf(t, db, raw, other.ID), before)
			})
		})

		t.Run("Variants", func(t *testing.T) {
			for i, tc := range []struct {
				name     string
				mod      func(*canceldesk.Order)
				req      func(*canceldesk.CancelRequest)
				fin      canceldesk.FinancialStatus
				refunded int64
				refund   *canceldesk.Refund // Kind, Amount, Gateway, Status
				events   []string
				moved    int
			}{
				// The money is reserved at once; the financial status waits
				// for the gateway's answer (SettleRefund).
				{name: "card gateway refund waits for the provider",
					mod: func(o *canceldesk.Order) { o.PaymentMethod = "Shopify Payments" },
					req: func(r *canceldesk.CancelRequest) { r.Gateway = "Shopify Payments" },
					fin: canceldesk.FinancialPaid, refunded: 3050,
					refund: &canceldesk.Refund{Kind: "refund", Amount: 3050, Gateway: "Shopify Payments", Status: "pending"},
					events: []string{"imported", "cancelled", "refund", "restocked", "notification_owed"}, moved: 3},
				{name: "authorized payment is voided",
					mod: func(o *canceldesk.Order) { o.FinancialStatus, o.PaymentMethod = canceldesk.FinancialAuthorized, "" },
					fin: canceldesk.FinancialVoided, refunded: 0,
					refund: &canceldesk.Refund{Kind: "void", Amount: 3050, Gateway: "manual", Status: "succeeded"},
					events: []string{"imported", "cancelled", "void", "restocked", "notification_owed"}, moved: 3},
				{name: "refund later, no restock, no message",
					req: func(r *canceldesk.CancelRequest) {
						r.Refund, r.Restock, r.LocationID, r.NotifyCustomer = canceldesk.RefundLater, false, 0, false
					},
					fin: canceldesk.FinancialPaid, refunded: 0, events: []string{"imported", "cancelled"}},
				{name: "partially fulfilled cancels and refunds the rest, keeps shipping",
					mod: func(o *canceldesk.Order) {
						o.LineItems[0].FulfilledQuantity, o.FulfillmentStatus = 1, canceldesk.FulfillmentPartial
					},
					fin: canceldesk.FinancialPartiallyRefunded, refunded: 1650,
					refund: &canceldesk.Refund{Kind: "refund", Amount: 1650, Gateway: "manual", Status: "succeeded"},
					events: []string{"imported", "cancelled", "refund", "restocked", "notification_owed"}, moved: 2},
				{name: "pending payment refunds nothing",
					mod: func(o *canceldesk.Order) { o.FinancialStatus = canceldesk.FinancialPending },
					fin: canceldesk.FinancialPending, refunded: 0,
					events: []string{"imported", "cancelled", "restocked", "notification_owed"}, moved: 3},
			} {
				t.Run(tc.name, func(t *testing.T) {
					o := cancelOrder(fmt.Sprintf("#variant-%d", i))
					if tc.mod != nil {
						tc.mod(o)
					}
					importOrders(t, db, o)
					req := cancelReq(o, loc, cancelKey(100+i))
					if tc.req != nil {
						tc.req(&req)
					}
					res, err := db.CancelOrder(ctx(t), req)
					if err != nil {
						t.Fatalf("CancelOrder: %v", err)
					}
					got, _ := db.Order(ctx(t), o.ID)
					if !got.Cancelled() || got.FinancialStatus != tc.fin || got.RefundedAmount != tc.refunded ||
						got.FulfillmentStatus != o.FulfillmentStatus {
						t.Errorf("order: cancelled %v, %s, refunded %d, %s", got.Cancelled(), got.FinancialStatus, got.RefundedAmount, got.FulfillmentStatus)
					}
					switch {
					case tc.refund == nil && res.Refund != nil:
						t.Errorf("refund %+v, want none", res.Refund)
					case tc.refund != nil && (res.Refund == nil || res.Refund.Kind != tc.refund.Kind || res.Refund.Amount != tc.refund.Amount ||
						res.Refund.Gateway != tc.refund.Gateway || res.Refund.Status != tc.refund.Status):
						t.Errorf("refund %+v, want %+v", res.Refund, tc.refund)
					}
					fp := footprintOf(t, db, raw, o.ID)
					wantRefunds := 0
					if tc.refund != nil {
						wantRefunds = 1
					}
					wantOutbox := 0
					if req.NotifyCustomer {
						wantOutbox = 1
					}
					if fp.Cancellations != 1 || fp.Refunds != wantRefunds || fp.Outbox != wantOutbox || fp.MovedUnits != tc.moved {
						t.Errorf("footprint %+v", fp)
					}
					events, _ := db.Events(ctx(t), o.ID)
					var kinds []string
					for _, e := range events {
						kinds = append(kinds, e.Kind)
					}
					if !slices.Equal(kinds, tc.events) {
						t.Errorf("events %v, want %v", kinds, tc.events)
					}
				})
			}
		})

		t.Run("RefusalsWriteNothing", func(t *testing.T) {
			shipped := cancelOrder("#shipped", func(o *canceldesk.Order) {
				for i := range o.LineItems {
					o.LineItems[i].FulfilledQuantity = o.LineItems[i].Quantity
				}
				o.FulfillmentStatus = canceldesk.FulfillmentFulfilled
			})
			importOrders(t, db, shipped)
			before := footprintOf(t, db, raw, shipped.ID)
			_, err := db.CancelOrder(ctx(t), cancelReq(shipped, loc, cancelKey(200)))
			checkError(t, "fulfilled", err, canceldesk.ECONFLICT, "cancel.blocked.fulfilled")
			sameFootprint(t, "a fulfilled order's cancel", footprintOf(t, db, raw, shipped.ID), before)

			bad := cancelReq(shipped, loc, cancelKey(201))
			bad.StaffNote = strings.Repeat("x", 256)
			_, err = db.CancelOrder(ctx(t), bad)
			checkError(t, "long note", err, canceldesk.EINVALID, "validation.note_long")

			missing := cancelReq(shipped, loc, cancelKey(202))
			missing.OrderID = 987654321
			if _, err := db.CancelOrder(ctx(t), missing); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
				t.Errorf("unknown order: %v, want ENOTFOUND", err)
			}
			sameFootprint(t, "refused requests", footprintOf(t, db, raw, shipped.ID), before)
		})

		t.Run("FailureInTheMiddleLeavesNothing", func(t *testing.T) {
			o := cancelOrder("#fails")
			importOrders(t, db, o)
			before := footprintOf(t, db, raw, o.ID)

			// An unknown location fails on its foreign key after the order
			// row has been updated.
			req := cancelReq(o, loc, cancelKey(300))
			req.LocationID = 999999
			_, err := db.CancelOrder(ctx(t), req)
			checkError(t, "unknown location", err, canceldesk.EINVALID, "validation.location")
			sameFootprint(t, "a cancel to an unknown location", footprintOf(t, db, raw, o.ID), before)

			// The very last write (the outbox row) fails.
			boom := []string{`CREATE TRIGGER outbox_boom BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END`}
			unboom := []string{`DROP TRIGGER outbox_boom`}
			if db.Dialect() == "postgres" {
				boom = []string{`CREATE FUNCTION outbox_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`,
					`CREATE TRIGGER outbox_boom BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_boom()`}
				unboom = []string{`DROP TRIGGER outbox_boom ON outbox`, `DROP FUNCTION outbox_boom()`}
			}
			for _, q := range boom {
				if _, err := raw.ExecContext(ctx(t), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			req = cancelReq(o, loc, cancelKey(301))
			if _, err := db.CancelOrder(ctx(t), req); err == nil || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("with the outbox failing: %v", err)
			}
			sameFootprint(t, "a cancel failing at its last write", footprintOf(t, db, raw, o.ID), before)
			for _, q := range unboom {
				if _, err := raw.ExecContext(ctx(t), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}

			// The same key then works: a failed attempt burns nothing.
			res, err := db.CancelOrder(ctx(t), req)
			if err != nil || res.Replayed {
				t.Fatalf("retry after the failure: %+v, %v", res, err)
			}
			if fp := footprintOf(t, db, raw, o.ID); fp.Cancellations != 1 || fp.Refunds != 1 || fp.Outbox != 1 || fp.MovedUnits != 3 {
				t.Errorf("after the retry: %+v", fp)
			}
		})
	})
}

// TestCancelOrderRace: 100 staff members each submit their own dialog for
// one order at once, 20 times over (a fresh order each round). Exactly one
// cancels; the rest are told it is already cancelled; one refund, each unit
// restocked once. Then twins with one key: one cancels, the rest replay.
func TestCancelOrderRace(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db)
		const rounds, racers = 20, 100
		start := time.Now()
		for round := range rounds {
			o := cancelOrder(fmt.Sprintf("#race-%d", round))
			importOrders(t, db, o)
			var (
				wg                      sync.WaitGroup
				mu                      sync.Mutex
				won, conflicts, replays int
				others                  []error
			)
			gate := make(chan struct{})
			for i := range racers {
				wg.Go(func() {
					<-gate
					res, err := db.CancelOrder(context.Background(), cancelReq(o, loc, cancelKey(round*1000+i)))
					mu.Lock()
					defer mu.Unlock()
					var de *canceldesk.Error
					switch {
					case err == nil && !res.Replayed:
						won++
					case err == nil:
						replays++
					case errors.As(err, &de) && de.Code == canceldesk.ECONFLICT && de.Key == canceldesk.BlockedAlreadyCancelled:
						conflicts++
					default:
						others = append(others, err)
					}
				})
			}
			close(gate)
			wg.Wait()
			if won != 1 || conflicts != racers-1 || replays != 0 || len(others) > 0 {
				t.Fatalf("round %d: %d won, %d conflicts, %d replays, errors %v", round, won, conflicts, replays, others)
			}
			checkCancelledOnce(t, db, raw, o)
		}
		stock, _ := db.Stock(ctx(t), []string{"MUG", "BOWL"})
		if onHand(stock, "MUG") != 5+2*rounds || onHand(stock, "BOWL") != 5+rounds {
			t.Errorf("stock after %d rounds = %+v", rounds, stock)
		}

		// Twins: one dialog submitted by many clicks at once.
		for round := range 5 {
			o := cancelOrder(fmt.Sprintf("#twins-%d", round))
			importOrders(t, db, o)
			req := cancelReq(o, loc, cancelKey(900000+round))
			var (
				wg           sync.WaitGroup
				mu           sync.Mutex
				won, replays int
				ids          = map[int64]bool{}
				others       []error
			)
			gate := make(chan struct{})
			for range 20 {
				wg.Go(func() {
					<-gate
					res, err := db.CancelOrder(context.Background(), req)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						others = append(others, err)
					case res.Replayed:
						replays++
						ids[res.CancellationID] = true
					default:
						won++
						ids[res.CancellationID] = true
					}
				})
			}
			close(gate)
			wg.Wait()
			if won != 1 || replays != 19 || len(ids) != 1 || len(others) > 0 {
				t.Fatalf("twins round %d: %d won, %d replays, ids %v, errors %v", round, won, replays, ids, others)
			}
			checkCancelledOnce(t, db, raw, o)
		}
		t.Logf("%s: %d racing cancels in %v", db.Dialect(), rounds*racers+5*20, time.Since(start).Round(time.Millisecond))
	})
}

func checkCancelledOnce(t *testing.T, db *store.DB, raw *sql.DB, o *canceldesk.Order) {
	t.Helper()
	fp := footprintOf(t, db, raw, o.ID)
	if fp.Cancellations != 1 || fp.Refunds != 1 || fp.Outbox != 1 || fp.Movements != 2 || fp.MovedUnits != 3 {
		t.Fatalf("%s: %+v", o.Name, fp)
	}
	if fp.Order.RefundedAmount != fp.Order.Total || fp.Order.FinancialStatus != canceldesk.FinancialRefunded {
		t.Fatalf("%s: refunded %d of %d, %s", o.Name, fp.Order.RefundedAmount, fp.Order.Total, fp.Order.FinancialStatus)
	}
	for _, li := range fp.Order.LineItems {
		if li.CancelledQuantity != li.Quantity || li.RestockedQuantity != li.Quantity || li.RefundedQuantity != li.Quantity {
			t.Fatalf("%s line %s: %+v", o.Name, li.SKU, li)
		}
	}
	if n := rowCount(t, raw, `SELECT count(*) FROM events WHERE order_id = %d AND kind = 'cancelled'`, o.ID); n != 1 {
		t.Fatalf("%s: %d cancelled events", o.Name, n)
	}
}

func TestCacheCancelOrderInvalidates(t *testing.T) {
	c := context.Background()
	db, cache, rdb := cachedStore(t)
	loc := stockedLocation(t, db)
	o := cancelOrder("#cache-cancel-" + time.Now().Format("150405.000000"))
	importOrders(t, db, o)
	t.Cleanup(func() { rdb.Del(c, "canceldesk:order:v3:"+itoa(o.ID)) })

	if got, err := cache.Order(c, o.ID); err != nil || got.Cancelled() {
		t.Fatalf("before: %v, %v", got, err)
	}
	res, err := db.CancelOrder(c, cancelReq(o, loc, cancelKey(1)))
	if err != nil || res.Replayed {
		t.Fatalf("CancelOrder: %+v, %v", res, err)
	}
	got, err := cache.Order(c, o.ID)
	if err != nil || !got.Cancelled() || got.FinancialStatus != canceldesk.FinancialRefunded {
		t.Fatalf("cached order after cancel: %+v, %v", got, err)
	}
}
