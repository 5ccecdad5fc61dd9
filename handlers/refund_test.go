package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

// formOf reads a form's fields as the browser would submit them: hidden,
// text and number inputs, checked radios and boxes, selected options.
func formOf(doc *goquery.Document, selector string) url.Values {
	form := url.Values{}
	f := doc.Find(selector)
	f.Find("input").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		typ, _ := s.Attr("type")
		v, _ := s.Attr("value")
		_, disabled := s.Attr("disabled")
		switch {
		case name == "" || name == "_csrf" || disabled:
		case typ == "radio" || typ == "checkbox":
			if _, ok := s.Attr("checked"); ok {
				form.Set(name, v)
			}
		default:
			form.Set(name, v)
		}
	})
	f.Find("select").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		opt := s.Find("option[selected]")
		if opt.Length() == 0 {
			opt = s.Find("option").First()
		}
		v, _ := opt.Attr("value")
		form.Set(name, v)
	})
	f.Find("textarea").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		form.Set(name, s.Text())
	})
	return form
}

// refundOrder imports one paid, unfulfilled USD order with two lines, tax
// and shipping: 2 × Mug at 10.00 (SKU MUG) and 1 × Poster at 30.00 (no
// SKU); subtotal 50.00, tax 5.00, shipping 8.00, total 63.00.
func (a *testApp) refundOrder(t *testing.T, name string) *canceldesk.Order {
	t.Helper()
	o := &canceldesk.Order{Name: name, Email: "ada@example.com", Currency: "USD", Subtotal: 5000, Taxes: 500,
		Shipping: 800, Total: 6300, FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual",
		FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow, CreatedAt: base,
		LineItems: []canceldesk.LineItem{
			{Name: "Mug", SKU: "MUG", Quantity: 2, Price: 1000},
			{Name: "Poster", Quantity: 1, Price: 3000},
		}}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	return o
}

func onHand(t *testing.T, a *testApp, sku string) int {
	t.Helper()
	levels, err := a.db.Stock(context.Background(), []string{sku})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range levels {
		n += l.OnHand
	}
	return n
}

func TestRefund(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	loc := a.location(t, "Main Warehouse")
	staff := a.signedIn(t, canceldesk.RoleStaff)

	t.Run("DialogShowsWhatIsRefundable", func(t *testing.T) {
		o := a.refundOrder(t, "#R100")
		res, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID), "HX-Request", "true")
		if res.StatusCode != 200 || doc.Find("nav.sidebar").Length() != 0 {
			t.Fatalf("status %d; htmx must get the dialog alone", res.StatusCode)
		}
		mug := o.LineItems[0].ID
		if max, _ := doc.Find(fmt.Sprintf("input[name=qty_%d]", mug)).Attr("max"); max != "2" {
			t.Errorf("mug max = %q, want 2", max)
		}
		if doc.Find(`button[type=submit].btn-primary[disabled]`).Length() != 1 {
			t.Error("with nothing chosen, the refund button must be disabled")
		}
		if !strings.Contains(doc.Find("#refund-totals").Text(), "US$63.00 can still be refunded") {
			t.Errorf("totals = %s", doc.Find("#refund-totals").Text())
		}
	})

	t.Run("TotalsRecomputeLive", func(t *testing.T) {
		o := a.refundOrder(t, "#R101")
		mug := o.LineItems[0].ID
		q := url.Values{"key": {"live-totals-key-0001"}, "method": {"original"}, "location": {strconv.FormatInt(loc.ID, 10)},
			fmt.Sprintf("qty_%d", mug): {"1"}, fmt.Sprintf("restock_%d", mug): {"cancel"}, "shipping_mode": {"full"}}
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund/totals?%s", o.ID, q.Encode()), "HX-Request", "true")
		// 1 mug 10.00, its tax share 5.00 × 10/50 = 1.00, shipping 8.00.
		for field, want := range map[string]string{"items": "US$10.00", "tax": "US$1.00", "shipping": "US$8.00", "total": "US$19.00"} {
			if got := strings.TrimSpace(doc.Find(fmt.Sprintf(`[data-total=%s]`, field)).Text()); got != want {
				t.Errorf("%s = %q, want %q", field, got, want)
			}
		}
		if !strings.Contains(doc.Text(), "1 × Mug goes back to stock") {
			t.Errorf("preview = %s", doc.Text())
		}
		if doc.Find(`button[type=submit].btn-primary[disabled]`).Length() != 0 {
			t.Error("a valid refund must be confirmable")
		}
	})

	t.Run("RefundsOneLinePlusShippingOnce", func(t *testing.T) {
		o := a.refundOrder(t, "#R102")
		mug := o.LineItems[0].ID
		before := onHand(t, a, "MUG")
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
		form := formOf(doc, "form.refund-form")
		form.Set(fmt.Sprintf("qty_%d", mug), "2")
		form.Set(fmt.Sprintf("restock_%d", mug), "cancel")
		form.Set("shipping_mode", "full")
		form.Set("note", "Customer kept the poster")
		for i := 0; i < 2; i++ { // a double click
			res, _ := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("submission %d: status %d", i+1, res.StatusCode)
			}
		}
		got, _ := a.db.Order(ctx, o.ID)
		// 2 mugs 20.00 + tax 2.00 + shipping 8.00
		if got.RefundedAmount != 3000 || got.FinancialStatus != canceldesk.FinancialPartiallyRefunded {
			t.Fatalf("refunded %d (%s), want 3000 partially_refunded", got.RefundedAmount, got.FinancialStatus)
		}
		if n := onHand(t, a, "MUG"); n != before+2 {
			t.Errorf("MUG on hand %d, want %d", n, before+2)
		}
		_, page := staff.get(t, fmt.Sprintf("/orders/%d?refunded=1", o.ID))
		refunds := page.Find(".refund-row")
		if refunds.Length() != 1 || !strings.Contains(refunds.Text(), "US$30.00") || !strings.Contains(refunds.Text(), "Succeeded") {
			t.Errorf("refunds card = %q", refunds.Text())
		}
		if page.Find(".toast").Length() != 1 {
			t.Error("no confirmation toast")
		}
	})

	t.Run("ErrTooManyBesideTheFieldChangesNothing", func(t *testing.T) {
		o := a.refundOrder(t, "#R103")
		mug := o.LineItems[0].ID
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
		form := formOf(doc, "form.refund-form")
		form.Set(fmt.Sprintf("qty_%d", mug), "3")
		res, page := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form)
		if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(page.Find(fmt.Sprintf("#qty_%d-error", mug)).Text()) == "" {
			t.Fatalf("status %d, error %q", res.StatusCode, page.Find(fmt.Sprintf("#qty_%d-error", mug)).Text())
		}
		form.Set(fmt.Sprintf("qty_%d", mug), "1")
		form.Set("adjustment", "12,5")
		res, page = staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form)
		if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(page.Find("#adjustment-error").Text()) == "" {
			t.Fatalf("bad adjustment: status %d", res.StatusCode)
		}
		if got, _ := a.db.Order(ctx, o.ID); got.RefundedAmount != 0 {
			t.Fatalf("a refused refund refunded %d", got.RefundedAmount)
		}
	})

	t.Run("StaffLimitNeedsAManager", func(t *testing.T) {
		manager := a.signedIn(t, canceldesk.RoleManager)
		_, doc := manager.get(t, "/settings")
		form := formOf(doc, "form.settings-form")
		form.Set("limit_USD", "25.00")
		if res, _ := manager.post(t, "/settings", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("saving settings: %d", res.StatusCode)
		}
		o := a.refundOrder(t, "#R104")
		_, doc = staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
		form = formOf(doc, "form.refund-form")
		form.Set(fmt.Sprintf("qty_%d", o.LineItems[1].ID), "1") // poster 30.00 + 3.00 tax
		res, page := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form)
		if res.StatusCode == http.StatusSeeOther || !strings.Contains(page.Text(), "manager") {
			t.Fatalf("staff over the limit: status %d", res.StatusCode)
		}
		if got, _ := a.db.Order(ctx, o.ID); got.RefundedAmount != 0 {
			t.Fatal("a refund over the staff limit went through")
		}
		_, doc = manager.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
		form = formOf(doc, "form.refund-form")
		form.Set(fmt.Sprintf("qty_%d", o.LineItems[1].ID), "1")
		if res, _ := manager.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("manager refund: %d", res.StatusCode)
		}
		if got, _ := a.db.Order(ctx, o.ID); got.RefundedAmount != 3300 {
			t.Fatalf("refunded %d, want 3300", got.RefundedAmount)
		}
		_, doc = manager.get(t, "/settings")
		form = formOf(doc, "form.settings-form")
		form.Set("limit_USD", "ten")
		res, page = manager.post(t, "/settings", form)
		if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(page.Find("#limit_USD-error").Text()) == "" {
			t.Fatalf("bad limit: status %d", res.StatusCode)
		}
		form.Set("limit_USD", "")
		manager.post(t, "/settings", form)
		if res, _ := staff.get(t, "/settings"); res.StatusCode != http.StatusForbidden {
			t.Errorf("staff reached settings: %d", res.StatusCode)
		}
	})

	t.Run("StoreCreditShowsItsCode", func(t *testing.T) {
		o := a.refundOrder(t, "#R105")
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
		form := formOf(doc, "form.refund-form")
		form.Set(fmt.Sprintf("qty_%d", o.LineItems[0].ID), "1")
		form.Set("method", "store_credit")
		// A credit that expired yesterday is refused beside its field, and nothing is refunded.
		form.Set("credit_expires", a.clock.Now().AddDate(0, 0, -1).Format("2006-01-02"))
		if res, page := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form); res.StatusCode != http.StatusBadRequest ||
			!strings.Contains(page.Find("#credit_expires-error").Text(), "already expired") {
			t.Fatalf("past expiry: status %d, error %q", res.StatusCode, page.Find("#credit_expires-error").Text())
		}
		if _, page := staff.get(t, fmt.Sprintf("/orders/%d", o.ID)); page.Find(".credit-code").Length() != 0 {
			t.Fatal("a refused credit was issued")
		}
		form.Set("credit_expires", base.AddDate(1, 0, 0).Format("2006-01-02"))
		if res, _ := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", res.StatusCode)
		}
		_, page := staff.get(t, fmt.Sprintf("/orders/%d", o.ID))
		code := strings.TrimSpace(page.Find(".credit-code").Text())
		if !strings.HasPrefix(code, "CD-") || !strings.Contains(page.Find(".credit").Text(), "US$11.00") {
			t.Errorf("credit = %q", page.Find(".credit").Text())
		}
	})
}

func TestBacklogAndRestock(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	loc := a.location(t, "Main Warehouse")
	staff := a.signedIn(t, canceldesk.RoleStaff)
	o := a.refundOrder(t, "#B200")

	_, empty := staff.get(t, "/refunds")
	if empty.Find(".backlog tbody tr").Length() != 0 || empty.Find(".empty-state").Length() != 1 {
		t.Fatal("the backlog must start empty")
	}

	// Cancel with refund later and no restock.
	form := cancelFormOf(t, staff, o.ID)
	form.Set("refund", "later")
	form.Del("restock")
	if res, doc := staff.post(t, fmt.Sprintf("/orders/%d/cancel", o.ID), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", res.StatusCode, doc.Find("main").Text())
	}
	a.clock.Advance(3*24*time.Hour + time.Hour)
	staff = a.signedIn(t, canceldesk.RoleStaff) // the old session has ended meanwhile

	t.Run("BacklogListsTheOrderWithACount", func(t *testing.T) {
		_, doc := staff.get(t, "/refunds")
		rows := doc.Find(".backlog tbody tr")
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "#B200") || !strings.Contains(rows.Text(), "US$63.00") || !strings.Contains(rows.Text(), "3 days") {
			t.Fatalf("backlog rows = %q", rows.Text())
		}
		if n := strings.TrimSpace(doc.Find(".nav-count").Text()); n != "1" {
			t.Errorf("navigation count = %q", n)
		}
		if href, _ := rows.Find("a.btn").Attr("href"); href != fmt.Sprintf("/orders/%d/refund?owed=1", o.ID) {
			t.Errorf("row action = %q", href)
		}
	})

	t.Run("ManualRestockOnce", func(t *testing.T) {
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/restock", o.ID))
		mug := o.LineItems[0].ID
		if doc.Find("input[name=qty_"+strconv.FormatInt(mug, 10)+"]").Length() != 1 {
			t.Fatal("the mug is restockable")
		}
		form := formOf(doc, "#restock-dialog-body form")
		form.Set("location", strconv.FormatInt(loc.ID, 10))
		form.Set(fmt.Sprintf("qty_%d", mug), "3")
		if res, page := staff.post(t, fmt.Sprintf("/orders/%d/restock", o.ID), form); res.StatusCode != http.StatusBadRequest ||
			strings.TrimSpace(page.Find(fmt.Sprintf("#qty_%d-error", mug)).Text()) == "" {
			t.Fatalf("3 of 2: status %d", res.StatusCode)
		}
		form.Set(fmt.Sprintf("qty_%d", mug), "2")
		before := onHand(t, a, "MUG")
		for i := 0; i < 2; i++ {
			if res, _ := staff.post(t, fmt.Sprintf("/orders/%d/restock", o.ID), form); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("restock %d: %d", i+1, res.StatusCode)
			}
		}
		if n := onHand(t, a, "MUG"); n != before+2 {
			t.Fatalf("MUG on hand %d, want %d", n, before+2)
		}
		_, again := staff.get(t, fmt.Sprintf("/orders/%d/restock", o.ID))
		if again.Find("input[name^=qty_]").Length() != 0 {
			t.Error("nothing is left to restock")
		}
		_, inv := staff.get(t, "/inventory/movements?sku=MUG")
		row := inv.Find(".movements tbody tr").First()
		if !strings.Contains(row.Text(), "Restocked by hand") || !strings.Contains(row.Text(), "+2") {
			t.Errorf("latest movement = %q", row.Text())
		}
		if href, _ := row.Find("a").Attr("href"); href != fmt.Sprintf("/orders/%d", o.ID) {
			t.Errorf("movement links to %q", href)
		}
		_, stock := staff.get(t, "/inventory")
		if !strings.Contains(stock.Find(".stock-table").Text(), "MUG") {
			t.Error("the inventory page lacks MUG")
		}
	})

	t.Run("RefundingTheRestEmptiesTheBacklog", func(t *testing.T) {
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
		form := formOf(doc, "form.refund-form")
		for _, li := range o.LineItems {
			form.Set(fmt.Sprintf("qty_%d", li.ID), strconv.Itoa(li.Quantity))
		}
		form.Set("shipping_mode", "full")
		if res, _ := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("refund: %d", res.StatusCode)
		}
		got, _ := a.db.Order(ctx, o.ID)
		if got.RefundedAmount != 6300 || got.FinancialStatus != canceldesk.FinancialRefunded {
			t.Fatalf("refunded %d (%s)", got.RefundedAmount, got.FinancialStatus)
		}
		_, after := staff.get(t, "/refunds")
		if after.Find(".backlog tbody tr").Length() != 0 || after.Find(".nav-count").Length() != 0 {
			t.Error("a fully refunded order stays in the backlog")
		}
	})
}

// TestReturnAndRefund: a shipped order cannot be cancelled; the cancel
// dialog points to the return, which proposes every shipped unit back to
// stock, and refunds them.
func TestReturnAndRefund(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	loc := a.location(t, "Main Warehouse")
	staff := a.signedIn(t, canceldesk.RoleStaff)
	o := &canceldesk.Order{Name: "#RET1", Email: "ada@example.com", Currency: "USD", Subtotal: 2000, Total: 2000,
		FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual", FulfillmentStatus: canceldesk.FulfillmentFulfilled,
		Risk: canceldesk.RiskLow, CreatedAt: base,
		LineItems: []canceldesk.LineItem{{Name: "Mug", SKU: "MUG-R", Quantity: 2, Price: 1000, FulfilledQuantity: 2}}}
	if _, err := a.db.ImportOrders(ctx, []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	_, dialog := staff.get(t, fmt.Sprintf("/orders/%d/cancel", o.ID))
	link, ok := dialog.Find(".preview-blockers a").Attr("href")
	if !ok || link != fmt.Sprintf("/orders/%d/refund?return=1", o.ID) {
		t.Fatalf("the blocked cancel points to %q", link)
	}
	_, doc := staff.get(t, link)
	mug := fmt.Sprintf("%d", o.LineItems[0].ID)
	if v, _ := doc.Find("input[name=qty_" + mug + "]").Attr("value"); v != "2" {
		t.Errorf("return proposes %q mugs, want 2", v)
	}
	if v, _ := doc.Find("select[name=restock_" + mug + "] option[selected]").Attr("value"); v != "return" {
		t.Errorf("return proposes restock type %q", v)
	}
	if !strings.Contains(doc.Find("#refund-totals").Text(), "2 × Mug are marked returned and go back to stock") {
		t.Errorf("totals = %s", doc.Find("#refund-totals").Text())
	}
	form := formOf(doc, "form.refund-form")
	form.Set("location", strconv.FormatInt(loc.ID, 10))
	if res, _ := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("return: %d", res.StatusCode)
	}
	got, _ := a.db.Order(ctx, o.ID)
	li := got.LineItems[0]
	if li.ReturnedQuantity != 2 || li.ReturnRestockedQuantity != 2 || got.RefundedAmount != 2000 || got.FinancialStatus != canceldesk.FinancialRefunded {
		t.Fatalf("after the return: line %+v, refunded %d (%s)", li, got.RefundedAmount, got.FinancialStatus)
	}
	if n := onHand(t, a, "MUG-R"); n != 2 {
		t.Errorf("MUG-R on hand %d, want 2", n)
	}
}

// TestStoreCreditExpiryIsOneDay: a store credit valid through 2027-06-30
// says so everywhere (the refund dialog's summary, the order page, the
// customer's email), in a store east and one west of UTC.
func TestStoreCreditExpiryIsOneDay(t *testing.T) {
	for _, zone := range []string{"Asia/Taipei", "America/Los_Angeles"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			a := newTestApp(t, func(cfg *handlers.Config) { cfg.Location = loc })
			if err := a.db.SetStatsZone(context.Background(), loc); err != nil {
				t.Fatal(err)
			}
			staff := a.signedIn(t, canceldesk.RoleStaff)
			o := a.refundOrder(t, "#E100")
			_, doc := staff.get(t, fmt.Sprintf("/orders/%d/refund", o.ID))
			form := formOf(doc, "form.refund-form")
			form.Set(fmt.Sprintf("qty_%d", o.LineItems[0].ID), "1")
			form.Set("method", "store_credit")
			form.Set("credit_expires", "2027-06-30")
			form.Set("notify", "1")

			_, dialog := staff.get(t, fmt.Sprintf("/orders/%d/refund?%s", o.ID, form.Encode()))
			if got := strings.TrimSpace(dialog.Find("[data-credit-until]").Text()); got != "Store credit valid until Jun 30, 2027" {
				t.Errorf("dialog summary = %q", got)
			}
			if res, _ := staff.post(t, fmt.Sprintf("/orders/%d/refund", o.ID), form); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("refund: status %d", res.StatusCode)
			}
			_, page := staff.get(t, fmt.Sprintf("/orders/%d", o.ID))
			if got := page.Find(".credit").Text(); !strings.Contains(got, "valid until Jun 30, 2027") {
				t.Errorf("order page = %q, want valid until Jun 30, 2027", got)
			}
			msgs, err := a.db.Messages(context.Background(), "", 10)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, m := range msgs {
				if m.Kind == canceldesk.MessageRefundIssued {
					found = true
					full, err := a.db.Message(context.Background(), m.ID)
					if err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(full.Text, "valid through 2027-06-30") {
						t.Errorf("email = %q, want valid through 2027-06-30", full.Text)
					}
				}
			}
			if !found {
				t.Error("no refund email was owed")
			}
		})
	}
}
