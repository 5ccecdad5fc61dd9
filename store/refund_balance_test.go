package store

import (
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

// rtBalance is what every reader says of order o: its refunded amount and
// refund state in the export, the analytics "Refunded" total around rtNow
// and what the refund-later backlog says it owes.
type rtBalance struct {
	Refunded   int64
	State      string
	Analytics  int64
	BacklogOwe int64
}

func rtReadBalance(t *testing.T, db *DB, o *canceldesk.Order) rtBalance {
	t.Helper()
	var b rtBalance
	b.State = "(not exported)"
	for _, r := range exportAll(t, db, time.Unix(0, 0), rtNow.Add(time.Hour)) {
		if r.OrderID == o.ID {
			b.Refunded, b.State = r.Refunded, r.RefundStatus
		}
	}
	extra, err := db.ExtraFigures(rtCtx(t), time.Unix(0, 0), rtNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b.Analytics = extra.Refunded[o.Currency]
	entries, _, err := db.RefundBacklog(rtCtx(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.OrderID == o.ID {
			b.BacklogOwe = e.Refundable.Amount
		}
	}
	return b
}

// TestFailedRefundIsNotMoneyReturned: a card refund pending or failed is
// not counted as refunded by the order, the export, the analytics or the
// backlog, and the customer message about it waits; once a retry
// succeeds, every one of them says refunded and the message is due.
func TestFailedRefundIsNotMoneyReturned(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		o := rtOrder("#B1")
		rtImport(t, db, o)
		req := rtCancelReq(o, 0, "cancel-b1-0123456789", canceldesk.RefundNow, false)
		req.Gateway = "stripe"
		res, err := db.CancelOrder(rtCtx(t), req)
		if err != nil {
			t.Fatal(err)
		}
		check := func(when string, succeeded int64, want rtBalance, due int) {
			t.Helper()
			if got := rtGet(t, db, o.ID).RefundedSucceeded; got != succeeded {
				t.Errorf("%s: order refunded succeeded = %d, want %d", when, got, succeeded)
			}
			if got := rtReadBalance(t, db, o); got != want {
				t.Errorf("%s: readers say %+v, want %+v", when, got, want)
			}
			msgs, err := db.ClaimMessages(rtCtx(t), 10, time.Nanosecond)
			if err != nil || len(msgs) != due {
				t.Errorf("%s: %d messages due (%v), want %d", when, len(msgs), err, due)
			}
		}
		check("pending", 0, rtBalance{State: canceldesk.RefundStatePending, BacklogOwe: 3050}, 0)
		if err := db.SettleRefund(rtCtx(t), res.Refund.ID, canceldesk.RefundFailed, "", "card_declined"); err != nil {
			t.Fatal(err)
		}
		check("failed", 0, rtBalance{State: canceldesk.RefundStateFailed, BacklogOwe: 3050}, 0)
		if _, err := db.RetryRefund(rtCtx(t), res.Refund.ID, "staff@example.com", canceldesk.RoleStaff); err != nil {
			t.Fatal(err)
		}
		if err := db.SettleRefund(rtCtx(t), res.Refund.ID, canceldesk.RefundSucceeded, "re_1", ""); err != nil {
			t.Fatal(err)
		}
		check("retried", 3050, rtBalance{Refunded: 3050, State: canceldesk.RefundStateSucceeded, Analytics: 3050}, 1)
	})
}

// TestImportedRefundsAndCancellationsCount: orders imported refunded,
// partially refunded and cancelled are counted as orders refunded and
// cancelled here are: the export's refund status and amount, the
// analytics "Refunded" total and "Most cancelled SKUs", from the orders
// and from the daily rollups.
func TestImportedRefundsAndCancellationsCount(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		cancelled := rtNow.Add(-24 * time.Hour)
		full := rtOrder("#I1", func(o *canceldesk.Order) {
			o.CancelledAt, o.CancelReason = &cancelled, canceldesk.ReasonCustomer
			o.RefundedAmount, o.FinancialStatus = o.Total, canceldesk.FinancialRefunded
		})
		part := rtOrder("#I2", func(o *canceldesk.Order) {
			o.CancelledAt, o.CancelReason = &cancelled, canceldesk.ReasonInventory
			o.RefundedAmount, o.FinancialStatus = 1000, canceldesk.FinancialPartiallyRefunded
		})
		rtImport(t, db, full, part)
		for _, days := range []bool{false, true} {
			if days {
				if err := db.SetStatsZone(rtCtx(t), time.UTC); err != nil {
					t.Fatal(err)
				}
			}
			if b := rtReadBalance(t, db, full); b.Refunded != 3050 || b.State != canceldesk.RefundStateSucceeded || b.Analytics != 4050 {
				t.Errorf("days %v: refunded import reads %+v", days, b)
			}
			if b := rtReadBalance(t, db, part); b.Refunded != 1000 || b.State != canceldesk.RefundStatePartial || b.BacklogOwe != 2050 {
				t.Errorf("days %v: partially refunded import reads %+v", days, b)
			}
			extra, err := db.ExtraFigures(rtCtx(t), time.Unix(0, 0), rtNow.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := []canceldesk.CountBy{{Label: "MUG", Count: 4}, {Label: "BOWL", Count: 2}}
			if len(extra.TopSKUs) != 2 || extra.TopSKUs[0] != want[0] || extra.TopSKUs[1] != want[1] {
				t.Errorf("days %v: top SKUs = %+v, want %+v", days, extra.TopSKUs, want)
			}
			var byPayment int64
			for _, c := range extra.ByPayment {
				byPayment += c.Count
			}
			if byPayment != 2 {
				t.Errorf("days %v: by payment method = %+v, want the 2 cancellations", days, extra.ByPayment)
			}
		}
	})
}
