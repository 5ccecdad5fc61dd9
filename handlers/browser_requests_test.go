package handlers_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// TestJourneyCustomerRequest: a customer asks to cancel on the public
// form; a manager approves it from the queue through the cancel dialog;
// the order shows cancelled and the customer's status page says so.
func TestJourneyCustomerRequest(t *testing.T) {
	url, db := liveServer(t)
	ctx := context.Background()
	page, err := db.ListOrders(ctx, canceldesk.OrderFilter{Status: canceldesk.StatusOpen,
		Fulfillment: canceldesk.FulfillmentUnfulfilled, Financial: canceldesk.FinancialPaid, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var o *canceldesk.Order
	for _, s := range page.Orders {
		if got, _ := db.Order(ctx, s.ID); got != nil && got.Email != "" {
			o = got
			break
		}
	}
	if o == nil {
		t.Fatal("the demo data has no open paid order with an email")
	}

	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(url+"/cancel?lang=en")); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS(`#order`), strings.TrimPrefix(o.Name, "#")),
		chromedp.SendKeys(chromedp.CSS(`#email`), strings.ToUpper(o.Email)),
		chromedp.Click(chromedp.CSS(`input[name=reason][value=ordered_by_mistake]`)),
		chromedp.SendKeys(chromedp.CSS(`#comment`), "Wrong size, sorry!"),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, b, "request-form")
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`.request-form button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `location.pathname === '/cancel/sent' && document.readyState === 'complete' && document.querySelector('#sent-h') !== null`)
	browsertest.Screenshot(t, b, "request-sent")

	ms, err := db.Messages(ctx, "", 5)
	if err != nil || len(ms) == 0 || ms[0].Kind != canceldesk.MessageRequestReceived {
		t.Fatalf("messages: %v %+v", err, ms)
	}
	received, err := db.Message(ctx, ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://[^\s]+/r/[A-Za-z0-9_-]+`).FindString(received.Text)
	if link == "" {
		t.Fatalf("no status link in %q", received.Text)
	}

	// The manager works the queue.
	if err := chromedp.Do(b, chromedp.Navigate(url+"/requests")); err != nil {
		t.Fatal(err)
	}
	signIn(t, b, canceldesk.RoleManager)
	row := `[...document.querySelectorAll('.queue-row')].find(r => r.textContent.includes(` + jsString(o.Name) + `))`
	waitFor(t, b, row+` !== undefined && `+row+`.textContent.includes('Wrong size, sorry!')`)
	browsertest.Screenshot(t, b, "request-queue")
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](row+`.querySelector('a.btn-primary').click() || true`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `document.querySelector('form.cancel-form') !== null && document.querySelector('form.cancel-form').action.endsWith('/approve')`)
	browsertest.Screenshot(t, b, "request-approve")
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`form.cancel-form button.btn-destructive`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `document.querySelector('.banner-cancelled') !== null`)
	if badge := text(t, b, ".page-head .badge-cancelled"); badge != "Cancelled" {
		t.Errorf("badge = %q", badge)
	}

	// The customer's link.
	if err := chromedp.Do(b, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `document.querySelector('.steps') !== null`)
	if steps := text(t, b, ".steps"); !strings.Contains(steps, "Approved: the order is cancelled.") || !strings.Contains(steps, "Refunded") {
		t.Errorf("status page = %q", steps)
	}
	browsertest.Screenshot(t, b, "request-status")
	browsertest.NoConsoleErrors(t, b)
}
