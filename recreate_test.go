package canceldesk

import (
	"reflect"
	"testing"
	"time"
)

func TestRecreateNames(t *testing.T) {
	if got := RecreateName("#1001", 2); got != "#1001-R2" {
		t.Errorf("RecreateName = %q", got)
	}
	for _, c := range []struct {
		name, source, want string
	}{
		{"#1001", "web", "#1001"},
		{"#1001-R1", RecreateSource, "#1001"},
		{"#1001-R12", RecreateSource, "#1001"},
		{"#1001-R1", "web", "#1001-R1"}, // a shop's own name is kept
		{"-R1", RecreateSource, "-R1"},
	} {
		if got := RecreateBaseName(&Order{Name: c.name, Source: c.source}); got != c.want {
			t.Errorf("RecreateBaseName(%q, %q) = %q, want %q", c.name, c.source, got, c.want)
		}
	}
}

func TestNewRecreatedOrder(t *testing.T) {
	paid := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	now := paid.Add(time.Hour)
	o := &Order{ID: 7, ExternalID: "x", Name: "#1", Email: "a@example.com", Currency: "EUR",
		Subtotal: 1000, Shipping: 100, Taxes: 50, Discounts: 10, Total: 1140, RefundedAmount: 1140,
		FinancialStatus: FinancialRefunded, FulfillmentStatus: FulfillmentPartial, PaymentMethod: "card",
		PaidAt: &paid, CancelledAt: &paid, CancelReason: ReasonStaff,
		BillingAddress: Address{Name: "A"}, ShippingAddress: Address{Name: "B"}, Notes: "n",
		Tags: []string{"vip", "Recreated"}, Risk: RiskHigh, Source: "web",
		LineItems: []LineItem{{ID: 3, OrderID: 7, Position: 1, Name: "Mug", SKU: "MUG", Quantity: 2, Price: 500,
			FulfilledQuantity: 1, CancelledQuantity: 1, RefundedQuantity: 2, RestockedQuantity: 1}}}
	got := NewRecreatedOrder(o, "#1-R1", now)
	want := &Order{Name: "#1-R1", Email: "a@example.com", Currency: "EUR",
		Subtotal: 1000, Shipping: 100, Taxes: 50, Discounts: 10, Total: 1140,
		FinancialStatus: FinancialPending, FulfillmentStatus: FulfillmentUnfulfilled,
		BillingAddress: Address{Name: "A"}, ShippingAddress: Address{Name: "B"}, Notes: "n",
		Tags: []string{"vip", "Recreated"}, Risk: RiskHigh, Source: RecreateSource, CreatedAt: now, UpdatedAt: now,
		LineItems: []LineItem{{Name: "Mug", SKU: "MUG", Quantity: 2, Price: 500}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NewRecreatedOrder:\n got %+v\nwant %+v", got, want)
	}
	o.Tags = []string{"vip"}
	if got := NewRecreatedOrder(o, "#1-R1", now); !reflect.DeepEqual(got.Tags, []string{"vip", "recreated"}) {
		t.Errorf("tags = %q", got.Tags)
	}
	if o.Tags[0] != "vip" || len(o.Tags) != 1 {
		t.Errorf("original tags changed: %q", o.Tags)
	}
}
