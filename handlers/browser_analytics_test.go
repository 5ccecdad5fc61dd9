package handlers_test

import (
	"strings"
	"testing"
	"time"

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
			// 90 days by week: the first and last weeks are cut by the range,
			// marked partial in the table and hatched on the chart.
			waitFor(t, ctx, `document.querySelectorAll('.chart-table tr.partial .badge-partial').length >= 1 && `+
				`document.querySelectorAll('.rate-chart .bar-partial, .rate-chart .rate-point').length > 0 && `+
				`!!document.querySelector('.legend .swatch-partial')`)
			if size.width < 600 {
				waitFor(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`)
			}
			browsertest.Screenshot(t, ctx, "analytics-90d-weeks-"+size.name)
			browsertest.Screenshot(t, ctx, "an-90d-weeks-partial-"+size.name)

			// Custom without dates: the errors show beside the fields and the
			// 90-day chart stays, without a reload; the address keeps the
			// range shown.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`label:has(input[name=range][value="custom"])`))); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, `document.querySelector('#from-error').textContent === 'Enter a date.' && `+
				`document.querySelector('#to-error').textContent === 'Enter a date.' && `+
				`!!document.querySelector('#analytics-kept') && document.querySelectorAll('.rate-chart .rate-point').length > 0 && `+
				`location.search.includes('range=90') && window.kept === true`)
			if size.width < 600 {
				waitFor(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`)
			}
			browsertest.Screenshot(t, ctx, "an-custom-errors-"+size.name)
			// From after to: the error moves to the end date.
			setDate := func(id, v string) {
				t.Helper()
				err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#`+id), v))
				if err == nil {
					_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#`+id+`').dispatchEvent(new Event('change', {bubbles: true}))`))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			today, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.range-shown').dataset.to`))
			if err != nil {
				t.Fatal(err)
			}
			last, _ := time.Parse("2006-01-02", today)
			first := last.AddDate(0, 0, -40).Format("2006-01-02")
			setDate("from", last.AddDate(0, 0, -3).Format("2006-01-02"))
			setDate("to", first)
			waitFor(t, ctx, `document.querySelector('#from-error').textContent === '' && `+
				`document.querySelector('#to-error').textContent === 'The end date is before the start date.'`)
			// A good range replaces the chart and clears the errors.
			setDate("from", first)
			setDate("to", today)
			waitFor(t, ctx, `document.querySelector('#to-error').textContent === '' && !document.querySelector('#analytics-kept') && `+
				`document.querySelector('.range-shown').dataset.from === '`+first+`' && location.search.includes('range=custom')`)
			browsertest.Screenshot(t, ctx, "an-custom-ok-"+size.name)
			if size.name == "desktop" {
				if err := chromedp.Do(ctx, chromedp.Navigate(url+"/analytics?range=30&lang=zh-TW")); err != nil {
					t.Fatal(err)
				}
				waitFor(t, ctx, `document.documentElement.lang === 'zh-TW' && document.querySelector('h1').textContent === '取消分析'`)
				browsertest.Screenshot(t, ctx, "analytics-zh-TW")
			}
			// The errors the browser saw are the refused custom ranges (400).
			for _, e := range browsertest.ConsoleErrors(ctx) {
				if !strings.Contains(e, "status of 400") || !strings.Contains(e, "/analytics?range=custom") {
					t.Errorf("browser reported an error: %s", e)
				}
			}
		})
	}
}
