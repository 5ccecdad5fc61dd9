package handlers_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
)

// Hostile text from an import: it must show as text, never as markup.
const (
	hostileName     = `<script>alert(1)</script>`
	hostileEmail    = `"onmouseover=alert(1) x@example.com &amp;`
	hostileCustomer = `"onmouseover="alert(2)&amp;<b>bold</b>`
)

// rowsOrders covers every branch of a row: open, cancelled with a reason
// and refunded, cancelled still owing a refund, cancelled without a
// reason, no customer name, hostile text.
func rowsOrders() []*canceldesk.Order {
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	order := func(name, email, customer string, h int, fin canceldesk.FinancialStatus, qty int) *canceldesk.Order {
		return &canceldesk.Order{Name: name, Email: email, Currency: "USD", Total: 1234, Subtotal: 1234,
			FinancialStatus: fin, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow, Source: "web",
			BillingAddress: canceldesk.Address{Name: customer}, CreatedAt: at(h),
			LineItems: []canceldesk.LineItem{{Name: "Blue Mug", SKU: "MUG-" + name, Quantity: qty, Price: 617}}}
	}
	cancel := func(o *canceldesk.Order, r canceldesk.CancelReason) *canceldesk.Order {
		c := o.CreatedAt.Add(time.Hour)
		o.CancelledAt, o.CancelReason = &c, r
		return o
	}
	return []*canceldesk.Order{
		order("#2001", "ada@example.com", "Ada Lovelace", 1, canceldesk.FinancialPaid, 2),
		cancel(order("#2002", "bob@example.com", "Bob", 2, canceldesk.FinancialRefunded, 1), canceldesk.ReasonCustomer),
		cancel(order("#2003", "cy@example.com", "Cy", 3, canceldesk.FinancialPaid, 1), canceldesk.ReasonInventory),
		cancel(order("#2004", "di@example.com", "Di", 4, canceldesk.FinancialPaid, 1), ""),
		order("#2005", "anon@example.com", "", 5, canceldesk.FinancialPending, 1),
		order(hostileName, hostileEmail, hostileCustomer, 6, canceldesk.FinancialPaid, 1),
	}
}

// rowWords is what the rows say in one language.
type rowWords struct {
	lang, selectOrder, cancelled, refundOwed, noCustomer, oneItem, twoItems string
	reasons                                                                 map[string]string // by order name
	paid                                                                    string
}

var rowLanguages = []rowWords{
	{lang: "en", selectOrder: "Select ", cancelled: "Cancelled", refundOwed: "Refund owed", noCustomer: "No customer",
		oneItem: "1 item", twoItems: "2 items", paid: "Paid",
		reasons: map[string]string{"#2002": "Customer changed their mind", "#2003": "Item out of stock"}},
	{lang: "zh-TW", selectOrder: "選取 ", cancelled: "已取消", refundOwed: "待退款", noCustomer: "無顧客資料",
		oneItem: "1 件商品", twoItems: "2 件商品", paid: "已付款",
		reasons: map[string]string{"#2002": "顧客改變心意", "#2003": "商品缺貨"}},
}

// The orders list's rows, written in Go, say in both languages what each
// order is, keep hostile text as text, and parse to the same DOM as the
// row template they replace.
func TestOrdersRowsMarkup(t *testing.T) {
	a := newTestApp(t)
	if _, err := a.db.ImportOrders(context.Background(), rowsOrders(), "test"); err != nil {
		t.Fatal(err)
	}
	for _, w := range rowLanguages {
		t.Run(w.lang, func(t *testing.T) {
			_, doc := a.get(t, "/orders?lang="+w.lang)
			if doc.Find("#results script, #results b, #results [onmouseover]").Length() != 0 {
				t.Error("hostile text became markup")
			}
			if h, _ := doc.Find("#results tbody").Html(); strings.Contains(h, "⟦") {
				t.Error("a row names a missing message")
			}
			rows := doc.Find("#results tbody tr")
			if rows.Length() != 6 {
				t.Fatalf("%d rows, want 6", rows.Length())
			}
			heads := doc.Find("#results thead th")
			rows.Each(func(_ int, tr *goquery.Selection) { checkRowCells(t, w, heads, tr) })
			checkRowsMatchTemplate(t, a, w.lang, rows)
		})
	}
}

// checkRowCells checks one row's cells against what its order is.
func checkRowCells(t *testing.T, w rowWords, heads, tr *goquery.Selection) {
	link := tr.Find("a.order-link")
	name := link.Text()
	cancelled := name == "#2002" || name == "#2003" || name == "#2004"
	id := strings.TrimPrefix(link.AttrOr("href", ""), "/orders/")
	if _, err := strconv.ParseInt(id, 10, 64); err != nil || link.Length() != 1 {
		t.Fatalf("%s: order link %q", name, link.AttrOr("href", ""))
	}
	tr.Find("td").Each(func(i int, td *goquery.Selection) {
		if i > 0 && td.AttrOr("data-label", "") != strings.TrimSpace(heads.Eq(i).Text()) {
			t.Errorf("%s: cell %d data-label %q, want its column's %q", name, i, td.AttrOr("data-label", ""), heads.Eq(i).Text())
		}
	})
	box := tr.Find(`td.select input[type="checkbox"][name="ids"][form="bulk"]`)
	if cancelled != tr.HasClass("is-cancelled") || cancelled == (box.Length() == 1) {
		t.Errorf("%s: class %q, %d checkboxes", name, tr.AttrOr("class", ""), box.Length())
	}
	if !cancelled && (box.AttrOr("value", "") != id || box.AttrOr("aria-label", "") != w.selectOrder+name) {
		t.Errorf("%s: checkbox value %q label %q", name, box.AttrOr("value", ""), box.AttrOr("aria-label", ""))
	}
	if got := tr.Find("span.badge-cancelled").Text(); cancelled != (got == w.cancelled) {
		t.Errorf("%s: cancelled badge %q", name, got)
	}
	owed := tr.Find("a.badge-refund-owed")
	if wantOwed := name == "#2003" || name == "#2004"; wantOwed != (owed.Length() == 1) ||
		wantOwed && (owed.AttrOr("href", "") != "/orders/"+id+"/refund?owed=1" ||
			owed.Contents().First().Text() != w.refundOwed || !strings.Contains(owed.Find(".visually-hidden").Text(), "12.34")) {
		t.Errorf("%s: refund-owed badge %d %q %q", name, owed.Length(), owed.AttrOr("href", ""), owed.Text())
	}
	if got := tr.Find(".cancel-reason").Text(); got != w.reasons[name] {
		t.Errorf("%s: reason %q, want %q", name, got, w.reasons[name])
	}
	checkCustomerCells(t, w, name, tr)
}

// checkCustomerCells checks the date, customer, total, status and item
// cells of one row.
func checkCustomerCells(t *testing.T, w rowWords, name string, tr *goquery.Selection) {
	var o *canceldesk.Order
	for _, x := range rowsOrders() {
		if x.Name == name {
			o = x
		}
	}
	if o == nil {
		t.Fatalf("a row for an unknown order %q", name)
	}
	if got := tr.Find("time").AttrOr("datetime", ""); got != o.CreatedAt.Format(time.RFC3339) || strings.TrimSpace(tr.Find("time").Text()) == "" {
		t.Errorf("%s: time %q %q", name, got, tr.Find("time").Text())
	}
	customer := tr.Find(".customer-name")
	if o.BillingAddress.Name == "" {
		if got := customer.Find(".muted").Text(); got != w.noCustomer {
			t.Errorf("%s: no-customer text %q", name, got)
		}
	} else if customer.Text() != o.BillingAddress.Name || customer.Children().Length() != 0 {
		t.Errorf("%s: customer %q", name, customer.Text())
	}
	if got := tr.Find(".customer-email").Text(); got != o.Email {
		t.Errorf("%s: email %q, want %q", name, got, o.Email)
	}
	if got := tr.Find("td.num .money").Text(); !strings.Contains(got, "12.34") {
		t.Errorf("%s: total %q", name, got)
	}
	fin := tr.Find("td span.badge").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.HasClass("badge-fin-" + string(o.FinancialStatus))
	})
	if fin.Length() != 1 || (o.FinancialStatus == canceldesk.FinancialPaid) != (fin.Text() == w.paid) {
		t.Errorf("%s: payment badge %d %q", name, fin.Length(), fin.Text())
	}
	if ful := tr.Find("span.badge-ful-unfulfilled"); ful.Length() != 1 || ful.Text() == "" {
		t.Errorf("%s: fulfillment badge %q", name, ful.Text())
	}
	items := w.oneItem
	if o.LineItems[0].Quantity == 2 {
		items = w.twoItems
	}
	if got := tr.Find("td.num").Last().Text(); got != items {
		t.Errorf("%s: items %q, want %q", name, got, items)
	}
}

// checkRowsMatchTemplate renders the page's orders through the row
// template the Go rows replace and wants the same DOM, row by row.
func checkRowsMatchTemplate(t *testing.T, a *testApp, lang string, rows *goquery.Selection) {
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	page, err := a.db.ListOrders(context.Background(), canceldesk.OrderFilter{Limit: canceldesk.PageSize})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := handlers.RefOrderRows(bundle.Localizer(lang, time.UTC), page.Orders)
	if err != nil {
		t.Fatal(err)
	}
	want := tableRows(t, ref)
	if want.Length() != rows.Length() {
		t.Fatalf("template: %d rows, page: %d", want.Length(), rows.Length())
	}
	rows.Each(func(i int, tr *goquery.Selection) {
		if got, ref := normalizedRow(t, tr), normalizedRow(t, want.Eq(i)); got != ref {
			t.Errorf("row %d differs from the template's:\n got %s\nwant %s", i, got, ref)
		}
	})
}

// tableRows parses a table body's markup and returns its rows.
func tableRows(t *testing.T, body string) *goquery.Selection {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + body + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc.Find("tbody > tr")
}

var spaces = regexp.MustCompile(`\s+`)

// normalizedRow is a row's outer HTML with each run of white space one
// space: the markup as a browser lays it out.
func normalizedRow(t *testing.T, tr *goquery.Selection) string {
	tr = tr.Clone()
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			n.Data = spaces.ReplaceAllString(n.Data, " ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(tr.Get(0))
	out, err := goquery.OuterHtml(tr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The comparison itself notices a row that drifts from the template.
func TestOrdersRowsComparisonNoticesDrift(t *testing.T) {
	ok := tableRows(t, `<tr class=""><td data-label="Order"> <a href="/orders/1">#1</a> </td></tr>`)
	same := tableRows(t, "<tr class=\"\"><td data-label=\"Order\">\n\t<a href=\"/orders/1\">#1</a>\n</td></tr>")
	if normalizedRow(t, ok) != normalizedRow(t, same) {
		t.Error("white space alone counts as a difference")
	}
	for _, drift := range []string{
		`<tr class=""><td data-label="Orders"> <a href="/orders/1">#1</a> </td></tr>`,
		`<tr class=""><td data-label="Order"> <a href="/orders/1" class="x">#1</a> </td></tr>`,
		`<tr class=""><td data-label="Order"> <a href="/orders/1">#1</a></td></tr>`,
		`<tr class=""><td data-label="Order"> <a href="/orders/1"><b>#1</b></a> </td></tr>`,
	} {
		if normalizedRow(t, ok) == normalizedRow(t, tableRows(t, drift)) {
			t.Errorf("%s counts as the same row", drift)
		}
	}
}
