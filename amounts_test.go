package canceldesk_test

import (
	"errors"
	"math"
	"testing"

	"github.com/canceldesk/canceldesk"
)

func TestAddAmounts(t *testing.T) {
	for _, tc := range []struct {
		a, b, want int64
		overflow   bool
	}{
		{0, 0, 0, false},
		{math.MaxInt64 - 1, 1, math.MaxInt64, false},
		{math.MaxInt64, 0, math.MaxInt64, false},
		{math.MaxInt64, 1, 0, true},
		{1, math.MaxInt64, 0, true},
		{math.MaxInt64 / 2, math.MaxInt64/2 + 2, 0, true},
		{math.MinInt64 + 1, -1, math.MinInt64, false},
		{math.MinInt64, -1, 0, true},
		{math.MinInt64, math.MaxInt64, -1, false},
		{-5, 3, -2, false},
	} {
		got, err := canceldesk.AddAmounts(tc.a, tc.b)
		if tc.overflow != errors.Is(err, canceldesk.ErrAmountOverflow) || got != tc.want {
			t.Errorf("AddAmounts(%d, %d) = %d, %v; want %d, overflow %v", tc.a, tc.b, got, err, tc.want, tc.overflow)
		}
	}
}

func TestCheckAmounts(t *testing.T) {
	bound := canceldesk.MaxOrderAmount
	order := func(mod func(*canceldesk.Order)) *canceldesk.Order {
		o := &canceldesk.Order{Name: "#1", Currency: "USD", Subtotal: bound, Total: bound, Shipping: bound, Taxes: bound,
			Discounts: bound, RefundedAmount: bound, ShippingRefunded: bound, TaxRefunded: bound,
			LineItems: []canceldesk.LineItem{{Quantity: 2, Price: bound / 4}, {Quantity: 1, Price: bound / 2}}}
		if mod != nil {
			mod(o)
		}
		return o
	}
	if err := order(nil).CheckAmounts(); err != nil {
		t.Errorf("an order at the bound: %v", err)
	}
	for _, tc := range []struct {
		mod  func(*canceldesk.Order)
		want string
	}{
		{func(o *canceldesk.Order) { o.Total = 5_000_000_000_000_000_000 },
			"Total 50000000000000000.00 USD is more than 10000000000.00 USD, the most one order may hold"},
		{func(o *canceldesk.Order) { o.Currency, o.RefundedAmount = "JPY", bound+1 },
			"Refunded amount 1000000000001 JPY is more than 1000000000000 JPY, the most one order may hold"},
		{func(o *canceldesk.Order) { o.TaxRefunded = -1 }, "Tax refunded -0.01 USD is negative"},
		{func(o *canceldesk.Order) { o.LineItems[1].Price = -100 }, "Line 2 price -1.00 USD is negative"},
		{func(o *canceldesk.Order) { o.LineItems[0].Price = bound/2 + 1 },
			"Line 1 price × quantity (5000000000.01 USD × 2) is more than 10000000000.00 USD, the most one order may hold"},
		{func(o *canceldesk.Order) { o.LineItems[0].Price, o.LineItems[0].Quantity = bound, math.MaxInt32 },
			"Line 1 price × quantity (10000000000.00 USD × 2147483647) is more than 10000000000.00 USD, the most one order may hold"},
		{func(o *canceldesk.Order) { o.LineItems[1].Price++ },
			"The line items together 10000000000.01 USD is more than 10000000000.00 USD, the most one order may hold"},
	} {
		err := order(tc.mod).CheckAmounts()
		if canceldesk.ErrorCode(err) != canceldesk.EINVALID || canceldesk.ErrorMessage(err) != tc.want {
			t.Errorf("CheckAmounts = %v\nwant %q", err, tc.want)
		}
	}
}
