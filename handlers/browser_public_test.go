package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// brandLogo is a small logo, served over https the way a shop's CDN does.
const brandLogo = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">` +
	`<rect width="96" height="96" rx="20" fill="#6b2fa3"/><circle cx="48" cy="48" r="26" fill="#f4d35e"/></svg>`

// TestBrowserPublicBrand: the customer's form, its confirmation and the
// status page, at 1280 and 390 px wide and in both languages, show the
// store's name, logo (loaded from its https origin), accent colour on the
// header bar and the button, and contact address; no staff navigation, and
// nothing wider than the screen.
func TestBrowserPublicBrand(t *testing.T) {
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(w, brandLogo)
	}))
	t.Cleanup(cdn.Close)
	const accent = "#6b2fa3"
	if canceldesk.AccentContrast(accent) < canceldesk.MinAccentContrast {
		t.Fatalf("the test's accent %s is too light", accent)
	}
	base, db := liveServer(t)
	ctx := context.Background()
	s, err := db.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.StoreName, s.LogoURL, s.AccentColor, s.ContactEmail = "Hearth & Clay 陶與火", cdn.URL+"/logo.svg", accent, "care@hearthandclay.test"
	if err := db.SaveSettings(ctx, s, "owner@example.com"); err != nil {
		t.Fatal(err)
	}
	// A request to show the status page of.
	o := &canceldesk.Order{Name: "#B1", Email: "kai@example.com", Currency: "USD", Subtotal: 2000, Total: 2000,
		FinancialStatus: canceldesk.FinancialPaid, PaymentMethod: "manual", FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		BillingAddress: canceldesk.Address{Name: "Kai"}, LineItems: []canceldesk.LineItem{{Name: "Lamp", Quantity: 1, Price: 2000}}}
	if _, err := db.ImportOrders(ctx, []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	r, err := db.FileRequest(ctx, canceldesk.RequestForm{OrderNumber: "#B1", Email: "kai@example.com", Reason: "changed_mind",
		Locale: "zh-TW"}, base+"/r/", nil)
	if err != nil || r == nil {
		t.Fatalf("FileRequest: %+v, %v", r, err)
	}

	for _, size := range []struct{ w, h int }{{browsertest.Width, browsertest.Height}, {browsertest.MobileWidth, browsertest.MobileHeight}} {
		b := browsertest.NewSized(t, size.w, size.h)
		// The shop's CDN in this test has a certificate of its own.
		ignore := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: true})
			return err
		})
		if err := chromedp.Do(b, ignore); err != nil {
			t.Fatal(err)
		}
		for _, pg := range []struct{ path, lang, ready string }{
			{"/cancel", "en", "#req-h"},
			{"/cancel", "zh-TW", "#req-h"},
			{"/cancel/sent", "zh-TW", "#sent-h"},
			{"/r/" + r.Token, "zh-TW", "#st-h"},
		} {
			if err := chromedp.Do(b, chromedp.Navigate(base+pg.path+"?lang="+pg.lang)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, b, `document.readyState === 'complete' && document.querySelector('`+pg.ready+`') !== null &&
				document.querySelector('.public-logo').complete`)
			checks := map[string]string{
				"store name": `document.querySelector('.public-store').textContent.trim() === ` + jsString(s.StoreName),
				"logo loaded": `document.querySelector('.public-logo').naturalWidth > 0 &&
					document.querySelector('.public-logo').getBoundingClientRect().height >= 30`,
				"header in the accent": `getComputedStyle(document.querySelector('.public-head')).backgroundColor === 'rgb(107, 47, 163)'`,
				"contact":              `document.querySelector('.public-foot a').getAttribute('href') === 'mailto:care@hearthandclay.test'`,
				"no staff navigation":  `document.querySelector('.sidebar, .nav-list') === null`,
				"fits the screen":      `document.documentElement.scrollWidth <= window.innerWidth`,
				"language":             `document.documentElement.lang === ` + jsString(pg.lang),
			}
			if pg.path == "/cancel" {
				checks["button in the accent"] = `getComputedStyle(document.querySelector('.request-form .btn-primary')).backgroundColor === 'rgb(107, 47, 163)'`
			}
			for what, expr := range checks {
				ok, err := chromedp.Run(b, chromedp.Evaluate[bool](expr))
				if err != nil || !ok {
					t.Errorf("%d px, %s %s: %s fails (%v)", size.w, pg.path, pg.lang, what, err)
				}
			}
			name := fmt.Sprintf("public-%s-%s-%d", strings.Trim(strings.SplitN(pg.path, "/", 3)[1], "/"), pg.lang, size.w)
			if strings.HasPrefix(pg.path, "/cancel/sent") {
				name = fmt.Sprintf("public-sent-%s-%d", pg.lang, size.w)
			}
			browsertest.Screenshot(t, b, name)
		}
		browsertest.NoConsoleErrors(t, b)
	}
}
