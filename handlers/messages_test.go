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

func TestTemplateEditor(t *testing.T) {
	a := newTestApp(t)
	a.seed(t, 3)
	manager := a.signedIn(t, canceldesk.RoleManager)

	_, list := manager.get(t, "/settings/messages")
	if list.Find(`a[href="/settings/messages/order_cancelled.inventory"]`).Length() != 1 {
		t.Fatal("the out-of-stock cancel message is not listed")
	}
	_, doc := manager.get(t, "/settings/messages/order_cancelled.inventory")
	if subject, _ := doc.Find("#subject").Attr("value"); !strings.Contains(subject, "{order_number}") {
		t.Fatalf("subject = %q", subject)
	}
	// The preview uses a real order: the newest, #1003.
	if pv := doc.Find("#template-preview").Text(); !strings.Contains(pv, "#1003") || strings.Contains(pv, "{order_number}") {
		t.Errorf("preview = %s", pv)
	}

	t.Run("PreviewNamesAnUnknownPlaceholder", func(t *testing.T) {
		form := url.Values{"subject": {"Order {order_number}"}, "body": {"Hi {customer_name}, use {coupon}"}, "order": {"#1001"}}
		res, frag := manager.post(t, "/settings/messages/order_cancelled.inventory/preview", form)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("preview: %d", res.StatusCode)
		}
		if e := frag.Find("#body-error").Text(); !strings.Contains(e, "{coupon}") {
			t.Errorf("body error = %q", e)
		}
		form.Set("body", "Hi {customer_name}, sorry about {order_number}.")
		_, frag = manager.post(t, "/settings/messages/order_cancelled.inventory/preview", form)
		if pv := frag.Find("#template-preview").Text(); !strings.Contains(pv, "sorry about #1001") {
			t.Errorf("preview with #1001 = %s", pv)
		}
	})

	t.Run("SaveRefusesAnUnknownPlaceholder", func(t *testing.T) {
		form := url.Values{"subject": {"Order {order_number}"}, "body": {"Use {coupon}"}}
		res, page := manager.post(t, "/settings/messages/order_cancelled.inventory", form)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(page.Find("#body-error").Text(), "{coupon}") {
			t.Fatalf("status %d, error %q", res.StatusCode, page.Find("#body-error").Text())
		}
		ts, _ := a.db.Templates(context.Background())
		if canceldesk.PickTemplate(ts, "en", "order_cancelled", "inventory").UpdatedBy != "" {
			t.Fatal("a refused template was saved")
		}
	})

	t.Run("SavedTemplateIsUsed", func(t *testing.T) {
		form := url.Values{"subject": {"Sorry, {order_number} is sold out"}, "body": {"Hello {customer_name},\n\n{items}\n\n{offer}\n\n{store_name}"}}
		if res, _ := manager.post(t, "/settings/messages/order_cancelled.inventory", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", res.StatusCode)
		}
		_, list := manager.get(t, "/settings/messages")
		if !strings.Contains(list.Text(), "Sorry, {order_number} is sold out") || !strings.Contains(list.Text(), testEmails[canceldesk.RoleManager]) {
			t.Errorf("list = %s", list.Find(".template-list").Text())
		}
	})
}

func TestCancelMessageOnTheMessagesPage(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	o := &canceldesk.Order{Name: "#M1", Email: "ada@example.com", Currency: "USD", Subtotal: 1000, Total: 1000,
		FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual", FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		Risk: canceldesk.RiskLow, CreatedAt: base, BillingAddress: canceldesk.Address{Name: "Ada <b>Lovelace</b>"},
		LineItems: []canceldesk.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: 1000}}}
	if _, err := a.db.ImportOrders(ctx, []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	staff := a.signedIn(t, canceldesk.RoleStaff)
	form := cancelFormOf(t, staff, o.ID)
	form.Set("reason", "out_of_stock")
	form.Set("offer", "discount")
	form.Set("offer_text", "COMEBACK10")
	if res, doc := staff.post(t, fmt.Sprintf("/orders/%d/cancel", o.ID), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", res.StatusCode, doc.Find(".field-error").Text())
	}
	if res, _ := staff.get(t, "/messages"); res.StatusCode != http.StatusForbidden {
		t.Errorf("staff reached the messages: %d", res.StatusCode)
	}

	manager := a.signedIn(t, canceldesk.RoleManager)
	_, list := manager.get(t, "/messages")
	row := list.Find(".messages tbody tr")
	if row.Length() != 1 || !strings.Contains(row.Text(), "#M1") || !strings.Contains(row.Text(), "ada@example.com") ||
		!strings.Contains(row.Text(), "Waiting") {
		t.Fatalf("messages = %q", row.Text())
	}
	href, _ := row.Find("a.strong").Attr("href")
	_, show := manager.get(t, href)
	text := show.Find(".mail-text").Text()
	if !strings.Contains(text, "COMEBACK10") || !strings.Contains(text, "1 × Mug") || !strings.Contains(text, "sold out") {
		t.Errorf("text part = %q", text)
	}
	res, _ := manager.get(t, href+"/html")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'self'") {
		t.Errorf("the HTML part's CSP = %q", csp)
	}
	m, err := a.db.Messages(ctx, "", 10)
	if err != nil || len(m) != 1 {
		t.Fatalf("messages: %v %d", err, len(m))
	}
	full, err := a.db.Message(ctx, m[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(full.HTML, "Ada &lt;b&gt;Lovelace&lt;/b&gt;") || strings.Contains(full.HTML, "<b>Lovelace") {
		t.Errorf("the HTML part does not escape the customer's name: %s", full.HTML)
	}

	// Every try failed: a manager sends it again.
	if err := a.db.MarkFailed(ctx, m[0].ID, "550 mailbox unavailable", nil); err != nil {
		t.Fatal(err)
	}
	_, failed := manager.get(t, href)
	if !strings.Contains(failed.Text(), "550 mailbox unavailable") || failed.Find(`form[action$="/resend"]`).Length() != 1 {
		t.Fatal("a failed message shows its error and Send again")
	}
	if res, _ := manager.post(t, href+"/resend", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend: %d", res.StatusCode)
	}
	if got, _ := a.db.Message(ctx, m[0].ID); got.Status != canceldesk.MessagePending || got.Attempts != 0 {
		t.Fatalf("after resend: %s, %d tries", got.Status, got.Attempts)
	}
}
