package canceldesk

import "strconv"

// The refund states of an order as every page, chart and export names
// them (RefundBalance.State): the export's refund_status column.
const (
	// RefundStateNone: nothing was given back and nothing is on its way.
	RefundStateNone = "none"
	// RefundStatePending: a refund waits for its gateway's answer.
	RefundStatePending = "pending"
	// RefundStateFailed: a refund was refused and not retried successfully.
	RefundStateFailed = "failed"
	// RefundStatePartial: some money was given back, some is still owed
	// (a refund-later order after a partial refund, say).
	RefundStatePartial = "partial"
	// RefundStateSucceeded: everything paid was given back.
	RefundStateSucceeded = "succeeded"
	// RefundStateVoided: the authorization was released; no money moved.
	RefundStateVoided = "voided"
)

// RefundBalance is what an order's refunds amount to. It is the one owner
// of "how much was refunded": a refund counts as money returned only once
// it succeeded (Order.RefundedSucceeded, kept by the store in the
// transaction that settles it); pending and failed refunds are listed
// apart and never in Refunded or Net.
type RefundBalance struct {
	Currency string
	Total    int64 // the order's total
	Paid     int64 // what was paid and may be given back
	Refunded int64 // given back for certain
	Pending  int64 // refunds waiting for their gateway
	Failed   int64 // refunds the gateway refused, waiting for a retry
	Voided   bool  // the authorization was released
	// FailedRefund is the latest failed refund, for the order page's
	// "Refund failed: reason · Retry"; nil without one.
	FailedRefund *Refund
	// Units are the units of each line item (by id) of refunds not
	// succeeded: a line shows them as pending or failed, not refunded.
	PendingUnits, FailedUnits map[int64]int
}

// BalanceOf reads o's refund balance from the order and its refunds (as
// RefundStore.Refunds lists them).
func BalanceOf(o *Order, refunds []Refund) RefundBalance {
	b := RefundBalance{Currency: o.Currency, Total: o.Total, Paid: paidAmount(o), Refunded: o.RefundedSucceeded,
		Voided: o.FinancialStatus == FinancialVoided, PendingUnits: map[int64]int{}, FailedUnits: map[int64]int{}}
	for i := range refunds {
		r := &refunds[i]
		if r.Kind != RefundKindRefund {
			continue
		}
		var units map[int64]int
		switch r.Status {
		case RefundPending:
			b.Pending += r.Amount
			units = b.PendingUnits
		case RefundFailed:
			b.Failed += r.Amount
			units = b.FailedUnits
			b.FailedRefund = r
		default:
			continue
		}
		for id, n := range r.Lines {
			units[id] += n
		}
	}
	return b
}

// Net is the payment the store keeps: the total less what was given back
// for certain.
func (b RefundBalance) Net() int64 { return b.Total - b.Refunded }

// Owed is what was paid and not given back for certain.
func (b RefundBalance) Owed() int64 { return max(b.Paid-b.Refunded, 0) }

// State names the balance (one of the RefundState constants): voided; a
// failed refund, then a pending one, before anything else; then none,
// partial or succeeded by what was given back of what was paid.
func (b RefundBalance) State() string {
	switch {
	case b.Voided:
		return RefundStateVoided
	case b.Failed > 0:
		return RefundStateFailed
	case b.Pending > 0:
		return RefundStatePending
	case b.Refunded <= 0:
		return RefundStateNone
	case b.Refunded < b.Paid:
		return RefundStatePartial
	}
	return RefundStateSucceeded
}

// RefundedUnits is how many units of li were refunded for certain: its
// refunded quantity less the units of refunds still pending or failed.
func (b RefundBalance) RefundedUnits(li LineItem) int {
	return max(li.RefundedQuantity-b.PendingUnits[li.ID]-b.FailedUnits[li.ID], 0)
}

// SettleImported makes an order brought in from a shop's export say what
// the shop already did, as the orders made here say it: its refunded
// amount was given back (RefundedSucceeded; an order "refunded" without an
// amount gave back its total), and when it came in cancelled with no
// cancelled units, its unshipped units were cancelled. The store calls it
// for every imported and bulk-loaded order.
func SettleImported(o *Order) {
	if o.FinancialStatus == FinancialRefunded && o.RefundedAmount == 0 {
		o.RefundedAmount = max(o.Total, 0)
	}
	o.RefundedSucceeded = o.RefundedAmount
	if o.CancelledAt == nil {
		return
	}
	for _, li := range o.LineItems {
		if li.CancelledQuantity > 0 {
			return
		}
	}
	for i := range o.LineItems {
		li := &o.LineItems[i]
		li.CancelledQuantity = max(li.Quantity-li.FulfilledQuantity, 0)
	}
}

// ImportedRefundKey is the idempotency key of the refund row that records
// what an imported order had refunded already.
func ImportedRefundKey(orderID int64) string { return "import:" + strconv.FormatInt(orderID, 10) }
