package handlers_test

// Fuzz targets for every form and query the dashboard reads, through the
// real app (app.Test) on a SQLite store in a temporary directory. Each
// process of the fuzzer builds one app; each input makes its own order
// (or request, or account) when it needs a fresh one, so that inputs do not
// starve each other of open orders. What every answer must be:
//
//   - never a server error (5xx; a panic is one: the recover middleware
//     answers 500), never markup of the input's making (a script that is
//     not ours, an on… attribute, a javascript: link);
//   - a field that is not text (invalid UTF-8, NUL): 400 with the page
//     saying so; a body over the form limit: 413;
//   - otherwise what the route answers to a good form (a redirect, the
//     page), or 4xx with the form shown again beside its message — or,
//     where the route has no form to show (a select a browser always fills,
//     a list of ids), the error page with its message.
//
// `go test` runs the seeds; `go test -run '^$' -fuzz '^FuzzCancelForms$'
// ./handlers` fuzzes one target (scripts/test.sh runs each for a while).

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

// fuzzHostile are values every target's seeds try in every field.
var fuzzHostile = []string{
	"<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "javascript:alert(1)", "=HYPERLINK(\"http://x\",\"y\")",
	"+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\xff\xfe", "a\x00b", "\r\n\t", "\u202e字😀", "99999999999999999999",
	"-1", "-0.01", "1e400", "0x1F", "{order_number}{nope}", strings.Repeat("長", 300),
}

// fuzzing reports whether the binary runs with -test.fuzz: the fuzzer
// minimizes every new input in time quadratic in its size, so big seeds
// only run under plain go test.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// addSeeds adds seeds, leaving out big ones while fuzzing.
func addSeeds(f *testing.F, seeds ...[]any) {
	for _, s := range seeds {
		size := 0
		for _, v := range s {
			if str, ok := v.(string); ok {
				size += len(str)
			}
		}
		if fuzzing() && size > 1024 {
			continue
		}
		f.Add(s...)
	}
}

// hostileSeeds makes one seed per hostile value with it in every string
// argument of a target taking n strings and then bools.
func hostileSeeds(n int, bools ...bool) [][]any {
	var out [][]any
	for _, h := range fuzzHostile {
		seed := make([]any, 0, n+len(bools))
		for range n {
			seed = append(seed, h)
		}
		for _, b := range bools {
			seed = append(seed, b)
		}
		out = append(out, seed)
	}
	return out
}

func isText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// notTextMessages are the page's message in each catalogue.
var notTextMessages = []string{"isn't text", "非文字"}

// checkAnswer fails on what no answer may be: a server error, markup of
// the input's making, or anything but the "not text" page when a value
// sent is not text (or the "too large" page for an oversize body). It
// reports whether the values were fine, so that the caller checks the
// route's own answer.
func checkAnswer(t *testing.T, what string, res *http.Response, doc *goquery.Document, bodySize int, sent ...string) bool {
	t.Helper()
	if res.StatusCode >= 500 {
		t.Fatalf("%s: status %d: %s", what, res.StatusCode, strings.TrimSpace(doc.Find(".error-page").Text()))
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		checkNoInjectedMarkup(t, what, doc)
	}
	if bodySize > handlers.MaxFormBytes {
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: a body of %d bytes got %d, want 413", what, bodySize, res.StatusCode)
		}
		return false
	}
	for _, s := range sent {
		if !isText(s) {
			msg := doc.Find(".error-page").Text()
			if res.StatusCode != http.StatusBadRequest || !slices.ContainsFunc(notTextMessages, func(m string) bool { return strings.Contains(msg, m) }) {
				t.Fatalf("%s: %q is not text, got %d %q, want the 400 page saying so", what, s, res.StatusCode, strings.TrimSpace(msg))
			}
			return false
		}
	}
	return true
}

// checkNoInjectedMarkup fails when the page holds a script that is not one
// of ours, an event-handler attribute or a javascript: URL: markup made
// of something the input said.
func checkNoInjectedMarkup(t *testing.T, what string, doc *goquery.Document) {
	t.Helper()
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		n := s.Nodes[0]
		if n.Data == "script" {
			if src, _ := s.Attr("src"); !strings.HasPrefix(src, "/static/") {
				html, _ := goquery.OuterHtml(s)
				t.Fatalf("%s: a script that is not ours: %s", what, html)
			}
		}
		for _, a := range n.Attr {
			key, v := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(key, "on") || urlAttrs[key] && strings.HasPrefix(v, "javascript:") {
				t.Fatalf("%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
			}
		}
	})
}

// urlAttrs are the attributes that hold a URL a browser (or htmx) follows.
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true,
	"hx-get": true, "hx-post": true, "hx-push-url": true}

// expect fails unless the status is one of ok, or one of shown with the
// form matching sel shown again, or one of errPage with the error page
// and a message.
func expect(t *testing.T, what string, res *http.Response, doc *goquery.Document, ok []int, shown []int, sel string, errPage []int) {
	t.Helper()
	switch code := res.StatusCode; {
	case slices.Contains(ok, code):
	case slices.Contains(shown, code) && doc.Find(sel).Length() > 0:
	case slices.Contains(errPage, code) && errorMessage(doc) != "":
	default:
		t.Fatalf("%s: status %d, want %v, or %v showing %s again, or %v with the error page; page: %q", what, code, ok, shown, sel, errPage,
			strings.Join(strings.Fields(doc.Find("main, .error-page").First().Text()), " "))
	}
}

// errorMessage is the message of the error page, "" when there is none.
func errorMessage(doc *goquery.Document) string {
	return strings.TrimSpace(doc.Find(".error-page > p").Not(".error-code").FilterFunction(func(_ int, p *goquery.Selection) bool {
		return p.Find("a").Length() == 0
	}).Text())
}

// postForm posts form as c and returns the answer and the body's size.
func postForm(t *testing.T, c *client, target string, form url.Values, headers ...string) (*http.Response, *goquery.Document, int) {
	t.Helper()
	form.Set("_csrf", c.csrf)
	body := form.Encode()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, doc := c.do(t, req)
	return res, doc, len(body)
}

// maxFuzzURL bounds the URLs the targets send: the server refuses a
// request line and headers over 16 KiB with 431 and closes the
// connection, which app.Test reports as an error rather than an answer.
const maxFuzzURL = 12 << 10

// getQuery gets path with the query as c; ok is false (and nothing is
// sent) when the URL would be over maxFuzzURL.
func getQuery(t *testing.T, c *client, path string, q url.Values) (res *http.Response, doc *goquery.Document, ok bool) {
	t.Helper()
	target := path + "?" + q.Encode()
	if len(target) > maxFuzzURL {
		return nil, nil, false
	}
	res, doc = c.get(t, target)
	return res, doc, true
}

var fuzzSeq atomic.Int64

// fuzzOrder imports a fresh paid order: two mugs (one shipped when
// shipped is set) and a tea with hostile text, with shipping and tax.
func (a *testApp) fuzzOrder(t testing.TB, shipped bool) *canceldesk.Order {
	t.Helper()
	n := fuzzSeq.Add(1)
	o := &canceldesk.Order{Name: fmt.Sprintf("#F%d", n), Email: "buyer@example.com", Currency: "USD",
		Subtotal: 3000, Shipping: 500, Taxes: 240, Total: 3740, FinancialStatus: canceldesk.FinancialPaid,
		FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow, Source: "web", PaymentMethod: "manual",
		BillingAddress: canceldesk.Address{Name: `<b>Ann</b> "O'Lee"`}, CreatedAt: a.clock.Now().Add(-time.Hour),
		LineItems: []canceldesk.LineItem{
			{Name: "Blue Mug", SKU: "MUG-1", Quantity: 2, Price: 1000},
			{Name: "<i>Tea</i> =1+1", SKU: "TEA-1", Quantity: 1, Price: 1000},
		}}
	if shipped {
		o.FulfillmentStatus, o.LineItems[0].FulfilledQuantity = canceldesk.FulfillmentPartial, 1
	}
	if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	return o
}

func fuzzKey() string { return fmt.Sprintf("fuzz-key-%016d", fuzzSeq.Add(1)) }

// FuzzCancelForms fuzzes the cancel dialog (its preview, its no-JavaScript
// refresh, its submission, and the approval of a customer's request with
// it) and the bulk cancel of the orders list.
func FuzzCancelForms(f *testing.F) {
	a := newTestApp(f)
	loc := strconv.FormatInt(a.location(f, "Main").ID, 10)
	addSeeds(f,
		[]any{"customer_changed_mind", "now", loc, "Customer asked by phone", "", "", fuzzKey(), "", true, true},
		[]any{"out_of_stock", "later", "0", "", "discount", "SAVE10", fuzzKey(), "1,2,3", true, false},
		[]any{"suspected_fraud", "now", loc, "", "product", "Green Mug", fuzzKey(), "", false, true},
		[]any{"staff_error", "never", "-1", strings.Repeat("n", canceldesk.MaxStaffNoteLen+1), "coupon", "", "short", "abc,,-5", true, true},
		[]any{"other", "now", "9223372036854775808", "ok", "product", strings.Repeat("字", canceldesk.MaxOfferLen+1), " " + fuzzKey(), strings.Repeat("1,", 120), false, false},
		[]any{"", "", "", "", "", "", "", "", false, false},
	)
	addSeeds(f, hostileSeeds(8, true, true)...)
	f.Fuzz(func(t *testing.T, reason, refund, location, note, offer, offerText, key, ids string, restock, notify bool) {
		o := a.fuzzOrder(t, false)
		path := fmt.Sprintf("/orders/%d/cancel", o.ID)
		form := url.Values{"reason": {reason}, "refund": {refund}, "location": {location}, "note": {note},
			"offer": {offer}, "offer_text": {offerText}, "key": {key}}
		if restock {
			form.Set("restock", "on")
		}
		if notify {
			form.Set("notify", "on")
		}
		sent := []string{reason, refund, location, note, offer, offerText, key}

		res, doc, ok := getQuery(t, a.client, path+"/preview", form)
		if ok && checkAnswer(t, "preview", res, doc, 0, sent...) {
			expect(t, "preview", res, doc, []int{200}, nil, "", nil)
		}
		q := url.Values{"reason_changed": {"1"}}
		for k, v := range form {
			q[k] = v
		}
		res, doc, ok = getQuery(t, a.client, path, q)
		if ok && checkAnswer(t, "dialog", res, doc, 0, sent...) {
			expect(t, "dialog", res, doc, []int{200}, nil, "", nil)
		}
		res, doc, size := postForm(t, a.client, path, form)
		if checkAnswer(t, "cancel", res, doc, size, sent...) {
			expect(t, "cancel", res, doc, []int{303}, []int{400, 409}, "form.cancel-form", nil)
		}

		// The same dialog approving a customer's request.
		ro := a.fuzzOrder(t, false)
		r, err := a.db.FileRequest(context.Background(), canceldesk.RequestForm{OrderNumber: ro.Name, Email: ro.Email, Reason: "other"}, "http://x/r/", nil)
		if err != nil || r == nil {
			t.Fatalf("filing a request: %v, %v", r, err)
		}
		res, doc, size = postForm(t, a.client, fmt.Sprintf("/requests/%d/approve", r.ID), form)
		if checkAnswer(t, "approve", res, doc, size, sent...) {
			expect(t, "approve", res, doc, []int{303}, []int{400, 409}, "form.cancel-form", nil)
		}

		bulkIDs := append(strings.Split(ids, ","), strconv.FormatInt(a.fuzzOrder(t, false).ID, 10))
		bulk := url.Values{"ids": bulkIDs}
		for k, v := range form {
			bulk[k] = v
		}
		res, doc, size = postForm(t, a.client, "/orders/cancel", bulk)
		if checkAnswer(t, "bulk cancel", res, doc, size, append(sent, ids)...) {
			if len(bulkIDs) > 100 {
				expect(t, "bulk cancel", res, doc, nil, nil, "", []int{400})
			} else {
				expect(t, "bulk cancel", res, doc, []int{200}, []int{400}, `form.cancel-form[action="/orders/cancel"]`, nil)
			}
		}
	})
}

// FuzzRefundForms fuzzes the refund dialog (live totals, the return
// variant, the submission) and the manual restock.
func FuzzRefundForms(f *testing.F) {
	a := newTestApp(f)
	loc := strconv.FormatInt(a.location(f, "Main").ID, 10)
	addSeeds(f,
		[]any{"1", "1", "cancel", "return", loc, "full", "", "", "original", "", "Sorry", fuzzKey(), true},
		[]any{"2", "0", "no_restock", "", loc, "amount", "2.50", "-1.00", "store_credit", "2030-12-31", "", fuzzKey(), false},
		[]any{"0", "", "", "", "", "none", "", "5.00", "store_credit", "31/12/2030", "", fuzzKey(), false},
		[]any{"3", "-1", "return_no_restock", "cancel", "0", "amount", "1,000.001", "92233720368547758.07", "cheque", "2030-02-30", strings.Repeat("x", canceldesk.MaxRefundNoteLen+1), "k", true},
		[]any{"1", "1", "cancel", "cancel", "999", "amount", "-5", "-92233720368547758.08", "original", "", "", fuzzKey(), false},
		[]any{"9223372036854775807", "1e3", "", "", "", "", "", "", "", "", "", "", false},
	)
	addSeeds(f, hostileSeeds(12, true)...)
	f.Fuzz(func(t *testing.T, qty1, qty2, restock1, restock2, location, shippingMode, shipping, adjustment, method, creditExpires, note, key string, notify bool) {
		o := a.fuzzOrder(t, true)
		mug, tea := o.LineItems[0].ID, o.LineItems[1].ID
		form := url.Values{fmt.Sprintf("qty_%d", mug): {qty1}, fmt.Sprintf("qty_%d", tea): {qty2},
			fmt.Sprintf("restock_%d", mug): {restock1}, fmt.Sprintf("restock_%d", tea): {restock2},
			"location": {location}, "shipping_mode": {shippingMode}, "shipping": {shipping}, "adjustment": {adjustment},
			"method": {method}, "credit_expires": {creditExpires}, "note": {note}, "key": {key}}
		if notify {
			form.Set("notify", "on")
		}
		sent := []string{qty1, qty2, restock1, restock2, location, shippingMode, shipping, adjustment, method, creditExpires, note, key}
		path := fmt.Sprintf("/orders/%d/refund", o.ID)

		res, doc, ok := getQuery(t, a.client, path+"/totals", form)
		if ok && checkAnswer(t, "totals", res, doc, 0, sent...) {
			expect(t, "totals", res, doc, []int{200}, nil, "", nil)
		}
		q := url.Values{"return": {"1"}}
		for k, v := range form {
			q[k] = v
		}
		res, doc, ok = getQuery(t, a.client, path, q)
		if ok && checkAnswer(t, "return dialog", res, doc, 0, sent...) {
			expect(t, "return dialog", res, doc, []int{200}, nil, "", nil)
		}
		res, doc, size := postForm(t, a.client, path, form)
		if checkAnswer(t, "refund", res, doc, size, sent...) {
			expect(t, "refund", res, doc, []int{303}, []int{400, 403, 409}, "form.refund-form", nil)
		}

		// The restock form of a cancelled order, nothing restocked yet.
		c := a.fuzzOrder(t, false)
		if _, err := a.db.CancelOrder(context.Background(), canceldesk.CancelRequest{OrderID: c.ID, Reason: canceldesk.ReasonCustomer,
			Refund: canceldesk.RefundLater, IdempotencyKey: fuzzKey(), Actor: "fuzz"}); err != nil {
			t.Fatal(err)
		}
		path = fmt.Sprintf("/orders/%d/restock", c.ID)
		restock := url.Values{fmt.Sprintf("qty_%d", c.LineItems[0].ID): {qty1}, fmt.Sprintf("qty_%d", c.LineItems[1].ID): {qty2},
			"location": {location}, "key": {key}}
		res, doc, size = postForm(t, a.client, path, restock)
		if checkAnswer(t, "restock", res, doc, size, qty1, qty2, location, key) {
			expect(t, "restock", res, doc, []int{303}, []int{400, 409}, `form[action="`+path+`"]`, nil)
		}
	})
}

// FuzzSettingsForms fuzzes the settings (restock default, location, store
// name, reply-to, alert threshold, staff refund limits) and the
// auto-approval rule, then shows the page with what was saved.
func FuzzSettingsForms(f *testing.F) {
	a := newTestApp(f)
	loc := strconv.FormatInt(a.location(f, "Main").ID, 10)
	addSeeds(f,
		[]any{"2.5", loc, "100.00", "EUR", "50", "Tea & Mugs", "orders@shop.example", "30", "40.00", "vip, wholesale", true, true},
		[]any{"12.5%", "0", "", "", "", "", "", "60", "", "", false, false},
		[]any{"100.01", "-1", "-5", "eu", "1.234", strings.Repeat("店", 300), "not an address", "-10", "0", ",,,", true, true},
		[]any{"", "99999999999999999999", "92233720368547758.07", "JPY", "1.5", "", "", "9999999999", "92233720368547758.08", strings.Repeat("tag,", 100), false, true},
		[]any{"-0", "1.5", "1,50", "USDX", "0", "<b>", "a@b", "", "1e3", "<script>", true, false},
	)
	addSeeds(f, hostileSeeds(10, true, true)...)
	f.Fuzz(func(t *testing.T, alertRate, defaultLocation, limitUSD, newCurrency, newLimit, storeName, replyTo, maxAge, maxTotalUSD, excludeTags string, restockOnCancel, ruleEnabled bool) {
		a.get(t, "/settings")
		form := url.Values{"alert_rate": {alertRate}, "default_location": {defaultLocation}, "limit_USD": {limitUSD},
			"new_currency": {newCurrency}, "new_limit": {newLimit}, "store_name": {storeName}, "reply_to": {replyTo}}
		if restockOnCancel {
			form.Set("restock_on_cancel", "on")
		}
		res, doc, size := postForm(t, a.client, "/settings", form)
		if checkAnswer(t, "settings", res, doc, size, alertRate, defaultLocation, limitUSD, newCurrency, newLimit, storeName, replyTo) {
			expect(t, "settings", res, doc, []int{303}, []int{400}, `form[action="/settings"]`, nil)
		}
		rule := url.Values{"max_age": {maxAge}, "max_total_USD": {maxTotalUSD}, "exclude_tags": {excludeTags}}
		if ruleEnabled {
			rule.Set("rule_enabled", "on")
		}
		res, doc, size = postForm(t, a.client, "/settings/auto-approval", rule)
		if checkAnswer(t, "auto-approval", res, doc, size, maxAge, maxTotalUSD, excludeTags) {
			expect(t, "auto-approval", res, doc, []int{303}, []int{400}, "form.rule-form", nil)
		}
		res, doc = a.get(t, "/settings")
		checkAnswer(t, "settings page", res, doc, 0)
		expect(t, "settings page", res, doc, []int{200}, nil, "", nil)
	})
}

// FuzzTemplateForms fuzzes the message-template editor: the key in the
// URL, the subject and body, the order the preview uses; the preview, the
// save, and the editor showing what was saved.
func FuzzTemplateForms(f *testing.F) {
	a := newTestApp(f)
	a.seed(f, 3)
	addSeeds(f,
		[]any{"order_cancelled", "Your order {order_number} is cancelled", "Hi {customer_name},\n\n{items}\n\n{refund}\n\n{offer}", "#1001"},
		[]any{"order_cancelled.fraud", "Order {order_number}\r\nBcc: x@example.com", "{unknown}", ""},
		[]any{"refund_issued", "", "   ", "#9999"},
		[]any{"request_declined", strings.Repeat("s", canceldesk.MaxSubjectLen+1), strings.Repeat("字", canceldesk.MaxBodyLen+1), "%"},
		[]any{"order_cancelled.nope", "x", "y", "z"},
		[]any{"../settings", "x", "y", "z"},
	)
	for _, h := range fuzzHostile {
		addSeeds(f, []any{"order_cancelled", h, h + "\n\n{items}", h}, []any{h, h, h, h})
	}
	f.Fuzz(func(t *testing.T, key, subject, body, order string) {
		path := "/settings/messages/" + url.PathEscape(key)
		known := templateKeyReachable(key)
		a.get(t, "/settings/messages")
		form := url.Values{"subject": {subject}, "body": {body}, "order": {order}}
		sent := []string{subject, body, order}
		// an address that is not text, or holds a control character, is
		// refused before its form is read
		if !isText(key) || strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			res, doc, _ := postForm(t, a.client, path+"/preview", form, "HX-Request", "true")
			if msg := doc.Find(".error-page").Text(); res.StatusCode != 400 || !strings.Contains(msg, "address of this page can't be read") {
				t.Fatalf("key %q: got %d %q, want the 400 page about the address", key, res.StatusCode, strings.TrimSpace(msg))
			}
			return
		}

		res, doc, size := postForm(t, a.client, path+"/preview", form, "HX-Request", "true")
		if !known && res.StatusCode == http.StatusNotFound {
			// an address no route matches (an empty key, say) is "not
			// found" before its form is read
			checkAnswer(t, "preview", res, doc, 0)
			expect(t, "preview", res, doc, nil, nil, "", []int{404})
			return
		}
		if checkAnswer(t, "preview", res, doc, size, sent...) {
			if known {
				expect(t, "preview", res, doc, []int{200}, nil, "", nil)
			} else {
				expect(t, "preview", res, doc, nil, nil, "", []int{404})
			}
		}
		res, doc, size = postForm(t, a.client, path, form)
		if checkAnswer(t, "save", res, doc, size, sent...) {
			if known {
				expect(t, "save", res, doc, []int{303}, []int{400}, "form.template-form", nil)
			} else {
				expect(t, "save", res, doc, nil, nil, "", []int{404})
			}
		}
		if known {
			res, doc = a.get(t, path)
			checkAnswer(t, "editor", res, doc, 0)
			expect(t, "editor", res, doc, []int{200}, nil, "", nil)
		}
	})
}

// templateKeyReachable reports whether key, as a URL path segment,
// reaches a template's editor.
func templateKeyReachable(key string) bool {
	_, _, ok := canceldesk.ParseTemplateKey(key)
	return ok && url.PathEscape(key) == key
}

// FuzzCustomerForms fuzzes the public cancellation-request form and the
// staff's decline form of a request.
func FuzzCustomerForms(f *testing.F) {
	a := newTestApp(f)
	addSeeds(f,
		[]any{"1001", "buyer@example.com", "changed_mind", "Found it cheaper", "", "We have already packed it."},
		[]any{"#F1", "Buyer@Example.com", "other", "", "", ""},
		[]any{"", "not-an-email", "because", strings.Repeat("c", canceldesk.MaxRequestCommentLen+1), "http://spam.example", strings.Repeat("m", canceldesk.MaxDeclineMessageLen+1)},
		[]any{strings.Repeat("9", 41), "a@b.c", "better_price", "", "", "   "},
	)
	addSeeds(f, hostileSeeds(6)...)
	f.Fuzz(func(t *testing.T, order, email, reason, comment, website, message string) {
		visitor := a.anonymous()
		visitor.get(t, "/cancel")
		form := url.Values{"order": {order}, "email": {email}, "reason": {reason}, "comment": {comment}, "website": {website}}
		res, doc, size := postForm(t, visitor, "/cancel", form)
		if checkAnswer(t, "request", res, doc, size, order, email, reason, comment, website) {
			expect(t, "request", res, doc, []int{303}, []int{400, 429}, "form.request-form", nil)
		}

		o := a.fuzzOrder(t, false)
		r, err := a.db.FileRequest(context.Background(), canceldesk.RequestForm{OrderNumber: o.Name, Email: o.Email, Reason: "other"}, "http://x/r/", nil)
		if err != nil || r == nil {
			t.Fatalf("filing a request: %v, %v", r, err)
		}
		path := fmt.Sprintf("/requests/%d/decline", r.ID)
		a.get(t, path)
		res, doc, size = postForm(t, a.client, path, url.Values{"message": {message}})
		if checkAnswer(t, "decline", res, doc, size, message) {
			expect(t, "decline", res, doc, []int{303}, []int{400, 409}, `form[action="`+path+`"]`, nil)
		}
	})
}

// noLimit counts nothing, so that fuzzed sign-ins are never cut short.
type noLimit struct{}

func (noLimit) Hit(context.Context, string, time.Duration) (int, error) { return 0, nil }
func (noLimit) Count(context.Context, string) (int, error)              { return 0, nil }
func (noLimit) Undo(context.Context, string) error                      { return nil }
func (noLimit) Reset(context.Context, string) error                     { return nil }

// FuzzAccountForms fuzzes sign-in (with the page to go to next), the
// owner's invitation and account changes, setting a password from an
// invitation, and a member's language.
func FuzzAccountForms(f *testing.F) {
	a := newTestApp(f, func(c *handlers.Config) { c.Limiter = noLimit{} })
	addSeeds(f,
		[]any{"staff@example.com", testPassword, "/orders?q=mug", "New Member", "staff", "role", "zh-TW", true},
		[]any{" STAFF@example.com ", "wrong", "//evil.example/", "", "admin", "disable", "fr", false},
		[]any{"x", "", "/\\evil.example", strings.Repeat("n", canceldesk.MaxNameLen+1), "owner", "reinvite", "", true},
		[]any{"", "short", "/\t/evil.example", "Ann", "manager", "enable", "en", true},
		[]any{"a@b", strings.Repeat("p", canceldesk.MaxPasswordLen+1), "https://evil.example", "Bo", "", "delete", "zh-tw", true},
		[]any{"c@d.e", "correct horse battery", "/%2F%2Fevil.example", "Cy", "staff", "role", "EN", true},
	)
	addSeeds(f, hostileSeeds(7, true)...)
	f.Fuzz(func(t *testing.T, email, password, next, name, role, action, language string, goodLogin bool) {
		ctx := context.Background()
		visitor := a.anonymous()
		res, doc, ok := getQuery(t, visitor, "/login", url.Values{"next": {next}})
		if ok && checkAnswer(t, "sign-in page", res, doc, 0, next) {
			expect(t, "sign-in page", res, doc, []int{200}, nil, "", nil)
		}
		login := url.Values{"email": {email}, "password": {password}, "next": {next}}
		if goodLogin {
			login.Set("email", testEmails[canceldesk.RoleStaff])
			login.Set("password", testPassword)
		}
		res, doc, size := postForm(t, visitor, "/login", login)
		if checkAnswer(t, "sign-in", res, doc, size, login.Get("email"), login.Get("password"), next) {
			expect(t, "sign-in", res, doc, []int{303}, []int{401}, `form[action="/login"]`, nil)
			if res.StatusCode == 303 {
				checkSameSite(t, res.Header.Get("Location"))
			}
		}

		a.get(t, "/staff")
		res, doc, size = postForm(t, a.client, "/staff", url.Values{"name": {name}, "email": {email}, "role": {role}})
		if checkAnswer(t, "invite", res, doc, size, name, email, role) {
			expect(t, "invite", res, doc, []int{200}, []int{400, 409}, `form[action="/staff"]`, nil)
		}

		n := fuzzSeq.Add(1)
		member := &canceldesk.Account{Name: fmt.Sprintf("Member %d", n), Email: fmt.Sprintf("member%d@example.com", n), Role: canceldesk.RoleStaff}
		if err := a.db.CreateAccount(ctx, member); err != nil {
			t.Fatal(err)
		}
		res, doc, size = postForm(t, a.client, fmt.Sprintf("/staff/%d", member.ID), url.Values{"action": {action}, "role": {role}})
		if checkAnswer(t, "account change", res, doc, size, action, role) {
			// The action and the role are a button and a select: a bad one
			// is a forged form, answered with the error page.
			expect(t, "account change", res, doc, []int{200, 303}, nil, "", []int{400, 409})
		}

		token, hash, err := canceldesk.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.db.CreateInvite(ctx, member.ID, hash, a.clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		newcomer := a.anonymous()
		newcomer.get(t, "/invite/"+token)
		res, doc, size = postForm(t, newcomer, "/invite/"+token, url.Values{"password": {password}, "confirm": {password}})
		if checkAnswer(t, "set password", res, doc, size, password) {
			expect(t, "set password", res, doc, []int{303}, []int{400, 404}, `form[action^="/invite/"]`, nil)
		}

		a.get(t, "/account")
		res, doc, size = postForm(t, a.client, "/account", url.Values{"language": {language}})
		if checkAnswer(t, "language", res, doc, size, language) {
			expect(t, "language", res, doc, []int{303}, nil, "", []int{400})
		}
	})
}

// checkSameSite fails when a redirect after sign-in could leave the site,
// reading the target as a browser does (WHATWG URL): tabs and line breaks
// are dropped and a backslash is a slash.
func checkSameSite(t *testing.T, location string) {
	t.Helper()
	cleaned := strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, location)
	base, _ := url.Parse("https://desk.example/login")
	ref, err := url.Parse(cleaned)
	if err != nil {
		t.Fatalf("redirect to %q, which is not a URL", location)
	}
	if u := base.ResolveReference(ref); u.Host != base.Host || u.Scheme != base.Scheme {
		t.Fatalf("redirect to %q leaves the site (%s)", location, u)
	}
}

// FuzzQueries fuzzes the query strings of the pages that read one: the
// orders list (search and filters), analytics and its CSV export, the bulk
// cancel's selection, messages, inventory, and the public pages.
func FuzzQueries(f *testing.F) {
	a := newTestApp(f)
	orders := a.seed(f, 60)
	a.location(f, "Main")
	addSeeds(f,
		[]any{"q=mug&status=cancelled&financial=paid&fulfillment=unfulfilled&from=2026-11-01&to=2026-11-03"},
		[]any{"range=custom&from=2026-01-01&to=2026-12-31&group=week&basis=cancelled&feedback=other"},
		[]any{"range=7&group=month&basis=placed"}, []any{"range=9999"}, []any{"range=custom&from=2020-01-01&to=2026-01-01"},
		[]any{fmt.Sprintf("ids=%d&ids=%d&ids=x&ids=-1", orders[0].ID, orders[1].ID)},
		[]any{"status=failed&sku=MUG-1&order=%231001&next=%2F%2Fevil.example&lang=zh-TW"},
		[]any{"after=zz.-1&q=%25%5F&status=all&lang=xx"}, []any{"q=%ff"}, []any{"q=a%00b"}, []any{"from=0000-01-01&to=9999-12-31"},
		[]any{strings.Repeat("ids=1&", 101)}, []any{"q=<script>alert(1)</script>&sku=<b>"}, []any{"a=%zz&b"}, []any{""},
	)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		var sent []string
		for k, vs := range q {
			sent = append(append(sent, k), vs...)
		}
		for _, p := range []struct {
			path     string
			ok       []int
			shown    []int
			form     string
			errPage  []int
			isPublic bool
		}{
			{"/orders", []int{200}, []int{400}, "#filters, #q-error", nil, false},
			{"/analytics", []int{200}, []int{400}, "#analytics-controls, #analytics-body", nil, false},
			{"/analytics/export", []int{200}, nil, "", []int{400}, false},
			{"/orders/cancel", []int{200}, nil, "", []int{400}, false},
			{"/messages", []int{200}, nil, "", []int{400}, false},
			{"/inventory", []int{200}, nil, "", nil, false},
			{"/inventory/movements", []int{200}, nil, "", []int{404}, false},
			{"/refunds", []int{200}, nil, "", nil, false},
			{"/requests", []int{200}, nil, "", nil, false},
			{"/login", []int{200}, nil, "", nil, true},
			{"/cancel", []int{200}, nil, "", nil, true},
		} {
			c := a.client
			if p.isPublic {
				c = a.anonymous()
			}
			res, doc, ok := getQuery(t, c, p.path, q)
			if ok && checkAnswer(t, p.path, res, doc, 0, sent...) {
				expect(t, p.path, res, doc, p.ok, p.shown, p.form, p.errPage)
			}
		}
	})
}
