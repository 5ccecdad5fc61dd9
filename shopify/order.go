package shopify

import (
	"fmt"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

// The shapes below are the Admin GraphQL API's Order object (2026-10) as
// the orders and order queries select it (orderFields); the stand-in of
// internal/shopifytest stores its orders in the same shapes.

// MoneyV2 is an amount as Shopify writes it: a decimal string.
type MoneyV2 struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

// MoneyBag is an amount in the shop's and the customer's currencies; Cancel
// Desk reads the shop's.
type MoneyBag struct {
	ShopMoney MoneyV2 `json:"shopMoney"`
}

// MailingAddress is an order's billing or shipping address.
type MailingAddress struct {
	Name     string `json:"name"`
	Company  string `json:"company"`
	Address1 string `json:"address1"`
	Address2 string `json:"address2"`
	City     string `json:"city"`
	Zip      string `json:"zip"`
	Province string `json:"province"`
	Country  string `json:"country"`
	Phone    string `json:"phone"`
}

// TransactionNode is an OrderTransaction.
type TransactionNode struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`   // SALE, CAPTURE, AUTHORIZATION, REFUND, VOID, ...
	Status      string     `json:"status"` // SUCCESS, PENDING, FAILURE, ...
	Gateway     string     `json:"gateway"`
	ProcessedAt *time.Time `json:"processedAt"`
}

// LineItemNode is a LineItem.
type LineItemNode struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	SKU                  string   `json:"sku"`
	Quantity             int      `json:"quantity"`
	UnfulfilledQuantity  int      `json:"unfulfilledQuantity"`
	OriginalUnitPriceSet MoneyBag `json:"originalUnitPriceSet"`
}

// PageInfo is a connection's paging state.
type PageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

// LineItemConnection is an order's lineItems.
type LineItemConnection struct {
	Nodes    []LineItemNode `json:"nodes"`
	PageInfo PageInfo       `json:"pageInfo"`
}

// FulfillmentOrderNode is where (part of) an order ships from.
type FulfillmentOrderNode struct {
	AssignedLocation struct {
		Name     string `json:"name"`
		Location *struct {
			ID string `json:"id"`
		} `json:"location"`
	} `json:"assignedLocation"`
}

// RiskSummary is Order.risk: Shopify's and apps' risk assessments.
type RiskSummary struct {
	Recommendation string `json:"recommendation"` // ACCEPT, INVESTIGATE, CANCEL, NONE
	Assessments    []struct {
		RiskLevel string `json:"riskLevel"` // HIGH, MEDIUM, LOW, NONE, PENDING
	} `json:"assessments"`
}

// OrderNode is an Order.
type OrderNode struct {
	ID                       string            `json:"id"`               // gid://shopify/Order/<n>
	LegacyResourceID         string            `json:"legacyResourceId"` // <n>
	Name                     string            `json:"name"`
	Email                    string            `json:"email"`
	CurrencyCode             string            `json:"currencyCode"`
	SubtotalPriceSet         MoneyBag          `json:"subtotalPriceSet"`
	TotalShippingPriceSet    MoneyBag          `json:"totalShippingPriceSet"`
	TotalTaxSet              MoneyBag          `json:"totalTaxSet"`
	TotalDiscountsSet        MoneyBag          `json:"totalDiscountsSet"`
	TotalPriceSet            MoneyBag          `json:"totalPriceSet"`
	TotalRefundedSet         MoneyBag          `json:"totalRefundedSet"`
	DisplayFinancialStatus   string            `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string            `json:"displayFulfillmentStatus"`
	PaymentGatewayNames      []string          `json:"paymentGatewayNames"`
	Transactions             []TransactionNode `json:"transactions"`
	ProcessedAt              time.Time         `json:"processedAt"`
	CancelledAt              *time.Time        `json:"cancelledAt"`
	CancelReason             string            `json:"cancelReason"`
	BillingAddress           *MailingAddress   `json:"billingAddress"`
	ShippingAddress          *MailingAddress   `json:"shippingAddress"`
	Note                     string            `json:"note"`
	Tags                     []string          `json:"tags"`
	Risk                     *RiskSummary      `json:"risk"`
	SourceName               string            `json:"sourceName"`
	// CustomerLocale is the language the customer ordered in, e.g. "fr"
	// or "fr-FR" (Order.customerLocale).
	CustomerLocale    string             `json:"customerLocale"`
	CreatedAt         time.Time          `json:"createdAt"`
	UpdatedAt         time.Time          `json:"updatedAt"`
	LineItems         LineItemConnection `json:"lineItems"`
	FulfillmentOrders struct {
		Nodes []FulfillmentOrderNode `json:"nodes"`
	} `json:"fulfillmentOrders"`
}

// orderFields selects what MapOrder reads; lineItems' size is the
// operation's (see ordersQuery and orderQuery).
const orderFields = `fragment OrderFields on Order {
  id legacyResourceId name email currencyCode
  subtotalPriceSet { shopMoney { amount currencyCode } }
  totalShippingPriceSet { shopMoney { amount currencyCode } }
  totalTaxSet { shopMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount currencyCode } }
  totalPriceSet { shopMoney { amount currencyCode } }
  totalRefundedSet { shopMoney { amount currencyCode } }
  displayFinancialStatus displayFulfillmentStatus paymentGatewayNames
  transactions(first: 5) { id kind status gateway processedAt }
  processedAt cancelledAt cancelReason
  billingAddress { name company address1 address2 city zip province country phone }
  shippingAddress { name company address1 address2 city zip province country phone }
  note tags sourceName customerLocale createdAt updatedAt
  risk { recommendation assessments { riskLevel } }
  fulfillmentOrders(first: 1) { nodes { assignedLocation { name location { id } } } }
}
fragment LineItemFields on LineItem {
  id name sku quantity unfulfilledQuantity
  originalUnitPriceSet { shopMoney { amount currencyCode } }
}`

// Global ids.
const (
	orderGIDPrefix    = "gid://shopify/Order/"
	locationGIDPrefix = "gid://shopify/Location/"
)

// OrderGID is the global id of the order with numeric id id.
func OrderGID(id string) string {
	if strings.HasPrefix(id, "gid://") {
		return id
	}
	return orderGIDPrefix + id
}

// LocationGID is the global id of the location with numeric id id.
func LocationGID(id string) string {
	if strings.HasPrefix(id, "gid://") {
		return id
	}
	return locationGIDPrefix + id
}

// LegacyID is the numeric id at the end of a global id ("" when gid has
// none).
func LegacyID(gid string) string {
	i := strings.LastIndexByte(gid, '/')
	if i < 0 || i == len(gid)-1 {
		return ""
	}
	return gid[i+1:]
}

// MapOrder turns an Order of the Admin API into Cancel Desk's order, every
// amount in minor units of the shop's currency. Quantities cancelled are
// the store's to derive: Shopify reports what is left to ship.
func MapOrder(n *OrderNode) (*canceldesk.Order, error) {
	id := n.LegacyResourceID
	if id == "" {
		id = LegacyID(n.ID)
	}
	if id == "" {
		return nil, fmt.Errorf("shopify: an order without an id (%q)", n.ID)
	}
	cur := strings.ToUpper(n.CurrencyCode)
	if cur == "" {
		cur = strings.ToUpper(n.TotalPriceSet.ShopMoney.CurrencyCode)
	}
	o := &canceldesk.Order{
		ExternalID:        id,
		Name:              n.Name,
		Email:             n.Email,
		Currency:          cur,
		FinancialStatus:   financialStatus(n.DisplayFinancialStatus),
		FulfillmentStatus: fulfillmentStatus(n.DisplayFulfillmentStatus),
		CancelReason:      canceldesk.ParseCancelReason(n.CancelReason),
		Notes:             n.Note,
		Tags:              n.Tags,
		Risk:              riskLevel(n.Risk),
		Source:            n.SourceName,
		// As a CSV's "Customer Locale" is read: one of the app's languages, else "".
		Locale:    canceldesk.CustomerLanguage(n.CustomerLocale),
		CreatedAt: n.CreatedAt.UTC(),
		UpdatedAt: n.UpdatedAt.UTC(),
	}
	updated := n.UpdatedAt.UTC()
	o.ShopifyUpdatedAt = &updated
	if n.CancelledAt != nil {
		t := n.CancelledAt.UTC()
		o.CancelledAt = &t
		if o.CancelReason == "" {
			o.CancelReason = canceldesk.ReasonOther
		}
	}
	amounts := []struct {
		dst *int64
		bag MoneyBag
		of  string
	}{
		{&o.Subtotal, n.SubtotalPriceSet, "subtotal"},
		{&o.Shipping, n.TotalShippingPriceSet, "shipping"},
		{&o.Taxes, n.TotalTaxSet, "taxes"},
		{&o.Discounts, n.TotalDiscountsSet, "discounts"},
		{&o.Total, n.TotalPriceSet, "total"},
		{&o.RefundedAmount, n.TotalRefundedSet, "refunded total"},
	}
	for _, a := range amounts {
		v, err := amount(a.bag, cur)
		if err != nil {
			return nil, fmt.Errorf("shopify: order %s: %s: %w", id, a.of, err)
		}
		*a.dst = v
	}
	o.RefundedSucceeded = o.RefundedAmount // Shopify's total counts settled refunds only
	if len(n.PaymentGatewayNames) > 0 {
		o.PaymentMethod = n.PaymentGatewayNames[0]
	}
	if t := payment(n.Transactions); t != nil {
		o.PaymentReference = t.ID
		if t.ProcessedAt != nil {
			at := t.ProcessedAt.UTC()
			o.PaidAt = &at
		}
	}
	if o.PaidAt == nil && paid(o.FinancialStatus) && !n.ProcessedAt.IsZero() {
		at := n.ProcessedAt.UTC()
		o.PaidAt = &at
	}
	if n.BillingAddress != nil {
		o.BillingAddress = address(n.BillingAddress)
	}
	if n.ShippingAddress != nil {
		o.ShippingAddress = address(n.ShippingAddress)
	}
	if len(n.FulfillmentOrders.Nodes) > 0 {
		o.Location = n.FulfillmentOrders.Nodes[0].AssignedLocation.Name
		// Restocks name the location by its id (refundCreate's locationId).
		if l := n.FulfillmentOrders.Nodes[0].AssignedLocation.Location; l != nil {
			o.LocationExternalID = l.ID
		}
	}
	// A line's shipped units are what is no longer left to ship. Units a
	// cancel or refund removed may also leave unfulfilledQuantity, so an
	// order Shopify says shipped nothing (UNFULFILLED, RESTOCKED, ...) has
	// no shipped units whatever its lines say.
	shippedAny := o.FulfillmentStatus != canceldesk.FulfillmentUnfulfilled
	for i, li := range n.LineItems.Nodes {
		price, err := amount(li.OriginalUnitPriceSet, cur)
		if err != nil {
			return nil, fmt.Errorf("shopify: order %s: line %d price: %w", id, i+1, err)
		}
		shipped := 0
		if shippedAny {
			shipped = min(max(li.Quantity-li.UnfulfilledQuantity, 0), max(li.Quantity, 0))
		}
		o.LineItems = append(o.LineItems, canceldesk.LineItem{
			Position:          i + 1,
			Name:              li.Name,
			SKU:               li.SKU,
			Quantity:          li.Quantity,
			Price:             price,
			FulfilledQuantity: shipped,
			ExternalID:        li.ID,
		})
	}
	return o, nil
}

// amount is a MoneyBag's shop amount in minor units of the order's
// currency, exactly.
func amount(b MoneyBag, currency string) (int64, error) {
	m := b.ShopMoney
	if m.Amount == "" {
		return 0, nil
	}
	if m.CurrencyCode != "" && !strings.EqualFold(m.CurrencyCode, currency) {
		return 0, fmt.Errorf("%s %s is not in the order's currency %s", m.Amount, m.CurrencyCode, currency)
	}
	return canceldesk.ParseAmount(m.Amount, currency)
}

// payment is the successful sale or capture: the money the order took.
func payment(ts []TransactionNode) *TransactionNode {
	for i := range ts {
		if (ts[i].Kind == "SALE" || ts[i].Kind == "CAPTURE") && ts[i].Status == "SUCCESS" {
			return &ts[i]
		}
	}
	return nil
}

func paid(s canceldesk.FinancialStatus) bool {
	switch s {
	case canceldesk.FinancialPaid, canceldesk.FinancialPartiallyPaid,
		canceldesk.FinancialPartiallyRefunded, canceldesk.FinancialRefunded:
		return true
	}
	return false
}

// financialStatus maps OrderDisplayFinancialStatus (AUTHORIZED, PAID,
// PARTIALLY_REFUNDED, ...) onto ours, which has the same names in lower
// case; one we do not know (EXPIRED, a new value) reads as pending.
func financialStatus(s string) canceldesk.FinancialStatus {
	if f := canceldesk.FinancialStatus(strings.ToLower(s)); f.Valid() {
		return f
	}
	return canceldesk.FinancialPending
}

// fulfillmentStatus maps OrderDisplayFulfillmentStatus.
func fulfillmentStatus(s string) canceldesk.FulfillmentStatus {
	switch s {
	case "FULFILLED":
		return canceldesk.FulfillmentFulfilled
	case "PARTIALLY_FULFILLED":
		return canceldesk.FulfillmentPartial
	}
	return canceldesk.FulfillmentUnfulfilled
}

// riskLevel is the highest level of the order's risk assessments; with
// none, the recommendation (CANCEL high, INVESTIGATE medium); else low, as
// a CSV import without a risk column reads.
func riskLevel(r *RiskSummary) canceldesk.RiskLevel {
	if r == nil {
		return canceldesk.RiskLow
	}
	level := ""
	for _, a := range r.Assessments {
		switch {
		case a.RiskLevel == "HIGH":
			level = "HIGH"
		case a.RiskLevel == "MEDIUM" && level != "HIGH":
			level = "MEDIUM"
		}
	}
	if level == "" {
		switch r.Recommendation {
		case "CANCEL":
			level = "HIGH"
		case "INVESTIGATE":
			level = "MEDIUM"
		}
	}
	switch level {
	case "HIGH":
		return canceldesk.RiskHigh
	case "MEDIUM":
		return canceldesk.RiskMedium
	}
	return canceldesk.RiskLow
}

func address(a *MailingAddress) canceldesk.Address {
	return canceldesk.Address{
		Name: a.Name, Company: a.Company, Address1: a.Address1, Address2: a.Address2,
		City: a.City, Zip: a.Zip, Province: a.Province, Country: a.Country, Phone: a.Phone,
	}
}
