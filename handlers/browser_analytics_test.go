package handlers_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// TestJourneyAnalytics: a manager opens the dashboard, switches range,
// grouping and definition without a reload (the URL keeps them), opens
// the table, at a desktop width and at a phone's.
func TestJourneyAnalytics(t *testing.T) {
	url, _ := liveServer(t)
	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			ctx := browsertest.NewSized(t, size.width, size.height)
			if err := chromedp.Do(ctx, chromedp.Navigate(url+"/analytics?lang=en")); err != nil {
				t.Fatal(err)
			}
			signIn(t, ctx, canceldesk.RoleManager)
			waitFor(t, ctx, `document.querySelectorAll('.rate-chart .rate-point').length === 30`)
			browsertest.Screenshot(t, ctx, "analytics-30d-"+size.name)
			// A marker survives only if the page is not reloaded.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.kept = true)`)); err != nil {
				t.Fatal(err)
			}
			err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name=range][value="90"]`), chromedp.NodeVisible))
			if err != nil {
				// The radios are visually hidden; click their labels.
				err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`label:has(input[name=range][value="90"])`)))
			}
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, `location.search.includes('range=90') && document.querySelectorAll('.rate-chart .rate-point').length === 90`)
			err = chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#group`), "week"))
			if err == nil {
				_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#group').dispatchEvent(new Event('change', {bubbles: true}))`))
			}
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, `location.search.includes('group=week') && document.querySelectorAll('.rate-chart .rate-point').length <= 14 && window.kept === true`)
			err = chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#basis`), "cancelled"))
			if err == nil {
				_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#basis').dispatchEvent(new Event('change', {bubbles: true}))`))
			}
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, `location.search.includes('basis=cancelled') && document.querySelector('.definition').textContent.includes('cancelled in the period')`)
			// Opened from the page itself, again on each poll if a late htmx
			// swap replaced the table: a node handle taken before the swap
			// settles points at the replaced element.
			waitFor(t, ctx, `(() => { const d = document.querySelector('.chart-table'); if (d && !d.open) d.querySelector('summary').click(); `+
				`return !!d && d.open && document.querySelectorAll('.chart-table tbody tr').length > 0 })()`)
			if size.width < 600 {
				waitFor(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`)
			}
			browsertest.Screenshot(t, ctx, "analytics-90d-weeks-"+size.name)
			if size.name == "desktop" {
				if err := chromedp.Do(ctx, chromedp.Navigate(url+"/analytics?range=30&lang=zh-TW")); err != nil {
					t.Fatal(err)
				}
				waitFor(t, ctx, `document.documentElement.lang === 'zh-TW' && document.querySelector('h1').textContent === '取消分析'`)
				browsertest.Screenshot(t, ctx, "analytics-zh-TW")
			}
			browsertest.NoConsoleErrors(t, ctx)
		})
	}
}
