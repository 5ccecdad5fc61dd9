package canceldesk

import (
	"slices"
	"testing"
	"time"
)

func TestOrderRefundGateway(t *testing.T) {
	stripe := func(o *Order) string {
		if o.PaymentMethod == "card" {
			return "stripe"
		}
		return GatewayManual
	}
	// A connected shop refunds its own orders; others go by payment method.
	shop := func(o *Order) string {
		if o.ShopifyOrder() {
			return GatewayShopify
		}
		return stripe(o)
	}
	synced := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		o          Order
		configured func(*Order) string
		want       string
	}{
		{"no provider configured", Order{PaymentMethod: "card", PaymentReference: "ch_1"}, nil, GatewayManual},
		{"the method's gateway", Order{PaymentMethod: "card", PaymentReference: "ch_1"}, stripe, "stripe"},
		{"imported without the payment's id", Order{PaymentMethod: "card"}, stripe, GatewayManual},
		{"a method paid outside", Order{PaymentMethod: "cash", PaymentReference: "x"}, stripe, GatewayManual},
		{"an unknown method", Order{PaymentMethod: "card", PaymentReference: "ch_1"}, func(*Order) string { return "" }, GatewayManual},
		{"the connected shop's order", Order{ExternalID: "1001", ShopifyUpdatedAt: &synced, PaymentMethod: "shopify_payments",
			PaymentReference: "gid://shopify/OrderTransaction/1"}, shop, GatewayShopify},
		{"the shop's order without a payment", Order{ExternalID: "1001", ShopifyUpdatedAt: &synced}, shop, GatewayManual},
		{"an exported order of the shop", Order{ExternalID: "1001", PaymentMethod: "card", PaymentReference: "ch_1"}, shop, "stripe"},
	} {
		if got := OrderRefundGateway(&tc.o, tc.configured); got != tc.want {
			t.Errorf("%s: OrderRefundGateway = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFinancialStatusAfterRefund(t *testing.T) {
	for _, tc := range []struct {
		paid, refunded int64
		want           FinancialStatus
	}{
		{3050, 1, FinancialPartiallyRefunded},
		{3050, 3049, FinancialPartiallyRefunded},
		{3050, 3050, FinancialRefunded},
		{3050, 4000, FinancialRefunded},
		{0, 100, FinancialRefunded},
	} {
		if got := FinancialStatusAfterRefund(tc.paid, tc.refunded); got != tc.want {
			t.Errorf("FinancialStatusAfterRefund(%d, %d) = %s, want %s", tc.paid, tc.refunded, got, tc.want)
		}
	}
}

func TestRestockOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		li   LineItem
		want []RestockType
	}{
		{"unshipped", LineItem{SKU: "MUG", Quantity: 2}, []RestockType{RestockNone, RestockCancel}},
		{"shipped", LineItem{SKU: "MUG", Quantity: 2, FulfilledQuantity: 2}, []RestockType{RestockNone, RestockReturn, RestockReturnNoRestock}},
		{"partly shipped", LineItem{SKU: "MUG", Quantity: 2, FulfilledQuantity: 1},
			[]RestockType{RestockNone, RestockCancel, RestockReturn, RestockReturnNoRestock}},
		{"unshipped, all restocked", LineItem{SKU: "MUG", Quantity: 2, CancelledQuantity: 2, RestockedQuantity: 2}, []RestockType{RestockNone}},
		{"no SKU: never back to stock as cancelled", LineItem{Quantity: 2}, []RestockType{RestockNone}},
		{"shipped, all returned", LineItem{SKU: "MUG", Quantity: 1, FulfilledQuantity: 1, ReturnedQuantity: 1}, []RestockType{RestockNone}},
	} {
		o := &Order{LineItems: []LineItem{tc.li}}
		if got := Refundable(o)[0].RestockOptions(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: RestockOptions = %v, want %v", tc.name, got, tc.want)
		}
	}
}
