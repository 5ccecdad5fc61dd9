package canceldesk

import "testing"

func TestOrderRefundGateway(t *testing.T) {
	stripe := func(method string) string {
		if method == "card" {
			return "stripe"
		}
		return GatewayManual
	}
	for _, tc := range []struct {
		name       string
		o          Order
		configured func(string) string
		want       string
	}{
		{"no provider configured", Order{PaymentMethod: "card", PaymentReference: "ch_1"}, nil, GatewayManual},
		{"the method's gateway", Order{PaymentMethod: "card", PaymentReference: "ch_1"}, stripe, "stripe"},
		{"imported without the payment's id", Order{PaymentMethod: "card"}, stripe, GatewayManual},
		{"a method paid outside", Order{PaymentMethod: "cash", PaymentReference: "x"}, stripe, GatewayManual},
		{"an unknown method", Order{PaymentMethod: "card", PaymentReference: "ch_1"}, func(string) string { return "" }, GatewayManual},
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
