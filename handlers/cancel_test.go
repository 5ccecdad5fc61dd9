package handlers_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
)

// cancelForm reads the dialog's fields as the browser would submit them.
func cancelFormOf(t *testing.T, c *client, orderID int64) url.Values {
	t.Helper()
	res, doc := c.get(t, fmt.Sprintf("/orders/%d/cancel", orderID))
	if res.StatusCode != 200 {
		t.Fatalf("dialog: %d", res.StatusCode)
	}
	form := url.Values{}
	doc.Find(".cancel-form input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Attr("value")
		if name != "_csrf" {
			form.Set(name, v)
		}
	})
	doc.Find(".cancel-form input[type=radio][checked], .cancel-form input[type=checkbox][checked]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Attr("value")
		form.Set(name, v)
	})
	doc.Find(".cancel-form select").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Find("option[selected]").Attr("value")
		form.Set(name, v)
	})
	return form
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	orders := a.seed(t, 4) // #1001..#1004 open, paid, unfulfilled
	staff := a.signedIn(t, canceldesk.RoleStaff)

	t.Run("DialogProposesDefaultsWithPreview", func(t *testing.T) {
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/cancel", orders[0].ID))
		if v, _ := doc.Find(`input[name=refund][checked]`).Attr("value"); v != "now" {
			t.Errorf("refund default = %q", v)
		}
		if doc.Find(`input[name=restock][checked]`).Length() != 1 || doc.Find(`input[name=notify][checked]`).Length() != 1 {
			t.Error("restock and notify must default on")
		}
		preview := doc.Find("#cancel-preview").Text()
		for _, want := range []string{"US$10.00 is refunded", "1 × Blue Mug goes back to stock at Main Warehouse", "gets an email"} {
			if !strings.Contains(preview, want) {
				t.Errorf("preview lacks %q: %s", want, preview)
			}
		}
	})

	t.Run("HTMXGetsTheDialogFragment", func(t *testing.T) {
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/cancel", orders[0].ID), "HX-Request", "true")
		if doc.Find("nav.sidebar").Length() != 0 || doc.Find("#cancel-dialog-body form").Length() != 1 {
			t.Fatal("htmx must get the dialog alone")
		}
	})

	t.Run("PreviewFollowsChoices", func(t *testing.T) {
		q := url.Values{"refund": {"later"}, "reason": {"suspected_fraud"}, "key": {"k"}}
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/cancel/preview?%s", orders[0].ID, q.Encode()), "HX-Request", "true")
		text := doc.Find("#cancel-preview").Text()
		if !strings.Contains(text, "Nothing is refunded now") || !strings.Contains(text, "No items go back") || !strings.Contains(text, "not told") {
			t.Errorf("preview = %s", text)
		}
	})

	t.Run("FraudTurnsNotifyOff", func(t *testing.T) {
		q := url.Values{"refund": {"now"}, "reason": {"suspected_fraud"}, "key": {"k-fraud-0123456789"}, "notify": {"1"}, "reason_changed": {"1"}}
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d/cancel?%s", orders[0].ID, q.Encode()), "HX-Request", "true")
		if doc.Find(`input[name=notify][checked]`).Length() != 0 {
			t.Error("choosing fraud must propose not notifying the customer")
		}
		if !strings.Contains(doc.Find("#cancel-preview").Text(), "not told") {
			t.Errorf("preview = %s", doc.Find("#cancel-preview").Text())
		}
	})

	t.Run("ErrNoteTooLongChangesNothing", func(t *testing.T) {
		form := cancelFormOf(t, staff, orders[1].ID)
		form.Set("note", strings.Repeat("n", 256))
		res, doc := staff.post(t, fmt.Sprintf("/orders/%d/cancel", orders[1].ID), form)
		if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(doc.Find("#note-error").Text()) == "" {
			t.Fatalf("status %d, note error %q", res.StatusCode, doc.Find("#note-error").Text())
		}
		if got, _ := a.db.Order(ctx, orders[1].ID); got.Cancelled() {
			t.Fatal("a refused cancel cancelled the order")
		}
	})

	t.Run("ErrUnknownLocationBesideTheField", func(t *testing.T) {
		form := cancelFormOf(t, staff, orders[1].ID)
		form.Set("location", "987654")
		res, doc := staff.post(t, fmt.Sprintf("/orders/%d/cancel", orders[1].ID), form)
		if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(doc.Find("#location-error").Text()) == "" {
			t.Fatalf("status %d, location error %q", res.StatusCode, doc.Find("#location-error").Text())
		}
		if got, _ := a.db.Order(ctx, orders[1].ID); got.Cancelled() {
			t.Fatal("a refused cancel cancelled the order")
		}
	})

	t.Run("ErrMissingCSRFChangesNothing", func(t *testing.T) {
		form := cancelFormOf(t, staff, orders[1].ID)
		form.Set("_csrf", "")
		if res, _ := staff.post(t, fmt.Sprintf("/orders/%d/cancel", orders[1].ID), form); res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", res.StatusCode)
		}
		if got, _ := a.db.Order(ctx, orders[1].ID); got.Cancelled() {
			t.Fatal("a forged cancel cancelled the order")
		}
	})

	t.Run("CancelsOnceForTheSameDialog", func(t *testing.T) {
		id := orders[2].ID
		form := cancelFormOf(t, staff, id)
		form.Set("note", "Customer called <b>twice</b>")
		for i := 0; i < 2; i++ { // a double click
			res, _ := staff.post(t, fmt.Sprintf("/orders/%d/cancel", id), form)
			if res.StatusCode != http.StatusSeeOther || location(res) != "/orders/"+strconv.FormatInt(id, 10)+"?cancelled=1" {
				t.Fatalf("submission %d: %d %s", i+1, res.StatusCode, location(res))
			}
		}
		got, _ := a.db.Order(ctx, id)
		if !got.Cancelled() || got.FinancialStatus != canceldesk.FinancialRefunded || got.RefundedAmount != got.Total {
			t.Fatalf("order after cancel: cancelled %v, %s, refunded %d of %d", got.Cancelled(), got.FinancialStatus, got.RefundedAmount, got.Total)
		}
		events, _ := a.db.Events(ctx, id)
		n := 0
		for _, e := range events {
			if e.Kind == canceldesk.EventCancelled {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d cancelled events, want 1", n)
		}
		_, doc := staff.get(t, location(mustRes(staff.post(t, fmt.Sprintf("/orders/%d/cancel", id), form))))
		banner := doc.Find(".banner-cancelled").Text()
		if !strings.Contains(banner, "staff@example.com") || !strings.Contains(banner, "Customer called <b>twice</b>") {
			t.Errorf("banner = %q", banner)
		}
		if doc.Find(".toast").Length() != 1 {
			t.Error("no confirmation toast")
		}
		_, list := staff.get(t, "/orders")
		row := list.Find("#results tbody tr").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return s.Find(".order-link").Text() == got.Name
		})
		if !row.HasClass("is-cancelled") {
			t.Error("the cancelled order is not struck through in the list")
		}
	})

	t.Run("ErrAlreadyCancelledIs409", func(t *testing.T) {
		id := orders[2].ID
		form := cancelFormOf(t, staff, id)
		res, doc := staff.post(t, fmt.Sprintf("/orders/%d/cancel", id), form)
		if res.StatusCode != http.StatusConflict || !strings.Contains(doc.Text(), "already cancelled") {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

func mustRes(res *http.Response, _ any) *http.Response { return res }

func TestBulkCancel(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	orders := a.seed(t, 5) // #1005 is cancelled already
	staff := a.signedIn(t, canceldesk.RoleStaff)

	_, list := staff.get(t, "/orders")
	if list.Find(`input[name=ids][form=bulk]`).Length() != 4 {
		t.Fatalf("open orders with a checkbox: %d, want 4", list.Find(`input[name=ids][form=bulk]`).Length())
	}
	q := url.Values{}
	for _, o := range orders[2:] {
		q.Add("ids", strconv.FormatInt(o.ID, 10))
	}
	_, doc := staff.get(t, "/orders/cancel?"+q.Encode())
	if n := doc.Find(".bulk-preview > li").Length(); n != 3 {
		t.Fatalf("bulk form lists %d orders", n)
	}
	form := url.Values{"ids": q["ids"]}
	key, _ := doc.Find(`input[name=key]`).Attr("value")
	form.Set("key", key)
	form.Set("reason", "out_of_stock")
	form.Set("refund", "now")
	form.Set("restock", "1")
	loc, _ := doc.Find(`select[name=location] option[selected]`).Attr("value")
	form.Set("location", loc)

	for round := 1; round <= 2; round++ { // the second is a resubmission
		res, doc := staff.post(t, "/orders/cancel", form)
		if res.StatusCode != 200 {
			t.Fatalf("round %d: status %d", round, res.StatusCode)
		}
		done, skipped := doc.Find(".bulk-results li.done").Length(), doc.Find(".bulk-results li.skipped").Length()
		if round == 1 && (done != 2 || skipped != 1) {
			t.Fatalf("round 1: %d cancelled, %d skipped; want 2 and 1 (#1005 was cancelled before)", done, skipped)
		}
		if round == 2 && (done+skipped != 3) {
			t.Fatalf("round 2: %d results", done+skipped)
		}
	}
	for _, o := range orders[2:4] {
		got, _ := a.db.Order(ctx, o.ID)
		c, err := a.db.Cancellation(ctx, o.ID)
		if err != nil || !got.Cancelled() || got.CancelReason != canceldesk.ReasonInventory || len(c.Refunds) != 1 || got.RefundedAmount != got.Total {
			t.Errorf("%s: cancelled %v, reason %s, refunds %v, refunded %d of %d (%v)", got.Name, got.Cancelled(), got.CancelReason, c, got.RefundedAmount, got.Total, err)
		}
	}
	if got, _ := a.db.Order(ctx, orders[0].ID); got.Cancelled() {
		t.Error("an order that was not selected was cancelled")
	}
	// Each cancel is stored as a bulk cancel, and the export says so.
	sources := map[int64]string{}
	err := a.db.ExportCancellations(ctx, time.Unix(0, 0), time.Now().Add(48*time.Hour), func(r canceldesk.ExportRow) error {
		sources[r.OrderID] = r.Source
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orders[2:4] {
		if sources[o.ID] != canceldesk.SourceBulk {
			t.Errorf("%s: source %q, want %q", o.Name, sources[o.ID], canceldesk.SourceBulk)
		}
	}
}

func TestRecreate(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	orders := a.seed(t, 5) // #1005 was cancelled in the shop
	staff := a.signedIn(t, canceldesk.RoleStaff)

	t.Run("ErrOpenOrderIs409", func(t *testing.T) {
		staff.get(t, fmt.Sprintf("/orders/%d", orders[0].ID))
		res, _ := staff.post(t, fmt.Sprintf("/orders/%d/recreate", orders[0].ID), nil)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("status %d", res.StatusCode)
		}
	})

	t.Run("MakesANewOpenOrderLinkedBothWays", func(t *testing.T) {
		orig := orders[4]
		_, doc := staff.get(t, fmt.Sprintf("/orders/%d", orig.ID))
		if doc.Find(`form[action$="/recreate"] button`).Length() != 1 {
			t.Fatal("a cancelled order offers no re-create button")
		}
		res, _ := staff.post(t, fmt.Sprintf("/orders/%d/recreate", orig.ID), nil)
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(location(res), "?recreated=1") {
			t.Fatalf("status %d, location %s", res.StatusCode, location(res))
		}
		_, doc = staff.get(t, location(res))
		if h := doc.Find("h1").First().Text(); h != orig.Name+"-R1" {
			t.Errorf("new order = %q", h)
		}
		if doc.Find(".badge-cancelled").Length() != 0 || doc.Find(".badge-fin-pending").Length() == 0 {
			t.Error("the new order must be open and awaiting payment")
		}
		back, ok := doc.Find(".timeline a").Attr("href")
		if !ok || back != fmt.Sprintf("/orders/%d", orig.ID) {
			t.Errorf("new order's timeline links to %q", back)
		}
		_, docOrig := staff.get(t, back)
		if docOrig.Find(".timeline a").Length() != 1 {
			t.Error("the original's timeline does not link to the new order")
		}
		if got, _ := a.db.Order(ctx, orig.ID); !got.Cancelled() {
			t.Error("the original must stay cancelled")
		}
	})
}

// TestRecreateOnce: an order is re-created once. Forty re-creates at once
// all lead to the same new order, a later one too, and the original's page
// then links to it instead of offering the button.
func TestRecreateOnce(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	orders := a.seed(t, 5) // #1005 was cancelled in the shop
	orig := orders[4]
	staff := a.signedIn(t, canceldesk.RoleStaff)
	staff.get(t, fmt.Sprintf("/orders/%d", orig.ID))

	// The client keeps cookies and the token in one struct: the concurrent
	// requests are built from a copy and sent straight to the app.
	form := url.Values{"_csrf": {staff.csrf}}.Encode()
	locations := make([]string, 40)
	statuses := make([]int, 40)
	var wg sync.WaitGroup
	for i := range locations {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/orders/%d/recreate", orig.ID), strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, ck := range staff.jar {
				req.AddCookie(ck)
			}
			res, err := a.app.Test(req, 30_000)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i], locations[i] = res.StatusCode, location(res)
		})
	}
	wg.Wait()
	for i := range locations {
		if statuses[i] != http.StatusSeeOther || locations[i] != locations[0] {
			t.Errorf("re-create %d: status %d, location %q; want 303 to %q", i, statuses[i], locations[i], locations[0])
		}
	}
	if n, _ := a.db.CountOrders(ctx); n != 6 {
		t.Errorf("orders = %d, want 6 (one re-created)", n)
	}
	// Another staff member, later: the same order.
	a.client.get(t, fmt.Sprintf("/orders/%d", orig.ID))
	res, _ := a.client.post(t, fmt.Sprintf("/orders/%d/recreate", orig.ID), nil)
	if res.StatusCode != http.StatusSeeOther || location(res) != locations[0] {
		t.Errorf("a re-create by another account: status %d, location %q; want 303 to %q", res.StatusCode, location(res), locations[0])
	}
	if n, _ := a.db.CountOrders(ctx); n != 6 {
		t.Errorf("orders = %d after another account's re-create, want 6", n)
	}

	r, err := a.db.Recreation(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, doc := staff.get(t, fmt.Sprintf("/orders/%d", orig.ID))
	if doc.Find(`form[action$="/recreate"]`).Length() != 0 {
		t.Error("a re-created order still offers the re-create button")
	}
	link := doc.Find("a.recreated-link")
	href, _ := link.Attr("href")
	if want := fmt.Sprintf("/orders/%d", r.OrderID); href != want || !strings.HasPrefix(locations[0], want+"?") {
		t.Errorf("link to %q, redirects to %q; want %s", href, locations[0], want)
	}
	if got := strings.TrimSpace(link.Text()); got != "View re-created order #1005-R1" {
		t.Errorf("link text %q", got)
	}
}

// TestBulkCancelOutcomes: each result says what happened to the money in
// words: an authorization voided is "voided" (never "refunded"), a refund
// "refunded US$x", a refund left for later "refund owed US$x"; and payment
// methods read as words on the order page.
func TestBulkCancelOutcomes(t *testing.T) {
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	order := func(name string, fin canceldesk.FinancialStatus, total int64) *canceldesk.Order {
		return &canceldesk.Order{Name: name, Email: "b@example.com", Currency: "USD", Subtotal: total, Total: total,
			FinancialStatus: fin, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, PaymentMethod: "manual",
			CreatedAt: base, LineItems: []canceldesk.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: total}}}
	}
	authorized, paid, later := order("#2001", canceldesk.FinancialAuthorized, 1500),
		order("#2002", canceldesk.FinancialPaid, 1000), order("#2003", canceldesk.FinancialPaid, 1200)
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{authorized, paid, later}, "test"); err != nil {
		t.Fatal(err)
	}
	staff := a.signedIn(t, canceldesk.RoleStaff)

	_, page := staff.get(t, fmt.Sprintf("/orders/%d", paid.ID))
	if got := page.Find(".muted").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "Payment method")
	}).Text(); got != "Payment method: Manual payment" {
		t.Errorf("order page says %q, want %q", got, "Payment method: Manual payment")
	}

	bulk := func(refund string, orders ...*canceldesk.Order) map[string]string {
		t.Helper()
		q := url.Values{}
		for _, o := range orders {
			q.Add("ids", strconv.FormatInt(o.ID, 10))
		}
		_, doc := staff.get(t, "/orders/cancel?"+q.Encode())
		form := url.Values{"ids": q["ids"]}
		key, _ := doc.Find(`input[name=key]`).Attr("value")
		form.Set("key", key)
		form.Set("reason", "out_of_stock")
		form.Set("refund", refund)
		res, doc := staff.post(t, "/orders/cancel", form)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("bulk cancel: status %d", res.StatusCode)
		}
		out := map[string]string{}
		doc.Find(".bulk-results li").Each(func(_ int, li *goquery.Selection) {
			name := li.Find("a").Text()
			li.Find("a, .badge").Remove()
			out[name] = strings.Join(strings.Fields(li.Text()), " ")
		})
		return out
	}
	got := bulk("now", authorized, paid)
	if want := map[string]string{"#2001": "voided", "#2002": "refunded US$10.00"}; !maps.Equal(got, want) {
		t.Errorf("refund now: results %q, want %q", got, want)
	}
	got = bulk("later", later)
	if want := map[string]string{"#2003": "refund owed US$12.00"}; !maps.Equal(got, want) {
		t.Errorf("refund later: results %q, want %q", got, want)
	}
}
