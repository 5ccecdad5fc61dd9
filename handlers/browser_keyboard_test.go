package handlers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// focusIn is a JavaScript test that the focused element is inside the
// element css.
func focusIn(css string) string {
	return `document.querySelector(` + jsString(css) + `).contains(document.activeElement)`
}

// activeMatches reports whether the focused element matches css.
func activeMatches(t *testing.T, ctx context.Context, css string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+jsString(css)+`)`))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// keyInDialog presses a key with the dialog open and fails the test if
// focus has left the dialog after it.
func keyInDialog(t *testing.T, ctx context.Context, dialog, key string, shift bool) {
	t.Helper()
	pressKey(t, ctx, key, shift)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector(`+jsString(dialog)+`).open || `+focusIn(dialog)))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 160) : 'none'`))
		t.Fatalf("after key %q focus left %s for %s", key, dialog, where)
	}
}

// tabInDialogTo presses Tab, checking focus stays in the dialog, until the
// focused element matches css.
func tabInDialogTo(t *testing.T, ctx context.Context, dialog, css string) {
	t.Helper()
	for range 40 {
		if activeMatches(t, ctx, css) {
			return
		}
		keyInDialog(t, ctx, dialog, kb.Tab, false)
	}
	t.Fatalf("Tab never reached %s in %s", css, dialog)
}

// openCancelByKeyboard tabs to More actions, opens it and its Cancel
// order item with Enter, and waits for the dialog.
func openCancelByKeyboard(t *testing.T, ctx context.Context) {
	t.Helper()
	tabTo(t, ctx, "details.menu summary")
	pressKey(t, ctx, kb.Enter, false)
	waitFor(t, ctx, `document.querySelector('details.menu').open`)
	tabTo(t, ctx, ".menu-item-danger")
	pressKey(t, ctx, kb.Enter, false)
	waitFor(t, ctx, `document.querySelector('#cancel-dialog').open && document.querySelector('#cancel-preview') !== null && !document.querySelector('.htmx-request')`)
}

// TestKeyboardCancelDialog walks the cancel dialog by keyboard alone: open
// it from the order page, close it with Escape (focus back on the menu's
// button), open it again, go round it with Tab and Shift+Tab (focus never
// leaves it), pick a reason, refund now, restock, type a note and confirm;
// the order is cancelled as chosen.
func TestKeyboardCancelDialog(t *testing.T) {
	f := newA11yFixture(t)
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(f.url+fmt.Sprintf("/orders/%d?lang=en", f.open.ID))); err != nil {
		t.Fatal(err)
	}
	signIn(t, b, canceldesk.RoleManager)
	waitFor(t, b, `document.querySelector('details.menu summary') !== null`)
	const dialog = "#cancel-dialog"

	// Escape closes it and focus goes back to the menu's button (the
	// item that opened it folded away with the menu).
	openCancelByKeyboard(t, b)
	waitFor(t, b, focusIn(dialog)) // focus is inside the dialog once it is drawn
	pressKey(t, b, kb.Escape, false)
	waitFor(t, b, `!document.querySelector('#cancel-dialog').open && document.activeElement === document.querySelector('details.menu summary')`)

	openCancelByKeyboard(t, b)
	browsertest.Screenshot(t, b, "keyboard-cancel-dialog")
	// Round the dialog both ways: more presses than it has stops.
	stops, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('#cancel-dialog a[href], #cancel-dialog button, #cancel-dialog input, #cancel-dialog select, #cancel-dialog textarea').length`))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range stops + 3 {
		keyInDialog(t, b, dialog, kb.Tab, false)
		id, _ := chromedp.Run(b, chromedp.Evaluate[string](`(e => e.id || (e.tagName === 'BUTTON' || e.tagName === 'A' ? e.textContent.trim() : e.name))(document.activeElement)`))
		seen[id] = true
	}
	for _, want := range []string{"reason", "refund", "restock", "note", "Cancel order"} {
		if !seen[want] {
			t.Errorf("Tab never stopped at %q; stopped at %v", want, seen)
		}
	}
	for range stops + 3 {
		keyInDialog(t, b, dialog, kb.Tab, true)
	}

	// A reason: the select changes with the arrow keys (its own keys);
	// the dialog redraws for the reason and focus stays on the select.
	tabInDialogTo(t, b, dialog, "#reason")
	before, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('#reason').value`))
	keyInDialog(t, b, dialog, kb.ArrowDown, false)
	waitFor(t, b, `document.querySelector('#reason').value !== `+jsString(before)+` && !document.querySelector('.htmx-request')`)
	waitFor(t, b, `document.activeElement === document.querySelector('#reason')`)
	reason, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('#reason').value`))

	// Refund now (Tab stops at the checked radio; Space checks it).
	tabInDialogTo(t, b, dialog, `input[name=refund]`)
	if !activeMatches(t, b, `input[name=refund][value=now]`) {
		t.Fatal("refund now is not the refund choice selected")
	}
	keyInDialog(t, b, dialog, " ", false)
	waitFor(t, b, `document.querySelector('input[name=refund][value=now]').checked`)
	// Restock: Space ticks it when it is not ticked already.
	tabInDialogTo(t, b, dialog, `input[name=restock]`)
	if ok, _ := chromedp.Run(b, chromedp.Evaluate[bool](`document.activeElement.checked`)); !ok {
		keyInDialog(t, b, dialog, " ", false)
	}
	waitFor(t, b, `document.querySelector('input[name=restock]').checked`)
	// A note, typed.
	tabInDialogTo(t, b, dialog, "#note")
	const note = "Customer called: keyboard only"
	for _, r := range note {
		keyInDialog(t, b, dialog, string(r), false)
	}
	waitFor(t, b, `document.querySelector('#note').value === `+jsString(note)+` && document.querySelector('#cancel-preview').textContent.includes('refunded')`)
	waitFor(t, b, `!document.querySelector('.htmx-request') && !document.querySelector('#cancel-dialog button.btn-destructive').disabled`)
	browsertest.Screenshot(t, b, "keyboard-cancel-filled")

	// Confirm with Enter on the button.
	tabInDialogTo(t, b, dialog, "button.btn-destructive")
	pressKey(t, b, kb.Enter, false)
	waitFor(t, b, `document.querySelector('.banner-cancelled') !== null`)
	browsertest.Screenshot(t, b, "keyboard-cancel-done")

	ctx := context.Background()
	o, err := f.db.Order(ctx, f.open.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.db.Cancellation(ctx, f.open.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.CancelledAt == nil || c.Refund != canceldesk.RefundNow || !c.Restock || c.StaffNote != note {
		t.Errorf("cancelled %v, refund %q, restock %v, note %q; want cancelled, now, restocked, %q", o.CancelledAt, c.Refund, c.Restock, c.StaffNote, note)
	}
	if c.ReasonLabel == "" || reason == before {
		t.Errorf("reason %q (picked %q, was %q)", c.ReasonLabel, reason, before)
	}
	restocked := 0
	for _, li := range o.LineItems {
		restocked += li.RestockedQuantity
	}
	if restocked == 0 {
		t.Error("no unit was restocked")
	}
	browsertest.NoConsoleErrors(t, b)
}

// TestKeyboardOrderDialogs: the refund and restock dialogs open from More
// actions by keyboard, keep focus inside them both ways round, close with
// Escape or their Keep link, and give focus back to the menu's button.
func TestKeyboardOrderDialogs(t *testing.T) {
	f := newA11yFixture(t)
	b := browsertest.New(t)
	page := f.url + fmt.Sprintf("/orders/%d?lang=zh-TW", f.cancelled.ID)
	if err := chromedp.Do(b, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	signIn(t, b, canceldesk.RoleManager)
	for _, d := range []struct{ dialog, close string }{
		{"#refund-dialog", kb.Escape},
		{"#restock-dialog", kb.Escape},
		{"#refund-dialog", "keep"},
		{"#restock-dialog", "keep"},
	} {
		waitFor(t, b, `document.querySelector('details.menu summary') !== null`)
		tabTo(t, b, "details.menu summary")
		pressKey(t, b, kb.Enter, false)
		waitFor(t, b, `document.querySelector('details.menu').open`)
		tabTo(t, b, fmt.Sprintf(`.menu-item[hx-target=%q]`, d.dialog))
		pressKey(t, b, kb.Enter, false)
		waitFor(t, b, `document.querySelector(`+jsString(d.dialog)+`).open && document.querySelector(`+jsString(d.dialog+" h2")+`) !== null && !document.querySelector('.htmx-request')`)
		waitFor(t, b, focusIn(d.dialog)) // focus is inside the dialog once it is drawn
		stops, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelector(`+jsString(d.dialog)+`).querySelectorAll('a[href], button, input, select, textarea').length`))
		if err != nil {
			t.Fatal(err)
		}
		for range stops + 2 {
			keyInDialog(t, b, d.dialog, kb.Tab, false)
		}
		for range stops + 2 {
			keyInDialog(t, b, d.dialog, kb.Tab, true)
		}
		if d.close == "keep" {
			tabInDialogTo(t, b, d.dialog, "a[data-close-dialog]")
			pressKey(t, b, kb.Enter, false)
		} else {
			pressKey(t, b, d.close, false)
		}
		waitFor(t, b, `!document.querySelector(`+jsString(d.dialog)+`).open && document.activeElement === document.querySelector('details.menu summary')`)
		// Still on the order: the Keep link closed the dialog, no page load.
		waitFor(t, b, `location.pathname === `+jsString(fmt.Sprintf("/orders/%d", f.cancelled.ID)))
	}
	browsertest.NoConsoleErrors(t, b)
}
