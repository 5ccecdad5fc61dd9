package canceldesk

import (
	"context"
	"time"
)

// NoPaymentMethod is the label of orders without a payment method in
// ExtraFigures.ByPayment.
const NoPaymentMethod = "—"

// MaxTopSKUs is how many SKUs ExtraFigures.TopSKUs holds at most.
const MaxTopSKUs = 10

// CountBy is a label and a count (top SKUs, payment methods).
type CountBy struct {
	Label string
	Count int64
}

// Feedback is one customer's comment from a cancellation request.
type Feedback struct {
	RequestID, OrderID         int64 // OrderID is 0 when the order is gone
	OrderName, Reason, Comment string
	CreatedAt                  time.Time
}

// ExtraFigures are the figures not kept in the hourly rollups, for a range
// [from, to).
type ExtraFigures struct {
	// Refunded sums the refunds (kind "refund") that succeeded, imported ones among them,
	// created in the range, per currency, in minor units.
	Refunded map[string]int64
	// MedianToCancel is the median of cancelled_at − created_at over the
	// orders cancelled in the range (the mean of the two middle values
	// when their number is even, to the microsecond); 0 when none.
	MedianToCancel time.Duration
	// Requests counts the customer requests decided in the range
	// (approved or declined, by staff or the rule; refused ones are not
	// decisions), Approved those of them approved.
	Requests, Approved int64
	// TopSKUs: up to MaxTopSKUs SKUs by units cancelled
	// (line_items.cancelled_quantity) on orders cancelled in the range,
	// most first, then by SKU; lines without a SKU are left out.
	TopSKUs []CountBy
	// ByPayment counts the orders cancelled in the range by payment
	// method (NoPaymentMethod for none), most first, then by method.
	ByPayment []CountBy
}

// AnalyticsStore reads the figures of the dashboard that the hourly
// rollups do not keep.
type AnalyticsStore interface {
	// ExtraFigures computes the figures of [from, to), consistently.
	ExtraFigures(ctx context.Context, from, to time.Time) (ExtraFigures, error)
	// Feedback lists the latest comments (non-empty) of requests created
	// in [from, to), newest first, optionally of one CustomerReasons
	// reason ("" = all; another is EINVALID field "reason"), at most limit
	// (none when limit <= 0).
	Feedback(ctx context.Context, from, to time.Time, reason string, limit int) ([]Feedback, error)
}
