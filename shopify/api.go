// Package shopify connects Cancel Desk to a Shopify store through the Admin
// GraphQL API: a Client that honours Shopify's cost-based throttling, the
// mapping of Shopify's orders onto canceldesk.Order, webhook verification,
// and the Worker that syncs orders in and sends cancels and restocks out.
package shopify

import (
	"context"
	"time"

	"github.com/canceldesk/canceldesk"
)

// DefaultAPIVersion is the Admin API version requests go to.
const DefaultAPIVersion = "2026-10"

// Config is the connection, from the environment (secrets are never flags).
type Config struct {
	Shop          string // SHOPIFY_SHOP, "name.myshopify.com"; "" = not connected
	AccessToken   string // SHOPIFY_ACCESS_TOKEN
	WebhookSecret string // SHOPIFY_WEBHOOK_SECRET
	APIBase       string // SHOPIFY_API_BASE, default "https://" + Shop
	APIVersion    string // SHOPIFY_API_VERSION, default DefaultAPIVersion
}

// API is the part of the Admin GraphQL API Cancel Desk uses; *Client
// implements it. Every method retries Shopify's throttling within ctx and
// returns a *BusyError when ctx ends first.
type API interface {
	// Orders returns one page of orders matching the search query (e.g.
	// "updated_at:>='2026-12-01T00:00:00Z'", "" for all), oldest updated
	// first, after the cursor ("" for the first page).
	Orders(ctx context.Context, query, after string, first int) (OrdersPage, error)
	// Order returns one order by its numeric id, or nil when Shopify has
	// none.
	Order(ctx context.Context, id string) (*canceldesk.Order, error)
	// OrderCancel asks Shopify to cancel an order. Refusals come back as
	// UserErrors, not as an error.
	OrderCancel(ctx context.Context, in CancelInput) (CancelPayload, error)
	// Job reports whether an asynchronous job is done.
	Job(ctx context.Context, id string) (done bool, err error)
	// RefundCreate makes a refund with the @idempotent(key:) directive:
	// the same key returns the first refund and never refunds twice.
	RefundCreate(ctx context.Context, in RefundInput, key string) (RefundPayload, error)
}

// OrdersPage is one page of Orders.
type OrdersPage struct {
	Orders    []*canceldesk.Order
	EndCursor string
	HasNext   bool
}

// Refund methods of a cancel.
const (
	RefundOriginal    = "original"     // originalPaymentMethodsRefund: true
	RefundStoreCredit = "store_credit" // storeCreditRefund
	RefundNone        = "none"         // refund later: originalPaymentMethodsRefund: false
)

// CancelInput is orderCancel's arguments.
type CancelInput struct {
	OrderID        string                  // numeric id; sent as gid://shopify/Order/<id>
	Reason         canceldesk.CancelReason // sent upper case: CUSTOMER, DECLINED, FRAUD, INVENTORY, STAFF, OTHER
	RefundMethod   string                  // RefundOriginal, RefundStoreCredit or RefundNone
	Restock        bool
	StaffNote      string
	NotifyCustomer bool
}

// UserError is one of Shopify's refusals (orderCancelUserErrors, userErrors).
type UserError struct {
	Field   []string
	Code    string
	Message string
}

// CancelPayload is orderCancel's answer: a job, or user errors.
type CancelPayload struct {
	JobID      string
	JobDone    bool
	UserErrors []UserError
}

// RefundInput is refundCreate's input.
type RefundInput struct {
	OrderID string // numeric id
	Note    string
	Notify  bool
	Lines   []RefundLine
	// Money: none when Amount is 0 (a restock only).
	Amount            int64 // minor units of Currency
	Currency          string
	ParentTransaction string // gid://shopify/OrderTransaction/… the sale or capture refunded
	Gateway           string // the parent transaction's gateway
}

// RefundLine is one refundLineItems entry.
type RefundLine struct {
	LineItemID  string // gid://shopify/LineItem/…
	Quantity    int
	RestockType string // "CANCEL" (unshipped), "RETURN" (shipped) or "NO_RESTOCK"
	LocationID  string // gid://shopify/Location/…, with a restock
}

// RefundPayload is refundCreate's answer.
type RefundPayload struct {
	RefundID   string // gid://shopify/Refund/…
	UserErrors []UserError
}

// BusyError says Shopify could not take the call now (THROTTLED, HTTP 429,
// a 5xx or the network): try again after RetryAfter, with the same keys.
type BusyError struct {
	RetryAfter time.Duration
	Msg        string
}

func (e *BusyError) Error() string { return "Shopify is busy: " + e.Msg }
