package canceldesk

import (
	"context"
	"time"
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
	// Source is one of the Source* constants: import (no cancellation
	// recorded here), auto_approved (the rule) or staff.
	Source string
	// RefundStatus is the status of the order's latest refund ("pending",
	// "succeeded", "failed"), or "none" when it has none.
	RefundStatus   string
	Refunded       int64 // every refund (kind "refund") recorded, whatever its status; minor units of Currency
	Currency       string
	RestockedUnits int // unshipped units restocked plus returned units restocked
	Actor          string
}

// RefundStatusNone is ExportRow.RefundStatus of an order without refunds.
const RefundStatusNone = "none"

// SafeCell neutralises spreadsheet formula injection (OWASP "CSV
// Injection"): a cell starting with =, +, -, @, a tab or a carriage return
// gets a leading apostrophe, so spreadsheets show it as text instead of
// evaluating it. Anything else is returned unchanged.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// ExportStore reads the cancellations export.
type ExportStore interface {
	// ExportCancellations calls fn with the row of every order whose
	// cancelled_at is in [from, to), oldest cancel first (then by order
	// id), streaming; it stops and returns fn's error as soon as fn fails.
	ExportCancellations(ctx context.Context, from, to time.Time, fn func(ExportRow) error) error
}
