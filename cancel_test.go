package canceldesk

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// planOrder is a two-line order: 2 × A at 10.00 and 1 × B at 5.00, tax
// 2.50, shipping 3.00, total 30.50, in the given states.
func planOrder(fulfillment string, fin FinancialStatus) *Order {
	o := &Order{ID: 1, Name: "#1001", Email: "c@example.com", Currency: "USD", Subtotal: 2500, Taxes: 250,
		Shipping: 300, Total: 3050, FinancialStatus: fin, PaymentMethod: "manual",
		LineItems: []LineItem{
			{ID: 11, Name: "Mug", SKU: "A", Quantity: 2, Price: 1000},
			{ID: 12, Name: "Bowl", SKU: "B", Quantity: 1, Price: 500},
		}}
	switch fulfillment {
	case "partial":
		o.LineItems[0].FulfilledQuantity = 1
	case "fulfilled":
		o.LineItems[0].FulfilledQuantity, o.LineItems[1].FulfilledQuantity = 2, 1
	}
	switch fin {
	case FinancialPartiallyRefunded:
		o.RefundedAmount = 1000 // e.g. a goodwill refund, no units
	case FinancialRefunded:
		o.RefundedAmount = o.Total
	}
	o.FulfillmentStatus = DeriveFulfillment(o.LineItems)
	return o
}

func planRequest(refund RefundChoice, restock bool) CancelRequest {
	r := CancelRequest{OrderID: 1, Reason: ReasonCustomer, ReasonLabel: "Customer changed their mind", Refund: refund,
		Restock: restock, NotifyCustomer: true, IdempotencyKey: "k-0123456789abcdef", Actor: "staff@example.com"}
	if restock {
		r.LocationID = 7
	}
	return r
}

// TestPlanCancelMatrix plans every combination of fulfillment, financial
// status, refund choice and restock choice, and checks the whole plan.
func TestPlanCancelMatrix(t *testing.T) {
	type money struct{ items, tax, ship, total int64 }
	// What the cancelled units are worth, by fulfillment.
	cancelled := map[string]struct {
		lines []PlanLine // with RefundQty, Amount and Tax as if refunded
		m     money
	}{
		"unfulfilled": {[]PlanLine{
			{LineItemID: 11, Name: "Mug", SKU: "A", CancelQty: 2, RefundQty: 2, Amount: 2000, Tax: 200},
			{LineItemID: 12, Name: "Bowl", SKU: "B", CancelQty: 1, RefundQty: 1, Amount: 500, Tax: 50},
		}, money{2500, 250, 300, 3050}},
		"partial": {[]PlanLine{
			{LineItemID: 11, Name: "Mug", SKU: "A", CancelQty: 1, RefundQty: 1, Amount: 1000, Tax: 100},
			{LineItemID: 12, Name: "Bowl", SKU: "B", CancelQty: 1, RefundQty: 1, Amount: 500, Tax: 50},
		}, money{1500, 150, 0, 1650}},
	}
	for _, ful := range []string{"unfulfilled", "partial", "fulfilled"} {
		for _, fin := range []FinancialStatus{FinancialPending, FinancialAuthorized, FinancialPaid, FinancialPartiallyRefunded, FinancialRefunded} {
			for _, refund := range []RefundChoice{RefundNow, RefundLater} {
				for _, restock := range []bool{true, false} {
					name := fmt.Sprintf("%s/%s/%s/restock=%v", ful, fin, refund, restock)
					t.Run(name, func(t *testing.T) {
						o := planOrder(ful, fin)
						p := PlanCancel(o, planRequest(refund, restock))
						if p.Currency != "USD" || p.Restock != restock || !p.Notify {
							t.Errorf("currency %q restock %v notify %v", p.Currency, p.Restock, p.Notify)
						}
						if ful == "fulfilled" {
							if p.OK() || !reflect.DeepEqual(p.Blockers, []string{BlockedFulfilled}) || len(p.Lines) != 0 || p.RefundTotal != 0 {
								t.Fatalf("fully fulfilled: %+v", p)
							}
							return
						}
						if !p.OK() {
							t.Fatalf("blocked: %v", p.Blockers)
						}
						if p.PartiallyFulfilled != (ful == "partial") {
							t.Errorf("PartiallyFulfilled = %v", p.PartiallyFulfilled)
						}
						want := cancelled[ful]
						kind, m := "", money{}
						switch {
						case refund == RefundLater:
						case fin == FinancialAuthorized:
							kind, m = RefundKindVoid, want.m
							m.total = o.Total // the whole authorization is released
						case fin == FinancialPaid:
							kind, m = RefundKindRefund, want.m
						case fin == FinancialPartiallyRefunded:
							kind, m = RefundKindRefund, want.m
							m.total = min(m.total, o.Total-o.RefundedAmount)
						}
						lines := make([]PlanLine, len(want.lines))
						copy(lines, want.lines)
						for i := range lines {
							if kind == "" {
								lines[i].RefundQty, lines[i].Amount, lines[i].Tax = 0, 0, 0
							}
							if restock {
								lines[i].RestockQty = lines[i].CancelQty
							}
						}
						if !reflect.DeepEqual(p.Lines, lines) {
							t.Errorf("lines =\n%+v\nwant\n%+v", p.Lines, lines)
						}
						got := money{p.RefundItems, p.RefundTax, p.RefundShipping, p.RefundTotal}
						if p.RefundKind != kind || got != m {
							t.Errorf("refund %q %+v, want %q %+v", p.RefundKind, got, kind, m)
						}
						wantLoc := int64(0)
						if restock {
							wantLoc = 7
						}
						if p.LocationID != wantLoc {
							t.Errorf("LocationID = %d, want %d", p.LocationID, wantLoc)
						}
						if p.RefundTotal > paidAmount(o)-o.RefundedAmount && kind == RefundKindRefund {
							t.Errorf("refund %d exceeds refundable %d", p.RefundTotal, paidAmount(o)-o.RefundedAmount)
						}

						wantFin := fin
						switch {
						case kind == RefundKindVoid:
							wantFin = FinancialVoided
						case kind == RefundKindRefund && ful == "unfulfilled":
							wantFin = FinancialRefunded
						case kind == RefundKindRefund:
							wantFin = FinancialPartiallyRefunded
						}
						if got := FinancialStatusAfter(o, p); got != wantFin {
							t.Errorf("FinancialStatusAfter = %s, want %s", got, wantFin)
						}
						wantRefunded := o.RefundedAmount
						if kind == RefundKindRefund {
							wantRefunded += m.total
						}
						if got := RefundedAmountAfter(o, p); got != wantRefunded {
							t.Errorf("RefundedAmountAfter = %d, want %d", got, wantRefunded)
						}
					})
				}
			}
		}
	}
}

func TestPlanCancelRules(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

	t.Run("AlreadyCancelledIsBlocked", func(t *testing.T) {
		o := planOrder("unfulfilled", FinancialPaid)
		o.CancelledAt = &now
		p := PlanCancel(o, planRequest(RefundNow, true))
		if p.OK() || !reflect.DeepEqual(p.Blockers, []string{BlockedAlreadyCancelled}) || len(p.Lines) != 0 || p.RefundTotal != 0 {
			t.Fatalf("plan = %+v", p)
		}
	})

	t.Run("NothingLeftToCancelIsBlocked", func(t *testing.T) {
		o := planOrder("unfulfilled", FinancialPaid)
		o.LineItems[0].FulfilledQuantity, o.LineItems[0].CancelledQuantity = 1, 1
		o.LineItems[1].CancelledQuantity = 1
		p := PlanCancel(o, planRequest(RefundNow, true))
		if !reflect.DeepEqual(p.Blockers, []string{BlockedNothingToCancel}) {
			t.Fatalf("blockers = %v", p.Blockers)
		}
	})

	t.Run("PartlyRestockedAndRefundedBeforeIsNotDoneTwice", func(t *testing.T) {
		// A partial refund gave back one of three mugs and restocked it;
		// the cancel must neither restock nor refund that mug again.
		o := &Order{ID: 1, Email: "c@example.com", Currency: "EUR", Subtotal: 3000, Taxes: 300, Shipping: 0,
			Total: 3300, RefundedAmount: 1100, TaxRefunded: 100, FinancialStatus: FinancialPartiallyRefunded,
			LineItems: []LineItem{{ID: 5, Name: "Mug", SKU: "M", Quantity: 3, Price: 1000, RefundedQuantity: 1, RestockedQuantity: 1}}}
		p := PlanCancel(o, planRequest(RefundNow, true))
		want := []PlanLine{{LineItemID: 5, Name: "Mug", SKU: "M", CancelQty: 3, RestockQty: 2, RefundQty: 2, Amount: 2000, Tax: 200}}
		if !reflect.DeepEqual(p.Lines, want) {
			t.Fatalf("lines = %+v", p.Lines)
		}
		if p.RefundKind != RefundKindRefund || p.RefundTotal != 2200 || FinancialStatusAfter(o, p) != FinancialRefunded {
			t.Fatalf("refund %s %d, status after %s", p.RefundKind, p.RefundTotal, FinancialStatusAfter(o, p))
		}
	})

	t.Run("UnitsCancelledBeforeStayOut", func(t *testing.T) {
		o := planOrder("unfulfilled", FinancialPaid)
		o.LineItems[0].CancelledQuantity, o.LineItems[0].RefundedQuantity = 1, 1
		o.RefundedAmount, o.FinancialStatus = 1100, FinancialPartiallyRefunded
		p := PlanCancel(o, planRequest(RefundNow, false))
		if p.Lines[0].CancelQty != 1 || p.Lines[0].RefundQty != 1 || p.Lines[1].CancelQty != 1 {
			t.Fatalf("lines = %+v", p.Lines)
		}
	})

	t.Run("EverythingRefundedBeforeRefundsNothingButCancels", func(t *testing.T) {
		o := planOrder("unfulfilled", FinancialPaid)
		for i := range o.LineItems {
			o.LineItems[i].RefundedQuantity = o.LineItems[i].Quantity
		}
		o.Shipping, o.Total = 0, 2750
		o.RefundedAmount, o.FinancialStatus = 2000, FinancialPartiallyRefunded
		p := PlanCancel(o, planRequest(RefundNow, true))
		if !p.OK() || p.RefundKind != "" || p.RefundTotal != 0 || p.Lines[0].RefundQty != 0 || p.RestockUnits() != 3 {
			t.Fatalf("plan = %+v", p)
		}
		if FinancialStatusAfter(o, p) != FinancialPartiallyRefunded {
			t.Error("status must not change when nothing is refunded")
		}
	})

	t.Run("ShippingOnlyIfNothingShipped", func(t *testing.T) {
		for _, ful := range []string{"unfulfilled", "partial"} {
			p := PlanCancel(planOrder(ful, FinancialPaid), planRequest(RefundNow, false))
			if want := map[string]int64{"unfulfilled": 300, "partial": 0}[ful]; p.RefundShipping != want {
				t.Errorf("%s: shipping refund %d, want %d", ful, p.RefundShipping, want)
			}
		}
	})

	t.Run("LineWithoutSKUIsNotRestocked", func(t *testing.T) {
		o := planOrder("unfulfilled", FinancialPaid)
		o.LineItems[1].SKU = ""
		p := PlanCancel(o, planRequest(RefundNow, true))
		if p.Lines[0].RestockQty != 2 || p.Lines[1].RestockQty != 0 || p.Lines[1].CancelQty != 1 {
			t.Fatalf("lines = %+v", p.Lines)
		}
	})

	t.Run("NotifyNeedsAskingAndAnEmail", func(t *testing.T) {
		o := planOrder("unfulfilled", FinancialPaid)
		req := planRequest(RefundNow, false)
		if !PlanCancel(o, req).Notify {
			t.Error("asked with an email: not notified")
		}
		req.NotifyCustomer = false
		if PlanCancel(o, req).Notify {
			t.Error("not asked: notified")
		}
		req.NotifyCustomer, o.Email = true, " "
		if PlanCancel(o, req).Notify {
			t.Error("no email: notified")
		}
	})

	t.Run("RefundCappedAtRefundable", func(t *testing.T) {
		// A discounted order: the lines are worth more than was paid.
		o := &Order{Currency: "USD", Subtotal: 900, Discounts: 100, Taxes: 90, Total: 990, FinancialStatus: FinancialPaid,
			LineItems: []LineItem{{ID: 1, SKU: "X", Quantity: 1, Price: 1000}}}
		p := PlanCancel(o, planRequest(RefundNow, false))
		if p.RefundTax != 90 || p.RefundTotal != 990 || FinancialStatusAfter(o, p) != FinancialRefunded {
			t.Fatalf("tax %d total %d", p.RefundTax, p.RefundTotal)
		}
	})

	t.Run("PartiallyPaidRefundsNothingAutomatically", func(t *testing.T) {
		p := PlanCancel(planOrder("unfulfilled", FinancialPartiallyPaid), planRequest(RefundNow, false))
		if p.RefundKind != "" || p.RefundTotal != 0 {
			t.Fatalf("plan = %+v", p)
		}
	})
}

func TestTaxShares(t *testing.T) {
	for _, tc := range []struct {
		taxes, subtotal int64
		amounts, want   []int64
	}{
		{100, 999, []int64{333, 333, 333}, []int64{34, 33, 33}}, // exact total, remainder to the first
		{100, 300, []int64{100, 100, 100}, []int64{34, 33, 33}},
		{250, 2500, []int64{2000, 500}, []int64{200, 50}},
		{250, 2500, []int64{1000, 0, 500}, []int64{100, 0, 50}},
		{7, 10, []int64{1, 1, 1}, []int64{1, 1, 0}}, // 2.1 in total → 2
		{7, 10, []int64{3, 2}, []int64{2, 2}},       // 3.5 → 4; the odd unit to the larger remainder
		{100, 0, []int64{50}, []int64{0}},           // no subtotal, no tax
		{0, 100, []int64{50}, []int64{0}},           // no tax
		{90, 900, []int64{1000}, []int64{90}},       // a discount: never more than the tax
		{100, 1000, []int64{0, 0}, []int64{0, 0}},
	} {
		got := TaxShares(tc.taxes, tc.subtotal, tc.amounts)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("TaxShares(%d, %d, %v) = %v, want %v", tc.taxes, tc.subtotal, tc.amounts, got, tc.want)
		}
	}

	t.Run("SharesOfEveryUnitSumToTheTax", func(t *testing.T) {
		for n := 1; n <= 12; n++ {
			for taxes := int64(0); taxes < 200; taxes += 7 {
				amounts := make([]int64, n)
				var sub int64
				for i := range amounts {
					amounts[i] = int64(97*i%31 + 1)
					sub += amounts[i]
				}
				var sum int64
				for _, s := range TaxShares(taxes, sub, amounts) {
					sum += s
				}
				if sum != taxes {
					t.Fatalf("n=%d taxes=%d: shares sum to %d", n, taxes, sum)
				}
			}
		}
	})

	t.Run("NoOverflow", func(t *testing.T) {
		big := int64(math.MaxInt64 / 4)
		got := TaxShares(big, big, []int64{big / 2, big / 2})
		if got[0]+got[1] != big/2*2 && got[0]+got[1] != big {
			t.Fatalf("shares = %v", got)
		}
	})
}

func TestDefaultNotify(t *testing.T) {
	for _, r := range CancelReasons {
		if got := DefaultNotify(r); got != (r != ReasonFraud) {
			t.Errorf("DefaultNotify(%s) = %v", r, got)
		}
	}
}

func TestRefundGateway(t *testing.T) {
	for in, want := range map[string]string{"": "manual", " Manual ": "manual", "manual": "manual",
		"Shopify Payments": "Shopify Payments", "stripe": "stripe"} {
		if got := RefundGateway(in); got != want {
			t.Errorf("RefundGateway(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCancelRequestValidate(t *testing.T) {
	valid := func() CancelRequest { return planRequest(RefundNow, true) }
	for _, tc := range []struct {
		name       string
		mod        func(*CancelRequest)
		field, key string
	}{
		{"valid", func(*CancelRequest) {}, "", ""},
		{"refund later without restock", func(r *CancelRequest) { r.Refund, r.Restock, r.LocationID = RefundLater, false, 0 }, "", ""},
		{"every reason", func(r *CancelRequest) { r.Reason = ReasonFraud }, "", ""},
		{"note of 255 runes", func(r *CancelRequest) { r.StaffNote = strings.Repeat("退", 255) }, "", ""},
		{"key of 16", func(r *CancelRequest) { r.IdempotencyKey = strings.Repeat("k", 16) }, "", ""},
		{"key of 100", func(r *CancelRequest) { r.IdempotencyKey = strings.Repeat("k", 100) }, "", ""},
		{"no reason", func(r *CancelRequest) { r.Reason = "" }, "reason", "validation.cancel_reason"},
		{"unknown reason", func(r *CancelRequest) { r.Reason = "bored" }, "reason", "validation.cancel_reason"},
		{"no refund choice", func(r *CancelRequest) { r.Refund = "" }, "refund", "validation.refund_choice"},
		{"unknown refund choice", func(r *CancelRequest) { r.Refund = "store_credit" }, "refund", "validation.refund_choice"},
		{"restock without location", func(r *CancelRequest) { r.LocationID = 0 }, "location", "validation.location"},
		{"note of 256 runes", func(r *CancelRequest) { r.StaffNote = strings.Repeat("退", 256) }, "note", "validation.note_long"},
		{"no key", func(r *CancelRequest) { r.IdempotencyKey = "" }, "key", "validation.idempotency_key"},
		{"key of 15", func(r *CancelRequest) { r.IdempotencyKey = strings.Repeat("k", 15) }, "key", "validation.idempotency_key"},
		{"key of 101", func(r *CancelRequest) { r.IdempotencyKey = strings.Repeat("k", 101) }, "key", "validation.idempotency_key"},
		{"first problem wins", func(r *CancelRequest) { r.Reason, r.IdempotencyKey = "", "" }, "reason", "validation.cancel_reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.mod(&r)
			err := r.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || e.Field != tc.field || e.Key != tc.key || e.Message == "" {
				t.Fatalf("Validate() = %#v, want field %q key %q", err, tc.field, tc.key)
			}
		})
	}
}

// TestRefundTaxAddsUp: refunding units one at a time gives back exactly
// the order's tax in the end, never more, and the same as one refund of
// everything; each step is what all refunded items owe less what was
// given back.
func TestRefundTaxAddsUp(t *testing.T) {
	for _, c := range []struct {
		taxes, price int64
		units        int
	}{{2, 100, 3}, {1, 100, 3}, {500, 333, 7}, {7, 1, 9}, {1000, 1250, 4}} {
		subtotal := c.price * int64(c.units)
		o := &Order{Subtotal: subtotal, Taxes: c.taxes, LineItems: []LineItem{{ID: 1, Quantity: c.units, Price: c.price}}}
		var given int64
		for i := 0; i < c.units; i++ {
			tax := RefundTax(o, []int64{c.price})[0]
			if tax < 0 {
				t.Fatalf("%+v: negative tax %d", c, tax)
			}
			given += tax
			o.TaxRefunded += tax
			o.LineItems[0].RefundedQuantity++
			if want := min(mulDiv(c.taxes, int64(i+1)*c.price, subtotal, true), c.taxes); given != want {
				t.Fatalf("%+v: after %d units %d tax given back, want %d", c, i+1, given, want)
			}
		}
		if given != c.taxes {
			t.Fatalf("%+v: %d tax given back over single refunds, want all %d", c, given, c.taxes)
		}
	}
}

// TestDiscountedOrderRefundsWhatWasPaid: a wholesale order with 40% off
// gives back, line by line and unit by unit, exactly what was paid: never
// the price before the discount, and everything adds up to the total.
func TestDiscountedOrderRefundsWhatWasPaid(t *testing.T) {
	o := &Order{ID: 1, Currency: "TWD", Subtotal: 3*1290 + 2*880, Shipping: 120, FinancialStatus: FinancialPaid,
		LineItems: []LineItem{{ID: 1, Quantity: 3, Price: 1290, SKU: "A"}, {ID: 2, Quantity: 2, Price: 880, SKU: "B"}}}
	o.Discounts = o.Subtotal * 40 / 100
	o.Taxes = (o.Subtotal - o.Discounts) * 5 / 100
	o.Total = o.Subtotal - o.Discounts + o.Taxes + o.Shipping
	var refunded int64
	for step := 0; step < 5; step++ {
		var lines []RefundLineRequest
		for _, li := range o.LineItems {
			if li.RefundedQuantity < li.Quantity {
				lines = append(lines, RefundLineRequest{LineItemID: li.ID, Quantity: 1, Restock: RestockNone})
				break
			}
		}
		p, err := PlanRefund(o, RefundRequest{OrderID: 1, Lines: lines, Method: MethodOriginal, FullShipping: step == 4,
			IdempotencyKey: "discount-key-000001"}, 0)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for _, l := range p.Lines {
			for i := range o.LineItems {
				if o.LineItems[i].ID == l.LineItemID {
					if l.Amount >= o.LineItems[i].Price {
						t.Fatalf("step %d: a unit of %d refunds %d, more than was paid after 40%% off", step, o.LineItems[i].Price, l.Amount)
					}
					o.LineItems[i].RefundedQuantity += l.Quantity
				}
			}
		}
		refunded += p.Total
		o.RefundedAmount, o.TaxRefunded, o.ShippingRefunded = o.RefundedAmount+p.Total, o.TaxRefunded+p.Tax, o.ShippingRefunded+p.Shipping
	}
	if refunded != o.Total {
		t.Fatalf("refunded %d over five refunds, want exactly the total %d", refunded, o.Total)
	}
}
