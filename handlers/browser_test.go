package handlers_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
	"github.com/canceldesk/canceldesk/internal/browsertest"
	"github.com/canceldesk/canceldesk/internal/demo"
	"github.com/canceldesk/canceldesk/store"
)

// liveServer serves the dashboard with demo data on a loopback port; opts
// change its configuration first.
func liveServer(t *testing.T, opts ...func(*handlers.Config)) (string, *store.DB) {
	t.Helper()
	return liveServerOf(t, 400, opts...)
}

// liveServerOf serves the dashboard with n demo orders on a loopback port;
// with n 0 the store is empty (no orders, locations or settings), as a new
// merchant's is, and the sign-in page lists no demo accounts.
func liveServerOf(t *testing.T, n int, opts ...func(*handlers.Config)) (string, *store.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir()+"/e2e.db")
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		if err := demo.Seed(ctx, db, n, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := canceldesk.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range canceldesk.Roles {
		acct := &canceldesk.Account{Name: "Mei " + string(role), Email: testEmails[role], Role: role, PasswordHash: hash}
		if err := db.CreateAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Taipei")
	if err := db.SetStatsZone(ctx, loc); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := handlers.Config{Store: db, Accounts: db, Refunds: db, Messages: db, Requests: db, Stats: db, Export: db, Analytics: db, I18n: bundle, Location: loc, Demo: n > 0,
		PublicURL: base}
	for _, opt := range opts {
		opt(&cfg)
	}
	wireAfterCommit(db, &cfg)
	app, err := handlers.New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown(); db.Close() })
	return base, db
}

// waitFor polls a JavaScript expression until it is true.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last error: %v)", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// signIn fills the sign-in form in the browser; the page the browser was
// sent to before (and must come back to) is the one it is on.
func signIn(t *testing.T, ctx context.Context, role canceldesk.Role) {
	t.Helper()
	waitFor(t, ctx, `location.pathname === '/login'`)
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), testEmails[role]),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname !== '/login'`)
}

const rowCount = `document.querySelectorAll('#results tbody tr').length`

// TestJourneyFindAndOpenOrder: open the orders page, type a search, see the
// rows narrow (and the URL keep the search), open the order, see its detail.
func TestJourneyFindAndOpenOrder(t *testing.T) {
	url, db := liveServer(t)
	ctx := browsertest.New(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleStaff)
	waitFor(t, ctx, rowCount+` === 50`)
	browsertest.Screenshot(t, ctx, "orders-list")

	// Pick a real customer email from the newest order and search a substring of it.
	email := text(t, ctx, "#results tbody tr:nth-child(3) .customer-email")
	name := text(t, ctx, "#results tbody tr:nth-child(3) .order-link")
	term := strings.SplitN(email, "@", 2)[0]
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), term)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, rowCount+` < 50 && `+rowCount+` > 0 && location.search.includes('q=')`)
	waitFor(t, ctx, `[...document.querySelectorAll('#results .order-link')].some(a => a.textContent === `+jsString(name)+`)`)
	waitFor(t, ctx, `[...document.querySelectorAll('#results .customer-email')].every(e => e.closest('tr').textContent.toLowerCase().includes(`+jsString(strings.ToLower(term))+`))`)
	browsertest.Screenshot(t, ctx, "orders-search")
	// Clicking a result right after typing opens it: leaving the search box
	// must not swap the results away under the pointer.

	// Open the order.
	err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#results a.order-link[href]`)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname.startsWith('/orders/') && document.querySelector('.lines') !== null`)
	heading := text(t, ctx, "h1")
	if !strings.HasPrefix(heading, "#") {
		t.Fatalf("order heading = %q", heading)
	}
	if items := text(t, ctx, ".lines tbody"); items == "" {
		t.Fatal("order detail shows no line items")
	}
	if tl := text(t, ctx, ".timeline"); !strings.Contains(tl, "Imported") {
		t.Errorf("timeline = %q", tl)
	}
	browsertest.Screenshot(t, ctx, "order-detail")

	// Back restores the search.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`history.back()`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#q') && document.querySelector('#q').value === `+jsString(term))
	waitFor(t, ctx, `document.querySelectorAll('nav.sidebar').length === 1 && `+rowCount+` > 0 && `+rowCount+` < 50`)

	// A filter applies on change, without a reload, and the URL keeps it.
	script := `window.notReloaded = true; const s = document.querySelector('#status'); s.value = 'cancelled';
		s.dispatchEvent(new Event('change', {bubbles: true})); true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `window.notReloaded === true && location.search.includes('status=cancelled')`)
	browsertest.NoConsoleErrors(t, ctx)
	_ = db
}

// TestJourneyCancelledOrderAndChinese: the list in Traditional Chinese keeps
// cancelled orders struck through, and a cancelled order says when and why.
func TestJourneyCancelledOrderAndChinese(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?lang=zh-TW&status=cancelled")); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "login-zh-TW")
	signIn(t, ctx, canceldesk.RoleManager)
	waitFor(t, ctx, rowCount+` > 0`)
	if lang := text(t, ctx, "h1"); lang != "訂單" {
		t.Errorf("zh-TW heading = %q", lang)
	}
	waitFor(t, ctx, `[...document.querySelectorAll('#results tbody tr')].every(r => r.classList.contains('is-cancelled'))`)
	browsertest.Screenshot(t, ctx, "orders-cancelled-zh-TW")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#results a.order-link`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.banner-cancelled') !== null`)
	browsertest.Screenshot(t, ctx, "order-cancelled-zh-TW")
	browsertest.NoConsoleErrors(t, ctx)
}

// TestJourneyMobile: the orders page and an order at 390 px wide.
func TestJourneyMobile(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.NewSized(t, browsertest.MobileWidth, browsertest.MobileHeight)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleOwner)
	waitFor(t, ctx, rowCount+` > 0`)
	browsertest.Screenshot(t, ctx, "orders-mobile")
	// Nothing may overflow the viewport sideways.
	waitFor(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#results a.order-link`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.lines') !== null`)
	browsertest.Screenshot(t, ctx, "order-mobile")
	waitFor(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`)
	browsertest.NoConsoleErrors(t, ctx)
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// TestJourneySignInAndOut: a signed-out visitor is sent to sign in, lands
// on the orders page, signs out, and is signed out for good.
func TestJourneySignInAndOut(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?lang=en")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/login'`)
	if hint := text(t, ctx, ".demo-hint"); !strings.Contains(hint, "owner@demo.canceldesk.test") {
		t.Errorf("demo hint = %q", hint)
	}
	browsertest.Screenshot(t, ctx, "login")

	// A wrong password keeps the visitor on the form with a message.
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), testEmails[canceldesk.RoleOwner]),
		chromedp.SendKeys(chromedp.CSS("#password"), "not my password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#login-error') !== null`)
	if err := chromedp.Do(ctx, chromedp.Clear(chromedp.CSS("#email"))); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleOwner)
	waitFor(t, ctx, `location.pathname === '/orders' && `+rowCount+` > 0`)
	if nav := text(t, ctx, ".nav-list"); !strings.Contains(nav, "Staff") || !strings.Contains(nav, "Import") {
		t.Errorf("owner navigation = %q", nav)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/login'`)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/login'`)
	// The one error expected: the wrong password's 401 answer.
	for _, e := range browsertest.ConsoleErrors(ctx) {
		if !strings.Contains(e, "401") {
			t.Errorf("browser reported: %s", e)
		}
	}
}

// TestJourneyOwnerInvitesStaff: the owner invites a member, who sets a
// password with the link and signs in as staff.
func TestJourneyOwnerInvitesStaff(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/staff?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleOwner)
	waitFor(t, ctx, `location.pathname === '/staff'`)
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#name"), "Lin Yu-Ting 林雨婷"),
		chromedp.SendKeys(chromedp.CSS("#email"), "yuting@example.com"),
		chromedp.Click(chromedp.CSS(`form[action="/staff"] button[type=submit]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.invite-link input') !== null`)
	browsertest.Screenshot(t, ctx, "staff-invited")
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.invite-link input').value`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/login'`)
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "a long enough password"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/login' && document.querySelector('.banner-info') !== null`)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), "yuting@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/orders' && document.readyState === 'complete' && document.querySelector('.nav-list') !== null`)
	if nav := text(t, ctx, ".nav-list"); strings.Contains(nav, "Staff") || strings.Contains(nav, "Import") {
		t.Errorf("staff navigation shows owner pages: %q", nav)
	}
	browsertest.NoConsoleErrors(t, ctx)
}

// TestJourneyCancelOrder: open an order, cancel it with refund now and
// restock through the dialog (the preview following the choices), see the
// badge, then the struck-through row in the list.
func TestJourneyCancelOrder(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?lang=en&status=open&financial=paid&fulfillment=unfulfilled")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleStaff)
	name := openFirstCancelDialog(t, ctx)
	if p := text(t, ctx, "#cancel-preview"); !strings.Contains(p, "is refunded to the original payment method") || !strings.Contains(p, "goes back to stock") && !strings.Contains(p, "go back to stock") {
		t.Errorf("preview = %q", p)
	}
	browsertest.Screenshot(t, ctx, "cancel-dialog")

	// Refund later: the preview says so; then back to refund now.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name=refund][value=later]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#cancel-preview').textContent.includes('Nothing is refunded now')`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name=refund][value=now]`))); err != nil {
		t.Fatal(err)
	}
	// "Nothing is refunded now" holds "is refunded" too: wait for the
	// refund-now preview itself, so the click does not race its swap.
	waitFor(t, ctx, `document.querySelector('#cancel-preview').textContent.includes('is refunded to the original payment method') && !document.querySelector('.htmx-request')`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#cancel-dialog button.btn-destructive`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.banner-cancelled') !== null && document.querySelector('.toast') !== null`)
	if badge := text(t, ctx, ".page-head .badge-cancelled"); badge != "Cancelled" {
		t.Errorf("badge = %q", badge)
	}
	if fin := text(t, ctx, ".page-head .badge-fin-refunded"); fin != "Refunded" {
		t.Errorf("payment badge = %q", fin)
	}
	browsertest.Screenshot(t, ctx, "cancel-done")

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?q="+strings.TrimPrefix(name, "#"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `[...document.querySelectorAll('#results tbody tr')].some(r => r.classList.contains('is-cancelled') && r.querySelector('.order-link').textContent === `+jsString(name)+`)`)
	browsertest.Screenshot(t, ctx, "cancel-list")

	// Cancelled by mistake: re-create it from the cancelled order.
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#results tr.is-cancelled .order-link`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('form[action$="/recreate"] button') !== null`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action$="/recreate"] button`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('h1').textContent === `+jsString(name+"-R1"))
	browsertest.Screenshot(t, ctx, "recreated")

	// Once only: back on the cancelled order, the button has become a link
	// to the new order.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.timeline a`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('h1').textContent === `+jsString(name))
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/recreate"]').length`)); err != nil || got != 0 {
		t.Errorf("re-create forms on the re-created order = %d (%v), want none", got, err)
	}
	if link := text(t, ctx, "a.recreated-link"); link != "View re-created order "+name+"-R1" {
		t.Errorf("link = %q", link)
	}
	browsertest.Screenshot(t, ctx, "recreated-original")

	// A zh-TW reader sees the same timeline in Chinese, from its data.
	path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+path+"?lang=zh-TW")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.timeline') !== null`)
	tl := text(t, ctx, ".timeline")
	for _, want := range []string{"已取消訂單", "已退款", "商品已補回庫存", "已重新建立為 " + name + "-R1"} {
		if !strings.Contains(tl, want) {
			t.Errorf("zh-TW timeline lacks %q: %q", want, tl)
		}
	}
	for _, english := range []string{"Order cancelled", "Refund issued", "Re-created as", "Items restocked"} {
		if strings.Contains(tl, english) {
			t.Errorf("zh-TW timeline holds %q: %q", english, tl)
		}
	}
	browsertest.Screenshot(t, ctx, "timeline-zh")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+path+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('a.recreated-link') !== null`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a.recreated-link`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('h1').textContent === `+jsString(name+"-R1"))
	browsertest.NoConsoleErrors(t, ctx)
}

// TestJourneyBulkCancel: tick two open orders in the list, see what will
// happen to each follow the choices, cancel them
// once for all, see a result per order.
func TestJourneyBulkCancel(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?lang=en&status=open&fulfillment=unfulfilled")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleManager)
	waitFor(t, ctx, rowCount+` > 2`)
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#results tbody tr:nth-child(1) input[name=ids]`)),
		chromedp.Click(chromedp.CSS(`#results tbody tr:nth-child(2) input[name=ids]`)),
		chromedp.Click(chromedp.CSS(`#bulk button`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Each order says what will happen, and follows the choices without
	// a reload.
	items := `[...document.querySelectorAll('.bulk-preview > li')]`
	waitFor(t, ctx, `location.pathname === '/orders/cancel' && `+items+`.length === 2 && `+items+`.every(li => li.querySelector('.preview-list, .preview-blockers'))`)
	browsertest.Screenshot(t, ctx, "bulk-cancel-form")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded = true; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name=refund][value=later]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `window.notReloaded === true && `+items+`.length === 2 && `+items+`.every(li => li.textContent.includes('Nothing is refunded now'))`)
	browsertest.Screenshot(t, ctx, "bulk-cancel-preview-later")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.cancel-form button.btn-destructive`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelectorAll('.bulk-results li.done').length === 2`)
	browsertest.Screenshot(t, ctx, "bulk-cancel-result")
	browsertest.NoConsoleErrors(t, ctx)
}

// TestJourneyCancelDialogChinese: the cancel dialog in Traditional Chinese
// keeps its layout (longer and shorter labels) and its preview.
func TestJourneyCancelDialogChinese(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?lang=zh-TW&status=open&financial=paid&fulfillment=unfulfilled")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleStaff)
	waitFor(t, ctx, rowCount+` > 0`)
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#results tbody tr:first-child .order-link`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('details.menu') !== null`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`details.menu summary`)), chromedp.Click(chromedp.CSS(`.menu-item-danger`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#cancel-dialog').open && document.querySelector('#cancel-preview') !== null`)
	if p := text(t, ctx, "#cancel-preview"); !strings.Contains(p, "退款") {
		t.Errorf("preview not in Chinese: %q", p)
	}
	// The dialog fits the viewport's width: nothing sticks out sideways.
	waitFor(t, ctx, `document.querySelector('#cancel-dialog').scrollWidth <= document.querySelector('#cancel-dialog').clientWidth`)
	browsertest.Screenshot(t, ctx, "cancel-dialog-zh-TW")
	browsertest.NoConsoleErrors(t, ctx)
}

// openFirstCancelDialog opens the first order of the list on screen and
// its cancel dialog, and returns the order's name.
func openFirstCancelDialog(t *testing.T, ctx context.Context) string {
	t.Helper()
	waitFor(t, ctx, rowCount+` > 0`)
	name := text(t, ctx, "#results tbody tr:first-child .order-link")
	err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#results tbody tr:first-child .order-link`)))
	if err != nil {
		t.Fatal(err)
	}
	openCancelDialog(t, ctx)
	return name
}

// openCancelDialog opens the cancel dialog of the order page the browser is
// on, from its actions menu.
func openCancelDialog(t *testing.T, ctx context.Context) {
	t.Helper()
	waitFor(t, ctx, `document.querySelector('details.menu') !== null`)
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`details.menu summary`)),
		chromedp.Click(chromedp.CSS(`.menu-item-danger`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#cancel-dialog').open && document.querySelector('#cancel-preview') !== null`)
}
