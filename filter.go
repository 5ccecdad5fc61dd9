package canceldesk

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxQueryLen bounds the search text, in characters.
const MaxQueryLen = 100

// PageSize is the number of orders on one page of the list.
const PageSize = 50

// StatusFilter narrows the list to open or cancelled orders.
type StatusFilter string

const (
	StatusAll       StatusFilter = "all"
	StatusOpen      StatusFilter = "open"
	StatusCancelled StatusFilter = "cancelled"
)

// OrderFilter is what the orders page asks the store for. The zero value
// lists every order, newest first.
type OrderFilter struct {
	Query       string // substring of order number, email, customer name, product name or SKU
	Status      StatusFilter
	Financial   FinancialStatus
	Fulfillment FulfillmentStatus
	From, To    time.Time // placed on or after From and before To (UTC); zero means open
	// After is the keyset cursor: the last order of the previous page.
	After *Cursor
	// Before is the keyset cursor going back: the first order of the next
	// page; the page holds the orders just newer than it.
	Before *Cursor
	Limit  int
	// Count asks ListOrders for the number of matching orders too, up to
	// CountLimit()+1.
	Count bool
}

// CountBound is as far as the list counts its matching orders: beyond it
// the page says "10,000+", so counting stays fast on a million orders.
const CountBound = 10000

// SearchCountBound is as far as the list counts the matches of a search
// ("1,000+"): each is an entry of the trigram index read, ten thousand of
// them cost a common term's first page 15 ms on a million orders, and
// past a thousand the number no longer helps anyone find an order.
const SearchCountBound = 1000

// CountLimit is how far the list counts f's matches: SearchCountBound for
// a search, CountBound otherwise.
func (f OrderFilter) CountLimit() int {
	if f.Query != "" {
		return SearchCountBound
	}
	return CountBound
}

// Cursor is a position in the newest-first order list.
type Cursor struct {
	CreatedAt time.Time
	ID        int64
}

// String encodes the cursor for a URL.
func (c Cursor) String() string {
	return strconv.FormatInt(c.CreatedAt.UnixMicro(), 36) + "." + strconv.FormatInt(c.ID, 36)
}

// ParseCursor decodes a cursor made by Cursor.String.
func ParseCursor(s string) (*Cursor, error) {
	ts, id, ok := strings.Cut(s, ".")
	if !ok {
		return nil, &Error{Code: EINVALID, Field: "after", Key: "validation.cursor", Message: "The page link is malformed."}
	}
	us, err1 := strconv.ParseInt(ts, 36, 64)
	n, err2 := strconv.ParseInt(id, 36, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return nil, &Error{Code: EINVALID, Field: "after", Key: "validation.cursor", Message: "The page link is malformed."}
	}
	return &Cursor{CreatedAt: time.UnixMicro(us).UTC(), ID: n}, nil
}

// ParseOrderFilter reads the orders page's query string. Dates are calendar
// days in loc; To is inclusive for the user and exclusive once parsed.
// Errors are *Error with EINVALID and the offending field.
func ParseOrderFilter(v url.Values, loc *time.Location) (OrderFilter, error) {
	f := OrderFilter{Limit: PageSize}
	f.Query = strings.TrimSpace(v.Get("q"))
	if !utf8.ValidString(f.Query) || strings.ContainsRune(f.Query, 0) { // PostgreSQL stores neither
		return f, &Error{Code: EINVALID, Field: "q", Key: "validation.q_invalid", Message: "The search text is not valid text."}
	}
	if utf8.RuneCountInString(f.Query) > MaxQueryLen {
		return f, &Error{Code: EINVALID, Field: "q", Key: "validation.q_too_long", Message: "The search text is too long (at most 100 characters)."}
	}
	switch s := StatusFilter(v.Get("status")); s {
	case "", StatusAll:
		f.Status = StatusAll
	case StatusOpen, StatusCancelled:
		f.Status = s
	default:
		return f, &Error{Code: EINVALID, Field: "status", Key: "validation.status", Message: "Unknown order status filter."}
	}
	if s := FinancialStatus(v.Get("financial")); s != "" {
		if !s.Valid() {
			return f, &Error{Code: EINVALID, Field: "financial", Key: "validation.financial", Message: "Unknown payment status filter."}
		}
		f.Financial = s
	}
	if s := FulfillmentStatus(v.Get("fulfillment")); s != "" {
		if !s.Valid() {
			return f, &Error{Code: EINVALID, Field: "fulfillment", Key: "validation.fulfillment", Message: "Unknown fulfillment status filter."}
		}
		f.Fulfillment = s
	}
	var err error
	if f.From, err = parseDay(v.Get("from"), loc, "from"); err != nil {
		return f, err
	}
	if f.To, err = parseDay(v.Get("to"), loc, "to"); err != nil {
		return f, err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, &Error{Code: EINVALID, Field: "to", Key: "validation.date_order", Message: "The end date is before the start date."}
	}
	if s := v.Get("after"); s != "" {
		if f.After, err = ParseCursor(s); err != nil {
			return f, err
		}
	}
	if s := v.Get("before"); s != "" && f.After == nil {
		if f.Before, err = ParseCursor(s); err != nil {
			return f, err
		}
	}
	return f, nil
}

func parseDay(s string, loc *time.Location, field string) (time.Time, error) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, &Error{Code: EINVALID, Field: field, Key: "validation.date_format", Message: "Dates are written as YYYY-MM-DD."}
	}
	return t.UTC(), nil
}

// Values encodes the filter back into a query string (without the cursor),
// so links keep the search and filters.
func (f OrderFilter) Values(loc *time.Location) url.Values {
	v := url.Values{}
	if f.Query != "" {
		v.Set("q", f.Query)
	}
	if f.Status != "" && f.Status != StatusAll {
		v.Set("status", string(f.Status))
	}
	if f.Financial != "" {
		v.Set("financial", string(f.Financial))
	}
	if f.Fulfillment != "" {
		v.Set("fulfillment", string(f.Fulfillment))
	}
	if !f.From.IsZero() {
		v.Set("from", f.From.In(loc).Format("2006-01-02"))
	}
	if !f.To.IsZero() {
		v.Set("to", f.To.In(loc).AddDate(0, 0, -1).Format("2006-01-02"))
	}
	return v
}

// OrderPage is one page of the order list.
type OrderPage struct {
	Orders []OrderSummary
	// Next is the cursor of the following page, nil on the last page.
	Next *Cursor
	// Prev is the cursor of the preceding page (Filter.Before), nil on the
	// first page.
	Prev *Cursor
	// Count is the number of matching orders when the filter asked for it,
	// at most the filter's CountLimit()+1 (more: "10,000+", "1,000+").
	Count int
}

// OrderSummary is an order as the list shows it.
type OrderSummary struct {
	ID                int64
	Name              string
	Email             string
	CustomerName      string
	Currency          string
	Total             int64
	FinancialStatus   FinancialStatus
	FulfillmentStatus FulfillmentStatus
	CancelledAt       *time.Time
	CancelReason      CancelReason
	ItemCount         int
	CreatedAt         time.Time
	// RefundOwed is what a cancelled order still owes its customer with
	// no refund on its way (refunded later): its RefundBalance's Owed when
	// the balance's state is none or partial; 0 otherwise.
	RefundOwed int64
}
