package canceldesk

import (
	"context"
	"time"
)

// The live Shopify connection, as the domain sees it. Orders come in from
// the shop's Admin API (a backfill, webhooks, a reconciliation pass) and
// are matched to ours by ExternalID, Shopify's numeric order id, the same
// id a CSV export carries in its "Id" column. A cancel or a restock of a
// Shopify order is a ShopifyCall: recorded before it is sent, sent until
// Shopify answers, and applied here only once Shopify has done it.

// GatewayShopify refunds a Shopify order through Shopify (refundCreate),
// which gives the money back through the shop's own payment provider.
const GatewayShopify = "shopify"

// SourceShopify is a cancellation made in Shopify's own admin and seen here
// through the API: no one cancelled it in Cancel Desk.
const SourceShopify = "shopify"

// ShopifyOrder reports whether o came from, or was confirmed by, the shop's
// Admin API: such an order is cancelled and refunded through Shopify.
func (o *Order) ShopifyOrder() bool { return o.ShopifyUpdatedAt != nil && o.ExternalID != "" }

// Webhook topics Cancel Desk subscribes to.
const (
	TopicOrdersCreate    = "orders/create"
	TopicOrdersUpdated   = "orders/updated"
	TopicOrdersCancelled = "orders/cancelled"
	TopicRefundsCreate   = "refunds/create"
)

// ShopifyWebhook is one webhook delivery, queued as it arrived and
// processed after the 200 was sent.
type ShopifyWebhook struct {
	ID        int64
	WebhookID string // X-Shopify-Webhook-Id: a repeated id is ignored
	Topic     string // one of the Topic constants
	// OrderID is the order's numeric id at Shopify: the payload's "id" for
	// orders/*, its "order_id" for refunds/create.
	OrderID string
	// UpdatedAt is the payload's updated_at (orders/*) or created_at
	// (refunds/create): an older payload never overwrites a newer state.
	UpdatedAt  *time.Time
	ReceivedAt time.Time
	Attempts   int
	Error      string // the last processing error, "" when none
}

// Kinds of ShopifyCall.
const (
	ShopifyCallCancel  = "cancel"  // orderCancel, then the local cancel
	ShopifyCallRestock = "restock" // refundCreate with line items and no money, then the local restock
)

// States of a ShopifyCall.
const (
	CallQueued  = "queued"  // to send (again) at NextAt; "Shopify is busy" when Attempts > 0
	CallRunning = "running" // Shopify accepted it and returned JobID; waiting for the job to be done
	CallDone    = "done"    // Shopify did it and the local records are written
	CallFailed  = "failed"  // Shopify refused it (its user errors are in Error); nothing local changed
)

// ShopifyCall is one call Cancel Desk owes Shopify: the outbox row written
// in the transaction of the action, so that a restart neither loses nor
// repeats it. IdempotencyKey is stored before the first attempt and sent on
// every retry.
type ShopifyCall struct {
	ID             int64
	OrderID        int64
	ExternalID     string // the order's numeric id at Shopify
	OrderName      string // the order's name, "#1001"
	Kind           string // ShopifyCallCancel or ShopifyCallRestock
	State          string // one of the Call states
	IdempotencyKey string
	// Cancel is the dialog's request for a cancel, applied here (with
	// Gateway GatewayShopify) once Shopify's job is done.
	Cancel *CancelRequest
	// ShopifyNotifies is the setting when the call was queued: when true,
	// Shopify emails the customer (orderCancel's notifyCustomer, if
	// Cancel.NotifyCustomer) and Cancel Desk sends nothing; when false,
	// Cancel Desk sends its own message if Cancel.NotifyCustomer.
	ShopifyNotifies bool
	// Restock is the request of a restock call.
	Restock   *RestockRequest
	JobID     string // Shopify's job id (gid://shopify/Job/…) once accepted
	Attempts  int
	NextAt    time.Time
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// About names what the call is about, as Settings shows its errors:
// "Cancel of #1001".
func (c *ShopifyCall) About() string {
	what := "Cancel"
	if c.Kind == ShopifyCallRestock {
		what = "Restock"
	}
	return what + " of " + c.OrderName
}

// About names what the delivery is about, as Settings shows its errors:
// "Webhook orders/updated for order 123".
func (w *ShopifyWebhook) About() string {
	return "Webhook " + w.Topic + " for order " + w.OrderID
}

// ShopifyState is the connection's state, shown on Settings.
type ShopifyState struct {
	LastSyncAt *time.Time // when the last backfill or reconciliation pass ended
	// LastSeenUpdatedAt is the newest updated_at synced: the reconciliation
	// pass asks for orders updated since then.
	LastSeenUpdatedAt *time.Time
	// SyncCursor is where an interrupted backfill resumes ("" when none is
	// in progress).
	SyncCursor string
	// OrdersSynced counts the orders stored from Shopify, new or changed,
	// by every path: backfill, reconciliation, webhooks, a call's end.
	OrdersSynced     int64
	WebhooksReceived int64
	WebhooksPending  int64 // received and not processed yet
	CallsPending     int64 // calls queued or running
	// LastError is the most recent of a sync pass's, a webhook's and a
	// call's errors (busy or refused), saying what it was about; a sync
	// pass that succeeds clears a sync pass's error.
	LastError   string
	LastErrorAt *time.Time
}

// ShopifySyncCount is what storing a batch of the shop's orders did.
type ShopifySyncCount struct {
	Orders    int // orders in the batch
	LineItems int // their line items
	Cancelled int // of Orders, cancelled at Shopify
	Created   int // orders new here
	Updated   int // orders here that Shopify changed since we last saw them
}

// Add adds b to c.
func (c *ShopifySyncCount) Add(b ShopifySyncCount) {
	c.Orders += b.Orders
	c.LineItems += b.LineItems
	c.Cancelled += b.Cancelled
	c.Created += b.Created
	c.Updated += b.Updated
}

// ShopifyStore keeps what the connection needs. Every method is one
// transaction.
type ShopifyStore interface {
	// UpsertShopifyOrders stores orders as the shop's API returned them
	// (ShopifyUpdatedAt set), matched by ExternalID. A new order is
	// inserted as ImportOrders would. An order we have is updated only when
	// its ShopifyUpdatedAt is newer than the one stored (or none is
	// stored): statuses, fulfilled quantities, risk, addresses; a
	// cancellation made at Shopify is recorded (SourceShopify, unshipped
	// units cancelled) unless a cancel call of ours is open for it; refunds
	// made at Shopify add succeeded refunds up to Shopify's refunded total.
	// LastSeenUpdatedAt advances to the newest ShopifyUpdatedAt stored.
	UpsertShopifyOrders(ctx context.Context, orders []*Order) (ShopifySyncCount, error)
	// ShopifyOrderUpdatedAt is the ShopifyUpdatedAt stored for the order
	// with that external id, nil when the order is unknown or never synced.
	ShopifyOrderUpdatedAt(ctx context.Context, externalID string) (*time.Time, error)

	// EnqueueWebhook queues a delivery; a WebhookID seen before is not
	// queued again and duplicate is true. WebhooksReceived counts both.
	EnqueueWebhook(ctx context.Context, w ShopifyWebhook) (duplicate bool, err error)
	// ClaimWebhooks returns up to limit unprocessed deliveries, oldest
	// first, and leases them for lease so that two instances do not
	// process one delivery at once.
	ClaimWebhooks(ctx context.Context, limit int, lease time.Duration) ([]ShopifyWebhook, error)
	// FinishWebhook marks a delivery processed; with errMsg != "" it stays
	// queued and is tried again after its lease, and errMsg becomes the
	// connection's LastError (with the delivery's About).
	FinishWebhook(ctx context.Context, id int64, errMsg string) error

	// QueueShopifyCancel checks req as CancelOrder would (Validate, the
	// blockers of PlanCancel, the staff refund limit) and records a cancel
	// call and an EventShopifyCancelSent timeline entry, writing nothing
	// else: the order stays as it is until Shopify's job is done. An
	// IdempotencyKey seen before returns that call. An open call for the
	// order already is ECONFLICT, and so is a req.RequestID no longer
	// pending (request.decided).
	QueueShopifyCancel(ctx context.Context, req CancelRequest, shopifyNotifies bool) (*ShopifyCall, error)
	// QueueShopifyRestock records a restock call (req checked as
	// RestockOrder would check it).
	QueueShopifyRestock(ctx context.Context, req RestockRequest) (*ShopifyCall, error)
	// DueShopifyCalls lists calls queued with NextAt ≤ now, and running
	// calls, oldest first.
	DueShopifyCalls(ctx context.Context, now time.Time, limit int) ([]ShopifyCall, error)
	// OpenShopifyCall is the order's call that is queued or running, or
	// ENOTFOUND.
	OpenShopifyCall(ctx context.Context, orderID int64) (*ShopifyCall, error)
	// ShopifyCall returns one call by id, or ENOTFOUND.
	ShopifyCall(ctx context.Context, id int64) (*ShopifyCall, error)
	// ShopifyCallAccepted records the job Shopify returned: state running.
	ShopifyCallAccepted(ctx context.Context, id int64, jobID string) error
	// ShopifyCallBusy leaves the call queued until next (throttled, 429,
	// network or 5xx), counting the attempt and keeping msg.
	ShopifyCallBusy(ctx context.Context, id int64, next time.Time, msg string) error
	// ShopifyCallRefused marks the call failed with Shopify's messages and
	// adds an EventShopifyRefused timeline entry; the messages (with the
	// call's About) become the connection's LastError; nothing else changes.
	ShopifyCallRefused(ctx context.Context, id int64, msg string) error
	// CompleteShopifyCall applies a call Shopify has done, in one
	// transaction: for a cancel, what CancelOrder(req) writes (its refund
	// recorded succeeded through GatewayShopify; the customer message only
	// when Shopify does not notify) and, when req.RequestID names a request
	// still pending, what ApproveRequest writes for that request; for a
	// restock, what RestockOrder writes. The call becomes done. Completing a
	// done call does nothing.
	CompleteShopifyCall(ctx context.Context, id int64) error

	// ShopifyState returns the connection's state.
	ShopifyState(ctx context.Context) (ShopifyState, error)
	// SaveSyncProgress records a backfill's cursor ("" when it ended).
	// UpsertShopifyOrders counts the orders synced.
	SaveSyncProgress(ctx context.Context, cursor string) error
	// SyncFinished records that a backfill or reconciliation pass ended at
	// at, with errMsg ("" when it succeeded; else it is LastError).
	SyncFinished(ctx context.Context, at time.Time, errMsg string) error
	// RecordShopifyError makes msg, at at, the connection's LastError
	// unless a later one is recorded (e.g. a call Shopify was too busy
	// to take).
	RecordShopifyError(ctx context.Context, at time.Time, msg string) error
}
