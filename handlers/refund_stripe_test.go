package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// TestRefundThroughStripe: a card order refunds through Stripe (the real
// stripe-mock, reached through a loopback proxy the test can take down).
// Stripe unreachable → the refund shows Failed with the reason and a
// Retry button, the payment status stays Paid; Stripe back → Retry makes
// it Succeeded and the status follows.
func TestRefundThroughStripe(t *testing.T) {
	ctx := context.Background()
	a, up := stripeApp(t)
	o := a.lampOrder(t, "#S1")
	got, _ := a.db.Order(ctx, o.ID)
	staff := a.signedIn(t, canceldesk.RoleStaff)

	_, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
	if label := doc.Find("input[name=method][value=original]").Parent().Text(); !strings.Contains(label, "through Stripe") {
		t.Errorf("method label = %q", label)
	}
	form := formOf(doc, "form.refund-form")
	form.Set(fmt.Sprintf("qty_%d", got.LineItems[0].ID), "1")
	res, _ := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund: %d", res.StatusCode)
	}
	_, page := staff.get(t, location(res))
	row := page.Find(".refund-row")
	if !strings.Contains(row.Text(), "Failed") || !strings.Contains(row.Text(), "Stripe could not be reached") {
		t.Fatalf("refund row with Stripe down = %q", row.Text())
	}
	if strings.TrimSpace(page.Find(".page-head .badge-fin-paid").Text()) != "Paid" {
		t.Error("a failed refund must leave the payment status Paid")
	}
	retry, ok := row.Find("form[action$='/retry']").Attr("action")
	if !ok {
		t.Fatal("a failed refund offers no Retry")
	}

	// Stripe is back.
	up(nil)

	res, _ = staff.post(t, retry, url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", res.StatusCode)
	}
	_, page = staff.get(t, location(res))
	if row := page.Find(".refund-row").Text(); !strings.Contains(row, "Succeeded") || strings.Contains(row, "could not be reached") {
		t.Fatalf("refund row after retry = %q", row)
	}
	if strings.TrimSpace(page.Find(".page-head .badge-fin-partially_refunded").Text()) != "Partially refunded" {
		t.Errorf("badges = %q", page.Find(".page-head .badges").Text())
	}
	rs, _ := a.db.Refunds(ctx, o.ID)
	if len(rs) != 1 || rs[0].Amount != 2000 || !strings.HasPrefix(rs[0].ProviderID, "re_") {
		t.Fatalf("refunds = %+v; a retry must not make a second refund", rs)
	}
}

// TestBulkCancelStripeDownSaysFailed: a bulk cancel whose card refund
// Stripe did not take says the refund failed, never "refunded".
func TestBulkCancelStripeDownSaysFailed(t *testing.T) {
	a, _ := stripeApp(t) // never up: Stripe is down
	o := a.lampOrder(t, "#S2")
	staff := a.signedIn(t, canceldesk.RoleStaff)
	ids := url.Values{"ids": {fmt.Sprint(o.ID)}}
	_, doc := staff.get(t, "/orders/cancel?"+ids.Encode())
	key, _ := doc.Find(`input[name=key]`).Attr("value")
	form := url.Values{"ids": ids["ids"], "key": {key}, "reason": {"out_of_stock"}, "refund": {"now"}}
	res, doc := staff.post(t, "/orders/cancel", form)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("bulk cancel: status %d", res.StatusCode)
	}
	li := doc.Find(".bulk-results li")
	li.Find("a, .badge").Remove()
	if got := strings.Join(strings.Fields(li.Text()), " "); got != "refund of US$40.00 failed" {
		t.Errorf("result = %q, want %q", got, "refund of US$40.00 failed")
	}
}

// lampOrder imports a paid card order of US$40.00 (2 × Lamp) whose
// payment Stripe knows.
func (a *testApp) lampOrder(t *testing.T, name string) *canceldesk.Order {
	t.Helper()
	o := &canceldesk.Order{Name: name, Email: "kai@example.com", Currency: "USD", Subtotal: 4000, Total: 4000,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		PaymentMethod: "Shopify Payments", PaymentReference: "ch_3QsTest", Risk: canceldesk.RiskLow, CreatedAt: base,
		LineItems: []canceldesk.LineItem{{Name: "Lamp", Quantity: 2, Price: 2000}}}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	return o
}
