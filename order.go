// Package canceldesk holds the domain of Cancel Desk: orders, their line
// items, money, inventory and the timeline, plus the rules that decide what
// may happen to an order. It imports nothing else from the project; the
// store and handlers packages adapt it to SQL and HTTP.
package canceldesk

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// FinancialStatus follows Shopify's order financial statuses.
type FinancialStatus string

const (
	FinancialPending           FinancialStatus = "pending"
	FinancialAuthorized        FinancialStatus = "authorized"
	FinancialPaid              FinancialStatus = "paid"
	FinancialPartiallyPaid     FinancialStatus = "partially_paid"
	FinancialPartiallyRefunded FinancialStatus = "partially_refunded"
	FinancialRefunded          FinancialStatus = "refunded"
	FinancialVoided            FinancialStatus = "voided"
)

// FinancialStatuses lists every financial status in display order.
var FinancialStatuses = []FinancialStatus{
	FinancialPending, FinancialAuthorized, FinancialPaid, FinancialPartiallyPaid,
	FinancialPartiallyRefunded, FinancialRefunded, FinancialVoided,
}

// Valid reports whether s is a known financial status.
func (s FinancialStatus) Valid() bool { return slices.Contains(FinancialStatuses, s) }

// FulfillmentStatus is the order-level fulfillment state.
type FulfillmentStatus string

const (
	FulfillmentUnfulfilled FulfillmentStatus = "unfulfilled"
	FulfillmentPartial     FulfillmentStatus = "partial"
	FulfillmentFulfilled   FulfillmentStatus = "fulfilled"
)

// FulfillmentStatuses lists every fulfillment status in display order.
var FulfillmentStatuses = []FulfillmentStatus{FulfillmentUnfulfilled, FulfillmentPartial, FulfillmentFulfilled}

// Valid reports whether s is a known fulfillment status.
func (s FulfillmentStatus) Valid() bool { return slices.Contains(FulfillmentStatuses, s) }

// RiskLevel is the fraud-risk assessment carried over from the shop.
type RiskLevel string

const (
	RiskLow    RiskLevel = "low"
	RiskMedium RiskLevel = "medium"
	RiskHigh   RiskLevel = "high"
)

// CancelReason is one of Shopify's six orderCancel reason codes.
type CancelReason string

const (
	ReasonCustomer  CancelReason = "customer"
	ReasonDeclined  CancelReason = "declined"
	ReasonFraud     CancelReason = "fraud"
	ReasonInventory CancelReason = "inventory"
	ReasonStaff     CancelReason = "staff"
	ReasonOther     CancelReason = "other"
)

// CancelReasons lists the reason codes in Shopify's order.
var CancelReasons = []CancelReason{ReasonCustomer, ReasonDeclined, ReasonFraud, ReasonInventory, ReasonStaff, ReasonOther}

// ParseCancelReason maps a Shopify code (any case) to a reason; unknown
// non-empty codes become ReasonOther so imported data is never rejected for it.
func ParseCancelReason(s string) CancelReason {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	if r := CancelReason(s); slices.Contains(CancelReasons, r) {
		return r
	}
	return ReasonOther
}

// Address is a postal address as Shopify exports it.
type Address struct {
	Name     string
	Company  string
	Address1 string
	Address2 string
	City     string
	Zip      string
	Province string
	Country  string
	Phone    string
}

// Lines returns the non-empty address lines for display.
func (a Address) Lines() []string {
	var out []string
	place := strings.TrimSpace(strings.Join(nonEmpty(a.City, strings.TrimSpace(a.Province+" "+a.Zip)), ", "))
	for _, s := range []string{a.Name, a.Company, a.Address1, a.Address2, place, a.Country, a.Phone} {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Order is an order with its line items. Money fields are minor units of
// Currency.
type Order struct {
	ID         int64
	ExternalID string // the shop's own id ("Id" column of the export)
	Name       string // order number as the merchant knows it, e.g. "#1001"
	Email      string
	Currency   string

	Subtotal  int64
	Shipping  int64
	Taxes     int64
	Discounts int64
	Total     int64
	// RefundedAmount is every refund recorded, whatever its gateway said
	// yet (pending and failed ones hold their amount until settled), so
	// it caps what may still be refunded.
	RefundedAmount int64
	// RefundedSucceeded is the part of RefundedAmount that was given back
	// for certain: refunds the gateway confirmed (manual and store credit
	// at once) and refunds an import brought in. It is the one figure of
	// money returned every page, chart and export reads (see
	// BalanceOf); a pending or failed refund is never in it.
	RefundedSucceeded int64
	ShippingRefunded  int64 // part of Shipping given back
	TaxRefunded       int64 // part of Taxes given back

	FinancialStatus   FinancialStatus
	FulfillmentStatus FulfillmentStatus
	PaymentMethod     string
	PaymentReference  string // the payment's id at the provider, e.g. a Stripe charge "ch_…"
	PaidAt            *time.Time
	FulfilledAt       *time.Time
	CancelledAt       *time.Time
	CancelReason      CancelReason

	BillingAddress  Address
	ShippingAddress Address
	Notes           string
	Tags            []string
	Risk            RiskLevel
	Source          string
	// Location names the stock location the order was sold from (the
	// export's Location column), "" when it names none. ImportOrders
	// creates the location; LocationID is its id once stored (0: none).
	Location   string
	LocationID int64
	// LocationExternalID is Shopify's id of that location
	// (gid://shopify/Location/…), as the Admin API names it; the store sets
	// it on the location when it is not set yet. "" when unknown.
	LocationExternalID string
	// Locale is the customer's language as the import gave it (e.g.
	// "zh-TW"); "" when it gave none, and the store's default applies
	// (see OrderLanguage).
	Locale string
	// ShopifyUpdatedAt is when Shopify last changed the order, as its Admin
	// API said; nil for an order the API has not shown (a CSV import, the
	// demo). See ShopifyOrder.
	ShopifyUpdatedAt *time.Time

	CreatedAt time.Time
	UpdatedAt time.Time

	LineItems []LineItem
}

// LineItem is one product line of an order with its per-line quantities.
type LineItem struct {
	ID                int64
	OrderID           int64
	Position          int
	Name              string
	SKU               string
	Quantity          int
	Price             int64 // unit price, minor units
	FulfilledQuantity int
	CancelledQuantity int
	RefundedQuantity  int // every refunded unit, shipped or not
	RestockedQuantity int // unshipped (cancelled) units put back to stock
	// Shipped units: returned, returned and put back to stock, refunded.
	ReturnedQuantity        int
	ReturnRestockedQuantity int
	RefundedShippedQuantity int
	// ExternalID is Shopify's id of the line (gid://shopify/LineItem/…),
	// "" when unknown (a CSV import): refundCreate names lines by it.
	ExternalID string
}

// Cancelled reports whether the order has been cancelled.
func (o *Order) Cancelled() bool { return o.CancelledAt != nil }

// Money returns an amount in the order's currency.
func (o *Order) Money(minor int64) Money { return Money{Amount: minor, Currency: o.Currency} }

// ItemCount is the number of units ordered.
func (o *Order) ItemCount() int {
	n := 0
	for _, li := range o.LineItems {
		n += li.Quantity
	}
	return n
}

// CheckAmounts refuses an order holding an amount below zero or above
// MaxOrderAmount, naming the first such amount; the error is EINVALID.
func (o *Order) CheckAmounts() error {
	for _, a := range []struct {
		what string
		v    int64
	}{
		{"Subtotal", o.Subtotal}, {"Shipping", o.Shipping}, {"Taxes", o.Taxes}, {"Discounts", o.Discounts},
		{"Total", o.Total}, {"Refunded amount", o.RefundedAmount}, {"Shipping refunded", o.ShippingRefunded},
		{"Tax refunded", o.TaxRefunded},
	} {
		if err := o.checkAmount(a.what, a.v); err != nil {
			return err
		}
	}
	var lines int64
	for i, li := range o.LineItems {
		if err := o.checkAmount(fmt.Sprintf("Line %d price", i+1), li.Price); err != nil {
			return err
		}
		if li.Quantity > 0 && li.Price > MaxOrderAmount/int64(li.Quantity) {
			return amountError("Line %d price × quantity (%s × %d) is more than %s, the most one order may hold",
				i+1, o.amount(li.Price), li.Quantity, o.amount(MaxOrderAmount))
		}
		lines += li.Total() // each at most the bound: no overflow for many lines
		if err := o.checkAmount("The line items together", lines); err != nil {
			return err
		}
	}
	return nil
}

// checkAmount refuses one amount of o outside [0, MaxOrderAmount].
func (o *Order) checkAmount(what string, v int64) error {
	switch {
	case v < 0:
		return amountError("%s %s is negative", what, o.amount(v))
	case v > MaxOrderAmount:
		return amountError("%s %s is more than %s, the most one order may hold", what, o.amount(v), o.amount(MaxOrderAmount))
	}
	return nil
}

// amount writes minor units of o's currency for an error message.
func (o *Order) amount(v int64) string { return o.Money(v).Decimal() + " " + o.Currency }

func amountError(format string, args ...any) error { return Errorf(EINVALID, format, args...) }

// Total of a line before discounts and tax.
func (li LineItem) Total() int64 { return li.Price * int64(li.Quantity) }

// UnfulfilledQuantity is what is left to ship and not cancelled.
func (li LineItem) UnfulfilledQuantity() int {
	n := li.Quantity - li.FulfilledQuantity - li.CancelledQuantity
	if n < 0 {
		return 0
	}
	return n
}

// DeriveFulfillment computes the order-level fulfillment status from its lines.
func DeriveFulfillment(lines []LineItem) FulfillmentStatus {
	var total, done int
	for _, li := range lines {
		total += li.Quantity
		done += li.FulfilledQuantity
	}
	switch {
	case total == 0 || done == 0:
		return FulfillmentUnfulfilled
	case done >= total:
		return FulfillmentFulfilled
	default:
		return FulfillmentPartial
	}
}

// Event is one entry of an order's timeline.
type Event struct {
	ID        int64
	OrderID   int64
	Kind      string    // e.g. "imported", "created", "cancelled"
	Actor     string    // who did it: an account email, "import", "system"
	Message   string    // legacy English text of rows written before Data; empty on new rows
	Data      EventData // what the entry says, rendered in the reader's language
	CreatedAt time.Time
}

// Event kinds written by the foundation.
const (
	EventImported  = "imported"
	EventCreated   = "created"
	EventCancelled = "cancelled"
)

// Location is a place that holds stock.
type Location struct {
	ID   int64
	Name string
	// ExternalID is Shopify's id of the location (gid://shopify/Location/…),
	// "" for a location made here.
	ExternalID string
}

// DefaultLocationName is the location an import creates when its orders
// name none and the store has none: stored as is, so it stays the same
// whatever language the importer reads.
const DefaultLocationName = "Main location"

// MaxLocationName is the longest location name, in characters.
const MaxLocationName = 100

// CheckLocationName trims a location name and refuses an empty one or one
// longer than MaxLocationName characters (EINVALID beside the field
// "name", with the catalogue key of the reason).
func CheckLocationName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", &Error{Code: EINVALID, Message: "A location needs a name.", Field: "name", Key: "validation.location_name_empty"}
	case utf8.RuneCountInString(name) > MaxLocationName:
		return "", &Error{Code: EINVALID, Message: fmt.Sprintf("A location name is at most %d characters.", MaxLocationName),
			Field: "name", Key: "validation.location_name_long"}
	}
	return name, nil
}

// StockLevel is the quantity on hand of one SKU at one location.
type StockLevel struct {
	SKU        string
	LocationID int64
	Location   string
	OnHand     int
}

// MovementKind says why stock changed.
type MovementKind string

const (
	MovementSale           MovementKind = "sale"
	MovementCancelRestock  MovementKind = "cancel_restock"
	MovementReturnRestock  MovementKind = "return_restock"
	MovementManual         MovementKind = "manual"
	MovementAdjustment     MovementKind = "adjustment"
	MovementInitialReceipt MovementKind = "receipt"
)

// InventoryMovement is one row of the stock ledger; stock on hand at a
// location is the sum of its movements.
type InventoryMovement struct {
	ID         int64
	SKU        string
	LocationID int64
	Delta      int
	Kind       MovementKind
	OrderID    int64 // 0 when not tied to an order
	// OrderName is the order's name ("#3999"), what pages show of it.
	OrderName string
	Actor     string
	CreatedAt time.Time
}
