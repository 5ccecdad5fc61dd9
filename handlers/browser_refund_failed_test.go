package handlers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// TestJourneyFailedRefundRetry: a card order cancelled with refund now
// whose refund could not reach Stripe shows "Refund failed: reason · Retry" at
// the top of its page and no money returned on the Paid card; Retry sends
// the refund again through Stripe (stripe-mock), and the page then says
// Refunded.
func TestJourneyFailedRefundRetry(t *testing.T) {
	processor, stripeUp := stripeProxy(t) // Stripe unreachable until stripeUp
	url, db := liveServer(t, func(c *handlers.Config) { c.Payments = processor(c.Refunds) })
	bg := context.Background()
	o := &canceldesk.Order{Name: "#E2E-CARD", Email: "kai@example.com", Currency: "USD", Subtotal: 8820, Total: 8820,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		PaymentMethod: "Shopify Payments", PaymentReference: "ch_3QsTest", Risk: canceldesk.RiskLow,
		CreatedAt: time.Now().UTC().Add(-3 * time.Hour),
		LineItems: []canceldesk.LineItem{{Name: "Desk lamp", SKU: "LAMP-E2E", Quantity: 2, Price: 4410}}}
	if _, err := db.ImportOrders(bg, []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	_, err := db.CancelOrder(bg, canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonCustomer,
		ReasonLabel: "Customer changed their mind", Refund: canceldesk.RefundNow, NotifyCustomer: true,
		Gateway: "stripe", IdempotencyKey: "e2e-cancel-card-000001", Actor: testEmails[canceldesk.RoleStaff]})
	if err != nil {
		t.Fatal(err)
	}
	if rs, _ := db.Refunds(bg, o.ID); len(rs) != 1 || rs[0].Status != canceldesk.RefundFailed {
		t.Fatalf("refunds with Stripe unreachable = %+v, want one failed", rs)
	}

	ctx := browsertest.New(t)
	page := url + "/orders/" + strconv.FormatInt(o.ID, 10)
	if err := chromedp.Do(ctx, chromedp.Navigate(page+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleStaff)
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#refund-failed') !== null`)
	if got := text(t, ctx, "#refund-failed strong"); !strings.HasPrefix(got, "Refund failed: Stripe could not be reached") || !strings.HasSuffix(got, "(US$88.20 was not given back)") {
		t.Errorf("banner = %q", got)
	}
	waitFor(t, ctx, `!document.querySelector('#pay-h').parentElement.textContent.includes('Net payment')`)
	browsertest.Screenshot(t, ctx, "ra-refund-failed")

	stripeUp(nil)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#refund-failed button`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#refund-failed') === null && document.querySelector('.page-head .badge-fin-refunded') !== null`)
	waitFor(t, ctx, `document.querySelector('#pay-h').parentElement.textContent.includes('Net payment')`)
	browsertest.Screenshot(t, ctx, "ra-refund-retried")
}
