package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

// ListQuery returns the SQL, in the dialect's placeholders, and the
// arguments that ListOrders runs for f, so tests can EXPLAIN it.
func (db *DB) ListQuery(f canceldesk.OrderFilter) (string, []any) {
	q, args, _ := db.listQuery(f, searchIndex)
	return q, args
}

// CountQuery is the SQL that counts the orders of a substring search.
func (db *DB) CountQuery(f canceldesk.OrderFilter) (string, []any) {
	return db.countQuery(f, searchIndex)
}

// exportAll collects the export of [from, to).
func exportAll(t *testing.T, db *DB, from, to time.Time) []canceldesk.ExportRow {
	t.Helper()
	var out []canceldesk.ExportRow
	err := db.ExportCancellations(rtCtx(t), from, to, func(r canceldesk.ExportRow) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("ExportCancellations: %v", err)
	}
	return out
}

// TestExportCancellations: orders imported cancelled, cancelled by staff
// (refund now and later, restock, void) and by the auto-approval rule come
// out oldest cancel first with every column, and only those of [from, to).
func TestExportCancellations(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 7)
		placed := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC) // rtOrder's
		cancelledAt := func(at time.Time) func(*canceldesk.Order) {
			return func(o *canceldesk.Order) { o.CancelledAt, o.CancelReason = &at, canceldesk.ReasonFraud }
		}
		loc := rtLocation(t, db, "Main")
		before := rtOrder("#x0", cancelledAt(from.Add(-time.Microsecond)))
		atFrom := rtOrder("#x1", cancelledAt(from))
		atTo := rtOrder("#x7", cancelledAt(to))
		open := rtOrder("#x8")
		staffNow := rtOrder("#x2")
		later := rtOrder("#x3")
		rule := rtOrder("#x4")
		void := rtOrder("#x5", func(o *canceldesk.Order) { o.FinancialStatus = canceldesk.FinancialAuthorized })
		partial := rtOrder("#x6", func(o *canceldesk.Order) {
			o.LineItems[0].FulfilledQuantity = 1
			o.FulfillmentStatus = canceldesk.FulfillmentPartial
		})
		rtImport(t, db, before, atFrom, atTo, open, staffNow, later, rule, void, partial)

		cancel := func(at time.Time, req canceldesk.CancelRequest) *canceldesk.CancelResult {
			t.Helper()
			db.Now = func() time.Time { return at }
			res, err := db.CancelOrder(rtCtx(t), req)
			if err != nil {
				t.Fatalf("CancelOrder %d: %v", req.OrderID, err)
			}
			return res
		}
		refund := func(at time.Time, req canceldesk.RefundRequest) *canceldesk.RefundResult {
			t.Helper()
			db.Now = func() time.Time { return at }
			res, err := db.RefundOrder(rtCtx(t), req)
			if err != nil {
				t.Fatalf("RefundOrder %d: %v", req.OrderID, err)
			}
			return res
		}

		// Refund now with restock, and a note a spreadsheet would run.
		req := rtCancelReq(staffNow, loc.ID, rtKey(1), canceldesk.RefundNow, true)
		req.StaffNote = `=HYPERLINK("http://x")`
		cancel(from.Add(1*time.Hour), req)
		// Refund later, then a manual refund of a mug and a pending Stripe
		// refund of the bowl: the latest refund's status counts.
		cancel(from.Add(2*time.Hour), rtCancelReq(later, loc.ID, rtKey(2), canceldesk.RefundLater, false))
		refund(from.Add(3*time.Hour), rtReq(later, rtKey(3), rtLine(later, 0, 1, canceldesk.RestockNone, 0)))
		pending := rtReq(later, rtKey(4), rtLine(later, 1, 1, canceldesk.RestockNone, 0))
		pending.Gateway = "stripe"
		if res := refund(from.Add(3*time.Hour), pending); res.Refund.Status != canceldesk.RefundPending {
			t.Fatalf("stripe refund status %q, want pending", res.Refund.Status)
		}
		// The auto-approval rule.
		req = rtCancelReq(rule, loc.ID, "request:"+strings.Repeat("ab", 16), canceldesk.RefundLater, false)
		req.Actor, req.Reason, req.ReasonLabel = ruleActor, canceldesk.ReasonCustomer, "Customer request: changed mind"
		req.Source = canceldesk.SourceAutoApproved
		cancel(from.Add(4*time.Hour), req)
		// An authorization voided: a refunds row, but no money refunded.
		res := cancel(from.Add(5*time.Hour), rtCancelReq(void, loc.ID, rtKey(5), canceldesk.RefundNow, false))
		if res.Refund == nil || res.Refund.Kind != canceldesk.RefundKindVoid {
			t.Fatalf("void order: refund %+v", res.Refund)
		}
		// Partly shipped: the rest is cancelled and restocked (1 mug, 1
		// bowl), then the shipped mug comes back to stock.
		res = cancel(from.Add(6*time.Hour), rtCancelReq(partial, loc.ID, rtKey(6), canceldesk.RefundNow, true))
		ret := refund(from.Add(7*time.Hour), rtReq(partial, rtKey(7), rtLine(partial, 0, 1, canceldesk.RestockReturn, loc.ID)))
		partialRefunded := res.Refund.Amount + ret.Refund.Amount

		staff := "staff@example.com"
		want := []canceldesk.ExportRow{
			{OrderID: atFrom.ID, Order: "#x1", PlacedAt: placed, CancelledAt: from, Reason: canceldesk.ReasonFraud,
				Source: canceldesk.SourceImport, RefundStatus: "none", Currency: "USD"},
			{OrderID: staffNow.ID, Order: "#x2", PlacedAt: placed, CancelledAt: from.Add(1 * time.Hour),
				Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock", StaffNote: `=HYPERLINK("http://x")`,
				Source: canceldesk.SourceStaff, RefundStatus: canceldesk.RefundSucceeded, Refunded: 3050, Currency: "USD",
				RestockedUnits: 3, Actor: staff},
			{OrderID: later.ID, Order: "#x3", PlacedAt: placed, CancelledAt: from.Add(2 * time.Hour),
				Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock", Source: canceldesk.SourceStaff,
				RefundStatus: canceldesk.RefundStatePending, Refunded: 1100, Currency: "USD", Actor: staff}, // 5.50 pending
			{OrderID: rule.ID, Order: "#x4", PlacedAt: placed, CancelledAt: from.Add(4 * time.Hour),
				Reason: canceldesk.ReasonCustomer, ReasonLabel: "Customer request: changed mind",
				Source: canceldesk.SourceAutoApproved, RefundStatus: "none", Currency: "USD", Actor: ruleActor},
			{OrderID: void.ID, Order: "#x5", PlacedAt: placed, CancelledAt: from.Add(5 * time.Hour),
				Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock", Source: canceldesk.SourceStaff,
				RefundStatus: canceldesk.RefundStateVoided, Refunded: 0, Currency: "USD", Actor: staff},
			{OrderID: partial.ID, Order: "#x6", PlacedAt: placed, CancelledAt: from.Add(6 * time.Hour),
				Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock", Source: canceldesk.SourceStaff,
				RefundStatus: canceldesk.RefundStatePartial, Refunded: partialRefunded, Currency: "USD", // the shipped bowl is still paid
				RestockedUnits: 3, Actor: staff},
		}
		got := exportAll(t, db, from, to)
		if len(got) != len(want) {
			var names []string
			for _, r := range got {
				names = append(names, r.Order)
			}
			t.Fatalf("exported %v, want %d rows (#x1..#x6)", names, len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
			if got[i].CancelledAt.Location() != time.UTC || got[i].PlacedAt.Location() != time.UTC {
				t.Errorf("row %d: times not in UTC", i)
			}
		}

		// The bounds: from is in, to is out; the instant before from and
		// to itself come out in their own ranges.
		if rows := exportAll(t, db, from.Add(-time.Hour), from); len(rows) != 1 || rows[0].Order != "#x0" {
			t.Errorf("the hour before from: %+v", rows)
		}
		if rows := exportAll(t, db, to, to.Add(time.Hour)); len(rows) != 1 || rows[0].Order != "#x7" {
			t.Errorf("the hour from to: %+v", rows)
		}
		if rows := exportAll(t, db, from.Add(time.Hour), from.Add(2*time.Hour)); len(rows) != 1 || rows[0].Order != "#x2" {
			t.Errorf("one hour: %+v", rows)
		}
		if rows := exportAll(t, db, to.AddDate(1, 0, 0), to.AddDate(2, 0, 0)); len(rows) != 0 {
			t.Errorf("an empty range: %+v", rows)
		}

		// fn's error stops the export and comes back as it is.
		stop := errors.New("stop")
		calls := 0
		err := db.ExportCancellations(rtCtx(t), from, to, func(canceldesk.ExportRow) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("stopping: err %v after %d calls, want stop after 1", err, calls)
		}
	})
}

// TestExportUsesIndex: the range reads orders through orders_cancelled_at.
func TestExportUsesIndex(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		if text := rangePlan(t, db, exportQuery); !strings.Contains(text, "orders_cancelled_at") {
			t.Errorf("the export does not read orders_cancelled_at:\n%s", text)
		}
	})
}

// SetProbeRows sets how many of the newest orders a PostgreSQL search
// walks before it turns to the trigram index, until the test ends.
func SetProbeRows(t *testing.T, n int) {
	old := probeRows
	probeRows = n
	t.Cleanup(func() { probeRows = old })
}
