package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// TestJourneyTemplateAndMessage: a manager rewrites the "customer asked"
// cancel message and watches the preview follow (an unknown placeholder
// is named at once), saves it, cancels an order with the customer told
// and an offer attached, and reads the email on the Messages page.
func TestJourneyTemplateAndMessage(t *testing.T) {
	url, _ := liveServer(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/settings/messages?lang=en")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, canceldesk.RoleManager)
	err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/settings/messages/order_cancelled.customer"]`)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#template-preview .mail-text') !== null`)
	clearSubject(t, ctx)
	err = chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#subject`), "Done: {order_number} is cancelled {oops}"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#subject-error').textContent.includes('{oops}')`)
	browsertest.Screenshot(t, ctx, "template-error")
	clearSubject(t, ctx)
	err = chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#subject`), "Done: {order_number} is cancelled"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#subject-error').textContent === '' && /Done: #\S+ is cancelled/.test(document.querySelector('#template-preview').textContent)`)
	browsertest.Screenshot(t, ctx, "template-preview")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.template-form button.btn-primary`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.search.includes('saved=1')`)

	// Cancel an open order, the customer told, with an offer.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/orders?status=open&financial=paid&fulfillment=unfulfilled")); err != nil {
		t.Fatal(err)
	}
	name := openFirstCancelDialog(t, ctx)
	waitFor(t, ctx, `document.querySelector('input[name=notify]').checked`)
	err = chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#offer`), "discount"))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#offer').dispatchEvent(new Event('change', {bubbles: true}))`))
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#offer_text`), "COMEBACK10"))
	}
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#cancel-preview').textContent.includes('includes your offer')`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#cancel-dialog button.btn-destructive`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.banner-cancelled') !== null`)

	// The email, as the customer gets it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.nav-list a[href="/messages"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.messages tbody tr') !== null`)
	first := text(t, ctx, ".messages tbody tr:first-child")
	if !strings.Contains(first, "Done: "+name+" is cancelled") || !strings.Contains(first, "Waiting") {
		t.Fatalf("newest message = %q", first)
	}
	browsertest.Screenshot(t, ctx, "messages")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.messages tbody tr:first-child a.strong`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('.mail-text') !== null && document.querySelector('.mail-text').textContent.includes('COMEBACK10')`)
	browsertest.Screenshot(t, ctx, "message")
	browsertest.NoConsoleErrors(t, ctx)
}

func clearSubject(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.querySelector('#subject').value = '') === ''`)); err != nil {
		t.Fatal(err)
	}
}
