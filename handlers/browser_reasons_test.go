package handlers_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// TestJourneyEditReasons: a manager renames a cancel reason on Settings in
// both languages, moves it to the top and retires another; the cancel
// dialog then offers the renamed reason first, in English and in Chinese,
// and no longer offers the retired one.
func TestJourneyEditReasons(t *testing.T) {
	url, db := liveServerOf(t, 30)
	bg := context.Background()
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/settings?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleManager)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/settings?lang=en#reasons")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#reason-out_of_stock-en') !== null`)

	err := chromedp.Do(ctx,
		chromedp.Clear(`#reason-out_of_stock-en`),
		chromedp.SendKeys(`#reason-out_of_stock-en`, "Sold out"),
		chromedp.Clear(`#reason-out_of_stock-zh`),
		chromedp.SendKeys(`#reason-out_of_stock-zh`, "已售完"),
		chromedp.Click(`#reason-out_of_stock button[form=reason-out_of_stock-form]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#reason-out_of_stock-en').getAttribute('value') === 'Sold out' && document.querySelector('.toast') !== null`)
	if err := chromedp.Do(ctx, chromedp.Click(`#reason-out_of_stock form[action$="/move"] input[value=up] ~ button`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#reasons tbody tr').id === 'reason-out_of_stock'`)
	if err := chromedp.Do(ctx, chromedp.Click(`#reason-staff_error form[action$="/retire"] button`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#reason-staff_error').classList.contains('retired')`)
	browsertest.Screenshot(t, ctx, "reasons-settings")

	page, err := db.ListOrders(bg, canceldesk.OrderFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, o := range page.Orders {
		if o.CancelledAt == nil && o.FulfillmentStatus == canceldesk.FulfillmentUnfulfilled {
			id = o.ID
			break
		}
	}
	if id == 0 {
		t.Fatal("no open unfulfilled order in the demo")
	}
	for lang, want := range map[string]string{"en": "Sold out", "zh-TW": "已售完"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders/"+strconv.FormatInt(id, 10)+"/cancel?lang="+lang)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, `document.querySelector('select#reason') !== null`)
		first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('select#reason option').textContent.trim()`))
		if err != nil || first != want {
			t.Errorf("%s: the dialog's first reason is %q, want %q", lang, first, want)
		}
		retired, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('select#reason option[value=staff_error]') !== null`))
		if err != nil || retired {
			t.Errorf("%s: the retired reason is offered (%v)", lang, err)
		}
		browsertest.Screenshot(t, ctx, "reasons-dialog-"+lang)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/settings?lang=zh-TW#reasons")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#reasons-h').textContent === '取消原因'`)
	browsertest.Screenshot(t, ctx, "reasons-settings-zh-TW")
	for _, e := range browsertest.ConsoleErrors(ctx) {
		t.Errorf("browser reported an error: %s", e)
	}
}
