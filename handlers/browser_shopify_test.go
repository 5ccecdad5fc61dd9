package handlers_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/browsertest"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
	"github.com/canceldesk/canceldesk/store"
)

// shopifyLiveServer serves the dashboard, with an empty store, connected to
// a stand-in shop through the real client and worker (whose loop the test
// starts if it needs it).
func shopifyLiveServer(t *testing.T, opts ...shopifytest.Option) (string, *store.DB, *shopifytest.Server, *shopify.Worker) {
	t.Helper()
	shop := shopifytest.New(t, opts...)
	worker := newWorker(t, shop)
	base, db := liveServerOf(t, 0, func(cfg *handlers.Config) {
		db := cfg.Store.(*store.DB)
		worker.Store, worker.Orders = db, db
		cfg.Shopify, cfg.ShopifyStore = worker, db
	})
	return base, db, shop, worker
}

// TestJourneyShopifyCancel: a webhook brings a new order in from the
// shop; staff find it in the list, open it and cancel it through the
// dialog; Shopify receives orderCancel with the dialog's choices; the
// order says "Cancelling in Shopify…" until Shopify's job is done, then
// shows cancelled. The server, the store and the worker's loop are the
// real ones; the shop is the stand-in.
func TestJourneyShopifyCancel(t *testing.T) {
	// The job is done after a few polls: the page's wait ends before, so
	// the worker's loop finishes it.
	base, db, shop, worker := shopifyLiveServer(t, shopifytest.WithJobPolls(10))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); worker.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	// The loop's first reconciliation pass ends before the order exists:
	// the webhook, not the pass, brings it in.
	waitUntil(t, "the first pass has ended", func() bool {
		st, err := db.ShopifyState(context.Background())
		return err == nil && st.LastSyncAt != nil
	})

	// A new order at the shop; Shopify posts orders/create.
	id := shop.AddOrder(shopifytest.OrderSpec{Email: "mei.lin@example.com", Note: "Gift wrap, please",
		Lines: []shopifytest.LineSpec{{Name: "Celadon teapot", SKU: "TEA-CEL", Quantity: 1, Price: "68.00"},
			{Name: "Tea cup", SKU: "CUP-CEL", Quantity: 2, Price: "12.50"}}})
	name := shop.Order(id).Name
	body, h := shop.Webhook(canceldesk.TopicOrdersCreate, id)
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/shopify", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("webhook: status %d", res.StatusCode)
	}

	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(base+"/orders?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, b, canceldesk.RoleStaff)
	// The worker takes the delivery from the queue and reads the order
	// from Shopify: it appears in the list.
	row := `[...document.querySelectorAll('#results tbody tr .order-link')].find(a => a.textContent === ` + jsString(name) + `)`
	for i := 0; ; i++ {
		ok, err := chromedp.Run(b, chromedp.Evaluate[bool](row+` !== undefined`))
		if err == nil && ok {
			break
		}
		if i == 50 {
			t.Fatalf("order %s never appeared in the list", name)
		}
		if err := chromedp.Do(b, chromedp.Sleep(200*time.Millisecond), chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
	}
	browsertest.Screenshot(t, b, "shopify-orders-list")
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](row+`.click() || true`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `document.querySelector('.badge-shopify') !== null && document.querySelector('details.menu') !== null`)
	if link := text(t, b, "a.shopify-admin-link"); !strings.HasPrefix(link, "Open in Shopify admin") {
		t.Errorf("admin link = %q", link)
	}
	browsertest.Screenshot(t, b, "shopify-order")
	browsertest.NoAxeViolations(t, b, "shopify-order")

	// Cancel through the dialog: out of stock, refund now, restock, a note.
	openCancelDialog(t, b)
	_, err = chromedp.Run(b, chromedp.Evaluate[bool](`(() => { const r = document.querySelector('#reason'); r.value = `+
		jsString(reasonKey(canceldesk.ReasonInventory))+`; return r.dispatchEvent(new Event('change', {bubbles: true})) })()`))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `document.querySelector('#reason') !== null && document.querySelector('#reason').value === `+jsString(reasonKey(canceldesk.ReasonInventory))+
		` && document.querySelector('#cancel-preview') !== null && !document.querySelector('.htmx-request')`)
	_, err = chromedp.Run(b, chromedp.Evaluate[bool](`(() => { const r = document.querySelector('input[name=restock]'); if (!r.checked) r.click(); return true })()`))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(b,
		chromedp.Click(chromedp.CSS(`input[name=refund][value=now]`)),
		chromedp.SendKeys(chromedp.CSS(`#note`), "Kiln cracked the glaze batch"),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `document.querySelector('#cancel-preview').textContent.includes('is refunded by Shopify') && !document.querySelector('.htmx-request')`)
	if p := text(t, b, "#cancel-preview"); !strings.Contains(p, "Shopify cancels the order") || !strings.Contains(p, "US$98.00 is refunded by Shopify") {
		t.Errorf("preview = %q", p)
	}
	browsertest.Screenshot(t, b, "shopify-cancel-dialog")
	browsertest.NoAxeViolations(t, b, "shopify-cancel-dialog")
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`#cancel-dialog button.btn-destructive`))); err != nil {
		t.Fatal(err)
	}

	// The dialog closes; the order waits for Shopify's job.
	waitFor(t, b, `document.querySelector('#shopify-call') !== null && !document.querySelector('#cancel-dialog').open`)
	if got := text(t, b, "#shopify-call strong"); got != "Cancelling in Shopify…" {
		t.Errorf("banner = %q", got)
	}
	browsertest.Screenshot(t, b, "shopify-cancelling")
	browsertest.NoAxeViolations(t, b, "shopify-cancelling")
	c := shop.Cancellation(id)
	if c == nil {
		t.Fatal("Shopify received no orderCancel")
	}
	if c.Reason != "INVENTORY" || len(c.RefundMethod) != 1 || c.RefundMethod["originalPaymentMethodsRefund"] != true ||
		!c.Restock || c.StaffNote != "Kiln cracked the glaze batch" || c.NotifyCustomer {
		t.Errorf("orderCancel = %+v; want INVENTORY, original payment, restock, the note, no Shopify email", c)
	}
	sent := shop.Requests("orderCancel")
	if len(sent) != 1 || sent[0].Variables["orderId"] != shopify.OrderGID(id) {
		t.Fatalf("orderCancel requests = %d, orderId %v", len(sent), sent[0].Variables["orderId"])
	}

	// Once the job is done, the page shows the order cancelled by itself.
	waitLong(t, b, `document.querySelector('.banner-cancelled') !== null && document.querySelector('#shopify-call') === null`)
	if badge := text(t, b, ".page-head .badge-cancelled"); badge != "Cancelled" {
		t.Errorf("badge = %q", badge)
	}
	if b := text(t, b, ".page-head"); strings.Contains(b, "Re-create") {
		t.Errorf("a Shopify order offers to be re-created here: %q", b)
	}
	if tl := text(t, b, ".timeline"); !strings.Contains(tl, "Received from Shopify") || !strings.Contains(tl, "Cancel sent to Shopify") ||
		!strings.Contains(tl, "Order cancelled") {
		t.Errorf("timeline = %q", tl)
	}
	browsertest.Screenshot(t, b, "shopify-cancelled")
	browsertest.NoAxeViolations(t, b, "shopify-cancelled")
	o, err := db.ListOrders(context.Background(), canceldesk.OrderFilter{Query: name})
	if err != nil || len(o.Orders) != 1 || o.Orders[0].CancelledAt == nil {
		t.Errorf("stored order = %+v (%v), want cancelled", o.Orders, err)
	}
	browsertest.NoConsoleErrors(t, b)
}

// waitLong is waitFor with room for Shopify's job: the worker asks about
// it every 2 seconds, and the page about the call every 2 seconds.
func waitLong(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	for deadline := time.Now().Add(25 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last error: %v)", expr, err)
		}
	}
}

// TestJourneyShopifySettings: a manager reads the connection's state on
// Settings and presses "Sync now" (a button of a form of its own, outside
// the settings form); the pass runs and Settings says when it ended.
func TestJourneyShopifySettings(t *testing.T) {
	base, db, shop, _ := shopifyLiveServer(t)
	shop.AddOrder(teapots)
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(base+"/settings?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, b, canceldesk.RoleManager)
	// Read in the page itself: the sign-in's redirect can replace the
	// document between a CSS query and its text.
	waitFor(t, b, `document.querySelector('#shopify .shopify-last-sync')?.textContent.trim() === 'Not yet'`)
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`#shopify button[form="shopify-sync"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `location.search.includes('saved=shopify') && document.querySelector('.toast') !== null`)
	waitUntil(t, "the pass has ended", func() bool {
		st, err := db.ShopifyState(context.Background())
		return err == nil && st.LastSyncAt != nil
	})
	if err := chromedp.Do(b, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `document.querySelector('#shopify .shopify-last-sync time') !== null`)
	if page, err := db.ListOrders(context.Background(), canceldesk.OrderFilter{}); err != nil || len(page.Orders) != 1 {
		t.Errorf("orders after the pass: %d (%v), want the shop's one", len(page.Orders), err)
	}
	if got := text(t, b, "#shopify .shopify-last-sync"); got == "Not yet" || got == "" {
		t.Errorf("last sync = %q after the pass", got)
	}
	browsertest.Screenshot(t, b, "shopify-settings")
	browsertest.NoAxeViolations(t, b, "shopify-settings")
	browsertest.NoConsoleErrors(t, b)
}

// TestJourneyShopifyRefused: Shopify refuses the cancel (a payment still
// pending authorization); the dialog stays open with Shopify's message at
// its top, and the order is not cancelled.
func TestJourneyShopifyRefused(t *testing.T) {
	base, db, shop, worker := shopifyLiveServer(t)
	spec := teapots
	spec.PendingAuthorization = true
	id := shop.AddOrder(spec)
	if _, err := worker.Backfill(context.Background()); err != nil {
		t.Fatal(err)
	}
	page, err := db.ListOrders(context.Background(), canceldesk.OrderFilter{Query: shop.Order(id).Name})
	if err != nil || len(page.Orders) != 1 {
		t.Fatalf("synced orders: %v (%v)", page.Orders, err)
	}
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(base+orderPath(&canceldesk.Order{ID: page.Orders[0].ID})+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, b, canceldesk.RoleStaff)
	openCancelDialog(t, b)
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`#cancel-dialog button.btn-destructive`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, `document.querySelector('#cancel-dialog').open && document.querySelector('#cancel-dialog .shopify-refused') !== null`)
	if got := text(t, b, "#cancel-dialog .shopify-refused strong"); got != "Shopify refused the cancel: Cannot cancel an order with a pending payment authorization" {
		t.Errorf("refusal = %q", got)
	}
	// At the top: nothing of the dialog but its title comes before it.
	above, err := chromedp.Run(b, chromedp.Evaluate[bool](`(() => {
		const r = document.querySelector('#cancel-dialog .shopify-refused').getBoundingClientRect();
		const f = document.querySelector('#cancel-dialog form').getBoundingClientRect();
		return r.bottom <= f.top })()`))
	if err != nil || !above {
		t.Errorf("the refusal is not above the form (%v)", err)
	}
	browsertest.Screenshot(t, b, "shopify-refused")
	browsertest.NoAxeViolations(t, b, "shopify-refused")
	if o, err := db.Order(context.Background(), page.Orders[0].ID); err != nil || o.Cancelled() {
		t.Errorf("order after the refusal: cancelled %v (%v)", o.CancelledAt, err)
	}
	// The one error the browser saw is the refused cancel (422).
	for _, e := range browsertest.ConsoleErrors(b) {
		if !strings.Contains(e, "status of 422") || !strings.Contains(e, "/cancel") {
			t.Errorf("browser reported an error: %s", e)
		}
	}
}
