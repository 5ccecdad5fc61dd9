package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/payments"
)

// stripeApp is a test app whose card refunds go through Stripe at a
// loopback address nothing listens on yet (Stripe unreachable); up starts
// a proxy to the real stripe-mock there, which rewrite (when not nil) may
// change each request of first, e.g. to make stripe-mock refuse it. opts
// change the app's configuration first (another store, say).
func stripeApp(t *testing.T, opts ...func(*handlers.Config)) (a *testApp, up func(rewrite func(*http.Request))) {
	t.Helper()
	processor, up := stripeProxy(t)
	a = newTestApp(t, append(opts, func(c *handlers.Config) { c.Payments = processor(c.Refunds) })...)
	return a, up
}

// stripeProxy makes the payment worker of an app whose card refunds go to
// Stripe at a loopback address nothing listens on yet; up starts a proxy to
// the real stripe-mock there, which rewrite (when not nil) may change each
// request of first, e.g. to make stripe-mock refuse it.
func stripeProxy(t *testing.T) (processor func(canceldesk.RefundStore) *payments.Processor, up func(rewrite func(*http.Request))) {
	t.Helper()
	mock, err := url.Parse(testenv.StripeMockURL(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // Stripe is down until the proxy listens here
	st, err := payments.NewStripe(payments.StripeConfig{SecretKey: testenv.StripeMockKey, APIBase: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	processor = func(refunds canceldesk.RefundStore) *payments.Processor {
		return &payments.Processor{Store: refunds, Registry: payments.NewRegistry(st),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	return processor, func(rewrite func(*http.Request)) {
		up, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(mock)
		if rewrite != nil {
			direct := proxy.Director
			proxy.Director = func(r *http.Request) { direct(r); rewrite(r) }
		}
		srv := &http.Server{Handler: proxy}
		go srv.Serve(up)
		t.Cleanup(func() { srv.Close() })
	}
}

// cardOrder imports a paid card order of 88.20 with two lines.
func cardOrder(t *testing.T, a *testApp, name string) *canceldesk.Order {
	t.Helper()
	o := &canceldesk.Order{Name: name, Email: "kai@example.com", Currency: "USD", Subtotal: 8820, Total: 8820,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		PaymentMethod: "Shopify Payments", PaymentReference: "ch_3QsTest", Risk: canceldesk.RiskLow, CreatedAt: base,
		LineItems: []canceldesk.LineItem{{Name: "Lamp", SKU: "LAMP", Quantity: 2, Price: 2910}, {Name: "Shade", SKU: "SHADE", Quantity: 1, Price: 3000}}}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestCancelWithFailedCardRefund: with Stripe configured and unreachable,
// a cancel with refund now is not money returned anywhere on the order
// page (the Paid card, the lines, the badge), the page says "Refund
// failed" at the top with a Retry, the toast says the refund failed and
// the customer message about the refund waits; once Stripe answers, Retry
// refunds, the page says Refunded and the message is released.
func TestCancelWithFailedCardRefund(t *testing.T) {
	ctx := context.Background()
	a, up := stripeApp(t)
	o := cardOrder(t, a, "#S20")
	staff := a.signedIn(t, canceldesk.RoleStaff)

	form := cancelFormOf(t, staff, o.ID)
	form.Set("refund", "now")
	form.Set("restock", "")
	form.Set("notify", "1")
	res, _ := staff.post(t, fmt.Sprintf("/orders/%d/cancel", o.ID), form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	_, page := staff.get(t, location(res))
	if toast := page.Find(".toast").Text(); !strings.Contains(toast, "refund failed") {
		t.Errorf("toast = %q; want it to say the refund failed", toast)
	}
	banner := page.Find("#refund-failed")
	if !strings.Contains(banner.Text(), "Refund failed: ") || !strings.Contains(banner.Text(), "Stripe could not be reached") {
		t.Fatalf("banner = %q", banner.Text())
	}
	retry, ok := banner.Find("form[action$='/retry']").Attr("action")
	if !ok {
		t.Fatal("the banner offers no Retry")
	}
	pay := page.Find("#pay-h").Parent().Text()
	if strings.Contains(pay, "Refunded") || strings.Contains(pay, "Net payment") || !strings.Contains(pay, "Refund failed") {
		t.Errorf("Paid card with the refund failed = %q", strings.Join(strings.Fields(pay), " "))
	}
	lines := page.Find("table.lines").Text()
	if strings.Contains(lines, " refunded") || !strings.Contains(lines, "refund failed") {
		t.Errorf("lines with the refund failed = %q", strings.Join(strings.Fields(lines), " "))
	}
	if strings.TrimSpace(page.Find(".page-head .badge-fin-paid").Text()) != "Paid" {
		t.Errorf("badges = %q", page.Find(".page-head .badges").Text())
	}
	msgs, err := a.db.Messages(ctx, "", 10)
	if err != nil || len(msgs) != 1 || msgs[0].WaitsForRefund == 0 {
		t.Fatalf("messages = %+v, %v; want one waiting for the refund", msgs, err)
	}
	if due, err := a.db.ClaimMessages(ctx, 10, time.Nanosecond); err != nil || len(due) != 0 {
		t.Fatalf("claimed %d messages (%v); a message about a failed refund must not go out", len(due), err)
	}
	_, list := staff.get(t, "/orders")
	if row := list.Find("tr:contains('#S20')").Text(); strings.Contains(row, "Refunded") {
		t.Errorf("list row = %q", row)
	}

	up(nil)
	res, _ = staff.post(t, retry, url.Values{})
	_, page = staff.get(t, location(res))
	if page.Find("#refund-failed").Length() != 0 {
		t.Error("the banner stays after a retry that succeeded")
	}
	pay = page.Find("#pay-h").Parent().Text()
	if !strings.Contains(pay, "Refunded") || !strings.Contains(pay, "−US$88.20") {
		t.Errorf("Paid card after the retry = %q", strings.Join(strings.Fields(pay), " "))
	}
	if msgs, _ := a.db.Messages(ctx, "", 10); len(msgs) != 1 || msgs[0].WaitsForRefund != 0 {
		t.Errorf("messages after the retry = %+v; want the message released", msgs)
	}
}

// TestRefundRefusedByStripe: stripe-mock answering the refund with an
// error (here: a request it does not know) is a failed refund too, shown
// the same way, and the refund dialog's message waits.
func TestRefundRefusedByStripe(t *testing.T) {
	ctx := context.Background()
	a, up := stripeApp(t)
	up(func(r *http.Request) { r.URL.Path = strings.Replace(r.URL.Path, "/v1/refunds", "/v1/refundz", 1) })
	o := cardOrder(t, a, "#S21")
	got, _ := a.db.Order(ctx, o.ID)
	staff := a.signedIn(t, canceldesk.RoleStaff)

	_, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
	form := formOf(doc, "form.refund-form")
	form.Set(fmt.Sprintf("qty_%d", got.LineItems[0].ID), "1")
	form.Set("notify", "1")
	res, _ := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund: %d", res.StatusCode)
	}
	_, page := staff.get(t, location(res))
	if toast := page.Find(".toast").Text(); !strings.Contains(toast, "failed") {
		t.Errorf("toast = %q", toast)
	}
	if b := page.Find("#refund-failed").Text(); !strings.Contains(b, "Refund failed: ") {
		t.Fatalf("banner = %q", b)
	}
	if pay := page.Find("#pay-h").Parent().Text(); strings.Contains(pay, "Refunded") {
		t.Errorf("Paid card = %q", strings.Join(strings.Fields(pay), " "))
	}
	if msgs, _ := a.db.Messages(ctx, "", 10); len(msgs) > 0 && msgs[0].WaitsForRefund == 0 {
		t.Errorf("messages = %+v; a message about a failed refund must wait", msgs)
	}
}
