package canceldesk

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RefundChoice is the cancel dialog's refund question: give the money back
// now (to the original payment) or decide later.
type RefundChoice string

const (
	RefundNow   RefundChoice = "now"
	RefundLater RefundChoice = "later"
)

// Limits of a cancel request.
const (
	MaxStaffNoteLen      = 255 // characters (runes), like Shopify's staffNote
	MinIdempotencyKeyLen = 16
	MaxIdempotencyKeyLen = 100
)

// Refund kinds: money given back, or an authorization released.
const (
	RefundKindRefund = "refund"
	RefundKindVoid   = "void"
)

// Refund statuses: a refund through the manual gateway succeeds at once;
// others wait for the payment provider.
const (
	RefundPending   = "pending"
	RefundSucceeded = "succeeded"
	RefundFailed    = "failed"
)

// Catalogue keys of the reasons a cancel cannot go ahead.
const (
	BlockedAlreadyCancelled = "cancel.blocked.already_cancelled"
	BlockedFulfilled        = "cancel.blocked.fulfilled"
	BlockedNothingToCancel  = "cancel.blocked.nothing_to_cancel"
)

// Event kinds written by a cancel, besides EventCancelled.
const (
	EventRefund           = "refund"
	EventVoid             = "void"
	EventRestocked        = "restocked"
	EventNotificationOwed = "notification_owed"
)

// OutboxOrderCancelled is the kind of the customer message a cancel owes.
const OutboxOrderCancelled = "order_cancelled"

// CancelRequest is everything the cancel dialog asks, plus who asks.
type CancelRequest struct {
	OrderID        int64
	Reason         CancelReason // Shopify code
	ReasonLabel    string       // the label the staff picked, as shown (e.g. "Item out of stock")
	ReasonKey      string       // the key of the reason picked (see ReasonByKey), if any
	Refund         RefundChoice
	Restock        bool
	LocationID     int64  // where restocked units go; required when Restock
	StaffNote      string // at most 255 characters (runes); never shown to the customer
	NotifyCustomer bool
	// Offer is attached to the customer's message, to keep the customer.
	Offer Offer
	// Gateway the refund or void goes through ("manual", "stripe"), chosen
	// by the caller from the payment method; "" is manual.
	Gateway        string
	IdempotencyKey string // one per rendered dialog; 16..100 chars
	Actor          string // account email
	// ActorRole is the actor's role: below manager, a refund now is held
	// to the staff refund limit (CheckStaffRefund).
	ActorRole Role
	// Source is where the cancel came from, one of CancelSources; "" is
	// SourceStaff. It is stored with the cancellation (see CancelSource).
	Source string
	// RequestID is the customer's request this cancel approves, 0 when
	// none. A Shopify cancel call carries it, so that the request is
	// approved when Shopify has done the cancel, not before.
	RequestID int64 `json:",omitempty"`
}

// CancelSource is where the cancel req came from, as stored with it and
// counted by the analytics: req.Source, or SourceStaff when unset.
func CancelSource(req CancelRequest) string {
	if req.Source == "" {
		return SourceStaff
	}
	return req.Source
}

// Validate checks the request's choices and returns the first problem as
// an *Error with code EINVALID, the form field and the catalogue key:
// reason (validation.cancel_reason), refund (validation.refund_choice),
// location (validation.location, when restocking to no location), note
// (validation.note_long) and key (validation.idempotency_key).
func (r *CancelRequest) Validate() error {
	if !slices.Contains(CancelReasons, r.Reason) {
		return fieldError(EINVALID, "reason", "validation.cancel_reason", "Choose a reason.")
	}
	if r.Refund != RefundNow && r.Refund != RefundLater {
		return fieldError(EINVALID, "refund", "validation.refund_choice", "Choose whether to refund now or later.")
	}
	if r.Restock && r.LocationID <= 0 {
		return fieldError(EINVALID, "location", "validation.location", "Choose where the items go back to stock.")
	}
	if err := r.Offer.Validate(); err != nil {
		return err
	}
	if r.Source != "" && !slices.Contains(CancelSources, r.Source) {
		return &Error{Code: EINVALID, Message: "Unknown cancel source " + strconv.Quote(r.Source) + "."}
	}
	if utf8.RuneCountInString(r.StaffNote) > MaxStaffNoteLen {
		return fieldError(EINVALID, "note", "validation.note_long", "The note is too long (at most 255 characters).")
	}
	return validateKey(r.IdempotencyKey)
}

// validateKey checks a form's idempotency key: 16..100 characters, no
// surrounding spaces. A bad one means a stale or forged form.
func validateKey(key string) error {
	if n := utf8.RuneCountInString(key); n < MinIdempotencyKeyLen || n > MaxIdempotencyKeyLen ||
		strings.TrimSpace(key) != key {
		return fieldError(EINVALID, "key", "validation.idempotency_key", "This form is out of date. Close it and open it again.")
	}
	return nil
}

// DefaultNotify is the dialog's proposal for telling the customer: not for
// a suspected fraud, yes otherwise.
func DefaultNotify(reason CancelReason) bool { return reason != ReasonFraud }

// PlanLine is what a cancel does to one line item.
type PlanLine struct {
	LineItemID int64
	Name, SKU  string
	CancelQty  int   // unfulfilled units cancelled now
	RestockQty int   // of those, units going back to stock (never units restocked before)
	RefundQty  int   // units refunded now (never units refunded before)
	Amount     int64 // what the refunded units paid (UnitsPaid)
	Tax        int64 // this line's share of the order's tax for the refunded units
}

// CancelPlan is exactly what a cancel will do; the dialog previews it and
// the store carries it out.
type CancelPlan struct {
	// Blockers are catalogue keys of the reasons the cancel cannot go
	// ahead (Blocked*); empty when it can.
	Blockers []string
	Lines    []PlanLine
	// RefundKind is "refund", "void" (authorized, uncaptured payment) or
	// "" (nothing now).
	RefundKind                                          string
	RefundItems, RefundTax, RefundShipping, RefundTotal int64 // RefundTotal = the sum, capped at what is still refundable
	Currency                                            string
	Restock                                             bool
	LocationID                                          int64
	Notify                                              bool
	// PartiallyFulfilled: some units have shipped, so only the rest is
	// cancelled and the shipping is kept.
	PartiallyFulfilled bool
}

// OK reports whether the cancel can go ahead.
func (p CancelPlan) OK() bool { return len(p.Blockers) == 0 }

// CancelUnits is the number of units the plan cancels.
func (p CancelPlan) CancelUnits() int {
	n := 0
	for _, l := range p.Lines {
		n += l.CancelQty
	}
	return n
}

// RestockUnits is the number of units the plan puts back to stock.
func (p CancelPlan) RestockUnits() int {
	n := 0
	for _, l := range p.Lines {
		n += l.RestockQty
	}
	return n
}

// PlanCancel works out what cancelling o as req asks would do. It never
// fails: what stops the cancel is listed in Blockers. The rules:
//
//   - An order already cancelled is blocked (BlockedAlreadyCancelled).
//   - An order whose every unit has shipped is blocked (BlockedFulfilled):
//     that is a return and refund, not a cancel. An order with nothing left
//     to cancel (every unit shipped or cancelled before) is blocked too
//     (BlockedNothingToCancel).
//   - Only unfulfilled units are cancelled: Quantity − FulfilledQuantity −
//     CancelledQuantity per line. A partially fulfilled order keeps what
//     shipped, and keeps its shipping charge.
//   - Restock happens only when req.Restock, to req.LocationID, and never
//     puts back more than Quantity − FulfilledQuantity − RestockedQuantity
//     units of a line (units restocked before, e.g. by a partial refund,
//     are not restocked twice). Lines without a SKU are never restocked.
//   - Units refunded before are not refunded again: a line refunds at most
//     its unshipped units not refunded before (LineItem.UnshippedRefunded),
//     so a unit is never paid back twice. Each refunded line is its units × price plus
//     its share of the order's tax: Taxes × amount / Subtotal, in integer
//     math, split over the lines by largest remainder so the shares add up
//     exactly (no tax when Subtotal is 0; never more than Taxes). The
//     shipping not refunded before is refunded only when nothing has
//     shipped.
//   - The money: paid and partially refunded orders have paid Total;
//     pending, partially paid (the paid part is unknown) and voided orders
//     nothing. An authorized (uncaptured) payment is voided whole instead
//     (RefundKind "void", RefundTotal = Total − RefundedAmount). A refund
//     never exceeds what is still refundable: paid − RefundedAmount.
//   - RefundLater refunds and voids nothing now (RefundKind "", totals and
//     RefundQty 0); so does an order with nothing refundable.
//   - The customer is notified only when asked and the order has an email.
func PlanCancel(o *Order, req CancelRequest) CancelPlan {
	p := CancelPlan{Currency: o.Currency, Restock: req.Restock, Notify: req.NotifyCustomer && strings.TrimSpace(o.Email) != ""}
	if req.Restock {
		p.LocationID = req.LocationID
	}
	if o.Cancelled() {
		p.Blockers = []string{BlockedAlreadyCancelled}
		return p
	}
	var units, shipped, cancellable int
	for _, li := range o.LineItems {
		units += li.Quantity
		shipped += min(li.FulfilledQuantity, li.Quantity)
		cancellable += li.UnfulfilledQuantity()
	}
	switch {
	case units > 0 && shipped >= units:
		p.Blockers = []string{BlockedFulfilled}
		return p
	case cancellable == 0:
		p.Blockers = []string{BlockedNothingToCancel}
		return p
	}
	p.PartiallyFulfilled = shipped > 0

	paid := paidAmount(o)
	refundable := max(paid-o.RefundedAmount, 0)
	if req.Refund == RefundNow && refundable > 0 {
		p.RefundKind = RefundKindRefund
		if o.FinancialStatus == FinancialAuthorized {
			p.RefundKind = RefundKindVoid
		}
	}

	net := LineNets(o)
	var gross []int64 // before discounts: the tax follows these
	for _, li := range o.LineItems {
		cancel := li.UnfulfilledQuantity()
		if cancel == 0 {
			continue
		}
		l := PlanLine{LineItemID: li.ID, Name: li.Name, SKU: li.SKU, CancelQty: cancel}
		if req.Restock && li.SKU != "" {
			l.RestockQty = clamp(li.Quantity-li.FulfilledQuantity-li.RestockedQuantity, 0, cancel)
		}
		if p.RefundKind != "" {
			l.RefundQty = clamp(li.unshipped()-li.UnshippedRefunded(), 0, cancel)
			l.Amount = UnitsPaid(li, net[li.ID], l.RefundQty)
		}
		p.Lines = append(p.Lines, l)
		gross = append(gross, int64(l.RefundQty)*li.Price)
	}
	if p.RefundKind == "" {
		return p
	}
	for i, tax := range RefundTax(o, gross) {
		p.Lines[i].Tax = tax
		p.RefundItems += p.Lines[i].Amount
		p.RefundTax += tax
	}
	if shipped == 0 {
		p.RefundShipping = max(o.Shipping-o.ShippingRefunded, 0)
	}
	if p.RefundKind == RefundKindVoid {
		p.RefundTotal = refundable
	} else {
		p.RefundTotal = min(p.RefundItems+p.RefundTax+p.RefundShipping, refundable)
	}
	if p.RefundTotal <= 0 {
		// Nothing left to give back (e.g. every unit was refunded before).
		p.RefundKind, p.RefundItems, p.RefundTax, p.RefundShipping, p.RefundTotal = "", 0, 0, 0, 0
		for i := range p.Lines {
			p.Lines[i].RefundQty, p.Lines[i].Amount, p.Lines[i].Tax = 0, 0, 0
		}
	}
	return p
}

// paidAmount is what the customer has paid (or, authorized, what is held):
// Total for paid, partially refunded, refunded and authorized orders;
// nothing for pending, partially paid (the paid part is not known) and
// voided ones.
func paidAmount(o *Order) int64 {
	switch o.FinancialStatus {
	case FinancialPaid, FinancialPartiallyRefunded, FinancialRefunded, FinancialAuthorized:
		return max(o.Total, 0)
	}
	return 0
}

// FinancialStatusAfter is the order's financial status once the plan is
// carried out: voided after a void, refunded when everything paid has been
// given back, partially refunded after a smaller refund, else unchanged.
func FinancialStatusAfter(o *Order, p CancelPlan) FinancialStatus {
	switch p.RefundKind {
	case RefundKindVoid:
		return FinancialVoided
	case RefundKindRefund:
		return FinancialStatusAfterRefund(paidAmount(o), o.RefundedAmount+p.RefundTotal)
	}
	return o.FinancialStatus
}

// RefundedAmountAfter is the order's refunded amount once the plan is
// carried out. A void moves no money, so only a refund counts.
func RefundedAmountAfter(o *Order, p CancelPlan) int64 {
	if p.RefundKind == RefundKindRefund {
		return o.RefundedAmount + p.RefundTotal
	}
	return o.RefundedAmount
}

// TaxShares splits the tax of refunded line amounts: the total is
// taxes × Σamounts / subtotal (rounded half up, never more than taxes),
// and each line gets its proportional part, the units left by rounding
// down going to the largest remainders (the earlier line on a tie), so
// the shares add up to the total exactly. No tax when subtotal, taxes or
// the amounts are not positive.
func TaxShares(taxes, subtotal int64, amounts []int64) []int64 {
	shares := make([]int64, len(amounts))
	var sum int64
	for _, a := range amounts {
		sum += max(a, 0)
	}
	if taxes <= 0 || subtotal <= 0 || sum <= 0 {
		return shares
	}
	total := min(mulDiv(taxes, sum, subtotal, true), taxes)
	rems := make([]*big.Int, len(amounts))
	var given int64
	for i, a := range amounts {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(total), big.NewInt(max(a, 0))), big.NewInt(sum), new(big.Int))
		shares[i], rems[i] = q.Int64(), r
		given += shares[i]
	}
	order := make([]int, len(amounts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rems[b].Cmp(rems[a]) })
	for _, i := range order[:total-given] {
		shares[i]++
	}
	return shares
}

// LineNets is what each line (by id) was paid for: its total less its part
// of the order's discounts, which are split over the lines in proportion
// to their totals (see TaxShares), so the parts add up to the discounts
// exactly.
func LineNets(o *Order) map[int64]int64 {
	totals := make([]int64, len(o.LineItems))
	for i, li := range o.LineItems {
		totals[i] = li.Total()
	}
	shares := TaxShares(o.Discounts, o.Subtotal, totals)
	out := make(map[int64]int64, len(o.LineItems))
	for i, li := range o.LineItems {
		out[li.ID] = max(totals[i]-shares[i], 0)
	}
	return out
}

// UnitsPaid is what the next q units of a line paid, after the units
// refunded before: net (see LineNets) spread over the line's units, the
// i-th unit ending at net × i / Quantity rounded down, so refunding a
// line in any number of steps gives back exactly net, never more.
func UnitsPaid(li LineItem, net int64, q int) int64 {
	if li.Quantity <= 0 || q <= 0 {
		return 0
	}
	from := clamp(li.RefundedQuantity, 0, li.Quantity)
	to := clamp(from+q, 0, li.Quantity)
	return mulDiv(net, int64(to), int64(li.Quantity), false) - mulDiv(net, int64(from), int64(li.Quantity), false)
}

// RefundTax is the tax given back with refunded line amounts, per line.
// It is worked out on the order's whole refunded items, not on this refund
// alone: the tax that all items refunded so far (before and now) owe,
// taxes × items / subtotal rounded half up, less the tax given back
// before (TaxRefunded). So many small refunds never add up to more tax
// than the order has, nor to less than one refund of the same items. The
// amount is split over the lines as TaxShares does.
func RefundTax(o *Order, amounts []int64) []int64 {
	var before, now int64
	for _, li := range o.LineItems {
		before += int64(li.RefundedQuantity) * li.Price
	}
	for _, a := range amounts {
		now += max(a, 0)
	}
	if o.Taxes <= 0 || o.Subtotal <= 0 || now <= 0 {
		return make([]int64, len(amounts))
	}
	owed := min(mulDiv(o.Taxes, before+now, o.Subtotal, true), o.Taxes)
	tax := clamp64(owed-o.TaxRefunded, 0, max(o.Taxes-o.TaxRefunded, 0))
	return TaxShares(tax, now, amounts)
}

func clamp64(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }

// mulDiv is a × b / c without overflow, rounded down or half up.
func mulDiv(a, b, c int64, roundHalfUp bool) int64 {
	n := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	if roundHalfUp {
		n.Add(n, big.NewInt(c/2))
	}
	return n.Quo(n, big.NewInt(c)).Int64()
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

// CancelResult is what a cancel did. Replayed is true when the request's
// idempotency key had already cancelled the order and nothing was written.
type CancelResult struct {
	CancellationID int64
	OrderID        int64
	Plan           CancelPlan
	Refund         *Refund // nil when nothing was refunded or voided
	Replayed       bool
}

// Refund is money given back, or an authorization voided, through a
// payment gateway. The idempotency key survives retries.
type Refund struct {
	ID, OrderID    int64
	CancellationID int64  // 0 for a refund made after the cancel
	Kind           string // "refund" or "void"
	Amount         int64
	Shipping       int64 // of Amount, the shipping refunded
	Currency       string
	Method         RefundMethod
	Gateway        string // "manual", "stripe" or "store_credit"
	Status         string // "pending", "succeeded" or "failed"
	IdempotencyKey string
	ProviderID     string // the gateway's id, e.g. Stripe's "re_…"
	Error          string // why the gateway refused, for a failed refund
	Note           string // staff-only
	// Lines are the units of each line item (by id) a pending or failed
	// refund covers; RefundStore.Refunds fills them in.
	Lines     map[int64]int
	Actor     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Cancellation is the case that ties one cancel together.
type Cancellation struct {
	ID, OrderID int64
	Reason      CancelReason
	ReasonLabel string
	StaffNote   string
	Refund      RefundChoice
	Restock     bool
	LocationID  int64
	Notify      bool
	Actor       string
	CreatedAt   time.Time
	Refunds     []Refund
}

// RefundGateway is the gateway a refund of an order paid with
// paymentMethod goes through: "manual" for an empty or manual method, else
// the method's name.
func RefundGateway(paymentMethod string) string {
	m := strings.TrimSpace(paymentMethod)
	if m == "" || strings.EqualFold(m, "manual") {
		return "manual"
	}
	return m
}
