package canceldesk

import (
	"testing"
	"time"
)

// TestRefundBalance: only refunds that succeeded are money returned; a
// failed refund, then a pending one, names the state before anything else.
func TestRefundBalance(t *testing.T) {
	paid := func(refunded int64) *Order {
		return &Order{ID: 1, Currency: "USD", Total: 8820, RefundedSucceeded: refunded, FinancialStatus: FinancialPaid,
			LineItems: []LineItem{{ID: 7, Quantity: 2, RefundedQuantity: 2}}}
	}
	rf := func(status string, amount int64) Refund {
		return Refund{Kind: RefundKindRefund, Status: status, Amount: amount, Lines: map[int64]int{7: 1}}
	}
	for _, c := range []struct {
		name     string
		o        *Order
		refunds  []Refund
		state    string
		net      int64
		refunded int // units of line 7 refunded for certain
	}{
		{"nothing", paid(0), nil, RefundStateNone, 8820, 2},
		{"failed", paid(0), []Refund{rf(RefundFailed, 8820)}, RefundStateFailed, 8820, 1},
		{"pending", paid(4410), []Refund{rf(RefundSucceeded, 4410), rf(RefundPending, 4410)}, RefundStatePending, 4410, 1},
		{"partial", paid(4410), []Refund{rf(RefundSucceeded, 4410)}, RefundStatePartial, 4410, 2},
		{"succeeded", paid(8820), []Refund{rf(RefundSucceeded, 8820)}, RefundStateSucceeded, 0, 2},
		{"voided", &Order{Total: 8820, FinancialStatus: FinancialVoided}, nil, RefundStateVoided, 8820, 0},
	} {
		b := BalanceOf(c.o, c.refunds)
		units := 0
		if len(c.o.LineItems) > 0 {
			units = b.RefundedUnits(c.o.LineItems[0])
		}
		if b.State() != c.state || b.Net() != c.net || units != c.refunded {
			t.Errorf("%s: state %s, net %d, units %d; want %s, %d, %d", c.name, b.State(), b.Net(), units, c.state, c.net, c.refunded)
		}
	}
}

// TestSettleImported: an imported order's refunds are money returned and
// its cancel cancelled its unshipped units.
func TestSettleImported(t *testing.T) {
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	o := &Order{Total: 5000, FinancialStatus: FinancialRefunded, CancelledAt: &at,
		LineItems: []LineItem{{Quantity: 3, FulfilledQuantity: 1}, {Quantity: 1, FulfilledQuantity: 1}}}
	SettleImported(o)
	if o.RefundedAmount != 5000 || o.RefundedSucceeded != 5000 {
		t.Errorf("refunded %d, succeeded %d; want the total", o.RefundedAmount, o.RefundedSucceeded)
	}
	if o.LineItems[0].CancelledQuantity != 2 || o.LineItems[1].CancelledQuantity != 0 {
		t.Errorf("cancelled units %d, %d; want 2, 0", o.LineItems[0].CancelledQuantity, o.LineItems[1].CancelledQuantity)
	}
}
