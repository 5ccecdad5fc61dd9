package handlers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/browsertest"
)

// insideBox is a JavaScript test that every element of inner lies within
// the box of outer.
func insideBox(outer, inner string) string {
	return fmt.Sprintf(`(() => {
		const o = document.querySelector(%s).getBoundingClientRect();
		const els = [...document.querySelectorAll(%s)];
		return els.length > 0 && els.every(e => { const r = e.getBoundingClientRect();
			return r.width > 0 && r.left >= o.left && r.right <= o.right && r.top >= o.top && r.bottom <= o.bottom; });
	})()`, jsString(outer), jsString(inner))
}

// pressKey sends one key (kb.Tab, kb.Enter, " ", kb.Escape, a letter, …)
// to the focused element, with Shift when shift is true. A key that types
// a character goes down with its character in one event, as from a real
// keyboard (chromedp.KeyEvent sends the character apart): else an Enter
// that opens a dialog could have its character land in the dialog's first
// field and submit its form.
func pressKey(t *testing.T, ctx context.Context, key string, shift bool) {
	t.Helper()
	for _, r := range key {
		events := kb.Encode(r)
		if len(events) == 3 { // key down, character, key up
			down := *events[0]
			down.Text, down.UnmodifiedText = events[1].Text, events[1].UnmodifiedText
			events = []*input.DispatchKeyEventParams{&down, events[2]}
		}
		for _, e := range events {
			if shift {
				e.Modifiers |= int64(chromedp.ModifierShift)
			}
			if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, *e); err != nil {
				t.Fatalf("key %q: %v", key, err)
			}
		}
	}
}

// tabTo presses Tab until the focused element matches css.
func tabTo(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	for range 40 {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+jsString(css)+`)`))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		pressKey(t, ctx, kb.Tab, false)
	}
	active, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : 'none'`))
	t.Fatalf("Tab never reached %s (at %s)", css, active)
}

// TestLayoutDesktop: at 1280 px, in both languages, the filters' Apply
// and Clear stay inside their card, and the sidebar's background runs the
// whole height of a long page while its content stays in view.
func TestLayoutDesktop(t *testing.T) {
	url, _ := liveServer(t)
	for _, lang := range []string{"en", "zh-TW"} {
		t.Run(lang, func(t *testing.T) {
			b := browsertest.New(t)
			if err := chromedp.Do(b, chromedp.Navigate(url+"/orders?lang="+lang)); err != nil {
				t.Fatal(err)
			}
			signIn(t, b, canceldesk.RoleManager)
			waitFor(t, b, rowCount+` === 50`)
			browsertest.Screenshot(t, b, "layout-orders-1280-"+lang)
			if ok, err := chromedp.Run(b, chromedp.Evaluate[bool](insideBox("#filters", "#filters .field-actions > *"))); err != nil || !ok {
				rects, _ := chromedp.Run(b, chromedp.Evaluate[string](`JSON.stringify([document.querySelector('#filters'), ...document.querySelectorAll('#filters .field-actions > *')].map(e => e.getBoundingClientRect()))`))
				t.Errorf("Apply or Clear sticks out of the filters card (%v): %s", err, rects)
			}
			if ok, err := chromedp.Run(b, chromedp.Evaluate[bool](`document.querySelector('#filters button[type=submit]').getBoundingClientRect().width > 0`)); err != nil || !ok {
				t.Errorf("no Apply button (%v)", err)
			}
			// The page is several screens long: the sidebar spans it all.
			sidebar, err := chromedp.Run(b, chromedp.Evaluate[[]float64](`[document.querySelector('nav.sidebar').getBoundingClientRect().height,
				document.documentElement.scrollHeight, window.innerHeight]`))
			if err != nil {
				t.Fatal(err)
			}
			if sidebar[1] < 2*sidebar[2] || sidebar[0]+1 < sidebar[1] { // scrollHeight is rounded
				t.Errorf("sidebar %v px high, document %v px, window %v px: want a long page and the sidebar as high", sidebar[0], sidebar[1], sidebar[2])
			}
			// Scrolled to the end, the navigation is still on screen.
			if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`window.scrollTo(0, document.documentElement.scrollHeight); true`)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, b, `(() => { const r = document.querySelector('.nav-list a[href="/orders"]').getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })()`)
			waitFor(t, b, `(() => { const r = document.querySelector('.nav-foot form[action="/logout"]').getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })()`)
			// No menu button on a desktop.
			waitFor(t, b, `getComputedStyle(document.querySelector('.nav-toggle')).display === 'none'`)
			browsertest.NoConsoleErrors(t, b)
		})
	}
}

// TestLayoutPhone: at 390 px the navigation folds behind a menu button that
// works by keyboard; a cancelled order's amount is struck through but not
// its label; the analytics chart keeps its labels readable.
func TestLayoutPhone(t *testing.T) {
	url, _ := liveServer(t)
	for _, lang := range []string{"en", "zh-TW"} {
		t.Run(lang, func(t *testing.T) {
			b := browsertest.NewSized(t, browsertest.MobileWidth, browsertest.MobileHeight)
			if err := chromedp.Do(b, chromedp.Navigate(url+"/orders?status=cancelled&lang="+lang)); err != nil {
				t.Fatal(err)
			}
			signIn(t, b, canceldesk.RoleManager)
			waitFor(t, b, rowCount+` > 0`)

			// The menu: a real button naming the panel it opens, the
			// panel hidden until it is pressed.
			toggle, err := chromedp.Run(b, chromedp.Evaluate[[]string](`(() => { const b = document.querySelector('nav.sidebar button.nav-toggle');
				return [b.type, b.getAttribute('aria-expanded'), b.getAttribute('aria-controls'), b.textContent.trim()]; })()`))
			if err != nil {
				t.Fatal(err)
			}
			if toggle[0] != "button" || toggle[1] != "false" || toggle[2] != "nav-panel" || toggle[3] == "" {
				t.Errorf("menu button: type, aria-expanded, aria-controls, text = %q", toggle)
			}
			waitFor(t, b, `document.querySelector('.nav-toggle').getBoundingClientRect().width > 0 && document.querySelector('#nav-panel').getClientRects().length === 0`)
			if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`window.scrollTo(0, 0); true`)); err != nil {
				t.Fatal(err)
			}
			browsertest.Screenshot(t, b, "layout-orders-390-"+lang)

			// By keyboard: Tab to it, Enter opens, the links can be reached,
			// Escape closes and leaves focus on the button.
			tabTo(t, b, ".nav-toggle")
			pressKey(t, b, kb.Enter, false)
			waitFor(t, b, `document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'true' && document.querySelector('.nav-list a[href="/analytics"]').getBoundingClientRect().width > 0`)
			browsertest.Screenshot(t, b, "layout-menu-390-"+lang)
			tabTo(t, b, `.nav-list a[href="/refunds"]`)
			pressKey(t, b, kb.Escape, false)
			waitFor(t, b, `document.activeElement === document.querySelector('.nav-toggle') && document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'false' && document.querySelector('#nav-panel').getClientRects().length === 0`)
			// Space opens it too, and pressing again closes it.
			pressKey(t, b, " ", false)
			waitFor(t, b, `document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'true'`)
			pressKey(t, b, " ", false)
			waitFor(t, b, `document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'false'`)

			// Cancelled orders: the amount struck through, its label not.
			struck, err := chromedp.Run(b, chromedp.Evaluate[[]string](`(() => { const td = document.querySelector('#results tr.is-cancelled td[data-label] .money').closest('td');
				return [getComputedStyle(td).textDecorationLine, getComputedStyle(td.querySelector('.money')).textDecorationLine, getComputedStyle(td, '::before').content]; })()`))
			if err != nil {
				t.Fatal(err)
			}
			if struck[0] != "none" || struck[1] != "line-through" || struck[2] == "none" {
				t.Errorf("cancelled total: cell %q (label %s), amount %q; want only the amount struck through", struck[0], struck[2], struck[1])
			}
			waitFor(t, b, `document.documentElement.scrollWidth <= window.innerWidth`)

			// Analytics: the chart's labels are drawn at 11 px or more, and
			// there are few enough under the bars to stand apart.
			if err := chromedp.Do(b, chromedp.Navigate(url+"/analytics?range=90&lang="+lang)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, b, `document.querySelector('.chart svg') !== null`)
			chart, err := chromedp.Run(b, chromedp.Evaluate[[]float64](`(() => {
				const svg = [...document.querySelectorAll('.chart svg')].find(s => s.getClientRects().length > 0);
				const texts = [...svg.querySelectorAll('text.axis')];
				const x = [...svg.querySelectorAll('text.axis-x')];
				const boxes = x.map(e => e.getBoundingClientRect()); const box = svg.getBoundingClientRect();
				let overlaps = 0;
				for (let i = 0; i < boxes.length; i++) if (i > 0 && boxes[i].left < boxes[i-1].right || boxes[i].left < box.left || boxes[i].right > box.right) overlaps++;
				return [Math.min(...texts.map(e => parseFloat(getComputedStyle(e).fontSize) * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width)),
					x.length, overlaps, box.right, svg.querySelectorAll('.rate-point').length,
					Math.max(...[...svg.querySelectorAll('text.axis-rate')].map(e => e.getBoundingClientRect().right)) - box.right];
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if chart[0] < 11 || chart[1] > 4 || chart[2] > 0 || chart[3] > browsertest.MobileWidth || chart[4] != 90 || chart[5] > 0 {
				t.Errorf("phone chart: smallest label %.1f px, %v labels under the bars, %v overlapping or cut, right edge %v, %v points, rate labels %v px past the edge; want ≥ 11 px, ≤ 4, none, inside, 90, none",
					chart[0], chart[1], chart[2], chart[3], chart[4], chart[5])
			}
			waitFor(t, b, `document.documentElement.scrollWidth <= window.innerWidth`)
			time.Sleep(100 * time.Millisecond)
			browsertest.Screenshot(t, b, "layout-analytics-390-"+lang)
			browsertest.NoConsoleErrors(t, b)
		})
	}
}
