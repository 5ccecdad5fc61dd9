package shopifycsv

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
)

// Columns that Parse reads. Every other column is ignored.
const (
	colName = iota
	colEmail
	colFinancial
	colPaidAt
	colFulfillment
	colFulfilledAt
	colCurrency
	colSubtotal
	colShipping
	colTaxes
	colTotal
	colDiscount
	colCreatedAt
	colLineQty
	colLineName
	colLinePrice
	colLineSKU
	colLineFulfillment
	colBillingName
	colBillingStreet
	colBillingAddress1
	colBillingAddress2
	colBillingCompany
	colBillingCity
	colBillingZip
	colBillingProvince
	colBillingCountry
	colBillingPhone
	colShippingName
	colShippingStreet
	colShippingAddress1
	colShippingAddress2
	colShippingCompany
	colShippingCity
	colShippingZip
	colShippingProvince
	colShippingCountry
	colShippingPhone
	colNotes
	colCancelledAt
	colCancelReason
	colPaymentMethod
	colRefunded
	colID
	colTags
	colRisk
	colSource
	colLocation
	colLocale
	numCols
)

// columnNames are the header texts, as Shopify spells them; the header is
// matched case-insensitively.
var columnNames = [numCols]string{
	colName:             "Name",
	colEmail:            "Email",
	colFinancial:        "Financial Status",
	colPaidAt:           "Paid at",
	colFulfillment:      "Fulfillment Status",
	colFulfilledAt:      "Fulfilled at",
	colCurrency:         "Currency",
	colSubtotal:         "Subtotal",
	colShipping:         "Shipping",
	colTaxes:            "Taxes",
	colTotal:            "Total",
	colDiscount:         "Discount Amount",
	colCreatedAt:        "Created at",
	colLineQty:          "Lineitem quantity",
	colLineName:         "Lineitem name",
	colLinePrice:        "Lineitem price",
	colLineSKU:          "Lineitem sku",
	colLineFulfillment:  "Lineitem fulfillment status",
	colBillingName:      "Billing Name",
	colBillingStreet:    "Billing Street",
	colBillingAddress1:  "Billing Address1",
	colBillingAddress2:  "Billing Address2",
	colBillingCompany:   "Billing Company",
	colBillingCity:      "Billing City",
	colBillingZip:       "Billing Zip",
	colBillingProvince:  "Billing Province",
	colBillingCountry:   "Billing Country",
	colBillingPhone:     "Billing Phone",
	colShippingName:     "Shipping Name",
	colShippingStreet:   "Shipping Street",
	colShippingAddress1: "Shipping Address1",
	colShippingAddress2: "Shipping Address2",
	colShippingCompany:  "Shipping Company",
	colShippingCity:     "Shipping City",
	colShippingZip:      "Shipping Zip",
	colShippingProvince: "Shipping Province",
	colShippingCountry:  "Shipping Country",
	colShippingPhone:    "Shipping Phone",
	colNotes:            "Notes",
	colCancelledAt:      "Cancelled at",
	colCancelReason:     "Cancel Reason", // not in Shopify's export; read when present
	colPaymentMethod:    "Payment Method",
	colRefunded:         "Refunded Amount",
	colID:               "Id",
	colTags:             "Tags",
	colRisk:             "Risk Level",
	colSource:           "Source",
	colLocation:         "Location",
	colLocale:           "Customer Locale", // not in Shopify's order export; the API's customer_locale
}

// columnAliases are other header texts some exports use for a column.
var columnAliases = map[string]int{"locale": colLocale, "customer language": colLocale}

// required are the columns without which a file is not an order export.
var required = []int{colName, colLineQty, colLineName, colLinePrice}

// orderFields reads the order-level columns of an order's first row into a
// new order for g, adding a reason to bad for each problem.
func (p *parser) orderFields(g *group, rec []string, bad *[]string) {
	get := func(c int) string { return p.get(rec, c) }
	fail := func(format string, args ...any) { *bad = append(*bad, fmt.Sprintf(format, args...)) }

	cur := strings.ToUpper(get(colCurrency))
	switch {
	case cur == "":
		cur = p.currency
	case !isCurrency(cur):
		fail("Currency %s is not a three-letter currency code", quote(get(colCurrency)))
		cur = p.currency
	}
	g.currency = cur
	g.email = strings.ToLower(get(colEmail))
	g.id = get(colID)

	o := &canceldesk.Order{
		ExternalID:    g.id,
		Name:          g.name,
		Email:         g.email,
		Currency:      cur,
		PaymentMethod: get(colPaymentMethod),
		Notes:         get(colNotes),
		Tags:          splitTags(get(colTags)),
		Locale:        canceldesk.CustomerLanguage(get(colLocale)),
		Source:        get(colSource),
		Location:      get(colLocation),
	}
	if o.Source == "" {
		o.Source = "web"
	}
	if utf8.RuneCountInString(o.Location) > canceldesk.MaxLocationName {
		fail("Location is longer than %d characters", canceldesk.MaxLocationName)
	}
	g.order = o

	for _, m := range []struct {
		col int
		dst *int64
	}{
		{colSubtotal, &o.Subtotal}, {colShipping, &o.Shipping}, {colTaxes, &o.Taxes},
		{colDiscount, &o.Discounts}, {colTotal, &o.Total}, {colRefunded, &o.RefundedAmount},
	} {
		v, why := amount(columnNames[m.col], get(m.col), cur)
		if why != "" {
			fail("%s", why)
		}
		*m.dst = v
	}

	if s := get(colCreatedAt); s == "" {
		fail("Created at is empty; the first row of an order must have it")
	} else if t, ok := parseTime(s); !ok {
		fail("Created at %s is not a date and time like 2026-03-01 09:00:00 -0500", quote(s))
	} else {
		o.CreatedAt = t
	}
	for _, t := range []struct {
		col int
		dst **time.Time
	}{{colPaidAt, &o.PaidAt}, {colFulfilledAt, &o.FulfilledAt}, {colCancelledAt, &o.CancelledAt}} {
		s := get(t.col)
		if s == "" {
			continue
		}
		v, ok := parseTime(s)
		if !ok {
			fail("%s %s is not a date and time like 2026-03-01 09:00:00 -0500", columnNames[t.col], quote(s))
			continue
		}
		*t.dst = &v
	}
	if o.CancelledAt != nil {
		o.CancelReason = canceldesk.ParseCancelReason(get(colCancelReason))
	}

	fs := strings.ToLower(strings.Join(strings.Fields(get(colFinancial)), "_"))
	if fs == "" {
		fs = string(canceldesk.FinancialPending)
	}
	if o.FinancialStatus = canceldesk.FinancialStatus(fs); !o.FinancialStatus.Valid() {
		fail("Financial Status %s is not one of pending, authorized, paid, partially_paid, partially_refunded, refunded, voided", quote(get(colFinancial)))
	}

	switch s := strings.ToLower(get(colFulfillment)); s {
	case "":
	case "fulfilled", "partial", "unfulfilled":
		g.status = s
	case "restocked":
		g.status = "unfulfilled"
	default:
		fail("Fulfillment Status %s is not one of fulfilled, partial, unfulfilled, restocked", quote(get(colFulfillment)))
	}

	switch s := strings.ToLower(get(colRisk)); s {
	case "", "low":
		o.Risk = canceldesk.RiskLow
	case "medium":
		o.Risk = canceldesk.RiskMedium
	case "high":
		o.Risk = canceldesk.RiskHigh
	default:
		fail("Risk Level %s is not one of Low, Medium, High", quote(get(colRisk)))
	}

	o.BillingAddress = p.address(rec, colBillingName)
	o.ShippingAddress = p.address(rec, colShippingName)
}

// address reads the address columns that start at name (colBillingName or
// colShippingName: both runs of constants are in the same order). Street is Shopify's older single street column: used
// as Address1 only when Address1 is empty.
func (p *parser) address(rec []string, name int) canceldesk.Address {
	get := func(c int) string { return p.get(rec, name+c-colBillingName) }
	a := canceldesk.Address{
		Name:     get(colBillingName),
		Company:  get(colBillingCompany),
		Address1: get(colBillingAddress1),
		Address2: get(colBillingAddress2),
		City:     get(colBillingCity),
		Zip:      excelText(get(colBillingZip)),
		Province: get(colBillingProvince),
		Country:  get(colBillingCountry),
		Phone:    excelText(get(colBillingPhone)),
	}
	if a.Address1 == "" {
		a.Address1 = get(colBillingStreet)
	}
	return a
}

// excelText drops the apostrophe Shopify puts before zip codes and phone
// numbers so that Excel keeps their leading zeros and plus signs.
func excelText(s string) string { return strings.TrimPrefix(s, "'") }

// checkRepeat checks a later row of an order against its first row: a
// non-empty Currency, Email or Id must be the same.
func (p *parser) checkRepeat(g *group, rec []string, bad *[]string) {
	if s := p.get(rec, colCurrency); s != "" && strings.ToUpper(s) != g.currency {
		*bad = append(*bad, fmt.Sprintf("Currency %s differs from %s on row %d, the order's first row", quote(s), g.currency, g.firstRow))
	}
	if s := p.get(rec, colEmail); s != "" && strings.ToLower(s) != g.email {
		*bad = append(*bad, fmt.Sprintf("Email %s differs from %s on row %d, the order's first row", quote(s), quote(g.email), g.firstRow))
	}
	if s := p.get(rec, colID); s != "" && s != g.id {
		*bad = append(*bad, fmt.Sprintf("Id %s differs from %s on row %d, the order's first row", quote(s), quote(g.id), g.firstRow))
	}
}

// lineItem reads the line-item columns of a row. status is the Lineitem
// fulfillment status: "fulfilled", "partial" or "".
func (p *parser) lineItem(g *group, rec []string, bad *[]string) (li canceldesk.LineItem, status string) {
	fail := func(format string, args ...any) { *bad = append(*bad, fmt.Sprintf(format, args...)) }
	cur := g.currency
	if cur == "" { // first row lost to a CSV error
		cur = p.currency
	}

	li.Name = p.get(rec, colLineName)
	li.SKU = p.get(rec, colLineSKU)
	if li.Name == "" {
		fail("Lineitem name is empty")
	}

	q := p.get(rec, colLineQty)
	n, err := strconv.Atoi(q)
	switch {
	case q == "":
		fail("Lineitem quantity is empty")
	case errors.Is(err, strconv.ErrRange) || err == nil && n > MaxQuantity:
		fail("Lineitem quantity %s is more than %d", quote(q), MaxQuantity)
	case err != nil:
		fail("Lineitem quantity %s is not a whole number", quote(q))
	case n < 1:
		fail("Lineitem quantity %s is not a positive whole number", quote(q))
	default:
		li.Quantity = n
	}

	if s := p.get(rec, colLinePrice); s == "" {
		fail("Lineitem price is empty")
	} else {
		v, why := amount("Lineitem price", s, cur)
		if why != "" {
			fail("%s", why)
		}
		li.Price = v
	}

	switch s := strings.ToLower(p.get(rec, colLineFulfillment)); s {
	case "fulfilled", "partial":
		status = s
	case "", "pending", "unfulfilled", "restocked":
	default:
		fail("Lineitem fulfillment status %s is not one of fulfilled, partial, pending", quote(p.get(rec, colLineFulfillment)))
	}
	return li, status
}

// amount parses a money cell of column label into minor units of cur. It
// returns a reason when the cell is not a non-negative amount. Commas are
// accepted only as thousands separators, so that "1,50" (a decimal comma)
// is an error rather than 150.
func amount(label, s, cur string) (int64, string) {
	if s == "" {
		return 0, ""
	}
	if len(s) > 40 || !groupedDigits(s) {
		return 0, fmt.Sprintf("%s %s is not an amount", label, quote(s))
	}
	if _, frac, _ := strings.Cut(s, "."); len(strings.TrimRight(frac, "0")) > canceldesk.MinorDigits(cur) {
		return 0, fmt.Sprintf("%s %s has more decimals than %s has", label, quote(s), cur)
	}
	v, err := canceldesk.ParseAmount(s, cur)
	if err != nil {
		return 0, fmt.Sprintf("%s %s is not an amount", label, quote(s))
	}
	if v < 0 {
		return 0, fmt.Sprintf("%s %s is negative", label, quote(s))
	}
	return v, ""
}

// groupedDigits reports whether the commas of an amount, if any, separate
// groups of three digits in its whole part.
func groupedDigits(s string) bool {
	s = strings.TrimLeft(s, "+-")
	whole, frac, _ := strings.Cut(s, ".")
	if strings.Contains(frac, ",") {
		return false
	}
	if !strings.Contains(whole, ",") {
		return true
	}
	groups := strings.Split(whole, ",")
	for i, grp := range groups {
		if len(grp) > 3 || len(grp) == 0 || i > 0 && len(grp) != 3 {
			return false
		}
	}
	return true
}

// timeLayouts are the timestamp forms accepted; ones without a zone are UTC.
var timeLayouts = []string{
	"2006-01-02 15:04:05 -0700",
	time.RFC3339,
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
}

// parseTime parses a timestamp of the export, in UTC. Years before 1970
// are refused: they are typing mistakes, and year 1 is Go's zero time,
// which the store would take for "not set".
func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			t = t.UTC()
			return t, t.Year() >= 1970 && t.Year() <= 9999
		}
	}
	return time.Time{}, false
}

// splitTags splits the Tags cell on commas, dropping empty tags and repeats.
func splitTags(s string) []string {
	var tags []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// isCurrency reports whether s looks like an ISO 4217 code.
func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
