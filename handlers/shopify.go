package handlers

import "context"

// ShopifyConn is the live Shopify connection (*shopify.Worker).
type ShopifyConn interface {
	Shop() string                           // "name.myshopify.com"
	AdminOrderURL(externalID string) string // the order in the Shopify admin
	WebhookSecret() string
	// Send sends the call now and waits (at most ctx) for Shopify's first
	// answer: accepted (running, or done when the job finished at once),
	// refused (failed) or busy (queued). The caller reads the call back
	// from the store for its state.
	Send(ctx context.Context, callID int64) error
	// SyncNow starts a reconciliation pass in the background.
	SyncNow()
}
