package canceldesk

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// RestockType says what happens to the refunded units of a line, as in
// Shopify's refundLineItems: CANCEL (unshipped units go back to stock and
// are not shipped), RETURN (shipped units came back and go to stock),
// RETURN without restock (they came back damaged) or NO_RESTOCK (money
// only; unshipped units are not shipped).
type RestockType string

const (
	RestockNone            RestockType = "no_restock"
	RestockCancel          RestockType = "cancel"
	RestockReturn          RestockType = "return"
	RestockReturnNoRestock RestockType = "return_no_restock"
)

// RestockTypes lists the restock types in the dialog's order.
var RestockTypes = []RestockType{RestockNone, RestockCancel, RestockReturn, RestockReturnNoRestock}

// Restocks reports whether the type puts units back to stock.
func (t RestockType) Restocks() bool { return t == RestockCancel || t == RestockReturn }

// Returns reports whether the type is about shipped units that came back.
func (t RestockType) Returns() bool { return t == RestockReturn || t == RestockReturnNoRestock }

// RefundMethod is where the money goes.
type RefundMethod string

const (
	MethodOriginal    RefundMethod = "original"     // the order's payment, through its gateway
	MethodStoreCredit RefundMethod = "store_credit" // a credit code for a future order
)

// GatewayManual records a refund issued outside Cancel Desk; it succeeds at
// once. GatewayStoreCredit is the gateway of store-credit refunds.
const (
	GatewayManual      = "manual"
	GatewayStoreCredit = "store_credit"
)

// Limits of a refund.
const MaxRefundNoteLen = 255

// Event kinds written by refunds, returns and restocks.
const (
	EventReturned     = "returned"
	EventStoreCredit  = "store_credit"
	EventRefundFailed = "refund_failed"
	EventRefundRetry  = "refund_retry"
)

// OutboxRefundIssued is the kind of the customer message a refund owes.
const OutboxRefundIssued = "refund_issued"

// RefundLineRequest is one line of the refund dialog.
type RefundLineRequest struct {
	LineItemID int64
	Quantity   int
	Restock    RestockType
	LocationID int64 // where restocked units go; required when Restock.Restocks()
}

// RefundRequest is everything the refund dialog asks, plus who asks.
type RefundRequest struct {
	OrderID int64
	Lines   []RefundLineRequest // lines with Quantity 0 are ignored
	// FullShipping refunds what is left of the shipping charge; otherwise
	// Shipping (minor units, 0..left) is refunded.
	FullShipping bool
	Shipping     int64
	// Adjustment is added to the total: positive to give more (a goodwill
	// amount), negative to keep some (a restocking fee).
	Adjustment      int64
	Method          RefundMethod
	Gateway         string     // for MethodOriginal: "manual", "stripe", ... (chosen by the caller from the payment method)
	CreditExpiresAt *time.Time // for MethodStoreCredit; nil = never
	Note            string     // staff-only, at most MaxRefundNoteLen characters
	NotifyCustomer  bool
	IdempotencyKey  string // one per rendered dialog
	Actor           string
	ActorRole       Role // the staff limit applies below manager
}

// RefundPlanLine is what a refund does to one line.
type RefundPlanLine struct {
	LineItemID int64
	Name, SKU  string
	Quantity   int
	Restock    RestockType
	LocationID int64
	Amount     int64 // what these units paid: their price less their part of the discounts (UnitsPaid)
	Tax        int64 // this line's share of the order's tax
	// What the line's counters gain.
	Cancel, Restocked, Returned, ReturnRestocked, RefundedShipped int
}

// RefundPlan is exactly what a refund will do; the dialog previews it and
// the store carries it out.
type RefundPlan struct {
	Lines                     []RefundPlanLine
	Items, Tax, Shipping      int64
	Adjustment                int64
	Total                     int64 // Items + Tax + Shipping + Adjustment
	Currency                  string
	Refundable                int64 // what was still refundable before this refund
	ShippingLeft              int64 // shipping not refunded before
	Method                    RefundMethod
	Gateway                   string
	Notify                    bool
	NeedsManager              bool // the total is above the staff limit
	StaffLimit                int64
	FinancialStatusOnSuccess  FinancialStatus
	RestockUnits, ReturnUnits int
}

// RefundableLine is what may still happen to one line: the dialog's limits.
type RefundableLine struct {
	LineItem
	Refundable        int // units not refunded yet
	CancelRestockable int // unshipped units not restocked (and not refunded)
	Returnable        int // shipped units not returned (and not refunded)
}

// RestockOptions is the one rule for what may happen to the refunded
// units of the line, in the dialog's order: never restocked; back to
// stock as cancelled units while unshipped units are left to restock;
// returned (restocked or not) while shipped units are left to return.
// The refund dialog offers these, and PlanRefund holds each to the same
// counts (CancelRestockable, Returnable).
func (rl RefundableLine) RestockOptions() []RestockType {
	out := []RestockType{RestockNone}
	if rl.CancelRestockable > 0 {
		out = append(out, RestockCancel)
	}
	if rl.Returnable > 0 {
		out = append(out, RestockReturn, RestockReturnNoRestock)
	}
	return out
}

// Refundable lists the order's lines with what may still be refunded,
// restocked and returned.
func Refundable(o *Order) []RefundableLine {
	out := make([]RefundableLine, len(o.LineItems))
	for i, li := range o.LineItems {
		out[i] = RefundableLine{LineItem: li,
			Refundable:        max(li.Quantity-li.RefundedQuantity, 0),
			CancelRestockable: max(min(li.unshipped()-li.RestockedQuantity, li.unshipped()-li.UnshippedRefunded()), 0),
			Returnable:        max(min(li.FulfilledQuantity-li.ReturnedQuantity, li.FulfilledQuantity-li.RefundedShippedQuantity), 0),
		}
		if out[i].SKU == "" {
			out[i].CancelRestockable = 0
		}
	}
	return out
}

func (li LineItem) unshipped() int { return max(li.Quantity-li.FulfilledQuantity, 0) }

// UnshippedRefunded is the number of unshipped units refunded.
func (li LineItem) UnshippedRefunded() int {
	return max(li.RefundedQuantity-li.RefundedShippedQuantity, 0)
}

// RefundableAmount is what may still be given back: paid − refunded.
func RefundableAmount(o *Order) int64 { return max(paidAmount(o)-o.RefundedAmount, 0) }

// HasRefundableBalance reports whether the refund dialog has anything to
// give back.
func HasRefundableBalance(o *Order) bool {
	return RefundableAmount(o) > 0 && o.FinancialStatus != FinancialAuthorized
}

// PlanRefund works out what refunding o as req asks would do, or returns
// the first problem as an *Error (EINVALID with the field, or ECONFLICT
// when nothing can be refunded). staffLimit is the most staff below
// manager may refund in the order's currency (≤ 0: no limit); going over
// it sets NeedsManager, which the store refuses (EFORBIDDEN). The rules:
//
//   - A line refunds at most its units not refunded before. Units of a
//     line are refunded as the restock type says:
//     CANCEL: unshipped units (never more than are not restocked and not
//     refunded); they go back to stock and will not ship (cancelled).
//     RETURN / RETURN_NO_RESTOCK: shipped units not returned or refunded
//     before; they are marked returned, and RETURN restocks them.
//     NO_RESTOCK: unshipped units first (which will then not ship), then
//     shipped ones.
//   - Restocking needs a SKU and a location.
//   - Each line's money is units × price plus its share of the order's tax
//     (see TaxShares). The shipping is the part not refunded before, in
//     full or as asked. The adjustment is added as it is.
//   - The total is positive and never more than paid − refunded before;
//     an authorized payment is voided by a cancel, not refunded.
func PlanRefund(o *Order, req RefundRequest, staffLimit int64) (RefundPlan, error) {
	p := RefundPlan{Currency: o.Currency, Refundable: RefundableAmount(o), Method: req.Method, Gateway: req.Gateway,
		ShippingLeft: max(o.Shipping-o.ShippingRefunded, 0), Adjustment: req.Adjustment, StaffLimit: staffLimit,
		Notify: req.NotifyCustomer && strings.TrimSpace(o.Email) != ""}
	if err := req.validate(); err != nil {
		return p, err
	}
	if o.FinancialStatus == FinancialAuthorized {
		return p, &Error{Code: ECONFLICT, Key: "refund.blocked.authorized",
			Message: "This payment is only authorized: cancel the order to release it."}
	}
	if p.Refundable <= 0 {
		return p, &Error{Code: ECONFLICT, Key: "refund.blocked.nothing",
			Message: "Nothing is left to refund on this order."}
	}
	if p.Method == MethodStoreCredit {
		p.Gateway = GatewayStoreCredit
	} else if p.Gateway == "" {
		p.Gateway = GatewayManual
	}

	lines := map[int64]RefundableLine{}
	for _, rl := range Refundable(o) {
		lines[rl.ID] = rl
	}
	seen := map[int64]bool{}
	net := LineNets(o)
	var gross []int64 // before discounts: the tax follows these
	for _, lr := range req.Lines {
		if lr.Quantity == 0 {
			continue
		}
		field := fmt.Sprintf("qty_%d", lr.LineItemID)
		rl, ok := lines[lr.LineItemID]
		if !ok || seen[lr.LineItemID] {
			return p, fieldError(EINVALID, field, "validation.refund_line", "This line is not on the order.")
		}
		seen[lr.LineItemID] = true
		pl, err := planRefundLine(rl, lr, field)
		if err != nil {
			return p, err
		}
		gross = append(gross, pl.Amount)
		pl.Amount = UnitsPaid(rl.LineItem, net[rl.ID], pl.Quantity)
		p.Lines = append(p.Lines, pl)
		p.RestockUnits += pl.Restocked + pl.ReturnRestocked
		p.ReturnUnits += pl.Returned
	}
	for i, tax := range RefundTax(o, gross) {
		p.Lines[i].Tax = tax
		p.Items += p.Lines[i].Amount
		p.Tax += tax
	}
	switch {
	case req.FullShipping:
		p.Shipping = p.ShippingLeft
	case req.Shipping < 0 || req.Shipping > p.ShippingLeft:
		return p, fieldError(EINVALID, "shipping", "validation.refund_shipping",
			"The shipping refund cannot be more than the shipping not refunded yet.")
	default:
		p.Shipping = req.Shipping
	}
	p.Total = p.Items + p.Tax + p.Shipping + p.Adjustment
	switch {
	case p.Total <= 0 && p.Items+p.Tax+p.Shipping == 0 && p.Adjustment == 0:
		return p, fieldError(EINVALID, "lines", "validation.refund_empty", "Choose something to refund.")
	case p.Total <= 0:
		return p, fieldError(EINVALID, "adjustment", "validation.refund_adjustment",
			"The adjustment leaves nothing to refund.")
	case p.Total > p.Refundable:
		return p, fieldError(EINVALID, "total", "validation.refund_too_much",
			"This is more than is left to refund on the order.")
	}
	// The preview counts this refund alone; the store counts what the
	// actor refunded on the order before too (CheckStaffRefund).
	p.NeedsManager = CheckStaffRefund(req.ActorRole, staffLimit, 0, p.Total) != nil
	p.FinancialStatusOnSuccess = FinancialStatusAfterRefund(paidAmount(o), o.RefundedAmount+p.Total)
	return p, nil
}

// CheckStaffRefund is the staff refund limit, the one rule of every path
// that gives money back (a refund, a cancel refunding now, a bulk cancel,
// an approved customer request, a retried refund): below manager, what the
// actor has already refunded on the order (see RefundedBy) plus amount
// must stay within limit, the limit of the order's currency (≤ 0: no
// limit). Over it is EFORBIDDEN refund.needs_manager. Moving no money
// (amount ≤ 0, such as refund later or a void) is always allowed. The
// store's own auto-approval rule has no staff actor and is not held to it.
func CheckStaffRefund(role Role, limit, alreadyRefunded, amount int64) error {
	if !StaffLimitApplies(role, limit, amount) || alreadyRefunded+amount <= limit {
		return nil
	}
	return &Error{Code: EFORBIDDEN, Field: "total", Key: "refund.needs_manager",
		Message: "Refunds above the staff limit need a manager."}
}

// StaffLimitApplies says whether CheckStaffRefund can refuse a refund of
// amount by role under limit, and so needs what the actor refunded before:
// only money given back by someone below manager, under a limit.
func StaffLimitApplies(role Role, limit, amount int64) bool {
	return amount > 0 && limit > 0 && !role.AtLeast(RoleManager)
}

// RefundedBy is what actor has refunded on an order, from the order's
// refunds: money given back (not voids) that has not failed, whether
// confirmed yet or pending. The staff refund limit counts it.
func RefundedBy(refunds []Refund, actor string) int64 {
	var sum int64
	for _, r := range refunds {
		if r.Kind == RefundKindRefund && r.Status != RefundFailed && strings.EqualFold(r.Actor, actor) {
			sum += r.Amount
		}
	}
	return sum
}

func planRefundLine(rl RefundableLine, lr RefundLineRequest, field string) (RefundPlanLine, error) {
	pl := RefundPlanLine{LineItemID: rl.ID, Name: rl.Name, SKU: rl.SKU, Quantity: lr.Quantity, Restock: lr.Restock,
		Amount: int64(lr.Quantity) * rl.Price}
	tooMany := func(max int) error {
		return &Error{Code: EINVALID, Field: field, Key: "validation.refund_qty",
			Message: fmt.Sprintf("At most %d can be refunded this way.", max)}
	}
	if lr.Quantity < 0 || lr.Quantity > rl.Refundable {
		return pl, tooMany(rl.Refundable)
	}
	if lr.Restock.Restocks() {
		if rl.SKU == "" {
			return pl, fieldError(EINVALID, "restock_"+field[4:], "validation.restock_no_sku", "This item has no SKU, so it cannot be restocked.")
		}
		if lr.LocationID <= 0 {
			return pl, fieldError(EINVALID, "location", "validation.location", "Choose where the items go back to stock.")
		}
		pl.LocationID = lr.LocationID
	}
	unshippedOpen := max(rl.unshipped()-rl.CancelledQuantity, 0)
	switch lr.Restock {
	case RestockCancel:
		if lr.Quantity > rl.CancelRestockable {
			return pl, tooMany(rl.CancelRestockable)
		}
		pl.Restocked = lr.Quantity
		// Units cancelled before and not restocked go back first.
		pl.Cancel = max(rl.RestockedQuantity+lr.Quantity-rl.CancelledQuantity, 0)
	case RestockReturn, RestockReturnNoRestock:
		if lr.Quantity > rl.Returnable {
			return pl, tooMany(rl.Returnable)
		}
		pl.Returned, pl.RefundedShipped = lr.Quantity, lr.Quantity
		if lr.Restock == RestockReturn {
			pl.ReturnRestocked = lr.Quantity
		}
	case RestockNone:
		unshipped := min(lr.Quantity, max(rl.unshipped()-rl.UnshippedRefunded(), 0))
		pl.RefundedShipped = lr.Quantity - unshipped
		if pl.RefundedShipped > rl.FulfilledQuantity-rl.RefundedShippedQuantity {
			return pl, tooMany(rl.Refundable)
		}
		// Refunded unshipped units are not shipped.
		pl.Cancel = max(rl.UnshippedRefunded()+unshipped-rl.CancelledQuantity, 0)
	default:
		return pl, fieldError(EINVALID, "restock_"+field[4:], "validation.restock_type", "Choose what happens to the items.")
	}
	pl.Cancel = min(pl.Cancel, unshippedOpen)
	return pl, nil
}

func (r *RefundRequest) validate() error {
	switch r.Method {
	case MethodOriginal, MethodStoreCredit:
	default:
		return fieldError(EINVALID, "method", "validation.refund_method", "Choose where the money goes.")
	}
	if utf8.RuneCountInString(r.Note) > MaxRefundNoteLen {
		return fieldError(EINVALID, "note", "validation.note_long", "The note is too long (at most 255 characters).")
	}
	return validateKey(r.IdempotencyKey)
}

// StoreCreditExpiry is when a store credit valid through the calendar day
// of day (its date as read in loc) ends: the last microsecond of that day
// in loc, the store's time zone (the store keeps microseconds). Read back
// in loc it is that same day, which every page and message shows (see
// StoreCreditValidThrough).
func StoreCreditExpiry(day time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := day.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc).Add(-time.Microsecond).UTC()
}

// StoreCreditValidThrough is the last day a credit expiring at expires may
// be used, "2006-01-02" in loc, the store's time zone: the day chosen when
// it was issued.
func StoreCreditValidThrough(expires time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return expires.In(loc).Format(time.DateOnly)
}

// StoreCredit is a gift-card-like credit issued as a refund.
type StoreCredit struct {
	ID, OrderID, RefundID int64
	Code                  string // shown to staff and sent to the customer
	Amount                int64
	Currency              string
	ExpiresAt             *time.Time // the end of its last day (StoreCreditExpiry); nil = never
	CreatedAt             time.Time
}

// RefundResult is what a refund did. Replayed is true when the request's
// idempotency key had already refunded and nothing was written.
type RefundResult struct {
	Refund   Refund
	Plan     RefundPlan
	Credit   *StoreCredit
	Replayed bool
}

// RestockLineRequest is one line of a manual restock.
type RestockLineRequest struct {
	LineItemID int64
	Quantity   int
}

// RestockRequest puts units of a cancelled or refunded order back to stock
// by hand: cancelled units not restocked, and returned units not restocked.
type RestockRequest struct {
	OrderID        int64
	Lines          []RestockLineRequest
	LocationID     int64
	IdempotencyKey string
	Actor          string
}

// ManualRestockable is how many units of a line may still be restocked by
// hand: cancelled units never restocked, plus returned units never
// restocked. Lines without a SKU have none.
func ManualRestockable(li LineItem) int {
	if li.SKU == "" {
		return 0
	}
	return max(li.CancelledQuantity-li.RestockedQuantity, 0) + max(li.ReturnedQuantity-li.ReturnRestockedQuantity, 0)
}

// PlanRestock checks a manual restock against the order and splits each
// line into cancelled units (first) and returned units. It returns the
// first problem as an EINVALID *Error with its field.
func PlanRestock(o *Order, req RestockRequest) ([]RefundPlanLine, error) {
	if req.LocationID <= 0 {
		return nil, fieldError(EINVALID, "location", "validation.location", "Choose where the items go back to stock.")
	}
	byID := map[int64]LineItem{}
	for _, li := range o.LineItems {
		byID[li.ID] = li
	}
	var out []RefundPlanLine
	for _, lr := range req.Lines {
		if lr.Quantity == 0 {
			continue
		}
		field := fmt.Sprintf("qty_%d", lr.LineItemID)
		li, ok := byID[lr.LineItemID]
		if !ok {
			return nil, fieldError(EINVALID, field, "validation.refund_line", "This line is not on the order.")
		}
		if n := ManualRestockable(li); lr.Quantity < 0 || lr.Quantity > n {
			return nil, &Error{Code: EINVALID, Field: field, Key: "validation.restock_qty",
				Message: fmt.Sprintf("At most %d can be restocked.", n)}
		}
		cancelled := min(lr.Quantity, max(li.CancelledQuantity-li.RestockedQuantity, 0))
		out = append(out, RefundPlanLine{LineItemID: li.ID, Name: li.Name, SKU: li.SKU, Quantity: lr.Quantity,
			LocationID: req.LocationID, Restocked: cancelled, ReturnRestocked: lr.Quantity - cancelled})
	}
	if len(out) == 0 {
		return nil, fieldError(EINVALID, "lines", "validation.restock_empty", "Choose something to restock.")
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	return out, nil
}

// BacklogEntry is a cancelled order that still has money to give back.
type BacklogEntry struct {
	OrderID     int64
	Name        string
	Email       string
	Customer    string
	CancelledAt time.Time
	Reason      CancelReason
	ReasonLabel string
	Refundable  Money
	// RefundFailed: a refund of the order was refused and waits for a
	// Retry on the order page (RefundBalance.FailedRefund).
	RefundFailed bool
}

// BacklogSummary is the refund-later backlog as a whole: how many orders,
// how much they are owed per currency, and since when the oldest waits.
type BacklogSummary struct {
	Count  int
	Value  map[string]int64 // minor units per currency
	Oldest time.Time        // the oldest cancel; zero when the backlog is empty
}

// Settings are the store's rules that managers set.
type Settings struct {
	RestockOnCancel   bool             // the cancel dialog's restock default
	DefaultLocationID int64            // 0 = the first location
	StaffRefundLimit  map[string]int64 // currency → minor units; missing or ≤ 0 = no limit
	// StoreName signs customer messages; ReplyTo is where customers'
	// replies go ("" = the sender address).
	StoreName, ReplyTo string
	// AlertRateBP: when the last 7 days' cancellation rate is above this
	// (basis points), the dashboard and the orders page say so; 0 = off.
	AlertRateBP int64
	// ShopifyNotifies: Shopify emails the customer about a cancel, instead
	// of Cancel Desk (orderCancel's notifyCustomer). Default false.
	ShopifyNotifies bool
	// The store's face on the customer's pages: a logo (an absolute https
	// URL, see LogoURL; "" for none), an accent colour (#rrggbb with
	// enough contrast for white text; "" for the default) and the address
	// customers may write to ("" for none).
	LogoURL, AccentColor, ContactEmail string
	// DefaultLanguage is what customers are written to in when their
	// order carries no language (one of MessageLanguages).
	DefaultLanguage string
}

// DefaultSettings are the settings of a new store.
func DefaultSettings() Settings {
	return Settings{RestockOnCancel: true, StaffRefundLimit: map[string]int64{}, StoreName: "Our store",
		DefaultLanguage: DefaultLanguage}
}

// RefundJob is a refund waiting for its gateway.
type RefundJob struct {
	Refund
	Reference string // the order's payment reference at the provider
	// For GatewayShopify: the order's numeric id at Shopify, and the lines
	// the refund covers with their Shopify ids (restocked units say where).
	ExternalID string
	Lines      []RefundJobLine
}

// RefundJobLine is one line of a refund sent to Shopify.
type RefundJobLine struct {
	ExternalID         string // gid://shopify/LineItem/…
	Quantity           int
	Restock            bool
	LocationExternalID string // gid://shopify/Location/… where restocked units go, "" when none
}

// RefundStore is the system of record for refunds, restocks and settings.
// Every method is one transaction.
type RefundStore interface {
	// RefundOrder refunds part or all of an order as req asks (see
	// PlanRefund): the refund row (pending for a gateway, succeeded for
	// manual and store credit), the store credit, the line counters
	// (guarded), the order's refunded amount and shipping refunded, stock
	// ledger rows, the timeline and the customer message owed. The order
	// row is locked first, so two refunds at once never give back more
	// than was paid. A replayed key returns the first result with
	// Replayed set. Over the staff limit (CheckStaffRefund, counting what
	// the actor refunded on the order before) is EFORBIDDEN.
	RefundOrder(ctx context.Context, req RefundRequest) (*RefundResult, error)
	// RestockOrder restocks units by hand (see PlanRestock); a replayed
	// key writes nothing.
	RestockOrder(ctx context.Context, req RestockRequest) error
	// Refunds lists every refund of the order, oldest first.
	Refunds(ctx context.Context, orderID int64) ([]Refund, error)
	// StoreCredits lists the order's credits.
	StoreCredits(ctx context.Context, orderID int64) ([]StoreCredit, error)
	// PendingRefunds lists refunds waiting for a gateway, oldest first.
	PendingRefunds(ctx context.Context, limit int) ([]RefundJob, error)
	// SettleRefund records the gateway's answer: succeeded (the order's
	// financial status follows), failed (with the error) or still
	// pending. Settling a refund already final does nothing.
	SettleRefund(ctx context.Context, refundID int64, status, providerID, errMsg string) error
	// RetryRefund puts a failed refund back to pending (same key). The
	// money moves again, so the actor, with role, is held to the staff
	// limit (EFORBIDDEN).
	RetryRefund(ctx context.Context, refundID int64, actor string, role Role) (*Refund, error)
	// RefundBacklog lists cancelled orders with money still to give back,
	// oldest cancel first, and how many there are.
	RefundBacklog(ctx context.Context, limit int) ([]BacklogEntry, int, error)
	// BacklogSummary adds the whole backlog up, in one read.
	BacklogSummary(ctx context.Context) (BacklogSummary, error)
	// Movements lists the ledger rows of a SKU, newest first.
	Movements(ctx context.Context, sku string, limit int) ([]InventoryMovement, error)
	// StockLevels lists stock on hand of every SKU at every location.
	StockLevels(ctx context.Context) ([]StockLevel, error)
	// Settings returns the store's settings (DefaultSettings when unset).
	Settings(ctx context.Context) (Settings, error)
	// SaveSettings stores them.
	SaveSettings(ctx context.Context, s Settings, actor string) error
}

// OrderRefundGateway is the one rule for which gateway refunds (or voids) o:
// the gateway configured for it (configured names it, from its payment
// method, or GatewayShopify for an order of the connected shop; nil when no
// payment provider is configured), when that is not manual and the order
// carries the payment's id there (orders imported from a Shopify export do
// not); else GatewayManual, recorded as given back outside Cancel Desk. The
// cancel dialog, the refund dialog, bulk cancel and request approval all
// ask it.
func OrderRefundGateway(o *Order, configured func(o *Order) string) string {
	if configured == nil {
		return GatewayManual
	}
	g := configured(o)
	if g == "" || (g != GatewayManual && o.PaymentReference == "") {
		return GatewayManual
	}
	return g
}

// FinancialStatusAfterRefund is the one rule for an order's financial
// status once money has been given back: refunded when what was given
// back (refunded, > 0) reaches what was paid, else partially refunded.
// The refund dialog's preview, a cancel's plan and the store's
// syncFinancialStatus (on what gateways confirmed) all ask it.
func FinancialStatusAfterRefund(paid, refunded int64) FinancialStatus {
	if refunded >= paid {
		return FinancialRefunded
	}
	return FinancialPartiallyRefunded
}
