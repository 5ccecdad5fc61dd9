package handlers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// TestJourneyImportThenLocations: a new merchant imports a Shopify export
// into an empty store; Settings lists the default location the import
// created; the manager adds a second one (a clash first, shown beside the
// field), renames the first, then cancels an imported order with restock
// to the new location, and the stock lands there.
func TestJourneyImportThenLocations(t *testing.T) {
	url, db := liveServerOf(t, 0)
	file := filepath.Join(t.TempDir(), "orders_export.csv")
	if err := os.WriteFile(file, []byte(locationExport("", "")), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t)
	bg := context.Background()
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/import?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleManager)
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/import"),
		chromedp.SetUploadFiles(`#file`, []string{file}),
		chromedp.Click(`form[action="/import"] button[type=submit]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.import-summary') !== null`)

	locs, err := db.Locations(bg)
	if err != nil || len(locs) != 1 || locs[0].Name != canceldesk.DefaultLocationName {
		t.Fatalf("locations after the import %+v, %v", locs, err)
	}
	main := fmt.Sprintf("#location_%d", locs[0].ID)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/settings")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('`+main+`').value === 'Main location'`)

	// A name that is taken comes back beside the field, as typed.
	add := func(name string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Clear(`#new_location`),
			chromedp.SendKeys(`#new_location`, name),
			chromedp.Click(`form[action="/settings/locations"] button[type=submit]`),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	add("main LOCATION")
	waitFor(t, ctx, `document.querySelector('#new_location-error').textContent === 'Another location already has this name.'`)
	if v := text(t, ctx, "#new_location-error"); v == "" {
		t.Error("no field error")
	}
	browsertest.Screenshot(t, ctx, "loc-settings-error")

	add("Taipei Warehouse")
	// The attribute, not the typed value: the page after the redirect.
	waitFor(t, ctx, `[...document.querySelectorAll('#locations li input[name=name]')].some(i => i.getAttribute('value') === 'Taipei Warehouse')`)
	err = chromedp.Do(ctx,
		chromedp.Clear(main),
		chromedp.SendKeys(main, "Main warehouse"),
		chromedp.Click(fmt.Sprintf(`form[action="/settings/locations/%d"] button[type=submit]`, locs[0].ID)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('`+main+`').getAttribute('value') === 'Main warehouse' && document.querySelector('.toast') !== null`)
	// The card sits in the settings column like the others.
	waitFor(t, ctx, `document.querySelector('#locations').getBoundingClientRect().width === document.querySelector('#restock-h').closest('.card').getBoundingClientRect().width`)
	browsertest.Screenshot(t, ctx, "loc-settings")

	locs, _ = db.Locations(bg)
	var taipei canceldesk.Location
	for _, l := range locs {
		if l.Name == "Taipei Warehouse" {
			taipei = l
		}
	}
	if len(locs) != 2 || taipei.ID == 0 {
		t.Fatalf("locations %+v", locs)
	}

	// Cancel an imported order with restock, to the new location.
	page, err := db.ListOrders(bg, canceldesk.OrderFilter{Query: "#3001"})
	if err != nil || len(page.Orders) != 1 {
		t.Fatalf("order #3001: %v %v", page.Orders, err)
	}
	id := page.Orders[0].ID
	err = chromedp.Do(ctx, chromedp.Navigate(url+"/orders/"+strconv.FormatInt(id, 10)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('details.menu') !== null`)
	err = chromedp.Do(ctx,
		chromedp.Click(`details.menu summary`),
		chromedp.Click(`.menu-item-danger`),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#cancel-dialog').open && document.querySelector('#cancel-preview') !== null`)
	if opts := text(t, ctx, `#cancel-dialog select[name=location]`); !strings.Contains(opts, "Main warehouse") || !strings.Contains(opts, "Taipei Warehouse") {
		t.Errorf("locations offered: %q", opts)
	}
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const box = document.querySelector('#cancel-dialog input[name=restock]');
		if (!box.checked) box.click();
		const sel = document.querySelector('#cancel-dialog select[name=location]');
		sel.value = '`+strconv.FormatInt(taipei.ID, 10)+`';
		sel.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#cancel-preview').textContent.includes('Taipei Warehouse')`)
	browsertest.Screenshot(t, ctx, "loc-cancel-dialog")
	if err := chromedp.Do(ctx, chromedp.Click(`#cancel-dialog button.btn-destructive`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.banner-cancelled') !== null`)
	browsertest.Screenshot(t, ctx, "loc-cancel-done")

	levels, err := db.Stock(bg, []string{"TEA-0"})
	if err != nil || len(levels) != 1 || levels[0].LocationID != taipei.ID || levels[0].OnHand != 2 {
		t.Errorf("stock of TEA-0 %+v, %v; want 2 at Taipei Warehouse", levels, err)
	}
	// The card in Chinese.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/settings?lang=zh-TW")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#locations-h').textContent === '庫存地點'`)
	browsertest.Screenshot(t, ctx, "loc-settings-zh-TW")
	// The one error the browser saw is the refused name (400).
	for _, e := range browsertest.ConsoleErrors(ctx) {
		if !strings.Contains(e, "status of 400") || !strings.Contains(e, "/settings/locations") {
			t.Errorf("browser reported an error: %s", e)
		}
	}
}
