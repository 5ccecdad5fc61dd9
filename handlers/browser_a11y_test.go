package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
	"github.com/canceldesk/canceldesk/store"
)

// a11yFixture is the data the accessibility tests visit: an open paid
// order to cancel or refund, an order cancelled without restocking (so
// Restock and Refund are offered) and a customer's status link.
type a11yFixture struct {
	url       string
	db        *store.DB
	open      *canceldesk.Order
	cancelled *canceldesk.Order
	statusURL string
	requestID int64
	messageID int64
}

func newA11yFixture(t *testing.T) *a11yFixture {
	t.Helper()
	url, db := liveServer(t)
	ctx := context.Background()
	page, err := db.ListOrders(ctx, canceldesk.OrderFilter{Status: canceldesk.StatusOpen,
		Fulfillment: canceldesk.FulfillmentUnfulfilled, Financial: canceldesk.FinancialPaid, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var paid []*canceldesk.Order
	for _, s := range page.Orders {
		if o, _ := db.Order(ctx, s.ID); o != nil && o.Email != "" {
			paid = append(paid, o)
		}
	}
	if len(paid) < 3 {
		t.Fatalf("the demo data has %d open paid orders with an email, want 3", len(paid))
	}
	f := &a11yFixture{url: url, db: db, open: paid[0]}
	locs, err := db.Locations(ctx)
	if err != nil || len(locs) == 0 {
		t.Fatalf("locations: %v %v", locs, err)
	}
	if _, err := db.CancelOrder(ctx, canceldesk.CancelRequest{OrderID: paid[1].ID, Reason: canceldesk.ReasonInventory,
		ReasonLabel: "Item out of stock", Refund: canceldesk.RefundLater, LocationID: locs[0].ID,
		IdempotencyKey: "a11y-fixture-cancel-0001", Actor: testEmails[canceldesk.RoleManager], ActorRole: canceldesk.RoleManager}); err != nil {
		t.Fatal(err)
	}
	if f.cancelled, err = db.Order(ctx, paid[1].ID); err != nil {
		t.Fatal(err)
	}
	r, err := db.FileRequest(ctx, canceldesk.RequestForm{OrderNumber: paid[2].Name, Email: paid[2].Email, Reason: "other",
		Comment: "Ordered twice by mistake."}, url+"/r/", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.statusURL, f.requestID = url+"/r/"+r.Token, r.ID
	ms, err := db.Messages(ctx, "", 1)
	if err != nil || len(ms) == 0 {
		t.Fatalf("messages: %v %v", ms, err)
	}
	f.messageID = ms[0].ID
	return f
}

// a11yTimeout bounds each browser of TestAxeEveryPage: one visits up to
// twenty pages and runs axe-core on each, on a machine shared with others.
const a11yTimeout = 3 * time.Minute

// a11yCases are the viewport widths and languages every page is checked in.
var a11yCases = []struct {
	lang          string
	width, height int
}{
	{"en", browsertest.Width, browsertest.Height},
	{"en", browsertest.MobileWidth, browsertest.MobileHeight},
	{"zh-TW", browsertest.Width, browsertest.Height},
	{"zh-TW", browsertest.MobileWidth, browsertest.MobileHeight},
}

// withLang adds ?lang= to a path of the site.
func withLang(path, lang string) string {
	if strings.Contains(path, "?") {
		return path + "&lang=" + lang
	}
	return path + "?lang=" + lang
}

// checkPage waits for the page of b to be loaded and quiet, saves a
// screenshot and fails the test for each serious or critical axe-core
// violation on it.
func checkPage(t *testing.T, b context.Context, name string) {
	t.Helper()
	waitFor(t, b, `document.readyState === 'complete' && !document.querySelector('.htmx-request')`)
	browsertest.Screenshot(t, b, name)
	browsertest.NoAxeViolations(t, b, name)
}

// TestAxeEveryPage: every page, signed out and in, passes axe-core with no
// serious or critical violation, at 1280 and 390 px, in English and in
// Traditional Chinese: the public pages, sign-in, the 403 and 404 pages,
// every staff page, and the cancel, refund and restock dialogs open.
func TestAxeEveryPage(t *testing.T) {
	f := newA11yFixture(t)
	for _, c := range a11yCases {
		prefix := fmt.Sprintf("axe-%s-%d-", c.lang, c.width)
		t.Run(fmt.Sprintf("%s/%d/public", c.lang, c.width), func(t *testing.T) {
			b := browsertest.NewSizedFor(t, c.width, c.height, a11yTimeout)
			for _, p := range []struct{ name, url string }{
				{"login", "/login"},
				{"request-form", "/cancel"},
				{"request-sent", "/cancel/sent"},
				{"request-status", strings.TrimPrefix(f.statusURL, f.url)},
				{"not-found-signed-out", "/no-such-page"},
				{"bad-request", "/cancel/%ZZ"},
			} {
				if err := chromedp.Do(b, chromedp.Navigate(f.url+withLang(p.url, c.lang))); err != nil {
					t.Fatal(err)
				}
				checkPage(t, b, prefix+p.name)
			}
			// Staff on a manager's page: the 403 page.
			if err := chromedp.Do(b, chromedp.Navigate(f.url+withLang("/settings", c.lang))); err != nil {
				t.Fatal(err)
			}
			signIn(t, b, canceldesk.RoleStaff)
			waitFor(t, b, `document.querySelector('.error-page') !== null`)
			checkPage(t, b, prefix+"forbidden")
		})
		t.Run(fmt.Sprintf("%s/%d/pages", c.lang, c.width), func(t *testing.T) {
			b := browsertest.NewSizedFor(t, c.width, c.height, a11yTimeout)
			if err := chromedp.Do(b, chromedp.Navigate(f.url+withLang("/orders", c.lang))); err != nil {
				t.Fatal(err)
			}
			signIn(t, b, canceldesk.RoleOwner)
			for _, p := range []struct{ name, url string }{
				{"orders", "/orders"},
				{"order", fmt.Sprintf("/orders/%d", f.open.ID)},
				{"order-cancelled", fmt.Sprintf("/orders/%d", f.cancelled.ID)},
				{"bulk", fmt.Sprintf("/orders/cancel?ids=%d&ids=%d", f.open.ID, f.cancelled.ID)},
				{"requests", "/requests"},
				{"request-decline", fmt.Sprintf("/requests/%d/decline", f.requestID)},
				{"refunds", "/refunds"},
				{"analytics", "/analytics"},
				{"messages", "/messages"},
				{"message", fmt.Sprintf("/messages/%d", f.messageID)},
				{"templates", "/settings/messages"},
				{"inventory", "/inventory"},
				{"import", "/import"},
				{"settings", "/settings"},
				{"staff", "/staff"},
				{"account", "/account"},
				{"not-found", "/orders/999999999"},
			} {
				if err := chromedp.Do(b, chromedp.Navigate(f.url+withLang(p.url, c.lang))); err != nil {
					t.Fatal(err)
				}
				checkPage(t, b, prefix+p.name)
			}
			if c.width == browsertest.MobileWidth {
				// The navigation folded behind the menu button, opened.
				if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(".nav-toggle"))); err != nil {
					t.Fatal(err)
				}
				waitFor(t, b, `document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'true'`)
				checkPage(t, b, prefix+"menu-open")
			}
			// The one error expected: the missing order's 404.
			for _, e := range browsertest.ConsoleErrors(b) {
				if !strings.Contains(e, "404") {
					t.Errorf("browser reported: %s", e)
				}
			}
		})
		t.Run(fmt.Sprintf("%s/%d/dialogs", c.lang, c.width), func(t *testing.T) {
			b := browsertest.NewSizedFor(t, c.width, c.height, a11yTimeout)
			if err := chromedp.Do(b, chromedp.Navigate(f.url+withLang(fmt.Sprintf("/orders/%d", f.open.ID), c.lang))); err != nil {
				t.Fatal(err)
			}
			signIn(t, b, canceldesk.RoleOwner)
			for _, d := range []struct {
				name  string
				order *canceldesk.Order
			}{{"cancel", f.open}, {"refund", f.open}, {"restock", f.cancelled}, {"refund", f.cancelled}} {
				if err := chromedp.Do(b, chromedp.Navigate(f.url+withLang(fmt.Sprintf("/orders/%d", d.order.ID), c.lang))); err != nil {
					t.Fatal(err)
				}
				dialog := "#" + d.name + "-dialog"
				waitFor(t, b, `document.querySelector('details.menu summary') !== null`)
				err := chromedp.Do(b,
					chromedp.Click(chromedp.CSS(`details.menu summary`)),
					chromedp.Click(chromedp.CSS(fmt.Sprintf(`.menu-item[hx-target=%q]`, dialog))),
				)
				if err != nil {
					t.Fatal(err)
				}
				waitFor(t, b, `document.querySelector('`+dialog+`').open && document.querySelector('`+dialog+` h2') !== null`)
				checkPage(t, b, prefix+"dialog-"+d.name+"-"+d.order.Name)
			}
			browsertest.NoConsoleErrors(t, b)
		})
	}
}
