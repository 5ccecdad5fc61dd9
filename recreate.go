package canceldesk

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event kinds written by a re-create: "recreated" on the original order,
// "recreated_from" on the new one. Each names the other order by name in
// its data (EventData.Order), so the timelines link both ways.
const (
	EventRecreated     = "recreated"
	EventRecreatedFrom = "recreated_from"
)

// RecreateNotCancelled is the catalogue key of the conflict of re-creating
// an order that is not cancelled.
const RecreateNotCancelled = "recreate.not_cancelled"

// Re-created orders.
const (
	// RecreateSource is the Source of a re-created order.
	RecreateSource = "cancel-desk"
	// RecreatedTag is added to the tags copied from the original.
	RecreatedTag = "recreated"
)

// Recreation links a cancelled order to the one order re-created from it.
type Recreation struct {
	OriginalID int64  // the cancelled order
	OrderID    int64  // the new order
	OrderName  string // the new order's name, e.g. "#1001-R1"
	Actor      string
	CreatedAt  time.Time
}

// RecreateName is the name of the n-th re-creation (n ≥ 1) of the order
// named name: "#1001" → "#1001-R1".
func RecreateName(name string, n int) string { return name + "-R" + strconv.Itoa(n) }

var recreateSuffix = regexp.MustCompile(`-R[0-9]+$`)

// RecreateBaseName is the name re-created names are built on: the order's
// own name, except that an order re-created here ("#1001-R1", Source
// RecreateSource) counts from its original's name, so re-creating it again
// gives "#1001-R2", not "#1001-R1-R1".
func RecreateBaseName(o *Order) string {
	if o.Source == RecreateSource {
		if base := recreateSuffix.ReplaceAllString(o.Name, ""); base != "" {
			return base
		}
	}
	return o.Name
}

// NewRecreatedOrder is the open order re-creating the cancelled order o,
// created at now and named name: the same customer (email, addresses),
// currency, notes, risk, items (names, SKUs, quantities, prices), shipping,
// taxes, discounts and totals; financial status pending (payment is taken
// again, so no payment method, nothing paid or refunded) and unfulfilled;
// source RecreateSource; o's tags plus RecreatedTag. Ids are left zero.
func NewRecreatedOrder(o *Order, name string, now time.Time) *Order {
	n := &Order{
		Name:              name,
		Email:             o.Email,
		Currency:          o.Currency,
		Subtotal:          o.Subtotal,
		Shipping:          o.Shipping,
		Taxes:             o.Taxes,
		Discounts:         o.Discounts,
		Total:             o.Total,
		FinancialStatus:   FinancialPending,
		FulfillmentStatus: FulfillmentUnfulfilled,
		BillingAddress:    o.BillingAddress,
		ShippingAddress:   o.ShippingAddress,
		Notes:             o.Notes,
		Tags:              slices.Clone(o.Tags),
		Risk:              o.Risk,
		Source:            RecreateSource,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	if !slices.ContainsFunc(n.Tags, func(t string) bool { return strings.EqualFold(t, RecreatedTag) }) {
		n.Tags = append(n.Tags, RecreatedTag)
	}
	for _, li := range o.LineItems {
		n.LineItems = append(n.LineItems, LineItem{Name: li.Name, SKU: li.SKU, Quantity: li.Quantity, Price: li.Price})
	}
	return n
}
