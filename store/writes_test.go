package store

import (
	"errors"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// TestUpdateLineGuards: the one guarded UPDATE of a line's counters
// refuses, with errLineConflict and nothing written, any change that would
// break one of its invariants, one invariant at a time.
func TestUpdateLineGuards(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		// Mug: 3 ordered, 1 shipped, 1 cancelled; bowl: 1 ordered, 1 shipped.
		o := rtOrder("#lines", func(o *canceldesk.Order) {
			o.LineItems[0].Quantity, o.LineItems[0].FulfilledQuantity, o.LineItems[0].CancelledQuantity = 3, 1, 1
			o.LineItems[1].FulfilledQuantity = 1
			o.Subtotal, o.Total = 3500, 4050
			o.FulfillmentStatus = canceldesk.FulfillmentPartial
		})
		other := rtOrder("#lines-other")
		rtImport(t, db, o, other)
		mug, bowl := o.LineItems[0].ID, o.LineItems[1].ID
		for _, tc := range []struct {
			invariant string
			d         lineDelta
		}{
			{"refunded ≤ quantity", lineDelta{LineItemID: mug, Refunded: 4, RefundedShipped: 1}},
			{"refunded − refunded shipped ≤ quantity − fulfilled", lineDelta{LineItemID: mug, Refunded: 3}},
			{"fulfilled + cancelled ≤ quantity", lineDelta{LineItemID: mug, Cancelled: 2}},
			{"restocked ≤ cancelled", lineDelta{LineItemID: mug, Restocked: 2}},
			{"restocked ≤ cancelled, counting the units cancelled now", lineDelta{LineItemID: mug, Cancelled: 1, Restocked: 3}},
			{"returned ≤ fulfilled", lineDelta{LineItemID: mug, Returned: 2}},
			{"return restocked ≤ returned", lineDelta{LineItemID: bowl, ReturnRestocked: 1}},
			{"refunded shipped ≤ fulfilled", lineDelta{LineItemID: bowl, Refunded: 1, RefundedShipped: 2}},
			{"the line is the order's", lineDelta{LineItemID: other.LineItems[0].ID, Cancelled: 1}},
			{"something grows", lineDelta{LineItemID: mug}},
		} {
			before := rtFootprint(t, db, o.ID)
			err := db.tx(rtCtx(t), func(tx *Tx) error { return db.updateLine(rtCtx(t), tx.Tx, o.ID, tc.d) })
			if !errors.Is(err, errLineConflict) {
				t.Errorf("%s: updateLine(%+v) = %v, want errLineConflict", tc.invariant, tc.d, err)
			}
			rtSame(t, tc.invariant, rtFootprint(t, db, o.ID), before)
		}
		// Up to each bound is fine.
		for _, d := range []lineDelta{
			{LineItemID: mug, Cancelled: 1, Restocked: 2, Refunded: 2},
			{LineItemID: bowl, Returned: 1, ReturnRestocked: 1, Refunded: 1, RefundedShipped: 1},
		} {
			if err := db.tx(rtCtx(t), func(tx *Tx) error { return db.updateLine(rtCtx(t), tx.Tx, o.ID, d) }); err != nil {
				t.Errorf("updateLine(%+v): %v", d, err)
			}
		}
		rtCheckLines(t, rtGet(t, db, o.ID), rtLineCounts{Refunded: 2, Cancelled: 2, Restocked: 2},
			rtLineCounts{Refunded: 1, Returned: 1, ReturnRestocked: 1, RefundedShipped: 1})
	})
}

// TestLockOrder: a missing order is ErrNotFound on both dialects' locks.
func TestLockOrder(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		err := db.tx(rtCtx(t), func(tx *Tx) error { return db.lockOrder(rtCtx(t), tx.Tx, 999999) })
		if db.dialect == postgres && !errors.Is(err, canceldesk.ErrNotFound) {
			t.Errorf("lockOrder(missing) = %v, want ErrNotFound", err)
		}
	})
}
