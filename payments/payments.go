// Package payments gives money back through a payment provider: a Gateway
// takes one Call (a refund or a void) and reports its Result. Manual records
// a refund the merchant made elsewhere; Stripe talks to the Stripe API. The
// Registry picks the gateway for an order's payment method.
package payments

import (
	"context"
	"strings"

	"github.com/canceldesk/canceldesk"
)

// Kinds of Call.
const (
	KindRefund = "refund" // give captured money back
	KindVoid   = "void"   // release an authorization that was never captured
)

// Statuses of a Result.
const (
	StatusSucceeded = "succeeded"
	StatusPending   = "pending" // the provider accepted it; it is not final yet
	StatusFailed    = "failed"
)

// Gateway names.
const (
	NameManual = "manual"
	NameStripe = "stripe"
)

// Call is one request to a gateway. IdempotencyKey is the same on every retry
// of one refund.
type Call struct {
	Kind           string // "refund" (give money back) or "void" (release an authorization)
	Amount         int64  // minor units, > 0
	Currency       string // ISO 4217, e.g. "USD", "TWD"
	Reference      string // the payment's id at the provider: a Stripe charge "ch_..." or payment intent "pi_...", a Shopify transaction gid
	IdempotencyKey string
	// For Shopify: the order's numeric id there, and the lines refunded
	// with their Shopify ids (refundCreate names lines and restocks).
	ExternalID string
	Lines      []canceldesk.RefundJobLine
}

// Result is the outcome of a call.
type Result struct {
	Status     string // "succeeded", "pending" (provider accepted, not final) or "failed"
	ProviderID string // e.g. Stripe refund id "re_..."
	Error      string // for failed: a short message a merchant can read
	Retryable  bool   // for failed: true when trying again later may succeed (network error, 5xx, 429, provider down); false for a definite refusal
}

// Gateway gives money back through one provider.
type Gateway interface {
	Name() string // "manual" or "stripe"
	// Process never panics; errors become Result{Status: "failed", ...}.
	Process(ctx context.Context, c Call) Result
}

// failed is a failed Result.
func failed(retryable bool, msg string) Result {
	return Result{Status: StatusFailed, Error: msg, Retryable: retryable}
}

// Manual records a refund issued outside Cancel Desk: it always succeeds at
// once, because the money has already moved by the time the merchant says so.
type Manual struct{}

// Name is "manual".
func (Manual) Name() string { return NameManual }

// Process succeeds.
func (Manual) Process(context.Context, Call) Result {
	return Result{Status: StatusSucceeded}
}

// Registry picks the gateway for an order's payment method.
type Registry struct {
	stripe  *Stripe  // nil when Stripe is not configured
	shopify *Shopify // nil when no shop is connected
}

// WithShopify adds the Shopify gateway: the connected shop's orders are
// refunded through Shopify. It returns r.
func (r *Registry) WithShopify(s *Shopify) *Registry {
	r.shopify = s
	return r
}

// ForOrder returns the gateway name for an order: "shopify" for an order of
// the connected shop (canceldesk.Order.ShopifyOrder), else as For says for
// its payment method.
func (r *Registry) ForOrder(o *canceldesk.Order) string {
	if r != nil && r.shopify != nil && o.ShopifyOrder() {
		return canceldesk.GatewayShopify
	}
	return r.For(o.PaymentMethod)
}

// NewRegistry returns a registry with the manual gateway and, when stripe is
// not nil, the Stripe one.
func NewRegistry(stripe *Stripe) *Registry {
	return &Registry{stripe: stripe}
}

// stripeMethods are the payment methods (lower case) whose money sits in the
// merchant's Stripe account: cards taken through Stripe.
var stripeMethods = map[string]bool{
	"shopify payments": true,
	"stripe":           true,
	"credit card":      true,
	"card":             true,
}

// For returns the gateway name for a payment method: "stripe" when Stripe is
// configured and the method is a card processed by Stripe ("Shopify
// Payments", "Stripe", "credit card", "card"; case-insensitive, trimmed);
// "manual" otherwise (empty, "manual", "PayPal", bank transfer, cash, or
// Stripe not configured).
func (r *Registry) For(paymentMethod string) string {
	if r != nil && r.stripe != nil && stripeMethods[strings.ToLower(strings.TrimSpace(paymentMethod))] {
		return NameStripe
	}
	return NameManual
}

// Gateway returns the gateway by name ("manual" always exists), or nil.
func (r *Registry) Gateway(name string) Gateway {
	switch name {
	case NameManual:
		return Manual{}
	case NameStripe:
		// Return an untyped nil, not a nil *Stripe inside the interface,
		// so that callers' `g == nil` checks work.
		if r != nil && r.stripe != nil {
			return r.stripe
		}
	case canceldesk.GatewayShopify:
		if r != nil && r.shopify != nil {
			return r.shopify
		}
	}
	return nil
}
