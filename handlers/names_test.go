package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// Pages name orders by their names, never by the database's ids: the stock
// ledger, the timeline of a re-created order, and a void is not a refund.
func TestPagesNameOrdersNotIDs(t *testing.T) {
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	a.seed(t, 3) // ids and names apart: #1001.. are ids 1..
	o := a.refundOrder(t, "#3999")
	staff := a.signedIn(t, canceldesk.RoleStaff)
	id := strconv.FormatInt(o.ID, 10)
	if strings.Contains(o.Name, id) {
		t.Fatalf("order %s has id %s: the test cannot tell them apart", o.Name, id)
	}

	form := cancelFormOf(t, staff, o.ID)
	form.Set("reason", "customer_changed_mind")
	form.Set("refund", "later")
	if res, _ := staff.post(t, "/orders/"+id+"/cancel", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	_, inv := staff.get(t, "/inventory/movements?sku=MUG")
	link := inv.Find(".movements tbody tr a[href='/orders/" + id + "']").First()
	if got := link.Text(); got != "#3999" {
		t.Errorf("ledger names the order %q, want #3999", got)
	}
	if txt := inv.Find(".movements").Text(); strings.Contains(txt, "Order "+id) {
		t.Errorf("ledger shows the internal id: %q", txt)
	}

	res, _ := staff.post(t, "/orders/"+id+"/recreate", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("recreate: %d", res.StatusCode)
	}
	_, page := staff.get(t, "/orders/"+id)
	tl := page.Find(".timeline").Text()
	if !strings.Contains(tl, "#3999-R1") || strings.Contains(tl, "(order") {
		t.Errorf("timeline = %q; want the new order's name and no internal id", tl)
	}
}

// An authorization released on cancel is listed as a void, not a refund.
func TestVoidIsNotCalledARefund(t *testing.T) {
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	o := &canceldesk.Order{Name: "#5001", Currency: "USD", Subtotal: 2000, Total: 2000, PaymentMethod: "manual",
		FinancialStatus: canceldesk.FinancialAuthorized, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, CreatedAt: base,
		LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 2000}}}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	form := cancelFormOf(t, a.client, o.ID)
	form.Set("reason", "customer_changed_mind")
	if res, doc := a.post(t, fmt.Sprintf("/orders/%d/cancel", o.ID), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", res.StatusCode, doc.Find(".field-error, .banner").Text())
	}
	_, page := a.get(t, fmt.Sprintf("/orders/%d?cancelled=1", o.ID))
	if h := strings.TrimSpace(page.Find("#refunds-h").Text()); h != "Voids" {
		t.Errorf("the list of the void is headed %q, want Voids", h)
	}
	if row := page.Find(".refund-list").Text(); !strings.Contains(row, "Void") {
		t.Errorf("refund list = %q", row)
	}
}
