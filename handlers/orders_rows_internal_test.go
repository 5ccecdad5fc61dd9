package handlers

import (
	"html/template"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
)

// refOrderRows is the row template the orders list used before its rows
// were written in Go: the reference their markup must keep to.
var refOrderRows = template.Must(template.New("rows").Parse(`{{range .Orders}}
      <tr class="{{if .CancelledAt}}is-cancelled{{end}}">
        <td class="select">{{if not .CancelledAt}}<input type="checkbox" name="ids" value="{{.ID}}" form="bulk" aria-label="{{$.L.T "bulk.select_order" "Name" .Name}}">{{end}}</td>
        <td data-label="{{$.L.T "orders.col.order"}}">
          <a class="order-link" href="/orders/{{.ID}}">{{.Name}}</a>
          {{if .CancelledAt}}<span class="badge badge-cancelled">{{$.L.T "orders.cancelled_badge"}}</span>
            {{if .RefundOwed}}<a class="badge badge-refund-owed" href="/orders/{{.ID}}/refund?owed=1">{{$.L.T "orders.refund_owed_badge"}}<span class="visually-hidden"> {{$.L.Money .RefundOwed .Currency}}</span></a>{{end}}
            {{if .CancelReason}}<span class="cancel-reason">{{$.L.T (printf "reason.%s" .CancelReason)}}</span>{{end}}{{end}}
        </td>
        <td data-label="{{$.L.T "orders.col.date"}}"><time datetime="{{.CreatedAt.Format "2006-01-02T15:04:05Z07:00"}}">{{$.L.DateTime .CreatedAt}}</time></td>
        <td data-label="{{$.L.T "orders.col.customer"}}" class="customer">
          <div><span class="customer-name">{{if .CustomerName}}{{.CustomerName}}{{else}}<span class="muted">{{$.L.T "orders.no_customer"}}</span>{{end}}</span>
          <span class="muted customer-email">{{.Email}}</span></div>
        </td>
        <td data-label="{{$.L.T "orders.col.total"}}" class="num"><span class="money">{{$.L.Money .Total .Currency}}</span></td>
        <td data-label="{{$.L.T "orders.col.payment"}}"><span class="badge badge-fin-{{.FinancialStatus}}">{{$.L.Status "financial" (print .FinancialStatus)}}</span></td>
        <td data-label="{{$.L.T "orders.col.fulfillment"}}"><span class="badge badge-ful-{{.FulfillmentStatus}}">{{$.L.Status "fulfillment" (print .FulfillmentStatus)}}</span></td>
        <td data-label="{{$.L.T "orders.col.items"}}" class="num">{{$.L.N "orders.items" .ItemCount}}</td>
      </tr>
      {{end}}`))

// RefOrderRows renders orders through the reference row template.
func RefOrderRows(l *i18n.Localizer, orders []canceldesk.OrderSummary) (string, error) {
	var b strings.Builder
	err := refOrderRows.Execute(&b, ordersPage{Page: Page{L: l}, Orders: orders})
	return b.String(), err
}

// OrderRows renders orders as the orders list does.
func OrderRows(l *i18n.Localizer, orders []canceldesk.OrderSummary) string {
	return string(ordersPage{Page: Page{L: l}, Orders: orders}.Rows())
}

// benchOrders is a page of 50 orders, every fifth cancelled.
func benchOrders() []canceldesk.OrderSummary {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	orders := make([]canceldesk.OrderSummary, 50)
	for i := range orders {
		o := canceldesk.OrderSummary{ID: int64(1000 + i), Name: "#" + strconv.Itoa(1001+i), Email: "buyer@example.com",
			CustomerName: "Ada Lovelace", Currency: "USD", Total: 12345, FinancialStatus: canceldesk.FinancialPaid,
			FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, ItemCount: 3, CreatedAt: at.Add(time.Duration(i) * time.Hour)}
		if i%5 == 4 {
			c := o.CreatedAt.Add(time.Hour)
			o.CancelledAt, o.CancelReason, o.RefundOwed = &c, canceldesk.ReasonInventory, 12345
		}
		orders[i] = o
	}
	return orders
}

// BenchmarkOrdersRows: a page of rows written in Go against the same page
// through the reference template.
func BenchmarkOrdersRows(b *testing.B) {
	bundle, err := i18n.New()
	if err != nil {
		b.Fatal(err)
	}
	orders := benchOrders()
	for _, lang := range []string{"en", "zh-TW"} {
		l := bundle.Localizer(lang, time.UTC)
		b.Run("go/"+lang, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				OrderRows(l, orders)
			}
		})
		b.Run("template/"+lang, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := RefOrderRows(l, orders); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
