package handlers

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
)

// Rows is the body of the orders table. It is written in Go rather than
// with {{range}} in views/orders/_results.html: executing ~30 template
// actions for each of 50 rows cost more than the page's query. The markup
// is the old row template's, which the tests keep as the reference.
func (p ordersPage) Rows() template.HTML {
	return orderRows(p.L, p.Orders)
}

// rowText is what every row of a page says alike, translated and escaped
// once per page.
type rowText struct {
	order, date, customer, total, payment, fulfillment, items string // data-label
	cancelled, refundOwed, noCustomer                         string
}

func newRowText(l *i18n.Localizer) rowText {
	t := func(id string) string { return esc(l.T(id)) }
	return rowText{
		order: t("orders.col.order"), date: t("orders.col.date"), customer: t("orders.col.customer"),
		total: t("orders.col.total"), payment: t("orders.col.payment"), fulfillment: t("orders.col.fulfillment"),
		items: t("orders.col.items"), cancelled: t("orders.cancelled_badge"),
		refundOwed: t("orders.refund_owed_badge"), noCustomer: t("orders.no_customer"),
	}
}

// put writes parts one after the other, sparing the concatenation.
func put(b *strings.Builder, parts ...string) {
	for _, s := range parts {
		b.WriteString(s)
	}
}

// esc escapes text for an element's content or a quoted attribute, as
// html/template would (NUL included).
func esc(s string) string { return template.HTMLEscapeString(s) }

// orderRows writes one <tr> per order.
func orderRows(l *i18n.Localizer, orders []canceldesk.OrderSummary) template.HTML {
	if len(orders) == 0 {
		return ""
	}
	text := newRowText(l)
	var b strings.Builder
	b.Grow(len(orders) * 1024) // a row is ~850 bytes
	for i := range orders {
		writeOrderRow(&b, l, &text, &orders[i])
	}
	return template.HTML(b.String())
}

func writeOrderRow(b *strings.Builder, l *i18n.Localizer, text *rowText, o *canceldesk.OrderSummary) {
	id := strconv.FormatInt(o.ID, 10)
	if o.CancelledAt != nil {
		b.WriteString("<tr class=\"is-cancelled\">\n")
	} else {
		b.WriteString("<tr class=\"\">\n")
	}
	writeSelectCell(b, l, o, id)
	writeOrderCell(b, l, text, o, id)
	put(b, `<td data-label="`, text.date, `"><time datetime="`, esc(o.CreatedAt.Format(time.RFC3339)), `">`,
		esc(l.DateTime(o.CreatedAt)), "</time></td>\n")
	writeCustomerCell(b, text, o)
	put(b, `<td data-label="`, text.total, `" class="num"><span class="money">`,
		esc(l.Money(o.Total, o.Currency)), "</span></td>\n")
	writeBadgeCell(b, text.payment, "badge-fin-", string(o.FinancialStatus), l.Status("financial", string(o.FinancialStatus)))
	writeBadgeCell(b, text.fulfillment, "badge-ful-", string(o.FulfillmentStatus), l.Status("fulfillment", string(o.FulfillmentStatus)))
	put(b, `<td data-label="`, text.items, `" class="num">`, esc(l.N("orders.items", o.ItemCount)), "</td>\n</tr>\n")
}

// writeSelectCell: only an open order can be ticked for bulk cancelling.
func writeSelectCell(b *strings.Builder, l *i18n.Localizer, o *canceldesk.OrderSummary, id string) {
	b.WriteString(`<td class="select">`)
	if o.CancelledAt == nil {
		put(b, `<input type="checkbox" name="ids" value="`, id, `" form="bulk" aria-label="`,
			esc(l.T("bulk.select_order", "Name", o.Name)), `">`)
	}
	b.WriteString("</td>\n")
}

// writeOrderCell links the order; a cancelled one gets its badge, the
// refund it still owes and its reason.
func writeOrderCell(b *strings.Builder, l *i18n.Localizer, text *rowText, o *canceldesk.OrderSummary, id string) {
	put(b, `<td data-label="`, text.order, "\">\n", `<a class="order-link" href="/orders/`, id, `">`, esc(o.Name), "</a>\n")
	if o.CancelledAt != nil {
		put(b, `<span class="badge badge-cancelled">`, text.cancelled, "</span>\n")
		if o.RefundOwed != 0 {
			put(b, `<a class="badge badge-refund-owed" href="/orders/`, id, `/refund?owed=1">`, text.refundOwed,
				`<span class="visually-hidden"> `, esc(l.Money(o.RefundOwed, o.Currency)), "</span></a>")
		}
		b.WriteString("\n")
		if o.CancelReason != "" {
			put(b, `<span class="cancel-reason">`, esc(l.T("reason."+string(o.CancelReason))), "</span>")
		}
	}
	b.WriteString("\n</td>\n")
}

func writeCustomerCell(b *strings.Builder, text *rowText, o *canceldesk.OrderSummary) {
	put(b, `<td data-label="`, text.customer, "\" class=\"customer\">\n<div><span class=\"customer-name\">")
	if o.CustomerName != "" {
		b.WriteString(esc(o.CustomerName))
	} else {
		put(b, `<span class="muted">`, text.noCustomer, "</span>")
	}
	put(b, "</span>\n<span class=\"muted customer-email\">", esc(o.Email), "</span></div>\n</td>\n")
}

// writeBadgeCell is a status cell: the badge's class names the status
// value, its text the status in words.
func writeBadgeCell(b *strings.Builder, label, class, value, words string) {
	put(b, `<td data-label="`, label, `"><span class="badge `, class, esc(value), `">`, esc(words), "</span></td>\n")
}
