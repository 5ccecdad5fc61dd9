package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/browsertest"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/payments"
)

// TestJourneyFailedRefundRetry: a card order cancelled with refund now
// whose refund Stripe refused shows "Refund failed: reason · Retry" at
// the top of its page and no money returned on the Paid card; Retry sends
// the refund again through Stripe (stripe-mock), and the page then says
// Refunded.
func TestJourneyFailedRefundRetry(t *testing.T) {
	st, err := payments.NewStripe(payments.StripeConfig{SecretKey: testenv.StripeMockKey, APIBase: testenv.StripeMockURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	url, db := liveServer(t, func(c *handlers.Config) {
		c.Payments = &payments.Processor{Store: c.Refunds, Registry: payments.NewRegistry(st),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	})
	bg := context.Background()
	o := &canceldesk.Order{Name: "#E2E-CARD", Email: "kai@example.com", Currency: "USD", Subtotal: 8820, Total: 8820,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		PaymentMethod: "Shopify Payments", PaymentReference: "ch_3QsTest", Risk: canceldesk.RiskLow,
		CreatedAt: time.Now().UTC().Add(-3 * time.Hour),
		LineItems: []canceldesk.LineItem{{Name: "Desk lamp", SKU: "LAMP-E2E", Quantity: 2, Price: 4410}}}
	if _, err := db.ImportOrders(bg, []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	res, err := db.CancelOrder(bg, canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonCustomer,
		ReasonLabel: "Customer changed their mind", Refund: canceldesk.RefundNow, NotifyCustomer: true,
		Gateway: "stripe", IdempotencyKey: "e2e-cancel-card-000001", Actor: testEmails[canceldesk.RoleStaff]})
	if err != nil {
		t.Fatal(err)
	}
	// Stripe's answer to the first try.
	if err := db.SettleRefund(bg, res.Refund.ID, canceldesk.RefundFailed, "", "Your card was declined."); err != nil {
		t.Fatal(err)
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
	if got := text(t, ctx, "#refund-failed strong"); got != "Refund failed: Your card was declined. (US$88.20 was not given back)" {
		t.Errorf("banner = %q", got)
	}
	waitFor(t, ctx, `!document.querySelector('#pay-h').parentElement.textContent.includes('Net payment')`)
	browsertest.Screenshot(t, ctx, "ra-refund-failed")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#refund-failed button`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#refund-failed') === null && document.querySelector('.page-head .badge-fin-refunded') !== null`)
	waitFor(t, ctx, `document.querySelector('#pay-h').parentElement.textContent.includes('Net payment')`)
	browsertest.Screenshot(t, ctx, "ra-refund-retried")
}
