package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
)

// Before confirming, the bulk cancel says per order what will happen: the
// refund and its amount, a void, or skipped and why; the preview follows
// the choices.
func TestBulkCancelPreview(t *testing.T) {
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	orders := a.seed(t, 5) // #1005 is cancelled already
	extra := []*canceldesk.Order{
		{Name: "#AUTH", Currency: "USD", Subtotal: 2000, Total: 2000, FinancialStatus: canceldesk.FinancialAuthorized,
			FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, CreatedAt: base,
			LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 2000}}},
		{Name: "#SHIPPED", Currency: "USD", Subtotal: 3000, Total: 3000, FinancialStatus: canceldesk.FinancialPaid,
			FulfillmentStatus: canceldesk.FulfillmentFulfilled, CreatedAt: base,
			LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 3000, FulfilledQuantity: 1}}},
	}
	if _, err := a.db.ImportOrders(context.Background(), extra, "test"); err != nil {
		t.Fatal(err)
	}
	staff := a.signedIn(t, canceldesk.RoleStaff)
	q := url.Values{}
	for _, o := range append([]*canceldesk.Order{orders[2], orders[4]}, extra...) {
		q.Add("ids", strconv.FormatInt(o.ID, 10))
	}
	preview := func(doc *goquery.Document, o *canceldesk.Order) string {
		return strings.Join(strings.Fields(doc.Find(fmt.Sprintf("#bulk-preview-%d", o.ID)).Text()), " ")
	}

	_, doc := staff.get(t, "/orders/cancel?"+q.Encode())
	for _, tc := range []struct {
		o    *canceldesk.Order
		want string
	}{
		{orders[2], "US$10.02 is refunded"},
		{orders[4], "Skipped"},
		{orders[4], "already cancelled"},
		{extra[0], "US$20.00 is voided"},
		{extra[1], "Skipped"},
		{extra[1], "shipped"},
	} {
		if got := preview(doc, tc.o); !strings.Contains(got, tc.want) {
			t.Errorf("%s: preview %q lacks %q", tc.o.Name, got, tc.want)
		}
	}
	if strings.Contains(preview(doc, orders[2]), "Skipped") {
		t.Errorf("%s will be cancelled, not skipped", orders[2].Name)
	}

	// The live preview follows the choices: refund later.
	key := doc.Find("input[name=key]").AttrOr("value", "")
	q.Set("key", key)
	q.Set("reason", "out_of_stock")
	q.Set("refund", "later")
	res, frag := staff.get(t, "/orders/cancel/preview?"+q.Encode(), "HX-Request", "true")
	if res.StatusCode != 200 || frag.Find("nav.sidebar").Length() != 0 {
		t.Fatalf("preview fragment: status %d", res.StatusCode)
	}
	if got := preview(frag, orders[2]); !strings.Contains(got, "Nothing is refunded now") {
		t.Errorf("refund later: preview %q", got)
	}
	// The live preview sends the form as a GET: the token is on the button.
	if doc.Find("form.cancel-form input[name=_csrf]").Length() != 0 || doc.Find("form.cancel-form button[name=_csrf]").Length() != 1 {
		t.Error("the CSRF token would travel in the preview's URL")
	}
}
