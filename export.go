package canceldesk

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ExportRow is one cancelled order as the cancellations export lists it.
type ExportRow struct {
	OrderID     int64
	Order       string // the order's name, e.g. "#1001"
	PlacedAt    time.Time
	CancelledAt time.Time
	Reason      CancelReason
	ReasonLabel string // the label staff picked; "" for an order imported cancelled
	StaffNote   string
	// Source is one of the Source* constants: the cancellation's stored
	// source, or import (no cancellation recorded here).
	Source string
	// RefundStatus is the order's RefundBalance.State, as the order page
	// reads it: none, pending, failed, partial, succeeded or voided.
	RefundStatus   string
	Refunded       int64 // given back for certain (Order.RefundedSucceeded); minor units of Currency
	Currency       string
	RestockedUnits int // unshipped units restocked plus returned units restocked
	Actor          string
}

// SafeCell neutralises spreadsheet formula injection (OWASP "CSV
// Injection"): a cell that starts with a tab or a carriage return, or
// whose first character after any white space (of any script, no-break
// spaces included) and invisible format characters is =, +, -, @ or
// their full-width forms, gets a leading apostrophe, so spreadsheets show
// it as text instead of evaluating it. A plain decimal number such as
// "-12.50" is left as it is, so an amount stays a number a spreadsheet
// sums. Anything else is returned unchanged.
func SafeCell(s string) string {
	if s == "" || plainDecimal(s) {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	switch r, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, blank)); r {
	case '=', '+', '-', '@', '＝', '＋', '－', '＠':
		return "'" + s
	}
	return s
}

// blank reports the characters a spreadsheet may skip before a formula:
// white space, control and invisible format characters (a zero-width
// space, a byte order mark).
func blank(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Zs, unicode.Cc, unicode.Cf)
}

// plainDecimal reports whether s is digits with an optional leading minus
// and an optional fraction: "5", "-12.50".
func plainDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	return digits(whole) && (!dot || digits(frac))
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	return s != "" && strings.TrimLeft(s, "0123456789") == ""
}

// ExportStore reads the cancellations export.
type ExportStore interface {
	// ExportCancellations calls fn with the row of every order whose
	// cancelled_at is in [from, to), oldest cancel first (then by order
	// id), streaming; it stops and returns fn's error as soon as fn fails.
	ExportCancellations(ctx context.Context, from, to time.Time, fn func(ExportRow) error) error
}
