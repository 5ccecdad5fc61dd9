package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// The Messages list says which template wrote each message: a cancel for
// out of stock reads "Order cancelled: out of stock", not just "Order
// cancelled".
func TestMessagesListNamesTheTemplate(t *testing.T) {
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	o := &canceldesk.Order{Name: "#M2", Email: "ada@example.com", Currency: "USD", Subtotal: 1000, Total: 1000,
		FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual", FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		CreatedAt: base, LineItems: []canceldesk.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: 1000}}}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	form := cancelFormOf(t, a.client, o.ID)
	form.Set("reason", "out_of_stock")
	if res, _ := a.post(t, fmt.Sprintf("/orders/%d/cancel", o.ID), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	_, list := a.get(t, "/messages")
	if got := strings.TrimSpace(list.Find(".messages tbody tr .sku").First().Text()); got != "Order cancelled: out of stock" {
		t.Errorf("label = %q, want the out-of-stock template's name", got)
	}
	_, show := a.get(t, list.Find(".messages tbody tr a.strong").AttrOr("href", ""))
	if !strings.Contains(show.Text(), "Order cancelled: out of stock") {
		t.Error("the message page does not name its template")
	}
}

// The preview of a cancel template with a cancelled order lists its items.
func TestTemplatePreviewOfCancelledOrderFillsItems(t *testing.T) {
	a := newTestApp(t)
	orders := a.seed(t, 5) // #1005 came in cancelled
	cancelled := orders[4]
	_, doc := a.get(t, "/settings/messages/order_cancelled.inventory?order="+strings.TrimPrefix(cancelled.Name, "#"))
	preview := doc.Find("#template-preview").Text()
	if !strings.Contains(preview, cancelled.Name) {
		t.Fatalf("preview is not of %s: %q", cancelled.Name, preview)
	}
	if want := "1 × Blue Mug"; !strings.Contains(preview, want) {
		t.Errorf("preview lacks the items (%q): %q", want, preview)
	}
}
