package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// limitNote is what staff read beside the refund choice with a US$10.00
// limit.
const limitNote = "Refunds above US$10.00 need a manager; choose Refund later or ask a manager."

// staffLimitApp is the dashboard with a staff refund limit of US$10.00.
func staffLimitApp(t *testing.T) *testApp {
	t.Helper()
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	if err := a.db.SaveSettings(context.Background(), canceldesk.Settings{RestockOnCancel: true,
		StaffRefundLimit: map[string]int64{"USD": 1000}, StoreName: "Lamps"}, "owner@example.com"); err != nil {
		t.Fatal(err)
	}
	return a
}

// limitOrder imports a paid, unshipped USD order of n lamps at price.
func (a *testApp) limitOrder(t *testing.T, name string, n int, price int64) *canceldesk.Order {
	t.Helper()
	o := &canceldesk.Order{Name: name, Email: "lin@example.com", Currency: "USD", Subtotal: int64(n) * price,
		Total: int64(n) * price, FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual",
		FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow, CreatedAt: base,
		LineItems: []canceldesk.LineItem{{Name: "Lamp", SKU: "LAMP", Quantity: n, Price: price}}}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	return o
}

func (a *testApp) orderNow(t *testing.T, id int64) *canceldesk.Order {
	t.Helper()
	o, err := a.db.Order(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestStaffLimitCancel: a US$95 cancel with refund now is over a staff
// member's US$10.00 limit: the dialog and its preview say so beside the
// refund choice, the cancel is refused (403) and changes nothing; refund
// later goes ahead, and a manager may refund now.
func TestStaffLimitCancel(t *testing.T) {
	a := staffLimitApp(t)
	staff, manager := a.signedIn(t, canceldesk.RoleStaff), a.signedIn(t, canceldesk.RoleManager)
	o, small, mgr := a.limitOrder(t, "#L1", 1, 9500), a.limitOrder(t, "#L2", 1, 500), a.limitOrder(t, "#L3", 1, 9500)
	path := fmt.Sprintf("/orders/%d/cancel", o.ID)

	_, doc := staff.get(t, path)
	if got := strings.TrimSpace(doc.Find("#refund-limit").Text()); got != limitNote {
		t.Errorf("beside the refund choice: %q, want %q", got, limitNote)
	}
	if !strings.Contains(doc.Find("#cancel-preview").Text(), limitNote) {
		t.Errorf("preview = %q", doc.Find("#cancel-preview").Text())
	}
	form := cancelFormOf(t, staff, o.ID)
	q := url.Values{}
	for k, v := range form {
		q[k] = v
	}
	q.Set("refund", "later")
	if _, p := staff.get(t, path+"/preview?"+q.Encode(), "HX-Request", "true"); strings.Contains(p.Text(), limitNote) {
		t.Errorf("refund later needs no manager: %q", p.Text())
	}

	res, page := staff.post(t, path, form)
	if res.StatusCode != http.StatusForbidden || strings.TrimSpace(page.Find("#refund-error").Text()) != limitNote {
		t.Fatalf("staff refunding US$95.00 now: %d, refund error %q", res.StatusCode, page.Find("#refund-error").Text())
	}
	if got := a.orderNow(t, o.ID); got.Cancelled() || got.RefundedAmount != 0 {
		t.Fatalf("a refused cancel changed the order: cancelled %v, refunded %d", got.Cancelled(), got.RefundedAmount)
	}
	form.Set("refund", "later")
	if res, _ := staff.post(t, path, form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund later: %d", res.StatusCode)
	}
	if got := a.orderNow(t, o.ID); !got.Cancelled() || got.RefundedAmount != 0 {
		t.Errorf("refund later: cancelled %v, refunded %d", got.Cancelled(), got.RefundedAmount)
	}

	_, doc = staff.get(t, fmt.Sprintf("/orders/%d/cancel", small.ID))
	if doc.Find("#refund-limit").Length() != 0 {
		t.Error("a US$5.00 refund is within the limit")
	}
	if res, _ := staff.post(t, fmt.Sprintf("/orders/%d/cancel", small.ID), cancelFormOf(t, staff, small.ID)); res.StatusCode != http.StatusSeeOther {
		t.Errorf("staff refunding US$5.00: %d", res.StatusCode)
	}

	_, doc = manager.get(t, fmt.Sprintf("/orders/%d/cancel", mgr.ID))
	if doc.Find("#refund-limit").Length() != 0 {
		t.Error("a manager has no staff limit")
	}
	if res, _ := manager.post(t, fmt.Sprintf("/orders/%d/cancel", mgr.ID), cancelFormOf(t, manager, mgr.ID)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("manager refunding US$95.00: %d", res.StatusCode)
	}
	if got := a.orderNow(t, mgr.ID); got.RefundedAmount != 9500 {
		t.Errorf("manager refunded %d", got.RefundedAmount)
	}
}

// TestStaffLimitBulk: a bulk cancel as staff cancels the orders within the
// limit and lists those over it as needing a manager, untouched.
func TestStaffLimitBulk(t *testing.T) {
	a := staffLimitApp(t)
	staff := a.signedIn(t, canceldesk.RoleStaff)
	big, small := a.limitOrder(t, "#L10", 1, 9500), a.limitOrder(t, "#L11", 1, 500)
	ids := []string{strconv.FormatInt(big.ID, 10), strconv.FormatInt(small.ID, 10)}
	_, doc := staff.get(t, "/orders/cancel?"+url.Values{"ids": ids}.Encode())
	if note := doc.Find("#refund-limit").Text(); !strings.Contains(note, "Refunding 1 of these orders now would go over your staff refund limit") {
		t.Errorf("bulk form note = %q", note)
	}
	form := formOf(doc, "form.cancel-form")
	form["ids"] = ids
	res, doc := staff.post(t, "/orders/cancel", form)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("bulk cancel: %d", res.StatusCode)
	}
	refused := doc.Find(".bulk-results li.needs-manager")
	if refused.Length() != 1 || !strings.Contains(refused.Text(), "#L10") || !strings.Contains(refused.Text(), limitNote) ||
		!strings.Contains(refused.Text(), "Needs a manager") || doc.Find(".bulk-results li.done").Length() != 1 {
		t.Errorf("results = %q", doc.Find(".bulk-results").Text())
	}
	if got := a.orderNow(t, big.ID); got.Cancelled() || got.RefundedAmount != 0 {
		t.Errorf("#L10 over the limit: cancelled %v, refunded %d", got.Cancelled(), got.RefundedAmount)
	}
	if got := a.orderNow(t, small.ID); !got.Cancelled() || got.RefundedAmount != 500 {
		t.Errorf("#L11 within the limit: cancelled %v, refunded %d", got.Cancelled(), got.RefundedAmount)
	}
}

// TestStaffLimitApprove: staff may decide customer requests within their
// limit; approving one over it says so and leaves the request pending, for
// a manager to approve.
func TestStaffLimitApprove(t *testing.T) {
	a := staffLimitApp(t)
	staff, manager := a.signedIn(t, canceldesk.RoleStaff), a.signedIn(t, canceldesk.RoleManager)
	o := a.requestOrder(t, "#L20") // US$20.00
	fileRequest(t, a, "10.6.0.1", requestForm("#L20", "buyer@example.com"))

	approveAs := func(c *client) (*http.Response, string) {
		_, queue := c.get(t, "/requests")
		href, _ := queue.Find(".queue-row a.btn-primary").First().Attr("href")
		_, dialog := c.get(t, href)
		if got := strings.TrimSpace(dialog.Find("#refund-limit").Text()); (c == staff) != (got != "") {
			t.Errorf("note beside the refund choice: %q", got)
		}
		res, page := c.post(t, dialog.Find("form.cancel-form").AttrOr("action", ""), formOf(dialog, "form.cancel-form"))
		return res, strings.TrimSpace(page.Find("#refund-error").Text())
	}
	res, msg := approveAs(staff)
	if res.StatusCode != http.StatusForbidden || msg != limitNote {
		t.Fatalf("staff approving US$20.00: %d, %q", res.StatusCode, msg)
	}
	if _, queue := staff.get(t, "/requests"); queue.Find(".queue-row").Length() != 1 || a.orderNow(t, o.ID).Cancelled() {
		t.Fatal("a refused approval must leave the request pending and the order open")
	}
	if res, _ := approveAs(manager); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("manager approving: %d", res.StatusCode)
	}
	if got := a.orderNow(t, o.ID); !got.Cancelled() || got.RefundedAmount != 2000 {
		t.Errorf("after the manager's approval: cancelled %v, refunded %d", got.Cancelled(), got.RefundedAmount)
	}
}

// TestStaffLimitSmallRefunds: five refunds of US$3.00 in a row by one staff
// member stop at the US$10.00 limit: what they refunded on the order before
// counts.
func TestStaffLimitSmallRefunds(t *testing.T) {
	a := staffLimitApp(t)
	staff := a.signedIn(t, canceldesk.RoleStaff)
	o := a.limitOrder(t, "#L30", 10, 300)
	line := o.LineItems[0].ID
	path := fmt.Sprintf("/orders/%d/refund", o.ID)
	for i := 1; i <= 5; i++ {
		_, doc := staff.get(t, path)
		form := formOf(doc, "form.refund-form")
		form.Set(fmt.Sprintf("qty_%d", line), "1")
		form.Set(fmt.Sprintf("restock_%d", line), string(canceldesk.RestockNone))
		res, page := staff.post(t, path, form)
		switch {
		case i <= 3 && res.StatusCode != http.StatusSeeOther:
			t.Errorf("refund %d of US$3.00: %d %q", i, res.StatusCode, page.Find(".field-error, .banner-error").Text())
		case i > 3 && (res.StatusCode != http.StatusForbidden || !strings.Contains(page.Find("#total-error").Text(), "need a manager")):
			t.Errorf("refund %d of US$3.00, over the limit with the three before: %d %q", i, res.StatusCode, page.Find("#total-error").Text())
		}
	}
	if got := a.orderNow(t, o.ID).RefundedAmount; got != 900 {
		t.Errorf("refunded %d, want 900", got)
	}
}
