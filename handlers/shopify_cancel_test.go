package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
)

// teapots is a paid, unshipped order of two teapots.
var teapots = shopifytest.OrderSpec{Email: "ann@example.com",
	Lines: []shopifytest.LineSpec{{Name: "Teapot", SKU: "TEA-1", Quantity: 2, Price: "30.00"}}}

// shopifyOrder adds an order to the stand-in shop and syncs it in as the
// backfill does; it returns the order as stored here.
func (a *shopifyApp) shopifyOrder(t testing.TB, spec shopifytest.OrderSpec) *canceldesk.Order {
	t.Helper()
	ctx := context.Background()
	id := a.shop.AddOrder(spec)
	if _, err := a.worker.Backfill(ctx); err != nil {
		t.Fatal(err)
	}
	name := a.shop.Order(id).Name
	page, err := a.db.ListOrders(ctx, canceldesk.OrderFilter{Query: name})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range page.Orders {
		if o, err := a.db.Order(ctx, s.ID); err == nil && o.ExternalID == id {
			if !o.ShopifyOrder() {
				t.Fatalf("order %s synced in is not a Shopify order: %+v", id, o)
			}
			return o
		}
	}
	t.Fatalf("order %s (%s) was not synced in", id, name)
	return nil
}

// reasonKey is the dialog's first reason option of code.
func reasonKey(code canceldesk.CancelReason) string {
	for _, r := range canceldesk.DefaultReasons {
		if r.Code == code {
			return r.Key
		}
	}
	return ""
}

// cancelChoices opens the cancel dialog of o (at path) and returns its
// form filled: out of stock, refund now, restock to the proposed
// location, a staff note.
func cancelChoices(t testing.TB, c *client, path string) url.Values {
	t.Helper()
	_, doc := c.get(t, path)
	key, _ := doc.Find(`input[name="key"]`).Attr("value")
	loc, _ := doc.Find(`#location option[selected]`).Attr("value")
	if key == "" || loc == "" {
		t.Fatalf("dialog without key (%q) or location (%q)", key, loc)
	}
	return url.Values{"key": {key}, "reason": {reasonKey(canceldesk.ReasonInventory)}, "refund": {"now"},
		"restock": {"1"}, "location": {loc}, "note": {"Glaze batch failed"}}
}

func orderPath(o *canceldesk.Order) string { return fmt.Sprintf("/orders/%d", o.ID) }

// localOrder reads the order here again.
func (a *shopifyApp) localOrder(t testing.TB, o *canceldesk.Order) *canceldesk.Order {
	t.Helper()
	got, err := a.db.Order(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestShopifyCancelDialog(t *testing.T) {
	t.Run("SentWithTheDialogsChoicesThenCancelledWhenTheJobIsDone", func(t *testing.T) {
		// The job is still running when the page stops waiting for it.
		a := newShopifyApp(t, shopifytest.WithJobPolls(12))
		o := a.shopifyOrder(t, teapots)
		staff := a.signedIn(t, canceldesk.RoleStaff)
		form := cancelChoices(t, staff, orderPath(o)+"/cancel")
		res, _ := staff.post(t, orderPath(o)+"/cancel", form)
		if res.StatusCode != 303 || res.Header.Get("Location") != orderPath(o) {
			t.Fatalf("status %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		sent := a.shop.Requests("orderCancel")
		if len(sent) != 1 {
			t.Fatalf("orderCancel sent %d times, want 1", len(sent))
		}
		if got := sent[0].Variables["orderId"]; got != "gid://shopify/Order/"+o.ExternalID {
			t.Errorf("orderId = %v", got)
		}
		c := a.shop.Cancellation(o.ExternalID)
		if c == nil {
			t.Fatal("the stand-in recorded no cancellation")
		}
		if c.Reason != "INVENTORY" || c.RefundMethod["originalPaymentMethodsRefund"] != true || len(c.RefundMethod) != 1 ||
			!c.Restock || c.StaffNote != "Glaze batch failed" || c.NotifyCustomer {
			t.Errorf("orderCancel = %+v; want INVENTORY, original payment, restock, the note, Shopify not emailing", c)
		}

		// Until Shopify's job is done the order is not cancelled here.
		_, doc := staff.get(t, orderPath(o))
		banner := doc.Find("#shopify-call")
		if got := strings.TrimSpace(banner.Find("strong").Text()); got != "Cancelling in Shopify…" {
			t.Errorf("banner = %q", got)
		}
		if doc.Find(".banner-cancelled").Length() != 0 || a.localOrder(t, o).Cancelled() {
			t.Fatal("the order claims cancelled before Shopify's job is done")
		}
		if doc.Find(".menu-item-danger").Length() != 0 {
			t.Error("the order offers another cancel while one is in Shopify")
		}
		if tl := doc.Find(".timeline").Text(); !strings.Contains(tl, "Cancel sent to Shopify") {
			t.Errorf("timeline = %q", tl)
		}
		_, zh := staff.get(t, orderPath(o)+"?lang=zh-TW")
		if got := strings.TrimSpace(zh.Find("#shopify-call strong").Text()); got != "正在 Shopify 取消…" {
			t.Errorf("zh-TW banner = %q", got)
		}
		staff.get(t, orderPath(o)+"?lang=en")
		poll, _ := banner.Attr("hx-get")
		if trig, _ := banner.Attr("hx-trigger"); trig != "every 2s" || !strings.HasPrefix(poll, orderPath(o)+"/shopify?call=") {
			t.Fatalf("banner polls %q every %q", poll, trig)
		}
		res, doc = staff.get(t, poll, "HX-Request", "true")
		if res.StatusCode != 200 || doc.Find("#shopify-call").Length() != 1 || doc.Find("nav.sidebar").Length() != 0 {
			t.Fatalf("poll while running: status %d, %q", res.StatusCode, doc.Text())
		}

		// The same dialog sent again sends nothing twice.
		if res, _ := staff.post(t, orderPath(o)+"/cancel", form); res.StatusCode != 303 {
			t.Errorf("second submission: status %d", res.StatusCode)
		}
		if n := len(a.shop.Requests("orderCancel")); n != 1 {
			t.Errorf("orderCancel sent %d times after a second submission, want 1", n)
		}

		// The worker's loop asks about the job until it is done.
		for i := 0; i < 20 && !a.localOrder(t, o).Cancelled(); i++ {
			if err := a.worker.SendDue(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		got := a.localOrder(t, o)
		if !got.Cancelled() || got.CancelReason != canceldesk.ReasonInventory {
			t.Fatalf("after the job: cancelled %v, reason %q", got.CancelledAt, got.CancelReason)
		}
		res, _ = staff.get(t, poll, "HX-Request", "true")
		if to := res.Header.Get("HX-Redirect"); to != orderPath(o)+"?cancelled=1" {
			t.Fatalf("poll after the job: status %d, HX-Redirect %q", res.StatusCode, to)
		}
		_, doc = staff.get(t, orderPath(o)+"?cancelled=1")
		if doc.Find(".banner-cancelled").Length() != 1 || doc.Find("#shopify-call").Length() != 0 || doc.Find(".toast").Length() != 1 {
			t.Errorf("after the job the page shows: %q", doc.Find("main").Text())
		}
		refunds, err := a.db.Refunds(context.Background(), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(refunds) != 1 || refunds[0].Gateway != canceldesk.GatewayShopify || refunds[0].Status != canceldesk.RefundSucceeded ||
			refunds[0].Amount != o.Total {
			t.Errorf("refunds = %+v, want one of %d succeeded through Shopify", refunds, o.Total)
		}
	})

	t.Run("RefusalComesBackInTheDialogAndNothingIsCancelled", func(t *testing.T) {
		a := newShopifyApp(t)
		spec := teapots
		spec.PendingAuthorization = true
		o := a.shopifyOrder(t, spec)
		form := cancelChoices(t, a.client, orderPath(o)+"/cancel")
		res, doc := a.post(t, orderPath(o)+"/cancel", form)
		if res.StatusCode != 422 {
			t.Fatalf("status %d", res.StatusCode)
		}
		msg := doc.Find(".shopify-refused strong").Text()
		if msg != "Shopify refused the cancel: Cannot cancel an order with a pending payment authorization" {
			t.Errorf("refusal = %q", msg)
		}
		if role, _ := doc.Find(".shopify-refused").Attr("role"); role != "alert" {
			t.Errorf("refusal role = %q", role)
		}
		if key, _ := doc.Find(`input[name="key"]`).Attr("value"); key == form.Get("key") || key == "" {
			t.Error("the dialog sent again would be the refused call")
		}
		if a.localOrder(t, o).Cancelled() {
			t.Fatal("a refused cancel cancelled the order here")
		}
		if _, err := a.db.OpenShopifyCall(context.Background(), o.ID); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			t.Errorf("open call after a refusal: %v", err)
		}
		_, doc = a.get(t, orderPath(o))
		if tl := doc.Find(".timeline").Text(); !strings.Contains(tl, "Shopify refused") || !strings.Contains(tl, "pending payment authorization") {
			t.Errorf("timeline = %q", tl)
		}
		if doc.Find("#shopify-call").Length() != 0 || doc.Find(".menu-item-danger").Length() != 1 {
			t.Error("after a refusal the order must offer the cancel again, with no banner")
		}
		// A page that was polling the call when Shopify refused it goes to
		// the order, which says so.
		res, _ = a.get(t, orderPath(o)+"/shopify?call=1", "HX-Request", "true")
		if to := res.Header.Get("HX-Redirect"); to != orderPath(o)+"?refused=1" {
			t.Fatalf("poll of the refused call: HX-Redirect %q", to)
		}
		_, doc = a.get(t, orderPath(o)+"?refused=1")
		if got := doc.Find(".toast").Text(); got != "Shopify refused the request for "+o.Name+": the timeline says why." {
			t.Errorf("toast = %q", got)
		}
		other := a.shopifyOrder(t, teapots)
		if res, _ := a.get(t, orderPath(other)+"/shopify?call=1", "HX-Request", "true"); res.StatusCode != 404 {
			t.Errorf("a call polled through another order: status %d", res.StatusCode)
		}
	})

	t.Run("BusyShopifyQueuesTheCancel", func(t *testing.T) {
		a := newShopifyApp(t)
		o := a.shopifyOrder(t, teapots)
		form := cancelChoices(t, a.client, orderPath(o)+"/cancel")
		a.shop.ThrottleNext(100)
		res, _ := a.post(t, orderPath(o)+"/cancel", form)
		if res.StatusCode != 303 || res.Header.Get("Location") != orderPath(o) {
			t.Fatalf("status %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		_, doc := a.get(t, orderPath(o))
		if got := doc.Find("#shopify-call strong").Text(); got != "Queued: Shopify is busy. The cancel will be sent shortly." {
			t.Errorf("banner = %q", got)
		}
		if a.localOrder(t, o).Cancelled() {
			t.Fatal("cancelled here while Shopify was busy")
		}
	})

	t.Run("BadChoicesComeBackBesideTheirFieldsAndNothingIsSent", func(t *testing.T) {
		a := newShopifyApp(t)
		o := a.shopifyOrder(t, teapots)
		form := cancelChoices(t, a.client, orderPath(o)+"/cancel")
		for field, change := range map[string]func(url.Values){
			"refund":   func(v url.Values) { v.Set("refund", "someday") },
			"location": func(v url.Values) { v.Set("location", "0") },
			"note":     func(v url.Values) { v.Set("note", strings.Repeat("n", 256)) },
		} {
			v := url.Values{}
			for k, vs := range form {
				v[k] = vs
			}
			change(v)
			res, doc := a.post(t, orderPath(o)+"/cancel", v)
			if res.StatusCode != 400 || strings.TrimSpace(doc.Find("#"+field+"-error").Text()) == "" {
				t.Errorf("%s: status %d, message %q", field, res.StatusCode, doc.Find("#"+field+"-error").Text())
			}
		}
		if n := len(a.shop.Requests("orderCancel")); n != 0 {
			t.Errorf("orderCancel sent %d times for bad choices", n)
		}
	})

	t.Run("ShopifyEmailsTheCustomerWhenSettingsSaySo", func(t *testing.T) {
		a := newShopifyApp(t)
		ctx := context.Background()
		st, err := a.db.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.ShopifyNotifies = true
		if err := a.db.SaveSettings(ctx, st, testEmails[canceldesk.RoleOwner]); err != nil {
			t.Fatal(err)
		}
		o := a.shopifyOrder(t, teapots)
		form := cancelChoices(t, a.client, orderPath(o)+"/cancel")
		form.Set("refund", "later")
		form.Del("restock")
		if res, _ := a.post(t, orderPath(o)+"/cancel", form); res.StatusCode != 303 {
			t.Fatalf("status %d", res.StatusCode)
		}
		c := a.shop.Cancellation(o.ExternalID)
		if c == nil || !c.NotifyCustomer || c.Restock || c.RefundMethod["originalPaymentMethodsRefund"] != false {
			t.Errorf("orderCancel = %+v; want Shopify emailing, no restock, no refund now", c)
		}
	})
}

func TestShopifyBulkCancel(t *testing.T) {
	a := newShopifyApp(t, shopifytest.WithJobPolls(12))
	first, second := a.shopifyOrder(t, teapots), a.shopifyOrder(t, teapots)
	local := a.seed(t, 3)[2] // #1003: the shop's orders are #1001 and #1002
	ids := []string{fmt.Sprint(first.ID), fmt.Sprint(local.ID), fmt.Sprint(second.ID)}
	_, doc := a.get(t, "/orders/cancel?ids="+strings.Join(ids, "&ids="))
	key, _ := doc.Find(`input[name="key"]`).Attr("value")
	for _, o := range []*canceldesk.Order{first, second, local} {
		got := doc.Find(fmt.Sprintf("#bulk-preview-%d .preview-shopify", o.ID)).Length()
		if want := map[bool]int{true: 1}[o.ShopifyOrder()]; got != want {
			t.Errorf("%s: the preview says Shopify cancels it %d times, want %d", o.Name, got, want)
		}
	}
	res, doc := a.post(t, "/orders/cancel", url.Values{"ids": ids, "key": {key},
		"reason": {reasonKey(canceldesk.ReasonCustomer)}, "refund": {"now"}})
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	rows := map[string]*goquery.Selection{}
	doc.Find(".bulk-results li").Each(func(_ int, s *goquery.Selection) { rows[s.Find("a").Text()] = s })
	for _, o := range []*canceldesk.Order{first, second} {
		row := rows[o.Name]
		if row == nil || row.Find(".badge-shopify").Length() != 1 || !strings.Contains(row.Text(), "Cancelling in Shopify…") {
			t.Errorf("%s: row %q", o.Name, row.Text())
		}
		if a.localOrder(t, o).Cancelled() {
			t.Errorf("%s cancelled here before Shopify's job is done", o.Name)
		}
	}
	if row := rows[local.Name]; row == nil || row.Find(".badge-cancelled").Length() != 1 || !a.localOrder(t, local).Cancelled() {
		t.Errorf("the local order: row %q", row.Text())
	}
	if got := doc.Find("#bulk-result-h").Text(); got != "1 order cancelled" {
		t.Errorf("heading = %q", got)
	}
	sent := map[string]bool{}
	for _, r := range a.shop.Requests("orderCancel") {
		sent[fmt.Sprint(r.Variables["orderId"])] = true
	}
	if len(sent) != 2 || !sent["gid://shopify/Order/"+first.ExternalID] || !sent["gid://shopify/Order/"+second.ExternalID] {
		t.Errorf("orderCancel sent for %v", sent)
	}
}

func TestShopifyRequestApproval(t *testing.T) {
	a := newShopifyApp(t, shopifytest.WithJobPolls(12))
	ctx := context.Background()
	o := a.shopifyOrder(t, teapots)
	r, err := a.db.FileRequest(ctx, canceldesk.RequestForm{OrderNumber: o.Name, Email: o.Email, Reason: "changed_mind"},
		"http://example.com/r/", nil)
	if err != nil || r == nil {
		t.Fatalf("request: %v, %v", r, err)
	}
	form := cancelChoices(t, a.client, fmt.Sprintf("%s/cancel?request=%d", orderPath(o), r.ID))
	res, _ := a.post(t, fmt.Sprintf("/requests/%d/approve", r.ID), form)
	if res.StatusCode != 303 || res.Header.Get("Location") != orderPath(o) {
		t.Fatalf("status %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	c := a.shop.Cancellation(o.ExternalID)
	if c == nil || c.NotifyCustomer || c.Reason != "INVENTORY" || !c.Restock {
		t.Errorf("orderCancel = %+v; want the dialog's choices, Shopify not emailing (the approval message does)", c)
	}
	if a.localOrder(t, o).Cancelled() {
		t.Error("cancelled here before Shopify's job is done")
	}
}

func TestShopifyOrderPage(t *testing.T) {
	a := newShopifyApp(t)
	o := a.shopifyOrder(t, teapots)
	_, doc := a.get(t, orderPath(o))
	if got := doc.Find(".page-head .badge-shopify").Text(); got != "Shopify" {
		t.Errorf("badge = %q", got)
	}
	link := doc.Find("a.shopify-admin-link")
	href, _ := link.Attr("href")
	rel, _ := link.Attr("rel")
	target, _ := link.Attr("target")
	if href != "https://admin.shopify.com/store/test-shop/orders/"+o.ExternalID || rel != "noopener noreferrer" || target != "_blank" {
		t.Errorf("admin link = %q rel %q target %q", href, rel, target)
	}
	if !strings.HasPrefix(link.Text(), "Open in Shopify admin") {
		t.Errorf("link text = %q", link.Text())
	}
	imported := a.seed(t, 2)[1] // #1002: the shop's order is #1001
	_, doc = a.get(t, orderPath(imported))
	if doc.Find(".badge-shopify, a.shopify-admin-link").Length() != 0 {
		t.Error("an imported order says it is Shopify's")
	}
}

// cancelledInShopify cancels o through the dialog with choices changed by
// change, and runs the worker until Shopify's job is done.
func (a *shopifyApp) cancelledInShopify(t testing.TB, o *canceldesk.Order, change func(url.Values)) {
	t.Helper()
	form := cancelChoices(t, a.client, orderPath(o)+"/cancel")
	change(form)
	if res, _ := a.post(t, orderPath(o)+"/cancel", form); res.StatusCode != 303 {
		t.Fatalf("cancel: status %d", res.StatusCode)
	}
	for i := 0; i < 20 && !a.localOrder(t, o).Cancelled(); i++ {
		if err := a.worker.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if !a.localOrder(t, o).Cancelled() {
		t.Fatal("the cancel was not completed")
	}
}

// restockForm opens o's restock dialog: its key, the proposed location and
// the quantity field of the first line.
func restockForm(t testing.TB, c *client, o *canceldesk.Order) (key, loc, qty string) {
	t.Helper()
	_, doc := c.get(t, orderPath(o)+"/restock")
	key, _ = doc.Find(`input[name="key"]`).Attr("value")
	loc, _ = doc.Find(`#restock-location option[selected]`).Attr("value")
	qty, _ = doc.Find(`input.qty`).Attr("name")
	return key, loc, qty
}

// TestShopifyRestock: a restock by hand of a Shopify order goes to Shopify
// (refundCreate with its lines and no money, under the form's key) and is
// recorded here once Shopify has done it; Shopify's refusal comes back in
// the dialog.
func TestShopifyRestock(t *testing.T) {
	noRestock := func(v url.Values) { v.Del("restock") }

	t.Run("SentAndRecorded", func(t *testing.T) {
		a := newShopifyApp(t)
		o := a.shopifyOrder(t, teapots)
		a.cancelledInShopify(t, o, noRestock)
		key, loc, qty := restockForm(t, a.client, o)
		res, doc := a.post(t, orderPath(o)+"/restock", url.Values{"key": {key}, "location": {loc}, qty: {"2"}})
		if res.StatusCode != 303 || res.Header.Get("Location") != orderPath(o)+"?restocked=1" {
			t.Fatalf("restock: status %d → %q: %s", res.StatusCode, res.Header.Get("Location"), doc.Find(".banner-error").Text())
		}
		refunds := a.shop.Refunds(o.ExternalID)
		if len(refunds) != 1 || refunds[0].IdempotencyKey != key || refunds[0].Amount != 0 {
			t.Fatalf("refundCreate = %+v; want one, under the form's key, with no money", refunds)
		}
		lines, _ := refunds[0].Input["refundLineItems"].([]any)
		if len(lines) != 1 {
			t.Fatalf("refundLineItems = %v", refunds[0].Input["refundLineItems"])
		}
		line, _ := lines[0].(map[string]any)
		if line["lineItemId"] != o.LineItems[0].ExternalID || fmt.Sprint(line["quantity"]) != "2" || line["restockType"] != "CANCEL" || line["locationId"] == "" {
			t.Errorf("refund line = %v, want %s × 2, CANCEL, a location", line, o.LineItems[0].ExternalID)
		}
		if got := a.localOrder(t, o).LineItems[0].RestockedQuantity; got != 2 {
			t.Errorf("restocked here = %d, want 2", got)
		}
	})

	t.Run("RefusalComesBackInTheDialog", func(t *testing.T) {
		a := newShopifyApp(t)
		o := a.shopifyOrder(t, teapots)
		a.cancelledInShopify(t, o, noRestock)
		backRoom := a.location(t, "Back room") // made here: Shopify knows no such location
		key, _, qty := restockForm(t, a.client, o)
		res, doc := a.post(t, orderPath(o)+"/restock", url.Values{"key": {key}, "location": {fmt.Sprint(backRoom.ID)}, qty: {"2"}})
		if res.StatusCode != 422 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if msg := doc.Find(".banner-error").Text(); !strings.HasPrefix(msg, "Shopify refused the restock: ") {
			t.Errorf("message = %q", msg)
		}
		if newKey, _ := doc.Find(`input[name="key"]`).Attr("value"); newKey == key || newKey == "" {
			t.Error("the dialog sent again would be the refused call")
		}
		if got := a.localOrder(t, o).LineItems[0].RestockedQuantity; got != 0 {
			t.Errorf("restocked here = %d after a refusal", got)
		}
		// Nor is a cancelled Shopify order re-created here: the shop would
		// never have the copy.
		if res, _ := a.post(t, orderPath(o)+"/recreate", nil); res.StatusCode != 409 {
			t.Errorf("re-create: status %d, want 409", res.StatusCode)
		}
	})
}
