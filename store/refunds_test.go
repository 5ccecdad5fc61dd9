package store

// These tests live in package store (not store_test) so they can EXPLAIN
// the backlog's SQL and read the database through the store's own pool;
// their helpers carry an rt prefix to stay apart from the package's names.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
)

// rtNow is the store clock in these tests (microsecond precision).
var rtNow = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// rtEach runs fn on a fresh SQLite file and a fresh PostgreSQL schema.
func rtEach(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, rtOpen(t, filepath.Join(t.TempDir(), "refunds.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, rtOpen(t, testenv.PostgresSchema(t))) })
}

func rtOpen(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(rtCtx(t), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return rtNow }
	return db
}

func rtCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

// rtInt runs a query of one integer with ? placeholders.
func rtInt(t *testing.T, db *DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.read.QueryRowContext(rtCtx(t), db.bind(q), args...).Scan(&n); err != nil {
		t.Fatalf("%s %v: %v", q, args, err)
	}
	return n
}

func rtString(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	var s string
	if err := db.read.QueryRowContext(rtCtx(t), db.bind(q), args...).Scan(&s); err != nil {
		t.Fatalf("%s %v: %v", q, args, err)
	}
	return s
}

// rtOrder is a paid, unfulfilled order: 2 × Mug (MUG) at 10.00 and 1 ×
// Bowl (BOWL) at 5.00, tax 2.50, shipping 3.00, total 30.50. A mug's tax
// share is 1.00, the bowl's 0.50.
func rtOrder(name string, mods ...func(*canceldesk.Order)) *canceldesk.Order {
	o := &canceldesk.Order{Name: name, Email: "olivia@example.com", Currency: "USD", PaymentMethod: "stripe",
		PaymentReference: "ch_" + strings.TrimPrefix(name, "#"), Subtotal: 2500, Taxes: 250, Shipping: 300, Total: 3050,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		CreatedAt: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
		LineItems: []canceldesk.LineItem{
			{Name: "Mug", SKU: "MUG", Quantity: 2, Price: 1000},
			{Name: "Bowl", SKU: "BOWL", Quantity: 1, Price: 500},
		}}
	o.UpdatedAt = o.CreatedAt
	for _, m := range mods {
		m(o)
	}
	return o
}

// shipped marks every unit of the order shipped.
func shipped(o *canceldesk.Order) {
	for i := range o.LineItems {
		o.LineItems[i].FulfilledQuantity = o.LineItems[i].Quantity
	}
	o.FulfillmentStatus = canceldesk.FulfillmentFulfilled
}

func rtImport(t *testing.T, db *DB, orders ...*canceldesk.Order) {
	t.Helper()
	created, err := db.ImportOrders(rtCtx(t), orders, "import")
	if err != nil {
		t.Fatalf("ImportOrders: %v", err)
	}
	for i, c := range created {
		if !c {
			t.Fatalf("order %s not created", orders[i].Name)
		}
	}
}

// rtLocation creates the location name holding 5 mugs and 5 bowls.
func rtLocation(t *testing.T, db *DB, name string) canceldesk.Location {
	t.Helper()
	loc, err := db.EnsureLocation(rtCtx(t), name)
	if err != nil {
		t.Fatal(err)
	}
	err = db.AddMovements(rtCtx(t), []canceldesk.InventoryMovement{
		{SKU: "MUG", LocationID: loc.ID, Delta: 5, Kind: canceldesk.MovementInitialReceipt, Actor: "test"},
		{SKU: "BOWL", LocationID: loc.ID, Delta: 5, Kind: canceldesk.MovementInitialReceipt, Actor: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func rtKey(n int) string { return fmt.Sprintf("refund-dialog-%08d", n) }

// rtReq refunds the lines through the manual gateway, telling the customer.
func rtReq(o *canceldesk.Order, key string, lines ...canceldesk.RefundLineRequest) canceldesk.RefundRequest {
	return canceldesk.RefundRequest{OrderID: o.ID, Lines: lines, Method: canceldesk.MethodOriginal, Gateway: "manual",
		Note: "Customer <b>changed</b> mind", NotifyCustomer: true, IdempotencyKey: key, Actor: "staff@example.com",
		ActorRole: canceldesk.RoleStaff}
}

func rtLine(o *canceldesk.Order, i, qty int, restock canceldesk.RestockType, loc int64) canceldesk.RefundLineRequest {
	return canceldesk.RefundLineRequest{LineItemID: o.LineItems[i].ID, Quantity: qty, Restock: restock, LocationID: loc}
}

func rtCancelReq(o *canceldesk.Order, loc int64, key string, refund canceldesk.RefundChoice, restock bool) canceldesk.CancelRequest {
	return canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock",
		Refund: refund, Restock: restock, LocationID: loc, NotifyCustomer: true, IdempotencyKey: key, Actor: "staff@example.com"}
}

func rtGet(t *testing.T, db *DB, id int64) *canceldesk.Order {
	t.Helper()
	o, err := db.Order(rtCtx(t), id)
	if err != nil {
		t.Fatalf("Order(%d): %v", id, err)
	}
	return o
}

// rtCheckErr fails unless err is a domain error with that code, and that
// field and key when they are not empty.
func rtCheckErr(t *testing.T, what string, err error, code, field, key string) {
	t.Helper()
	var de *canceldesk.Error
	if !errors.As(err, &de) || de.Code != code || (field != "" && de.Field != field) || (key != "" && de.Key != key) {
		t.Errorf("%s: err = %#v, want code %q field %q key %q", what, err, code, field, key)
	}
}

func rtOnHand(t *testing.T, db *DB, sku string, loc int64) int {
	t.Helper()
	return int(rtInt(t, db, `SELECT coalesce(sum(on_hand), 0) FROM inventory_levels WHERE sku = ? AND location_id = ?`, sku, loc))
}

// rtPrint is everything a refund or restock may write about an order.
type rtPrint struct {
	Order                                                          canceldesk.Order
	Refunds, Credits, Events, Outbox, Movements, Restocks, Cancels int64
	AllMovements, AllRefunds                                       int64
	Stock                                                          []canceldesk.StockLevel
	Settings                                                       string
}

func rtFootprint(t *testing.T, db *DB, id int64) rtPrint {
	t.Helper()
	stock, err := db.StockLevels(rtCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return rtPrint{Order: *rtGet(t, db, id),
		Refunds:      rtInt(t, db, `SELECT count(*) FROM refunds WHERE order_id = ?`, id),
		Credits:      rtInt(t, db, `SELECT count(*) FROM store_credits WHERE order_id = ?`, id),
		Events:       rtInt(t, db, `SELECT count(*) FROM events WHERE order_id = ?`, id),
		Outbox:       rtInt(t, db, `SELECT count(*) FROM outbox WHERE order_id = ?`, id),
		Movements:    rtInt(t, db, `SELECT count(*) FROM inventory_movements WHERE order_id = ?`, id),
		Restocks:     rtInt(t, db, `SELECT count(*) FROM restocks WHERE order_id = ?`, id),
		Cancels:      rtInt(t, db, `SELECT count(*) FROM cancellations WHERE order_id = ?`, id),
		AllMovements: rtInt(t, db, `SELECT count(*) FROM inventory_movements`),
		AllRefunds:   rtInt(t, db, `SELECT count(*) FROM refunds`),
		Stock:        stock,
		Settings:     rtString(t, db, `SELECT coalesce(max(value), '') FROM settings`),
	}
}

func rtSame(t *testing.T, what string, got, want rtPrint) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s wrote something:\n got %+v\nwant %+v", what, got, want)
	}
}

func rtEvents(t *testing.T, db *DB, id int64) (kinds []string, msgs map[string][]string) {
	t.Helper()
	events, err := db.Events(rtCtx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	msgs = map[string][]string{}
	for _, e := range events {
		kinds = append(kinds, e.Kind)
		msgs[e.Kind] = append(msgs[e.Kind], eventSummary(e))
	}
	return kinds, msgs
}

type rtLineCounts struct{ Refunded, Cancelled, Restocked, Returned, ReturnRestocked, RefundedShipped int }

func rtCounts(li canceldesk.LineItem) rtLineCounts {
	return rtLineCounts{li.RefundedQuantity, li.CancelledQuantity, li.RestockedQuantity, li.ReturnedQuantity,
		li.ReturnRestockedQuantity, li.RefundedShippedQuantity}
}

func rtCheckLines(t *testing.T, o *canceldesk.Order, want ...rtLineCounts) {
	t.Helper()
	for i, li := range o.LineItems {
		if got := rtCounts(li); got != want[i] {
			t.Errorf("%s line %s: %+v, want %+v", o.Name, li.SKU, got, want[i])
		}
	}
}

// 1. A partial refund of one line, restocking the unshipped unit.
func TestRefundOrderPartialCancelRestock(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		o := rtOrder("#r1")
		rtImport(t, db, o)
		req := rtReq(o, rtKey(1), rtLine(o, 0, 1, canceldesk.RestockCancel, loc.ID))
		res, err := db.RefundOrder(rtCtx(t), req)
		if err != nil {
			t.Fatalf("RefundOrder: %v", err)
		}
		want := canceldesk.Refund{ID: res.Refund.ID, OrderID: o.ID, Kind: "refund", Amount: 1100, Currency: "USD",
			Method: canceldesk.MethodOriginal, Gateway: "manual", Status: "succeeded", IdempotencyKey: "partial:" + req.IdempotencyKey,
			Note: req.Note, Actor: "staff@example.com", CreatedAt: rtNow, UpdatedAt: rtNow}
		if res.Replayed || res.Credit != nil || res.Refund.ID == 0 || !reflect.DeepEqual(res.Refund, want) {
			t.Fatalf("result %+v\nwant refund %+v", res, want)
		}
		wantLine := canceldesk.RefundPlanLine{LineItemID: o.LineItems[0].ID, Name: "Mug", SKU: "MUG", Quantity: 1,
			Restock: canceldesk.RestockCancel, LocationID: loc.ID, Amount: 1000, Tax: 100, Cancel: 1, Restocked: 1}
		if len(res.Plan.Lines) != 1 || res.Plan.Lines[0] != wantLine || res.Plan.Total != 1100 || !res.Plan.Notify {
			t.Errorf("plan %+v", res.Plan)
		}
		if all, err := db.Refunds(rtCtx(t), o.ID); err != nil || !reflect.DeepEqual(all, []canceldesk.Refund{want}) {
			t.Errorf("Refunds = %+v, %v", all, err)
		}

		got := rtGet(t, db, o.ID)
		if got.RefundedAmount != 1100 || got.FinancialStatus != canceldesk.FinancialPartiallyRefunded ||
			got.ShippingRefunded != 0 || got.Cancelled() || got.FulfillmentStatus != canceldesk.FulfillmentUnfulfilled ||
			!got.UpdatedAt.Equal(rtNow) || got.PaymentReference != "ch_r1" {
			t.Errorf("order after refund: %+v", got)
		}
		rtCheckLines(t, got, rtLineCounts{Refunded: 1, Cancelled: 1, Restocked: 1}, rtLineCounts{})
		if n := rtOnHand(t, db, "MUG", loc.ID); n != 6 {
			t.Errorf("MUG on hand %d, want 6", n)
		}
		if n := rtOnHand(t, db, "BOWL", loc.ID); n != 5 {
			t.Errorf("BOWL on hand %d, want 5", n)
		}
		ms, err := db.Movements(rtCtx(t), "MUG", 10)
		if err != nil || len(ms) != 2 {
			t.Fatalf("Movements = %+v, %v", ms, err)
		}
		wantMove := canceldesk.InventoryMovement{ID: ms[0].ID, SKU: "MUG", LocationID: loc.ID, Delta: 1,
			Kind: canceldesk.MovementCancelRestock, OrderID: o.ID, OrderName: o.Name, Actor: "staff@example.com", CreatedAt: rtNow}
		if ms[0] != wantMove || ms[1].Kind != canceldesk.MovementInitialReceipt {
			t.Errorf("movements newest first = %+v, want %+v first", ms, wantMove)
		}

		kinds, msgs := rtEvents(t, db, o.ID)
		if want := []string{"imported", "refund", "restocked", "notification_owed"}; !slices.Equal(kinds, want) {
			t.Errorf("events %v, want %v", kinds, want)
		}
		if msgs["refund"][0] != "USD 11.00 · manual · succeeded" || msgs["restocked"][0] != "1 × MUG → Main" ||
			msgs["notification_owed"][0] != "olivia@example.com" {
			t.Errorf("event messages %v", msgs)
		}

		var kind, recipient, payload, status string
		err = db.read.QueryRowContext(rtCtx(t), db.bind(`SELECT kind, recipient, payload, status FROM outbox WHERE order_id = ?`), o.ID).
			Scan(&kind, &recipient, &payload, &status)
		if err != nil {
			t.Fatalf("outbox: %v", err)
		}
		var msg map[string]any
		if err := json.Unmarshal([]byte(payload), &msg); err != nil {
			t.Fatal(err)
		}
		wantMsg := map[string]any{"order_id": float64(o.ID), "order_name": "#r1", "refund_id": float64(res.Refund.ID),
			"amount": float64(1100), "currency": "USD", "method": "original", "credit_code": "", "credit_expires_at": nil,
			"lines": []any{map[string]any{"name": "Mug", "sku": "MUG", "quantity": float64(1)}}, "shipping": float64(0)}
		if kind != canceldesk.OutboxRefundIssued || recipient != "olivia@example.com" || status != "pending" || !reflect.DeepEqual(msg, wantMsg) {
			t.Errorf("outbox %s %s %s %s", kind, recipient, status, payload)
		}
		if strings.Contains(payload, "changed") {
			t.Error("the staff note leaked into the customer's message")
		}

		t.Run("WithoutNotifyOwesNothing", func(t *testing.T) {
			q := rtReq(o, rtKey(2), rtLine(o, 1, 1, canceldesk.RestockNone, 0))
			q.NotifyCustomer = false
			q.Shipping = 100
			res, err := db.RefundOrder(rtCtx(t), q)
			if err != nil || res.Refund.Amount != 650 || res.Refund.Shipping != 100 {
				t.Fatalf("RefundOrder: %+v, %v", res, err)
			}
			if n := rtInt(t, db, `SELECT count(*) FROM outbox WHERE order_id = ?`, o.ID); n != 1 {
				t.Errorf("%d outbox rows, want still 1", n)
			}
			got := rtGet(t, db, o.ID)
			if got.RefundedAmount != 1750 || got.ShippingRefunded != 100 || got.FinancialStatus != canceldesk.FinancialPartiallyRefunded {
				t.Errorf("order %+v", got)
			}
			// NO_RESTOCK of an unshipped unit: refunded and cancelled, not restocked.
			rtCheckLines(t, got, rtLineCounts{Refunded: 1, Cancelled: 1, Restocked: 1}, rtLineCounts{Refunded: 1, Cancelled: 1})
		})
	})
}

// 2. A partial refund restocks a unit; the cancel after it neither
// restocks nor refunds that unit again.
func TestRefundThenCancel(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		o := rtOrder("#r2")
		rtImport(t, db, o)
		if _, err := db.RefundOrder(rtCtx(t), rtReq(o, rtKey(1), rtLine(o, 0, 1, canceldesk.RestockCancel, loc.ID))); err != nil {
			t.Fatal(err)
		}
		res, err := db.CancelOrder(rtCtx(t), rtCancelReq(o, loc.ID, rtKey(2), canceldesk.RefundNow, true))
		if err != nil {
			t.Fatalf("CancelOrder: %v", err)
		}
		if res.Refund == nil || res.Refund.Amount != 1950 || res.Refund.Shipping != 300 || res.Plan.RestockUnits() != 2 {
			t.Errorf("cancel: refund %+v, plan %+v", res.Refund, res.Plan)
		}
		got := rtGet(t, db, o.ID)
		if got.RefundedAmount != 3050 || got.FinancialStatus != canceldesk.FinancialRefunded || got.ShippingRefunded != 300 {
			t.Errorf("order %+v", got)
		}
		rtCheckLines(t, got, rtLineCounts{Refunded: 2, Cancelled: 2, Restocked: 2}, rtLineCounts{Refunded: 1, Cancelled: 1, Restocked: 1})
		if m, b := rtOnHand(t, db, "MUG", loc.ID), rtOnHand(t, db, "BOWL", loc.ID); m != 7 || b != 6 {
			t.Errorf("stock MUG %d BOWL %d, want 7 and 6", m, b)
		}
		if n := rtInt(t, db, `SELECT coalesce(sum(delta), 0) FROM inventory_movements WHERE order_id = ? AND sku = 'MUG'`, o.ID); n != 2 {
			t.Errorf("MUG restocked %d times in the ledger, want 2", n)
		}
		if n := rtInt(t, db, `SELECT coalesce(sum(amount), 0) FROM refunds WHERE order_id = ?`, o.ID); n != 3050 {
			t.Errorf("refunds sum to %d, want 3050", n)
		}
		// Nothing is left: a further refund is refused.
		_, err = db.RefundOrder(rtCtx(t), rtReq(o, rtKey(3), rtLine(o, 1, 1, canceldesk.RestockNone, 0)))
		rtCheckErr(t, "refund after everything", err, canceldesk.ECONFLICT, "", "refund.blocked.nothing")
	})
}

// 3. Refund later puts the order in the backlog; refunding everything takes
// it out.
func TestRefundBacklog(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		backlog := func(t *testing.T) ([]canceldesk.BacklogEntry, int) {
			t.Helper()
			entries, n, err := db.RefundBacklog(rtCtx(t), 50)
			if err != nil {
				t.Fatalf("RefundBacklog: %v", err)
			}
			if _, count, err := db.RefundBacklog(rtCtx(t), 0); err != nil || count != n {
				t.Fatalf("RefundBacklog(0) = %d, %v; want %d", count, err, n)
			}
			// The summary adds up the very entries listed.
			want := canceldesk.BacklogSummary{Count: n, Value: map[string]int64{}}
			for _, e := range entries {
				want.Value[e.Refundable.Currency] += e.Refundable.Amount
				if want.Oldest.IsZero() || e.CancelledAt.Before(want.Oldest) {
					want.Oldest = e.CancelledAt
				}
			}
			got, err := db.BacklogSummary(rtCtx(t))
			if err != nil || got.Count != want.Count || !reflect.DeepEqual(got.Value, want.Value) || !got.Oldest.Equal(want.Oldest) {
				t.Fatalf("BacklogSummary = %+v, %v; the entries give %+v", got, err, want)
			}
			return entries, n
		}
		if e, n := backlog(t); len(e) != 0 || n != 0 {
			t.Fatalf("empty store: %v, %d", e, n)
		}
		later, older, open, refunded := rtOrder("#later"), rtOrder("#older"), rtOrder("#open"), rtOrder("#refunded")
		rtImport(t, db, later, older, open, refunded)
		cancelAt := func(o *canceldesk.Order, at time.Time, refund canceldesk.RefundChoice, key int) {
			t.Helper()
			db.Now = func() time.Time { return at }
			defer func() { db.Now = func() time.Time { return rtNow } }()
			if _, err := db.CancelOrder(rtCtx(t), rtCancelReq(o, loc.ID, rtKey(key), refund, false)); err != nil {
				t.Fatal(err)
			}
		}
		cancelAt(later, rtNow.Add(-time.Hour), canceldesk.RefundLater, 1)
		cancelAt(older, rtNow.Add(-48*time.Hour), canceldesk.RefundLater, 2)
		cancelAt(refunded, rtNow.Add(-72*time.Hour), canceldesk.RefundNow, 3)

		entries, n := backlog(t)
		want := []canceldesk.BacklogEntry{
			{OrderID: older.ID, Name: "#older", Email: "olivia@example.com", CancelledAt: rtNow.Add(-48 * time.Hour),
				Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock", Refundable: canceldesk.Money{Amount: 3050, Currency: "USD"}},
			{OrderID: later.ID, Name: "#later", Email: "olivia@example.com", CancelledAt: rtNow.Add(-time.Hour),
				Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock", Refundable: canceldesk.Money{Amount: 3050, Currency: "USD"}},
		}
		if n != 2 || !reflect.DeepEqual(entries, want) {
			t.Fatalf("backlog %d %+v\nwant %+v", n, entries, want)
		}
		if e, _, _ := db.RefundBacklog(rtCtx(t), 1); len(e) != 1 || e[0].OrderID != older.ID {
			t.Errorf("backlog limit 1 = %+v, want the oldest", e)
		}

		// A partial refund lowers what is owed.
		if _, err := db.RefundOrder(rtCtx(t), rtReq(older, rtKey(4), rtLine(older, 1, 1, canceldesk.RestockNone, 0))); err != nil {
			t.Fatal(err)
		}
		if entries, n = backlog(t); n != 2 || entries[0].Refundable.Amount != 3050-550 {
			t.Errorf("after a partial refund: %d %+v", n, entries)
		}
		// Everything: every unit without restock and the whole shipping.
		req := rtReq(later, rtKey(5), rtLine(later, 0, 2, canceldesk.RestockNone, 0), rtLine(later, 1, 1, canceldesk.RestockNone, 0))
		req.FullShipping = true
		res, err := db.RefundOrder(rtCtx(t), req)
		if err != nil || res.Refund.Amount != 3050 || res.Plan.FinancialStatusOnSuccess != canceldesk.FinancialRefunded {
			t.Fatalf("refund everything: %+v, %v", res, err)
		}
		if got := rtGet(t, db, later.ID); got.FinancialStatus != canceldesk.FinancialRefunded || got.RefundedAmount != 3050 || got.ShippingRefunded != 300 {
			t.Errorf("order after refunding everything: %+v", got)
		}
		if entries, n = backlog(t); n != 1 || len(entries) != 1 || entries[0].OrderID != older.ID {
			t.Errorf("backlog after refunding everything: %d %+v", n, entries)
		}

		// An order imported cancelled (no cancellation here) shows its code.
		at := rtNow.Add(-100 * time.Hour)
		imported := rtOrder("#imported", func(o *canceldesk.Order) {
			o.CancelledAt, o.CancelReason, o.Total, o.RefundedAmount = &at, canceldesk.ReasonFraud, 3050, 50
		})
		rtImport(t, db, imported)
		entries, n = backlog(t)
		want = []canceldesk.BacklogEntry{{OrderID: imported.ID, Name: "#imported", Email: "olivia@example.com", CancelledAt: at,
			Reason: canceldesk.ReasonFraud, ReasonLabel: "fraud", Refundable: canceldesk.Money{Amount: 3000, Currency: "USD"}}}
		if n != 2 || len(entries) != 2 || !reflect.DeepEqual(entries[:1], want) || entries[1].OrderID != older.ID {
			t.Errorf("backlog with an imported cancel: %d %+v", n, entries)
		}
	})
}

// The backlog's queries use the partial indexes (SQLite: EXPLAIN QUERY
// PLAN; PostgreSQL: the index is usable, i.e. the query implies its
// predicate, shown with sequential scans disabled).
func TestRefundBacklogUsesIndex(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		for name, q := range map[string]string{"count": db.backlogCountQuery(), "page": db.backlogPageQuery()} {
			args := []any{}
			if name == "page" {
				args = append(args, 50)
			}
			tx, err := db.read.BeginTx(rtCtx(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			explain := "EXPLAIN QUERY PLAN "
			if db.dialect == postgres {
				explain = "EXPLAIN "
				if _, err := tx.ExecContext(rtCtx(t), `SET LOCAL enable_seqscan = off`); err != nil {
					t.Fatal(err)
				}
			}
			text := rtPlan(t, tx, explain, q, args...)
			tx.Rollback()
			if !strings.Contains(text, "orders_refund_backlog") || !strings.Contains(text, "refunds_failed") {
				t.Errorf("%s plan does not use the backlog indexes:\n%s", name, text)
			}
			// SQLite: every read of orders goes through the backlog index or
			// the primary key, every read of refunds through refunds_failed.
			for _, line := range strings.Split(text, "\n") {
				m := regexp.MustCompile(`^(?:SCAN|SEARCH) (\w+)`).FindStringSubmatch(line)
				switch {
				case db.dialect != sqlite || m == nil:
				case (m[1] == "orders" || m[1] == "o") && !strings.Contains(line, "orders_refund_backlog") &&
					!strings.Contains(line, "INTEGER PRIMARY KEY"):
					t.Errorf("%s plan reads orders without the backlog index: %s", name, line)
				case m[1] == "f" && !strings.Contains(line, "refunds_failed"):
					t.Errorf("%s plan reads refunds without refunds_failed: %s", name, line)
				}
			}
			t.Logf("%s plan:\n%s", name, text)
		}
	})
}

// 4. Returns: shipped units come back, to stock or not.
func TestRefundReturns(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		o := rtOrder("#r4", shipped)
		rtImport(t, db, o)
		res, err := db.RefundOrder(rtCtx(t), rtReq(o, rtKey(1),
			rtLine(o, 0, 1, canceldesk.RestockReturn, loc.ID), rtLine(o, 1, 1, canceldesk.RestockReturnNoRestock, 0)))
		if err != nil {
			t.Fatalf("RefundOrder: %v", err)
		}
		if res.Refund.Amount != 1650 || res.Plan.ReturnUnits != 2 || res.Plan.RestockUnits != 1 {
			t.Errorf("result %+v", res)
		}
		got := rtGet(t, db, o.ID)
		rtCheckLines(t, got, rtLineCounts{Refunded: 1, Returned: 1, ReturnRestocked: 1, RefundedShipped: 1},
			rtLineCounts{Refunded: 1, Returned: 1, RefundedShipped: 1})
		if got.FulfillmentStatus != canceldesk.FulfillmentFulfilled || got.FinancialStatus != canceldesk.FinancialPartiallyRefunded {
			t.Errorf("order %+v", got)
		}
		if m, b := rtOnHand(t, db, "MUG", loc.ID), rtOnHand(t, db, "BOWL", loc.ID); m != 6 || b != 5 {
			t.Errorf("stock MUG %d BOWL %d, want 6 and 5", m, b)
		}
		if n := rtInt(t, db, `SELECT count(*) FROM inventory_movements WHERE order_id = ? AND kind = 'return_restock' AND sku = 'MUG' AND delta = 1 AND location_id = ?`, o.ID, loc.ID); n != 1 {
			t.Errorf("%d return_restock rows, want 1", n)
		}
		if n := rtInt(t, db, `SELECT count(*) FROM inventory_movements WHERE order_id = ?`, o.ID); n != 1 {
			t.Errorf("%d ledger rows, want 1", n)
		}
		kinds, msgs := rtEvents(t, db, o.ID)
		if want := []string{"imported", "refund", "returned", "restocked", "notification_owed"}; !slices.Equal(kinds, want) {
			t.Errorf("events %v, want %v", kinds, want)
		}
		if msgs["returned"][0] != "1 × MUG, 1 × BOWL" || msgs["restocked"][0] != "1 × MUG → Main" {
			t.Errorf("messages %v", msgs)
		}
		// One mug is left to return; a cancel-restock of a shipped unit is not possible.
		before := rtFootprint(t, db, o.ID)
		_, err = db.RefundOrder(rtCtx(t), rtReq(o, rtKey(2), rtLine(o, 0, 2, canceldesk.RestockReturn, loc.ID)))
		rtCheckErr(t, "returning 2 of 1 left", err, canceldesk.EINVALID, fmt.Sprintf("qty_%d", o.LineItems[0].ID), "validation.refund_qty")
		_, err = db.RefundOrder(rtCtx(t), rtReq(o, rtKey(3), rtLine(o, 0, 1, canceldesk.RestockCancel, loc.ID)))
		rtCheckErr(t, "cancel-restocking a shipped unit", err, canceldesk.EINVALID, fmt.Sprintf("qty_%d", o.LineItems[0].ID), "validation.refund_qty")
		rtSame(t, "refused returns", rtFootprint(t, db, o.ID), before)
	})
}

// 5. Refunding more than is left is refused and writes nothing.
func TestRefundOverRefundRefused(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		o := rtOrder("#r5")
		rtImport(t, db, o)
		qty := fmt.Sprintf("qty_%d", o.LineItems[0].ID)
		check := func(t *testing.T) {
			t.Helper()
			before := rtFootprint(t, db, o.ID)
			_, err := db.RefundOrder(rtCtx(t), rtReq(o, rtKey(10), rtLine(o, 0, 3, canceldesk.RestockNone, 0)))
			rtCheckErr(t, "3 of 2 mugs", err, canceldesk.EINVALID, qty, "validation.refund_qty")

			all := rtReq(o, rtKey(11), rtLine(o, 0, 2-before.Order.LineItems[0].RefundedQuantity, canceldesk.RestockNone, 0),
				rtLine(o, 1, 1-before.Order.LineItems[1].RefundedQuantity, canceldesk.RestockNone, 0))
			all.FullShipping, all.Adjustment = true, 1
			_, err = db.RefundOrder(rtCtx(t), all)
			rtCheckErr(t, "one cent more than left", err, canceldesk.EINVALID, "total", "validation.refund_too_much")

			ship := rtReq(o, rtKey(12))
			ship.Shipping = 300 - before.Order.ShippingRefunded + 1
			_, err = db.RefundOrder(rtCtx(t), ship)
			rtCheckErr(t, "shipping above what is left", err, canceldesk.EINVALID, "shipping", "validation.refund_shipping")

			neg := rtReq(o, rtKey(13), rtLine(o, 1, 1, canceldesk.RestockNone, 0))
			neg.Adjustment = -550
			_, err = db.RefundOrder(rtCtx(t), neg)
			rtCheckErr(t, "adjustment eating the total", err, canceldesk.EINVALID, "adjustment", "")

			nowhere := rtReq(o, rtKey(14), rtLine(o, 1, 1, canceldesk.RestockCancel, loc.ID+1000))
			_, err = db.RefundOrder(rtCtx(t), nowhere)
			rtCheckErr(t, "restock to an unknown location", err, canceldesk.EINVALID, "location", "validation.location")

			other := rtReq(o, rtKey(15), canceldesk.RefundLineRequest{LineItemID: 987654, Quantity: 1, Restock: canceldesk.RestockNone})
			_, err = db.RefundOrder(rtCtx(t), other)
			rtCheckErr(t, "a line of no order", err, canceldesk.EINVALID, "qty_987654", "")

			missing := rtReq(o, rtKey(16), rtLine(o, 1, 1, canceldesk.RestockNone, 0))
			missing.OrderID = 987654
			_, err = db.RefundOrder(rtCtx(t), missing)
			rtCheckErr(t, "unknown order", err, canceldesk.ENOTFOUND, "", "")
			rtSame(t, "refused refunds", rtFootprint(t, db, o.ID), before)
		}
		t.Run("Fresh", check)
		// After part of it was refunded, the limits follow.
		r := rtReq(o, rtKey(1), rtLine(o, 0, 1, canceldesk.RestockNone, 0))
		r.Shipping = 200
		if _, err := db.RefundOrder(rtCtx(t), r); err != nil {
			t.Fatal(err)
		}
		t.Run("AfterAPartialRefund", check)
	})
}

// 6. Over the staff limit only a manager may refund.
func TestRefundStaffLimit(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		o := rtOrder("#r6")
		rtImport(t, db, o)
		if err := db.SaveSettings(rtCtx(t), canceldesk.Settings{RestockOnCancel: true,
			StaffRefundLimit: map[string]int64{"USD": 1000, "EUR": 1}, StoreName: "Mugs"}, "owner@example.com"); err != nil {
			t.Fatal(err)
		}
		before := rtFootprint(t, db, o.ID)
		over := rtReq(o, rtKey(1), rtLine(o, 0, 1, canceldesk.RestockNone, 0)) // 11.00 > 10.00
		_, err := db.RefundOrder(rtCtx(t), over)
		rtCheckErr(t, "staff over the limit", err, canceldesk.EFORBIDDEN, "total", "refund.needs_manager")
		rtSame(t, "a refused refund", rtFootprint(t, db, o.ID), before)

		under := rtReq(o, rtKey(2), rtLine(o, 1, 1, canceldesk.RestockNone, 0)) // 5.50
		if _, err := db.RefundOrder(rtCtx(t), under); err != nil {
			t.Errorf("staff under the limit: %v", err)
		}
		over.ActorRole = canceldesk.RoleManager
		if res, err := db.RefundOrder(rtCtx(t), over); err != nil || res.Refund.Amount != 1100 {
			t.Errorf("manager over the limit: %+v, %v", res, err)
		}
		if got := rtGet(t, db, o.ID); got.RefundedAmount != 1650 {
			t.Errorf("refunded %d, want 1650", got.RefundedAmount)
		}
	})
}

// 7. The same dialog submitted twice refunds once.
func TestRefundReplay(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		o, other := rtOrder("#r7"), rtOrder("#r7-other")
		rtImport(t, db, o, other)
		req := rtReq(o, rtKey(1), rtLine(o, 0, 1, canceldesk.RestockCancel, loc.ID))
		req.Method = canceldesk.MethodStoreCredit
		first, err := db.RefundOrder(rtCtx(t), req)
		if err != nil {
			t.Fatal(err)
		}
		before := rtFootprint(t, db, o.ID)
		again, err := db.RefundOrder(rtCtx(t), req)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		if !again.Replayed || first.Replayed {
			t.Errorf("Replayed: first %v, again %v", first.Replayed, again.Replayed)
		}
		again.Replayed = false
		if !reflect.DeepEqual(again, first) {
			t.Errorf("replay = %+v\nfirst  = %+v", again, first)
		}
		rtSame(t, "a replay", rtFootprint(t, db, o.ID), before)
		if before.Refunds != 1 || before.Credits != 1 {
			t.Errorf("%d refunds, %d credits; want 1 each", before.Refunds, before.Credits)
		}

		otherBefore := rtFootprint(t, db, other.ID)
		stolen := rtReq(other, req.IdempotencyKey, rtLine(other, 0, 1, canceldesk.RestockNone, 0))
		_, err = db.RefundOrder(rtCtx(t), stolen)
		rtCheckErr(t, "key of another order", err, canceldesk.EINVALID, "key", "validation.idempotency_key")
		rtSame(t, "a reused key", rtFootprint(t, db, other.ID), otherBefore)

		short := rtReq(o, "short", rtLine(o, 1, 1, canceldesk.RestockNone, 0))
		_, err = db.RefundOrder(rtCtx(t), short)
		rtCheckErr(t, "short key", err, canceldesk.EINVALID, "key", "validation.idempotency_key")
	})
}

// 8. Many refunds of one line at once: one wins, the rest are refused, and
// money, counters and stock stay exact.
func TestRefundRace(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		const rounds, racers = 5, 10
		for round := range rounds {
			o := rtOrder(fmt.Sprintf("#race-%d", round))
			rtImport(t, db, o)
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				won, lost int
				others    []error
			)
			gate := make(chan struct{})
			for i := range racers {
				wg.Go(func() {
					<-gate
					req := rtReq(o, rtKey(round*1000+i), rtLine(o, 0, 2, canceldesk.RestockCancel, loc.ID))
					_, err := db.RefundOrder(context.Background(), req)
					mu.Lock()
					defer mu.Unlock()
					switch code := canceldesk.ErrorCode(err); {
					case err == nil:
						won++
					case code == canceldesk.EINVALID || code == canceldesk.ECONFLICT:
						lost++
					default:
						others = append(others, err)
					}
				})
			}
			close(gate)
			wg.Wait()
			if won != 1 || lost != racers-1 || len(others) > 0 {
				t.Fatalf("round %d: %d won, %d lost, errors %v", round, won, lost, others)
			}
			got := rtGet(t, db, o.ID)
			if got.RefundedAmount != 2200 || rtInt(t, db, `SELECT count(*) FROM refunds WHERE order_id = ?`, o.ID) != 1 {
				t.Fatalf("round %d: refunded %d", round, got.RefundedAmount)
			}
			rtCheckLines(t, got, rtLineCounts{Refunded: 2, Cancelled: 2, Restocked: 2}, rtLineCounts{})
			if n := rtInt(t, db, `SELECT coalesce(sum(delta), 0) FROM inventory_movements WHERE order_id = ?`, o.ID); n != 2 {
				t.Fatalf("round %d: %d units restocked", round, n)
			}
		}
		if n := rtOnHand(t, db, "MUG", loc.ID); n != 5+2*rounds {
			t.Errorf("MUG on hand %d, want %d", n, 5+2*rounds)
		}

		// Different lines at once: the money is what caps them. Each racer
		// refunds a bowl's worth plus a goodwill adjustment, so only some
		// fit in what was paid; the sum never passes it.
		o := rtOrder("#race-money", func(o *canceldesk.Order) {
			o.LineItems = nil
			for i := range racers {
				o.LineItems = append(o.LineItems, canceldesk.LineItem{Name: fmt.Sprintf("Plate %d", i), Quantity: 1, Price: 250})
			}
			o.Subtotal, o.Taxes, o.Shipping, o.Total = 2500, 0, 0, 2500
		})
		rtImport(t, db, o)
		var wg sync.WaitGroup
		errs := make([]error, racers)
		gate := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-gate
				req := rtReq(o, rtKey(90000+i), rtLine(o, i, 1, canceldesk.RestockNone, 0))
				req.Adjustment = 250
				_, errs[i] = db.RefundOrder(context.Background(), req)
			})
		}
		close(gate)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch code := canceldesk.ErrorCode(err); {
			case err == nil:
				won++
			case code != canceldesk.EINVALID && code != canceldesk.ECONFLICT:
				t.Errorf("racer: %v", err)
			}
		}
		got := rtGet(t, db, o.ID)
		sum := rtInt(t, db, `SELECT coalesce(sum(amount), 0) FROM refunds WHERE order_id = ?`, o.ID)
		if won != 5 || got.RefundedAmount != 2500 || sum != 2500 || got.FinancialStatus != canceldesk.FinancialRefunded {
			t.Errorf("%d won, refunded %d, refunds sum %d, %s; want 5, 2500, 2500, refunded", won, got.RefundedAmount, sum, got.FinancialStatus)
		}

		// Twins: one dialog submitted many times at once.
		twin := rtOrder("#race-twins")
		rtImport(t, db, twin)
		req := rtReq(twin, rtKey(99999), rtLine(twin, 0, 1, canceldesk.RestockCancel, loc.ID))
		var (
			mu            sync.Mutex
			first, replay int
			ids           = map[int64]bool{}
		)
		gate = make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-gate
				res, err := db.RefundOrder(context.Background(), req)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("twin: %v", err)
				case res.Replayed:
					replay++
					ids[res.Refund.ID] = true
				default:
					first++
					ids[res.Refund.ID] = true
				}
			})
		}
		close(gate)
		wg.Wait()
		if first != 1 || replay != racers-1 || len(ids) != 1 {
			t.Errorf("twins: %d first, %d replays, ids %v", first, replay, ids)
		}
	})
}

// 9. A gateway refund waits for its answer; a failure can be retried with
// the same key; an answer twice changes nothing.
func TestRefundGateway(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		o := rtOrder("#r9")
		rtImport(t, db, o)
		req := rtReq(o, rtKey(1), rtLine(o, 1, 1, canceldesk.RestockNone, 0))
		req.Gateway = "stripe"
		res, err := db.RefundOrder(rtCtx(t), req)
		if err != nil || res.Refund.Status != canceldesk.RefundPending || res.Refund.Gateway != "stripe" {
			t.Fatalf("RefundOrder: %+v, %v", res, err)
		}
		got := rtGet(t, db, o.ID)
		if got.FinancialStatus != canceldesk.FinancialPaid || got.RefundedAmount != 550 {
			t.Errorf("pending refund moved the order: %s, %d", got.FinancialStatus, got.RefundedAmount)
		}
		jobs, err := db.PendingRefunds(rtCtx(t), 10)
		if err != nil || len(jobs) != 1 || jobs[0].Reference != "ch_r9" || !reflect.DeepEqual(jobs[0].Refund, res.Refund) {
			t.Fatalf("PendingRefunds = %+v, %v", jobs, err)
		}

		later := rtNow.Add(time.Minute)
		db.Now = func() time.Time { return later }
		if err := db.SettleRefund(rtCtx(t), res.Refund.ID, canceldesk.RefundSucceeded, "re_1", ""); err != nil {
			t.Fatalf("SettleRefund: %v", err)
		}
		got = rtGet(t, db, o.ID)
		if got.FinancialStatus != canceldesk.FinancialPartiallyRefunded || got.RefundedAmount != 550 || !got.UpdatedAt.Equal(later) {
			t.Errorf("after success: %s, %d, %v", got.FinancialStatus, got.RefundedAmount, got.UpdatedAt)
		}
		rfs, _ := db.Refunds(rtCtx(t), o.ID)
		if len(rfs) != 1 || rfs[0].Status != "succeeded" || rfs[0].ProviderID != "re_1" || !rfs[0].UpdatedAt.Equal(later) {
			t.Errorf("refund after success: %+v", rfs)
		}
		if jobs, _ := db.PendingRefunds(rtCtx(t), 10); len(jobs) != 0 {
			t.Errorf("still pending: %+v", jobs)
		}
		_, msgs := rtEvents(t, db, o.ID)
		if m := msgs["refund"]; len(m) != 2 || m[0] != "USD 5.50 · stripe · pending" || m[1] != "USD 5.50 · stripe · succeeded" {
			t.Errorf("refund events %q", m)
		}
		// Settling a final refund again is a no-op.
		before := rtFootprint(t, db, o.ID)
		for _, st := range []string{"failed", "pending", "succeeded"} {
			if err := db.SettleRefund(rtCtx(t), res.Refund.ID, st, "re_2", "late"); err != nil {
				t.Errorf("settle again %s: %v", st, err)
			}
		}
		rtSame(t, "settling a final refund", rtFootprint(t, db, o.ID), before)

		// A failure: the money stays reserved, the status does not move.
		req2 := rtReq(o, rtKey(2), rtLine(o, 0, 1, canceldesk.RestockCancel, loc.ID))
		req2.Gateway = "stripe"
		res2, err := db.RefundOrder(rtCtx(t), req2)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SettleRefund(rtCtx(t), res2.Refund.ID, canceldesk.RefundFailed, "", "card_declined"); err != nil {
			t.Fatal(err)
		}
		got = rtGet(t, db, o.ID)
		if got.FinancialStatus != canceldesk.FinancialPartiallyRefunded || got.RefundedAmount != 1650 {
			t.Errorf("after failure: %s, %d", got.FinancialStatus, got.RefundedAmount)
		}
		kinds, msgs := rtEvents(t, db, o.ID)
		if !slices.Contains(kinds, canceldesk.EventRefundFailed) || !strings.Contains(msgs[canceldesk.EventRefundFailed][0], "card_declined") {
			t.Errorf("events %v %v", kinds, msgs)
		}
		_, err = db.RetryRefund(rtCtx(t), res.Refund.ID, "staff@example.com", canceldesk.RoleStaff)
		rtCheckErr(t, "retrying a refund that succeeded", err, canceldesk.ECONFLICT, "", "refund.not_failed")
		rf, err := db.RetryRefund(rtCtx(t), res2.Refund.ID, "staff@example.com", canceldesk.RoleStaff)
		if err != nil || rf.Status != "pending" || rf.Error != "" || rf.IdempotencyKey != res2.Refund.IdempotencyKey || rf.OrderID != o.ID {
			t.Fatalf("RetryRefund: %+v, %v", rf, err)
		}
		if all, _ := db.Refunds(rtCtx(t), o.ID); !reflect.DeepEqual(all[1].Lines, map[int64]int{o.LineItems[0].ID: 1}) {
			t.Errorf("stored units %v, want the mug", all[1].Lines)
		} else if all[1].Lines = nil; !reflect.DeepEqual(all[1], *rf) {
			t.Errorf("stored %+v, returned %+v", all[1], *rf)
		}
		if _, msgs := rtEvents(t, db, o.ID); len(msgs[canceldesk.EventRefundRetry]) != 1 {
			t.Errorf("retry events %v", msgs)
		}
		_, err = db.RetryRefund(rtCtx(t), res2.Refund.ID, "staff@example.com", canceldesk.RoleStaff)
		rtCheckErr(t, "retrying a pending refund", err, canceldesk.ECONFLICT, "", "refund.not_failed")
		// It fails again, then the retry's answer comes in late: it succeeded.
		if err := db.SettleRefund(rtCtx(t), res2.Refund.ID, canceldesk.RefundFailed, "", "timeout"); err != nil {
			t.Fatal(err)
		}
		if err := db.SettleRefund(rtCtx(t), res2.Refund.ID, canceldesk.RefundSucceeded, "re_3", ""); err != nil {
			t.Fatal(err)
		}
		if all, _ := db.Refunds(rtCtx(t), o.ID); all[1].Status != "succeeded" || all[1].Error != "" || all[1].ProviderID != "re_3" {
			t.Errorf("late success: %+v", all[1])
		}
		if got := rtGet(t, db, o.ID); got.FinancialStatus != canceldesk.FinancialPartiallyRefunded || got.RefundedAmount != 1650 {
			t.Errorf("after late success: %s %d", got.FinancialStatus, got.RefundedAmount)
		}

		err = db.SettleRefund(rtCtx(t), res2.Refund.ID, "refunded", "", "")
		rtCheckErr(t, "an unknown status", err, canceldesk.EINVALID, "status", "")
		rtCheckErr(t, "settling no refund", db.SettleRefund(rtCtx(t), 987654, "succeeded", "", ""), canceldesk.ENOTFOUND, "", "")
		_, err = db.RetryRefund(rtCtx(t), 987654, "x", canceldesk.RoleStaff)
		rtCheckErr(t, "retrying no refund", err, canceldesk.ENOTFOUND, "", "")

		t.Run("Cancel", func(t *testing.T) {
			c := rtOrder("#r9-cancel")
			rtImport(t, db, c)
			creq := rtCancelReq(c, loc.ID, rtKey(3), canceldesk.RefundNow, false)
			creq.Gateway = "stripe"
			res, err := db.CancelOrder(rtCtx(t), creq)
			if err != nil || res.Refund.Status != "pending" || res.Refund.Gateway != "stripe" {
				t.Fatalf("CancelOrder: %+v, %v", res, err)
			}
			if got := rtGet(t, db, c.ID); got.FinancialStatus != canceldesk.FinancialPaid || got.RefundedAmount != 3050 {
				t.Errorf("cancel with a pending refund: %s %d", got.FinancialStatus, got.RefundedAmount)
			}
			// A pending refund moved no money yet: the order still owes.
			if _, n, _ := db.RefundBacklog(rtCtx(t), 10); n != 1 {
				t.Errorf("backlog %d, want 1", n)
			}
			if err := db.SettleRefund(rtCtx(t), res.Refund.ID, "failed", "", "expired_card"); err != nil {
				t.Fatal(err)
			}
			// A failed refund of a cancelled order is owed again.
			entries, n, err := db.RefundBacklog(rtCtx(t), 10)
			if err != nil || n != 1 || len(entries) != 1 || entries[0].OrderID != c.ID || entries[0].Refundable.Amount != 3050 {
				t.Errorf("backlog with a failed refund: %+v, %d, %v", entries, n, err)
			}
			if sum, err := db.BacklogSummary(rtCtx(t)); err != nil || sum.Count != 1 || len(sum.Value) != 1 ||
				sum.Value[c.Currency] != 3050 || len(entries) == 0 || !sum.Oldest.Equal(entries[0].CancelledAt) {
				t.Errorf("summary with a failed refund: %+v, %v", sum, err)
			}
			if _, err := db.RetryRefund(rtCtx(t), res.Refund.ID, "staff@example.com", canceldesk.RoleStaff); err != nil {
				t.Fatal(err)
			}
			if err := db.SettleRefund(rtCtx(t), res.Refund.ID, "succeeded", "re_4", ""); err != nil {
				t.Fatal(err)
			}
			if got := rtGet(t, db, c.ID); got.FinancialStatus != canceldesk.FinancialRefunded {
				t.Errorf("after the cancel's refund succeeded: %s", got.FinancialStatus)
			}
			if _, n, _ := db.RefundBacklog(rtCtx(t), 10); n != 0 {
				t.Errorf("backlog %d after success, want 0", n)
			}
		})

		t.Run("Void", func(t *testing.T) {
			v := rtOrder("#r9-void", func(o *canceldesk.Order) { o.FinancialStatus = canceldesk.FinancialAuthorized })
			rtImport(t, db, v)
			creq := rtCancelReq(v, loc.ID, rtKey(4), canceldesk.RefundNow, false)
			creq.Gateway = "stripe"
			res, err := db.CancelOrder(rtCtx(t), creq)
			if err != nil || res.Refund.Kind != "void" || res.Refund.Status != "pending" {
				t.Fatalf("CancelOrder: %+v, %v", res, err)
			}
			if got := rtGet(t, db, v.ID); got.FinancialStatus != canceldesk.FinancialAuthorized || got.RefundedAmount != 0 {
				t.Errorf("pending void: %s %d", got.FinancialStatus, got.RefundedAmount)
			}
			if err := db.SettleRefund(rtCtx(t), res.Refund.ID, "succeeded", "", ""); err != nil {
				t.Fatal(err)
			}
			if got := rtGet(t, db, v.ID); got.FinancialStatus != canceldesk.FinancialVoided || got.RefundedAmount != 0 {
				t.Errorf("settled void: %s %d", got.FinancialStatus, got.RefundedAmount)
			}
			if kinds, _ := rtEvents(t, db, v.ID); kinds[len(kinds)-1] != canceldesk.EventVoid {
				t.Errorf("events %v", kinds)
			}
		})
	})
}

var creditCode = regexp.MustCompile(`^CD-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`)

// 10. Store credit: a code for the customer.
func TestRefundStoreCredit(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		o := rtOrder("#r10")
		rtImport(t, db, o)
		expires := time.Date(2026, 6, 30, 23, 59, 59, 123456789, time.FixedZone("X", 3600))
		req := rtReq(o, rtKey(1), rtLine(o, 0, 1, canceldesk.RestockNone, 0))
		req.Method, req.Gateway, req.CreditExpiresAt = canceldesk.MethodStoreCredit, "stripe", &expires
		res, err := db.RefundOrder(rtCtx(t), req)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Credit
		wantExpiry := time.UnixMicro(expires.UnixMicro()).UTC()
		if c == nil || !creditCode.MatchString(c.Code) || c.Amount != 1100 || c.Currency != "USD" || c.RefundID != res.Refund.ID ||
			c.OrderID != o.ID || c.ExpiresAt == nil || !c.ExpiresAt.Equal(wantExpiry) || c.ExpiresAt.Location() != time.UTC ||
			!c.CreatedAt.Equal(rtNow) || c.ID == 0 {
			t.Fatalf("credit %+v", c)
		}
		if res.Refund.Method != canceldesk.MethodStoreCredit || res.Refund.Gateway != canceldesk.GatewayStoreCredit ||
			res.Refund.Status != canceldesk.RefundSucceeded {
			t.Errorf("refund %+v", res.Refund)
		}
		if got := rtGet(t, db, o.ID); got.FinancialStatus != canceldesk.FinancialPartiallyRefunded {
			t.Errorf("store credit did not count as refunded: %s", got.FinancialStatus)
		}
		credits, err := db.StoreCredits(rtCtx(t), o.ID)
		if err != nil || len(credits) != 1 || !reflect.DeepEqual(credits[0], *c) {
			t.Errorf("StoreCredits = %+v, %v; want %+v", credits, err, *c)
		}
		payload := rtString(t, db, `SELECT payload FROM outbox WHERE order_id = ? AND kind = 'refund_issued'`, o.ID)
		var msg struct {
			Method          string     `json:"method"`
			CreditCode      string     `json:"credit_code"`
			CreditExpiresAt *time.Time `json:"credit_expires_at"`
			Amount          int64      `json:"amount"`
		}
		if err := json.Unmarshal([]byte(payload), &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Method != "store_credit" || msg.CreditCode != c.Code || msg.CreditExpiresAt == nil || !msg.CreditExpiresAt.Equal(wantExpiry) || msg.Amount != 1100 {
			t.Errorf("payload %s", payload)
		}
		if _, msgs := rtEvents(t, db, o.ID); !strings.HasSuffix(msgs["refund"][0], " · store credit "+c.Code) {
			t.Errorf("refund event %q", msgs["refund"])
		}

		never := rtReq(o, rtKey(2), rtLine(o, 0, 1, canceldesk.RestockNone, 0))
		never.Method = canceldesk.MethodStoreCredit
		res2, err := db.RefundOrder(rtCtx(t), never)
		if err != nil || res2.Credit == nil || res2.Credit.ExpiresAt != nil || res2.Credit.Code == c.Code || !creditCode.MatchString(res2.Credit.Code) {
			t.Fatalf("second credit %+v, %v", res2, err)
		}
		if credits, _ := db.StoreCredits(rtCtx(t), o.ID); len(credits) != 2 || credits[1].Code != res2.Credit.Code {
			t.Errorf("StoreCredits = %+v", credits)
		}
	})
}

func TestNewCreditCode(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		c, err := newCreditCode()
		if err != nil {
			t.Fatal(err)
		}
		if !creditCode.MatchString(c) || strings.ContainsAny(c[3:], "01OIL") || seen[c] {
			t.Fatalf("code %q (repeat %v)", c, seen[c])
		}
		seen[c] = true
	}
}

// 11. Restocking by hand what a cancel or a return did not.
func TestRestockOrder(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		o, open := rtOrder("#r11"), rtOrder("#r11-open")
		rtImport(t, db, o, open)
		rreq := func(key int, lines ...canceldesk.RestockLineRequest) canceldesk.RestockRequest {
			return canceldesk.RestockRequest{OrderID: o.ID, Lines: lines, LocationID: loc.ID, IdempotencyKey: rtKey(key), Actor: "staff@example.com"}
		}
		mug := func(q int) canceldesk.RestockLineRequest {
			return canceldesk.RestockLineRequest{LineItemID: o.LineItems[0].ID, Quantity: q}
		}
		bowl := func(q int) canceldesk.RestockLineRequest {
			return canceldesk.RestockLineRequest{LineItemID: o.LineItems[1].ID, Quantity: q}
		}

		openBefore := rtFootprint(t, db, open.ID)
		err := db.RestockOrder(rtCtx(t), canceldesk.RestockRequest{OrderID: open.ID, LocationID: loc.ID, IdempotencyKey: rtKey(50),
			Lines: []canceldesk.RestockLineRequest{{LineItemID: open.LineItems[0].ID, Quantity: 1}}})
		rtCheckErr(t, "restocking an open order", err, canceldesk.ECONFLICT, "", "restock.nothing")
		rtSame(t, "a refused restock", rtFootprint(t, db, open.ID), openBefore)

		if _, err := db.CancelOrder(rtCtx(t), rtCancelReq(o, 0, rtKey(1), canceldesk.RefundNow, false)); err != nil {
			t.Fatal(err)
		}
		first := rreq(2, mug(1))
		if err := db.RestockOrder(rtCtx(t), first); err != nil {
			t.Fatalf("RestockOrder: %v", err)
		}
		rtCheckLines(t, rtGet(t, db, o.ID), rtLineCounts{Refunded: 2, Cancelled: 2, Restocked: 1}, rtLineCounts{Refunded: 1, Cancelled: 1})
		if n := rtOnHand(t, db, "MUG", loc.ID); n != 6 {
			t.Errorf("MUG %d, want 6", n)
		}
		ms, _ := db.Movements(rtCtx(t), "MUG", 1)
		if len(ms) != 1 || ms[0].Kind != canceldesk.MovementManual || ms[0].Delta != 1 || ms[0].OrderID != o.ID || ms[0].Actor != "staff@example.com" {
			t.Errorf("ledger %+v", ms)
		}
		_, msgs := rtEvents(t, db, o.ID)
		if m := msgs["restocked"]; len(m) != 1 || m[0] != "1 × MUG → Main" {
			t.Errorf("restocked events %q", m)
		}

		before := rtFootprint(t, db, o.ID)
		if err := db.RestockOrder(rtCtx(t), first); err != nil {
			t.Errorf("replay: %v", err)
		}
		rtSame(t, "a replayed restock", rtFootprint(t, db, o.ID), before)
		stolen := first
		stolen.OrderID = open.ID
		rtCheckErr(t, "key of another order", db.RestockOrder(rtCtx(t), stolen), canceldesk.EINVALID, "key", "validation.idempotency_key")
		rtCheckErr(t, "2 of 1 left", db.RestockOrder(rtCtx(t), rreq(3, mug(2))), canceldesk.EINVALID, fmt.Sprintf("qty_%d", o.LineItems[0].ID), "validation.restock_qty")
		nowhere := rreq(4, mug(1))
		nowhere.LocationID = loc.ID + 1000
		rtCheckErr(t, "unknown location", db.RestockOrder(rtCtx(t), nowhere), canceldesk.EINVALID, "location", "validation.location")
		rtSame(t, "refused restocks", rtFootprint(t, db, o.ID), before)

		if err := db.RestockOrder(rtCtx(t), rreq(5, mug(1), bowl(1))); err != nil {
			t.Fatalf("the rest: %v", err)
		}
		rtCheckLines(t, rtGet(t, db, o.ID), rtLineCounts{Refunded: 2, Cancelled: 2, Restocked: 2}, rtLineCounts{Refunded: 1, Cancelled: 1, Restocked: 1})
		if m, b := rtOnHand(t, db, "MUG", loc.ID), rtOnHand(t, db, "BOWL", loc.ID); m != 7 || b != 6 {
			t.Errorf("stock MUG %d BOWL %d, want 7 and 6", m, b)
		}
		before = rtFootprint(t, db, o.ID)
		rtCheckErr(t, "a third restock", db.RestockOrder(rtCtx(t), rreq(6, mug(1))), canceldesk.ECONFLICT, "", "restock.nothing")
		rtSame(t, "a third restock", rtFootprint(t, db, o.ID), before)
		if n := rtInt(t, db, `SELECT count(*) FROM restocks WHERE order_id = ?`, o.ID); n != 2 {
			t.Errorf("%d restock rows, want 2", n)
		}
		// Restocking never touched the money, nor a cancel-restock can come after.
		if got := rtGet(t, db, o.ID); got.RefundedAmount != 3050 {
			t.Errorf("refunded %d", got.RefundedAmount)
		}

		t.Run("ReturnedUnits", func(t *testing.T) {
			r := rtOrder("#r11-returned", shipped)
			rtImport(t, db, r)
			if _, err := db.RefundOrder(rtCtx(t), rtReq(r, rtKey(20), rtLine(r, 0, 2, canceldesk.RestockReturnNoRestock, 0))); err != nil {
				t.Fatal(err)
			}
			err := db.RestockOrder(rtCtx(t), canceldesk.RestockRequest{OrderID: r.ID, LocationID: loc.ID, IdempotencyKey: rtKey(21),
				Actor: "staff@example.com", Lines: []canceldesk.RestockLineRequest{{LineItemID: r.LineItems[0].ID, Quantity: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			rtCheckLines(t, rtGet(t, db, r.ID), rtLineCounts{Refunded: 2, Returned: 2, ReturnRestocked: 1, RefundedShipped: 2}, rtLineCounts{})
			if n := rtInt(t, db, `SELECT coalesce(sum(delta), 0) FROM inventory_movements WHERE order_id = ? AND kind = 'manual'`, r.ID); n != 1 {
				t.Errorf("manual ledger %d, want 1", n)
			}
		})
	})
}

func TestRefundSettings(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		s, err := db.Settings(rtCtx(t))
		if err != nil || !reflect.DeepEqual(s, canceldesk.DefaultSettings()) {
			t.Fatalf("Settings on a new store = %+v, %v", s, err)
		}
		loc := rtLocation(t, db, "Main")
		want := canceldesk.Settings{RestockOnCancel: false, DefaultLocationID: loc.ID, StaffRefundLimit: map[string]int64{"USD": 10000, "TWD": 0},
			StoreName: "Mugs & Co", ReplyTo: "help@mugs.example", LogoURL: "https://cdn.mugs.example/logo.png",
			AccentColor: "#1f5f4a", ContactEmail: "care@mugs.example", DefaultLanguage: "zh-TW"}
		if err := db.SaveSettings(rtCtx(t), want, "owner@example.com"); err != nil {
			t.Fatal(err)
		}
		if s, err := db.Settings(rtCtx(t)); err != nil || !reflect.DeepEqual(s, want) {
			t.Errorf("Settings = %+v, %v; want %+v", s, err, want)
		}
		if a := rtString(t, db, `SELECT actor FROM settings WHERE key = 'store'`); a != "owner@example.com" {
			t.Errorf("actor %q", a)
		}
		before := rtString(t, db, `SELECT value FROM settings`)
		for name, tc := range map[string]struct {
			s          canceldesk.Settings
			field, key string
		}{
			"unknown location":  {canceldesk.Settings{DefaultLocationID: loc.ID + 1000}, "location", "validation.location"},
			"negative location": {canceldesk.Settings{DefaultLocationID: -1}, "location", "validation.location"},
			"negative limit":    {canceldesk.Settings{StaffRefundLimit: map[string]int64{"USD": -1}}, "limit_USD", "validation.amount"},
			"lower-case code":   {canceldesk.Settings{StaffRefundLimit: map[string]int64{"usd": 1}}, "limit_usd", "validation.currency"},
			"long code":         {canceldesk.Settings{StaffRefundLimit: map[string]int64{"USDX": 1}}, "limit_USDX", "validation.currency"},
			"no store name":     {canceldesk.Settings{StoreName: "  "}, "store_name", "validation.store_name"},
			"long store name":   {canceldesk.Settings{StoreName: strings.Repeat("店", 101)}, "store_name", "validation.store_name"},
			"two-line name":     {canceldesk.Settings{StoreName: "Mugs\nBcc: x@example.com"}, "store_name", "validation.store_name"},
			"reply-to no at":    {canceldesk.Settings{ReplyTo: "help.mugs.example"}, "reply_to", "validation.email"},
			"reply-to two":      {canceldesk.Settings{ReplyTo: "a@mugs.example, b@mugs.example"}, "reply_to", "validation.email"},
			"reply-to header":   {canceldesk.Settings{ReplyTo: "a@mugs.example\r\nBcc: x@example.com"}, "reply_to", "validation.email"},
		} {
			if tc.s.StoreName == "" {
				tc.s.StoreName = "Mugs"
			}
			rtCheckErr(t, name, db.SaveSettings(rtCtx(t), tc.s, "x"), canceldesk.EINVALID, tc.field, tc.key)
		}
		if after := rtString(t, db, `SELECT value FROM settings`); after != before {
			t.Errorf("refused settings were saved: %s", after)
		}
		// No limits at all comes back as an empty map, never nil; the name
		// and reply-to are kept without surrounding spaces, and a name of
		// 100 characters and an address with a display name are fine.
		long := strings.Repeat("店", 100)
		if err := db.SaveSettings(rtCtx(t), canceldesk.Settings{RestockOnCancel: true, StoreName: " " + long + " ",
			ReplyTo: " Mugs <help@mugs.example> "}, "x"); err != nil {
			t.Fatal(err)
		}
		if s, _ := db.Settings(rtCtx(t)); s.StaffRefundLimit == nil || len(s.StaffRefundLimit) != 0 || !s.RestockOnCancel ||
			s.StoreName != long || s.ReplyTo != "Mugs <help@mugs.example>" {
			t.Errorf("Settings = %+v", s)
		}
		// No reply-to at all is fine too.
		if err := db.SaveSettings(rtCtx(t), canceldesk.Settings{StoreName: "Mugs"}, "x"); err != nil {
			t.Fatal(err)
		}
		if s, _ := db.Settings(rtCtx(t)); s.StoreName != "Mugs" || s.ReplyTo != "" {
			t.Errorf("Settings = %+v", s)
		}
	})
}

func TestStockLevelsAndMovements(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		main := rtLocation(t, db, "Main")
		annex := rtLocation(t, db, "Annex")
		levels, err := db.StockLevels(rtCtx(t))
		want := []canceldesk.StockLevel{
			{SKU: "BOWL", LocationID: annex.ID, Location: "Annex", OnHand: 5},
			{SKU: "BOWL", LocationID: main.ID, Location: "Main", OnHand: 5},
			{SKU: "MUG", LocationID: annex.ID, Location: "Annex", OnHand: 5},
			{SKU: "MUG", LocationID: main.ID, Location: "Main", OnHand: 5},
		}
		if err != nil || !slices.Equal(levels, want) {
			t.Errorf("StockLevels = %+v, %v\nwant %+v", levels, err, want)
		}
		ms, err := db.Movements(rtCtx(t), "MUG", 10)
		if err != nil || len(ms) != 2 || ms[0].LocationID != annex.ID || ms[1].LocationID != main.ID || ms[0].ID < ms[1].ID ||
			ms[0].Kind != canceldesk.MovementInitialReceipt || ms[0].OrderID != 0 || ms[0].Actor != "test" || !ms[0].CreatedAt.Equal(rtNow) {
			t.Errorf("Movements = %+v, %v", ms, err)
		}
		if ms, _ := db.Movements(rtCtx(t), "MUG", 1); len(ms) != 1 || ms[0].LocationID != annex.ID {
			t.Errorf("Movements limit 1 = %+v", ms)
		}
		if ms, _ := db.Movements(rtCtx(t), "NONE", 10); len(ms) != 0 {
			t.Errorf("Movements of an unknown SKU = %+v", ms)
		}
	})
}

// The order cache, subscribed to the after-commit hook, forgets an order
// after every refund write.
func TestRefundCacheInvalidates(t *testing.T) {
	c := context.Background()
	db := rtOpen(t, filepath.Join(t.TempDir(), "cache.db"))
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	cache := NewCache(db, rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	db.OnCommit(cache.Forget)
	rc := db
	loc := rtLocation(t, db, "Main")
	o := rtOrder("#rcache-" + time.Now().Format("150405.000000"))
	rtImport(t, db, o)
	t.Cleanup(func() { rdb.Del(c, orderKey(o.ID)) })

	cached := func(t *testing.T) *canceldesk.Order {
		t.Helper()
		got, err := cache.Order(c, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := cached(t); got.RefundedAmount != 0 {
		t.Fatalf("before: %+v", got)
	}
	req := rtReq(o, rtKey(1), rtLine(o, 0, 1, canceldesk.RestockNone, 0))
	req.Gateway = "stripe"
	res, err := rc.RefundOrder(c, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := cached(t); got.RefundedAmount != 1100 || got.LineItems[0].RefundedQuantity != 1 || got.FinancialStatus != canceldesk.FinancialPaid {
		t.Errorf("after RefundOrder the cache shows %+v", got)
	}
	if err := rc.SettleRefund(c, res.Refund.ID, "failed", "", "declined"); err != nil {
		t.Fatal(err)
	}
	cached(t)
	if _, err := rc.RetryRefund(c, res.Refund.ID, "x", canceldesk.RoleStaff); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(c, orderKey(o.ID)).Result(); n != 0 {
		t.Error("RetryRefund left the order cached")
	}
	cached(t)
	if err := rc.SettleRefund(c, res.Refund.ID, "succeeded", "re_1", ""); err != nil {
		t.Fatal(err)
	}
	if got := cached(t); got.FinancialStatus != canceldesk.FinancialPartiallyRefunded {
		t.Errorf("after SettleRefund the cache shows %s", got.FinancialStatus)
	}
	if _, err := db.CancelOrder(c, rtCancelReq(o, 0, rtKey(2), canceldesk.RefundLater, false)); err != nil {
		t.Fatal(err)
	}
	cache.Invalidate(c, o.ID)
	cached(t)
	err = rc.RestockOrder(c, canceldesk.RestockRequest{OrderID: o.ID, LocationID: loc.ID, IdempotencyKey: rtKey(3),
		Lines: []canceldesk.RestockLineRequest{{LineItemID: o.LineItems[1].ID, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cached(t); got.LineItems[1].RestockedQuantity != 1 {
		t.Errorf("after RestockOrder the cache shows %+v", got.LineItems[1])
	}
}

// The guards of the SQL updates refuse what would break an invariant even
// when a plan was made on a stale read (the planner normally refuses it
// first, so these are checked on their own).
func TestRefundGuards(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		// Mug: 3 ordered, 1 shipped, 1 cancelled; bowl: 1 shipped.
		o := rtOrder("#guards", func(o *canceldesk.Order) {
			o.LineItems[0].Quantity, o.LineItems[0].FulfilledQuantity, o.LineItems[0].CancelledQuantity = 3, 1, 1
			o.LineItems[1].FulfilledQuantity = 1
			o.Subtotal, o.Total = 3500, 4050
			o.FulfillmentStatus = canceldesk.FulfillmentPartial
		})
		pending := rtOrder("#guards-pending", func(o *canceldesk.Order) { o.FinancialStatus = canceldesk.FinancialPending })
		rtImport(t, db, o, pending)
		mug, bowl := o.LineItems[0].ID, o.LineItems[1].ID
		try := func(name string, fn func(tx *sql.Tx) error) error {
			t.Helper()
			before := rtFootprint(t, db, o.ID)
			err := db.tx(rtCtx(t), func(tx *Tx) error { return fn(tx.Tx) })
			if err != nil {
				rtSame(t, name, rtFootprint(t, db, o.ID), before)
			}
			return err
		}
		for _, tc := range []struct {
			name string
			l    canceldesk.RefundPlanLine
			ok   bool
		}{
			{"refunded above quantity", canceldesk.RefundPlanLine{LineItemID: mug, Quantity: 4, RefundedShipped: 1}, false},
			{"unshipped refunded above unshipped", canceldesk.RefundPlanLine{LineItemID: mug, Quantity: 3}, false},
			{"cancelled above unshipped", canceldesk.RefundPlanLine{LineItemID: mug, Quantity: 1, Cancel: 2}, false},
			{"restocked above cancelled", canceldesk.RefundPlanLine{LineItemID: mug, Quantity: 1, Restocked: 2}, false},
			{"returned above shipped", canceldesk.RefundPlanLine{LineItemID: mug, Quantity: 2, Returned: 2, RefundedShipped: 1}, false},
			{"return restocked above returned", canceldesk.RefundPlanLine{LineItemID: bowl, Quantity: 1, RefundedShipped: 1, ReturnRestocked: 1}, false},
			{"refunded shipped above shipped", canceldesk.RefundPlanLine{LineItemID: bowl, Quantity: 1, RefundedShipped: 2}, false},
			{"a line of another order", canceldesk.RefundPlanLine{LineItemID: pending.LineItems[0].ID, Quantity: 1}, false},
			{"within every limit", canceldesk.RefundPlanLine{LineItemID: mug, Quantity: 2, Cancel: 1, Restocked: 2}, true},
		} {
			err := try(tc.name, func(tx *sql.Tx) error { return db.updateRefundLine(rtCtx(t), tx, o.ID, tc.l) })
			if tc.ok && err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if !tc.ok {
				rtCheckErr(t, tc.name, err, canceldesk.ECONFLICT, "", "refund.blocked.nothing")
			}
		}
		rtCheckLines(t, rtGet(t, db, o.ID), rtLineCounts{Refunded: 2, Cancelled: 2, Restocked: 2}, rtLineCounts{})

		for _, tc := range []struct {
			name            string
			id              int64
			total, shipping int64
			ok              bool
		}{
			{"more than paid", o.ID, 4051, 0, false},
			{"more shipping than charged", o.ID, 400, 301, false},
			{"nothing paid", pending.ID, 1, 0, false},
			{"all of it", o.ID, 4050, 300, true},
			{"one cent more", o.ID, 1, 0, false},
		} {
			err := try(tc.name, func(tx *sql.Tx) error { return db.reserveRefund(rtCtx(t), tx, tc.id, tc.total, tc.shipping, 0, 1) })
			if tc.ok && err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if !tc.ok {
				rtCheckErr(t, tc.name, err, canceldesk.ECONFLICT, "", "refund.blocked.nothing")
			}
		}
		if got := rtGet(t, db, o.ID); got.RefundedAmount != 4050 || got.ShippingRefunded != 300 {
			t.Errorf("order %+v", got)
		}
	})
}

// Both import paths keep the columns refunds added.
func TestImportKeepsRefundColumns(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		mod := func(o *canceldesk.Order) {
			shipped(o)
			o.FinancialStatus, o.RefundedAmount, o.ShippingRefunded = canceldesk.FinancialPartiallyRefunded, 1400, 300
			li := &o.LineItems[0]
			li.RefundedQuantity, li.ReturnedQuantity, li.ReturnRestockedQuantity, li.RefundedShippedQuantity = 1, 1, 1, 1
		}
		a, b := rtOrder("#import-a", mod), rtOrder("#import-b", mod)
		rtImport(t, db, a)
		if err := db.BulkLoad(rtCtx(t), []*canceldesk.Order{b}); err != nil {
			t.Fatal(err)
		}
		for _, o := range []*canceldesk.Order{a, b} {
			got := rtGet(t, db, o.ID)
			if got.PaymentReference != "ch_"+o.Name[1:] || got.ShippingRefunded != 300 || got.RefundedAmount != 1400 {
				t.Errorf("%s: %+v", o.Name, got)
			}
			rtCheckLines(t, got, rtLineCounts{Refunded: 1, Returned: 1, ReturnRestocked: 1, RefundedShipped: 1}, rtLineCounts{})
		}
	})
}

// rtPlan returns the query plan of q (explain is the dialect's EXPLAIN
// prefix), one line per row, as its last column reads.
func rtPlan(t *testing.T, tx *sql.Tx, explain, q string, args ...any) string {
	t.Helper()
	rows, err := tx.QueryContext(rtCtx(t), explain+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, fmt.Sprint(*(vals[len(vals)-1].(*any))))
	}
	return strings.Join(plan, "\n")
}
