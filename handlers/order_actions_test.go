package handlers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// A fully shipped order is returned and refunded, not cancelled: More
// actions offers Return and refund and no Cancel order; an unshipped one
// offers Cancel order.
func TestShippedOrderOffersReturnNotCancel(t *testing.T) {
	a := newTestApp(t)
	open := a.seed(t, 1)[0]
	shipped := &canceldesk.Order{Name: "#SHIPPED", Currency: "USD", Subtotal: 3000, Total: 3000, FinancialStatus: canceldesk.FinancialPaid,
		FulfillmentStatus: canceldesk.FulfillmentFulfilled, CreatedAt: base,
		LineItems: []canceldesk.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 2, Price: 1500, FulfilledQuantity: 2}}}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{shipped}, "test"); err != nil {
		t.Fatal(err)
	}
	_, doc := a.get(t, fmt.Sprintf("/orders/%d", shipped.ID))
	menu := doc.Find("details.menu .menu-items")
	if n := menu.Find(fmt.Sprintf(`a[href="/orders/%d/cancel"]`, shipped.ID)).Length(); n != 0 {
		t.Error("a fully shipped order offers Cancel order")
	}
	if menu.Find(fmt.Sprintf(`a[href="/orders/%d/refund?return=1"]`, shipped.ID)).Length() != 1 {
		t.Error("a fully shipped order does not offer Return and refund")
	}
	_, doc = a.get(t, fmt.Sprintf("/orders/%d", open.ID))
	if doc.Find(fmt.Sprintf(`details.menu a[href="/orders/%d/cancel"]`, open.ID)).Length() != 1 {
		t.Error("an unshipped order does not offer Cancel order")
	}
}
