package store

import (
	"encoding/json"
	"strings"

	"github.com/canceldesk/canceldesk"
)

// The one mapping of an order and its lines to table rows, shared by
// ImportOrders (insertOrder) and BulkLoad: a column added here is written by
// both paths. TestLoadPathsKeepEveryField round-trips every field through each.

// orderRowColumns are the columns of an order row, in the order orderRow
// returns its values.
const orderRowColumns = `id, sort_key, external_id, name, email, customer_name, currency, subtotal, shipping, taxes, discounts,
		total, refunded_amount, refunded_succeeded, shipping_refunded, tax_refunded, financial_status, fulfillment_status,
		payment_method, payment_reference, paid_at, fulfilled_at, cancelled_at, cancel_reason, billing_address,
		shipping_address, notes, tags, risk, source, item_count, created_at, updated_at, location_id, shopify_updated_at, locale`

// orderRow is the row of order o under id: its values for
// orderRowColumns, its sort key and its search document (the row of
// order_search keyed by that sort key).
func orderRow(o *canceldesk.Order, id int64) (vals []any, key int64, doc string) {
	billing, _ := json.Marshal(o.BillingAddress)
	shipping, _ := json.Marshal(o.ShippingAddress)
	lines := make([]string, 0, 2*len(o.LineItems))
	for _, li := range o.LineItems {
		lines = append(lines, li.Name, li.SKU)
	}
	customer := customerName(o)
	doc = searchDoc(o.Name, o.Email, customer, lines)
	key = sortKey(o.CreatedAt, id)
	vals = []any{id, key, o.ExternalID, o.Name, o.Email, customer, o.Currency, o.Subtotal, o.Shipping, o.Taxes,
		o.Discounts, o.Total, o.RefundedAmount, o.RefundedSucceeded, o.ShippingRefunded, o.TaxRefunded, string(o.FinancialStatus),
		string(o.FulfillmentStatus), o.PaymentMethod, o.PaymentReference, micros(o.PaidAt), micros(o.FulfilledAt),
		micros(o.CancelledAt), string(o.CancelReason), string(billing), string(shipping), o.Notes,
		strings.Join(o.Tags, ", "), string(o.Risk), o.Source, o.ItemCount(), o.CreatedAt.UnixMicro(),
		o.UpdatedAt.UnixMicro(), nullID(o.LocationID), micros(o.ShopifyUpdatedAt), o.Locale}
	return vals, key, doc
}

// lineRowColumns are the columns of a line row but its id, in the order
// lineRow returns their values.
const lineRowColumns = `order_id, position, name, sku, quantity, price,
	fulfilled_quantity, cancelled_quantity, refunded_quantity, restocked_quantity,
	returned_quantity, return_restocked_quantity, refunded_shipped_quantity, external_id`

// lineRow is the row of li (its OrderID and Position set) for lineRowColumns.
func lineRow(li *canceldesk.LineItem) []any {
	return []any{li.OrderID, li.Position, li.Name, li.SKU, li.Quantity, li.Price, li.FulfilledQuantity,
		li.CancelledQuantity, li.RefundedQuantity, li.RestockedQuantity, li.ReturnedQuantity,
		li.ReturnRestockedQuantity, li.RefundedShippedQuantity, li.ExternalID}
}

// nullID is id, or NULL for 0 (no row referenced).
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// placeholders is n comma-separated "?".
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }
