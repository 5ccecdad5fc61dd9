package handlers_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// The refund dialog: asking more units than remain says so beside the line
// in the live totals; opened from refund later it proposes what is owed;
// the summary names each line once.
func TestRefundDialogDetails(t *testing.T) {
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	staff := a.signedIn(t, canceldesk.RoleStaff)
	o := backlogOrder(t, a.db) // owed: 2 mugs 20.00 + tax 2.00 + shipping 8.00
	mug := strconv.FormatInt(o.LineItems[0].ID, 10)
	base := fmt.Sprintf("/orders/%d/refund", o.ID)

	t.Run("TooManyUnitsBesideTheLine", func(t *testing.T) {
		_, doc := staff.get(t, base+"/totals?key=k-too-many-000000001&method=original&shipping_mode=none&qty_"+mug+"=3&restock_"+mug+"=no_restock",
			"HX-Request", "true")
		msg := strings.TrimSpace(doc.Find("#qty_" + mug + `-error[hx-swap-oob]`).Text())
		if msg == "" {
			t.Fatalf("no message beside the mug line in the live totals: %s", doc.Text())
		}
		if doc.Find("#refund-totals button.btn-primary[disabled]").Length() != 1 {
			t.Error("confirm is offered for more units than remain")
		}
	})

	t.Run("FromRefundLaterProposesWhatIsOwed", func(t *testing.T) {
		_, backlog := staff.get(t, "/refunds")
		link := backlog.Find(`.backlog a[href^="`+base+`"]`).AttrOr("href", "")
		if link != base+"?owed=1" {
			t.Fatalf("backlog links the refund as %q", link)
		}
		_, doc := staff.get(t, link)
		if v := doc.Find("input[name=qty_"+mug+"]").AttrOr("value", ""); v != "2" {
			t.Errorf("proposed mugs = %q, want 2", v)
		}
		if doc.Find(`input[name=shipping_mode][value=full][checked]`).Length() != 1 {
			t.Error("shipping not proposed")
		}
		if got := strings.TrimSpace(doc.Find(`[data-total=total]`).Text()); got != "US$30.00" {
			t.Errorf("proposed total = %q, want US$30.00 (what the backlog says is owed)", got)
		}
		_, plain := staff.get(t, base)
		if got := strings.TrimSpace(plain.Find(`[data-total=total]`).Text()); got != "US$0.00" {
			t.Errorf("the plain dialog proposes %q, want nothing", got)
		}
	})

	t.Run("SummaryNamesEachLineOnce", func(t *testing.T) {
		_, doc := staff.get(t, base+"/totals?key=k-summary-000000001&method=original&shipping_mode=none&location=1&qty_"+mug+"=2&restock_"+mug+"=cancel",
			"HX-Request", "true")
		items := doc.Find("#refund-totals .preview-list li")
		if items.Length() != 1 || !strings.Contains(items.Text(), "2 × Mug go back to stock") {
			t.Errorf("summary = %q; want the mugs once", items.Text())
		}
	})
}

// In the browser: "Credit expires" shows only for store credit, and the
// radio buttons are full size.
func TestJourneyRefundDialogChoices(t *testing.T) {
	url, db := liveServer(t)
	o := backlogOrder(t, db)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders/"+strconv.FormatInt(o.ID, 10)+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleStaff)
	openOwedRefund(t, ctx)
	total := `document.querySelector('[data-total=total]').textContent.trim()`
	waitFor(t, ctx, total+` === 'US$30.00'`)
	expiry := `document.querySelector('#credit_expires').getBoundingClientRect().height`
	waitFor(t, ctx, expiry+` === 0`)
	radio := `document.querySelector('input[name=method][value=store_credit]').getBoundingClientRect()`
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[`+radio+`.width, `+radio+`.height]`))
	if err != nil {
		t.Fatal(err)
	}
	if size[0] < 16 || size[1] < 16 {
		t.Errorf("radio button is %v×%v px, want full size", size[0], size[1])
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name=method][value=store_credit]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, expiry+` > 0`)
	browsertest.Screenshot(t, ctx, "refund-dialog-store-credit")

	mug := "qty_" + strconv.FormatInt(o.LineItems[0].ID, 10)
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`input[name=`+mug+`]`), ""),
		chromedp.SendKeys(chromedp.CSS(`input[name=`+mug+`]`), "5"),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#`+mug+`-error').textContent.trim() !== ''`)
	browsertest.Screenshot(t, ctx, "refund-dialog-too-many")
	browsertest.NoConsoleErrors(t, ctx)
}

// openOwedRefund opens the refund dialog of the refund-later order on the
// page from its More actions menu.
func openOwedRefund(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`details.menu summary`)),
		chromedp.Click(chromedp.CSS(`.menu-item[href$="/refund?owed=1"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#refund-dialog').open && document.querySelector('#refund-totals') !== null`)
}
