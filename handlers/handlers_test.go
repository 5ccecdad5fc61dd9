package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/payments"
	"github.com/canceldesk/canceldesk/store"
)

// testApp is the dashboard on a fresh SQLite store, with an owner, a
// manager and a staff account, and a client signed in as the owner.
type testApp struct {
	app   *fiber.App
	db    *store.DB
	clock *testClock
	*client
}

// testClock is a clock tests can move.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const testPassword = "correct horse battery staple"

// Test accounts by role.
var testEmails = map[canceldesk.Role]string{
	canceldesk.RoleOwner:   "owner@example.com",
	canceldesk.RoleManager: "manager@example.com",
	canceldesk.RoleStaff:   "staff@example.com",
}

func newTestApp(t testing.TB, opts ...func(*handlers.Config)) *testApp {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir()+"/test.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	hash, err := canceldesk.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range canceldesk.Roles {
		acct := &canceldesk.Account{Name: "Test " + string(role), Email: testEmails[role], Role: role, PasswordHash: hash}
		if err := db.CreateAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetStatsZone(ctx, time.UTC); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Now()}
	cfg := handlers.Config{Store: db, Accounts: db, Refunds: db, Messages: db, Requests: db, Stats: db, Export: db, Analytics: db, I18n: bundle, Location: time.UTC, Now: clock.Now,
		AfterCommit: new(canceldesk.AfterCommit)} // options may add to it
	for _, o := range opts {
		o(&cfg)
	}
	wireAfterCommit(db, &cfg)
	app, err := handlers.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &testApp{app: app, db: db, clock: clock}
	a.client = a.signedIn(t, canceldesk.RoleOwner)
	return a
}

// location makes sure a stock location exists and returns it.
func (a *testApp) location(t testing.TB, name string) canceldesk.Location {
	t.Helper()
	loc, err := a.db.EnsureLocation(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

var base = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// seed imports n simple orders "#1001".. placed an hour apart; every
// fifth is cancelled for inventory.
func (a *testApp) seed(t testing.TB, n int) []*canceldesk.Order {
	t.Helper()
	var orders []*canceldesk.Order
	for i := 0; i < n; i++ {
		o := &canceldesk.Order{
			Name: fmt.Sprintf("#%d", 1001+i), Email: fmt.Sprintf("buyer%d@example.com", i), Currency: "USD",
			Total: int64(1000 + i), Subtotal: int64(1000 + i), FinancialStatus: canceldesk.FinancialPaid,
			FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow, Source: "web",
			BillingAddress: canceldesk.Address{Name: fmt.Sprintf("Buyer %d", i)},
			CreatedAt:      base.Add(time.Duration(i) * time.Hour),
			LineItems:      []canceldesk.LineItem{{Name: "Blue Mug", SKU: fmt.Sprintf("MUG-%d", i), Quantity: 1, Price: int64(1000 + i)}},
		}
		if i%5 == 4 {
			at := o.CreatedAt.Add(time.Hour)
			o.CancelledAt, o.CancelReason = &at, canceldesk.ReasonInventory
		}
		orders = append(orders, o)
	}
	if _, err := a.db.ImportOrders(context.Background(), orders, "test"); err != nil {
		t.Fatal(err)
	}
	return orders
}

func rowNames(doc *goquery.Document) []string {
	var names []string
	doc.Find("#results tbody tr .order-link").Each(func(_ int, s *goquery.Selection) { names = append(names, s.Text()) })
	return names
}

func TestOrdersList(t *testing.T) {
	a := newTestApp(t)
	a.seed(t, 60)

	t.Run("NewestFirstWithCancelledStruck", func(t *testing.T) {
		res, doc := a.get(t, "/orders")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		names := rowNames(doc)
		if len(names) != canceldesk.PageSize || names[0] != "#1060" || names[1] != "#1059" {
			t.Fatalf("rows = %d, first %v", len(names), names[:2])
		}
		row := doc.Find("#results tbody tr").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return s.Find(".order-link").Text() == "#1060"
		})
		if !row.HasClass("is-cancelled") || row.Find(".badge-cancelled").Length() != 1 {
			t.Fatalf("cancelled order #1060 not struck through with a badge: %q", row.AttrOr("class", ""))
		}
		if got := row.Find(".cancel-reason").Text(); got != "Item out of stock" {
			t.Errorf("reason = %q", got)
		}
		if doc.Find("html").Length() != 1 || doc.Find("nav.sidebar").Length() != 1 {
			t.Error("a plain request must get the full page")
		}
	})

	t.Run("NextPageContinuesWithoutOverlap", func(t *testing.T) {
		_, doc := a.get(t, "/orders")
		next, ok := doc.Find(`a[rel="next"]`).Attr("href")
		if !ok {
			t.Fatal("no next link")
		}
		_, doc2 := a.get(t, next)
		names := rowNames(doc2)
		if len(names) != 10 || names[0] != "#1010" || names[9] != "#1001" {
			t.Fatalf("second page = %v", names)
		}
		if doc2.Find(`a[rel="next"]`).Length() != 0 {
			t.Error("last page must not link further")
		}
	})

	t.Run("SearchNarrowsAndKeepsQuery", func(t *testing.T) {
		_, doc := a.get(t, "/orders?q=buyer42%40")
		if names := rowNames(doc); len(names) != 1 || names[0] != "#1043" {
			t.Fatalf("search rows = %v", names)
		}
		if v, _ := doc.Find("#q").Attr("value"); v != "buyer42@" {
			t.Errorf("search box = %q", v)
		}
	})

	t.Run("HTMXGetsFragmentOnly", func(t *testing.T) {
		res, doc := a.get(t, "/orders?q=MUG-7", "HX-Request", "true")
		if doc.Find("nav.sidebar").Length() != 0 || doc.Find("#results").Length() != 1 {
			t.Fatal("HTMX request must get only the results fragment")
		}
		if !strings.Contains(res.Header.Get("Vary"), "HX-Request") {
			t.Errorf("Vary = %q", res.Header.Get("Vary"))
		}
		if names := rowNames(doc); len(names) != 1 || names[0] != "#1008" {
			t.Errorf("rows = %v", names)
		}
	})

	t.Run("HistoryRestoreGetsFullPage", func(t *testing.T) {
		_, doc := a.get(t, "/orders?q=MUG-7", "HX-Request", "true", "HX-History-Restore-Request", "true")
		if doc.Find("nav.sidebar").Length() != 1 {
			t.Fatal("a history restore must get the whole page")
		}
	})

	t.Run("FiltersCombine", func(t *testing.T) {
		_, doc := a.get(t, "/orders?status=cancelled&from=2026-11-01&to=2026-11-01")
		// Orders placed on Nov 1 (UTC): hours 12..23 → #1001..#1012; cancelled: #1005, #1010.
		if names := rowNames(doc); strings.Join(names, ",") != "#1010,#1005" {
			t.Fatalf("rows = %v", names)
		}
	})

	t.Run("HostileSearchIsPlainText", func(t *testing.T) {
		q := `<script>alert(1)</script>%_\' OR 1=1 --`
		res, doc := a.get(t, "/orders?q="+url.QueryEscape(q))
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if v, _ := doc.Find("#q").Attr("value"); v != q {
			t.Errorf("search box = %q", v)
		}
		if doc.Find("script:not([src])").Length() != 0 {
			t.Error("search text rendered as markup")
		}
		if len(rowNames(doc)) != 0 || doc.Find(".empty h2").Text() != "No orders match" {
			t.Error("expected the no-match empty state")
		}
	})

	t.Run("BadFiltersAnswer400BesideTheField", func(t *testing.T) {
		for _, tc := range []struct{ query, field string }{
			{"q=" + strings.Repeat("x", 101), "q"},
			{"status=deleted", "status"},
			{"financial=free", "financial"},
			{"fulfillment=lost", "fulfillment"},
			{"from=2026-13-45", "from"},
			{"from=2026-11-05&to=2026-11-01", "to"},
		} {
			res, doc := a.get(t, "/orders?"+tc.query)
			if res.StatusCode != 400 {
				t.Errorf("%s: status %d", tc.query, res.StatusCode)
			}
			if msg := strings.TrimSpace(doc.Find("#" + tc.field + "-error").Text()); msg == "" {
				t.Errorf("%s: no message beside %s", tc.query, tc.field)
			}
		}
	})

	t.Run("BadFilterOverHTMXRefreshesFieldMessage", func(t *testing.T) {
		res, doc := a.get(t, "/orders?status=deleted", "HX-Request", "true")
		if res.StatusCode != 400 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if doc.Find(`#status-error[hx-swap-oob]`).Text() == "" {
			t.Error("fragment must carry the field message out of band")
		}
	})

	t.Run("MalformedCursorIs400", func(t *testing.T) {
		res, _ := a.get(t, "/orders?after=zzz")
		if res.StatusCode != 400 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

func TestOrdersEmptyState(t *testing.T) {
	a := newTestApp(t)
	_, doc := a.get(t, "/orders")
	if doc.Find(`.empty a[href="/import"]`).Length() != 1 {
		t.Fatal("an empty store must point to the import page")
	}
}

func TestOrderShow(t *testing.T) {
	a := newTestApp(t)
	orders := a.seed(t, 5)

	t.Run("ShowsLinesTotalsAndTimeline", func(t *testing.T) {
		res, doc := a.get(t, fmt.Sprintf("/orders/%d", orders[0].ID))
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if got := doc.Find("h1").First().Text(); got != "#1001" {
			t.Errorf("heading = %q", got)
		}
		if got := doc.Find(".lines .line-name").Text(); got != "Blue Mug" {
			t.Errorf("line = %q", got)
		}
		if got := doc.Find(".totals .total dd").First().Text(); got != "US$10.00" {
			t.Errorf("total = %q", got)
		}
		if got := doc.Find(".timeline li .tl-what").Text(); got != "Imported from a Shopify export" {
			t.Errorf("timeline = %q", got)
		}
	})

	t.Run("CancelledShowsWhenWhyAndRefund", func(t *testing.T) {
		_, doc := a.get(t, fmt.Sprintf("/orders/%d", orders[4].ID))
		banner := doc.Find(".banner-cancelled")
		if banner.Length() != 1 || !strings.Contains(banner.Text(), "Item out of stock") {
			t.Fatalf("banner = %q", banner.Text())
		}
		if !doc.Find("h1").First().HasClass("struck") {
			t.Error("cancelled order heading must be struck through")
		}
	})

	t.Run("UnknownOrderIs404Page", func(t *testing.T) {
		for _, path := range []string{"/orders/999999", "/orders/abc", "/nowhere"} {
			res, doc := a.get(t, path)
			if res.StatusCode != 404 {
				t.Errorf("%s: status %d", path, res.StatusCode)
			}
			if doc.Find(".error-page h1").Text() != "Page not found" {
				t.Errorf("%s: no 404 page", path)
			}
		}
	})

	t.Run("ChineseWhenAsked", func(t *testing.T) {
		_, doc := a.get(t, fmt.Sprintf("/orders/%d", orders[4].ID), "Accept-Language", "zh-TW,zh;q=0.9")
		if lang, _ := doc.Find("html").Attr("lang"); lang != "zh-TW" {
			t.Errorf("lang = %q", lang)
		}
		if got := doc.Find(".badge-cancelled").First().Text(); got == "Cancelled" || got == "" {
			t.Errorf("badge not translated: %q", got)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	a := newTestApp(t)
	res, _ := a.get(t, "/orders")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("nosniff missing")
	}
}

const exportCSV = "Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Cancelled at,Billing Name\r\n" +
	"#2001,ann@example.com,paid,USD,20.00,5.00,1.00,26.00,2026-03-01 09:00:00 -0500,2,Teapot,10.00,TEA-1,,Ann Lee\r\n" +
	"#2002,bob@example.com,refunded,USD,10.00,0,0,10.00,2026-03-02 09:00:00 -0500,1,Cup,10.00,CUP-1,2026-03-02 10:00:00 -0500,Bob Ray\r\n" +
	"#2003,cy@example.com,paid,USD,10.00,0,0,10.00,2026-03-03 09:00:00 -0500,two,Cup,10.00,CUP-1,,Cy\r\n"

// upload posts a CSV to /import with (or without) the CSRF token.
func (c *client) upload(t *testing.T, csv string, withToken bool) (*http.Response, *goquery.Document) {
	t.Helper()
	c.get(t, "/import")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if withToken {
		w.WriteField("_csrf", c.csrf)
	}
	fw, _ := w.CreateFormFile("file", "orders_export.csv")
	fw.Write([]byte(csv))
	w.Close()
	req := httptest.NewRequest(http.MethodPost, "/import", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(t, req)
}

func TestImportUpload(t *testing.T) {
	a := newTestApp(t)

	t.Run("ForbiddenWithoutCSRFToken", func(t *testing.T) {
		res, _ := a.upload(t, exportCSV, false)
		if res.StatusCode != 403 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if n, _ := a.db.CountOrders(context.Background()); n != 0 {
			t.Fatalf("a refused upload imported %d orders", n)
		}
	})

	t.Run("ImportsGoodOrdersAndReportsBadRow", func(t *testing.T) {
		res, doc := a.upload(t, exportCSV, true)
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		summary := doc.Find(".import-summary").Text()
		if want := "Orders imported: 2 · Line items: 2 · Cancelled orders: 1 · Already present: 0 · Rows skipped: 1"; summary != want {
			t.Errorf("summary = %q, want %q", summary, want)
		}
		if got := doc.Find(".row-errors li").Text(); !strings.Contains(got, "Row 4") {
			t.Errorf("row errors = %q", got)
		}
		if n, _ := a.db.CountOrders(context.Background()); n != 2 {
			t.Fatalf("orders = %d, want 2", n)
		}
		// The timeline says who imported it.
		page, _ := a.db.ListOrders(context.Background(), canceldesk.OrderFilter{Query: "#2001"})
		if len(page.Orders) != 1 {
			t.Fatalf("imported order not found: %v", page.Orders)
		}
		events, _ := a.db.Events(context.Background(), page.Orders[0].ID)
		if len(events) != 1 || events[0].Actor != testEmails[canceldesk.RoleOwner] {
			t.Errorf("timeline = %+v, want one event by the owner", events)
		}
	})

	t.Run("ManyBadRowsAreListedUpToACap", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Name,Email,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price\n")
		for i := 0; i < 105; i++ {
			fmt.Fprintf(&b, "#9%03d,x@example.com,USD,1.00,2026-03-01 09:00:00,zero,Cup,1.00\n", i)
		}
		_, doc := a.upload(t, b.String(), true)
		if n := doc.Find(".row-errors li").Length(); n != 100 {
			t.Errorf("listed %d row errors, want 100", n)
		}
		if got := doc.Find(".row-errors + p").Text(); !strings.Contains(got, "5 more rows") {
			t.Errorf("remainder = %q", got)
		}
		if first := doc.Find(".row-errors li").First().Text(); !strings.Contains(first, "Row 2") || !strings.Contains(first, "#9000") {
			t.Errorf("first error = %q", first)
		}
	})

	t.Run("NotAnExportIsRefusedNamingColumns", func(t *testing.T) {
		res, doc := a.upload(t, "foo,bar\n1,2\n", true)
		if res.StatusCode != 400 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if msg := doc.Find("#file-error").Text(); !strings.Contains(msg, "Lineitem quantity") {
			t.Errorf("message = %q", msg)
		}
	})

	t.Run("NotAnExportInChinese", func(t *testing.T) {
		zh := a.signedIn(t, canceldesk.RoleOwner)
		zh.get(t, "/import?lang=zh-TW")
		_, doc := zh.upload(t, "foo,bar\n1,2\n", true)
		msg := doc.Find("#file-error").Text()
		if !strings.HasPrefix(msg, "此檔案不是 Shopify 訂單匯出檔") || !strings.Contains(msg, "Lineitem quantity") {
			t.Errorf("message = %q", msg)
		}
	})

	t.Run("NoFileIsAFieldError", func(t *testing.T) {
		res, doc := a.upload(t, "", true)
		if res.StatusCode != 400 || strings.TrimSpace(doc.Find("#file-error").Text()) == "" {
			t.Fatalf("status %d, message %q", res.StatusCode, doc.Find("#file-error").Text())
		}
	})
}

// wireAfterCommit gives the store the one after-commit hook, wired as serve
// wires it: the payment worker's kick (when cfg has one) and the server's
// part, which handlers.New adds.
func wireAfterCommit(db *store.DB, cfg *handlers.Config) {
	if cfg.AfterCommit == nil {
		cfg.AfterCommit = new(canceldesk.AfterCommit)
	}
	db.OnCommit(cfg.AfterCommit.Run)
	if p, ok := cfg.Payments.(*payments.Processor); ok {
		cfg.AfterCommit.Add(p.Kick)
	}
}
