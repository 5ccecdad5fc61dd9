package handlers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
	"github.com/canceldesk/canceldesk/store"
)

// backlogOrder puts an order on the refund-later backlog the way a busy
// Monday does: 2 × Mug (10.00, SKU MUG-E2E) and 1 × Poster (30.00), tax
// 5.00, shipping 8.00, cancelled with "refund later" and no restock; the
// poster was refunded since. What is left: the mugs, their tax, shipping.
func backlogOrder(t *testing.T, db *store.DB) *canceldesk.Order {
	t.Helper()
	ctx := context.Background()
	o := &canceldesk.Order{Name: "#E2E-REFUND", Email: "lin@example.com", Currency: "USD", Subtotal: 5000, Taxes: 500,
		Shipping: 800, Total: 6300, FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual",
		FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow, Source: "web",
		BillingAddress: canceldesk.Address{Name: "Lin Chia-hui"}, CreatedAt: time.Now().UTC().Add(-48 * time.Hour),
		LineItems: []canceldesk.LineItem{
			{Name: "Mug", SKU: "MUG-E2E", Quantity: 2, Price: 1000},
			{Name: "Poster", Quantity: 1, Price: 3000},
		}}
	if _, err := db.ImportOrders(ctx, []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	got, err := db.Order(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.CancelOrder(ctx, canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonCustomer,
		ReasonLabel: "Customer changed their mind", Refund: canceldesk.RefundLater, IdempotencyKey: "e2e-cancel-key-000001",
		Actor: testEmails[canceldesk.RoleStaff]})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.RefundOrder(ctx, canceldesk.RefundRequest{OrderID: o.ID, Method: canceldesk.MethodOriginal,
		Lines:          []canceldesk.RefundLineRequest{{LineItemID: got.LineItems[1].ID, Quantity: 1, Restock: canceldesk.RestockNone}},
		IdempotencyKey: "e2e-refund-key-000001", Actor: testEmails[canceldesk.RoleManager], ActorRole: canceldesk.RoleManager})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestJourneyRefundFromBacklog: the backlog lists a cancelled order still
// owed money; staff open its refund dialog from there, refund one line
// (back to stock) plus shipping, watch the totals follow, confirm; the
// order shows the refund and the backlog no longer lists it.
func TestJourneyRefundFromBacklog(t *testing.T) {
	url, db := liveServer(t)
	o := backlogOrder(t, db)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/refunds?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleStaff)
	row := `[...document.querySelectorAll('.backlog tbody tr')].find(r => r.textContent.includes('#E2E-REFUND'))`
	waitFor(t, ctx, row+` !== undefined`)
	// Left to refund: 2 mugs 20.00 + tax 2.00 + shipping 8.00.
	waitFor(t, ctx, row+`.textContent.includes('US$30.00')`)
	waitFor(t, ctx, `Number(document.querySelector('.nav-count').textContent) > 0`)
	browsertest.Screenshot(t, ctx, "refund-backlog")

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders/"+strconv.FormatInt(o.ID, 10))); err != nil {
		t.Fatal(err)
	}
	openOwedRefund(t, ctx)
	mug := "qty_" + strconv.FormatInt(o.LineItems[0].ID, 10)
	restock := "restock_" + strconv.FormatInt(o.LineItems[0].ID, 10)
	err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`input[name=`+mug+`]`), ""),
		chromedp.SendKeys(chromedp.CSS(`input[name=`+mug+`]`), "2"),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Opened on a refund-later order, the dialog proposed what is owed,
	// shipping included.
	total := `document.querySelector('[data-total=total]').textContent.trim()`
	waitFor(t, ctx, total+` === 'US$30.00'`)
	err = chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`select[name=`+restock+`]`), "cancel"))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('select[name=`+restock+`]').dispatchEvent(new Event('change', {bubbles: true}))`))
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name=shipping_mode][value=full]`)))
	}
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, total+` === 'US$30.00' && document.querySelector('#refund-totals').textContent.includes('2 × Mug go back to stock')`)
	waitFor(t, ctx, `!document.querySelector('#refund-totals button.btn-primary').disabled`)
	browsertest.Screenshot(t, ctx, "refund-dialog")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#refund-totals button.btn-primary`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.toast') !== null && document.querySelectorAll('.refund-row').length === 2`)
	if fin := text(t, ctx, ".page-head .badge-fin-refunded"); fin != "Refunded" {
		t.Errorf("payment badge = %q", fin)
	}
	browsertest.Screenshot(t, ctx, "refund-done")
	got, err := db.Order(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefundedAmount != got.Total || got.LineItems[0].RestockedQuantity != 2 {
		t.Fatalf("refunded %d of %d, mugs %+v", got.RefundedAmount, got.Total, got.LineItems[0])
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/refunds")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('h1') !== null`)
	waitFor(t, ctx, row+` === undefined`)
	browsertest.Screenshot(t, ctx, "refund-backlog-after")
	browsertest.NoConsoleErrors(t, ctx)
}

// TestJourneySettingsAndInventory: a manager sets the staff refund limit
// (a typo is refused beside the field, then saved), then follows a SKU
// from the inventory to its stock changes and on to an order.
func TestJourneySettingsAndInventory(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/settings?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleManager)
	waitFor(t, ctx, `document.querySelector('#limit_USD') !== null`)
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#limit_USD`), "1,00.5"),
		chromedp.Click(chromedp.CSS(`.settings-form button[type=submit]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#limit_USD-error').textContent.includes('amount')`)
	browsertest.Screenshot(t, ctx, "settings-error")
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#limit_USD`), "150"),
		chromedp.Click(chromedp.CSS(`.settings-form button[type=submit]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.search.includes('saved=1') && document.querySelector('#limit_USD').value === '150.00'`)
	browsertest.Screenshot(t, ctx, "settings-saved")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.nav-list a[href="/inventory"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelectorAll('.stock-table tbody tr').length > 5`)
	browsertest.Screenshot(t, ctx, "inventory")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.stock-table tbody tr:first-child a`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/inventory/movements' && document.querySelectorAll('.movements tbody tr').length > 0`)
	browsertest.Screenshot(t, ctx, "inventory-movements")
	// The one error the browser saw is the refused settings form (400).
	for _, e := range browsertest.ConsoleErrors(ctx) {
		if !strings.Contains(e, "status of 400") || !strings.Contains(e, "/settings") {
			t.Errorf("browser reported an error: %s", e)
		}
	}
}
