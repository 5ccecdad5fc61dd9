package canceldesk

import "encoding/json"

// EventData is what a timeline entry says, as data: the page renders it in
// the reader's language (no English is stored). Every field is optional;
// each kind uses the ones it needs.
type EventData struct {
	Amount     int64       `json:"amount,omitempty"`      // minor units of Currency
	Currency   string      `json:"currency,omitempty"`    // ISO 4217
	RefundID   int64       `json:"refund_id,omitempty"`   // the refund the entry is about
	RefundKind string      `json:"refund_kind,omitempty"` // refund, void, store_credit
	Status     string      `json:"status,omitempty"`      // the refund's status when written
	Gateway    string      `json:"gateway,omitempty"`     // the payment gateway, as named
	Error      string      `json:"error,omitempty"`       // the gateway's error, as it gave it
	CreditCode string      `json:"credit_code,omitempty"` // store credit issued with a refund
	Items      []EventItem `json:"items,omitempty"`       // quantities returned or restocked
	Location   string      `json:"location,omitempty"`    // the stock location's name
	Reason     string      `json:"reason,omitempty"`      // a reason code (cancel or request)
	Note       string      `json:"note,omitempty"`        // staff note, customer comment or message, as written
	Order      string      `json:"order,omitempty"`       // the related order's name ("#4000-R1")
	// ReasonOption is the key of the reason the staff picked
	// (cancel.reason_option.<key>), finer than the code Reason.
	ReasonOption string `json:"reason_option,omitempty"`
	// Auto-approval rule of a request approved by the store: orders placed
	// within RuleMinutes, total at most RuleTotal (Currency), no tag of
	// RuleTags; Limit is the staff refund limit it refunded above.
	RuleMinutes int      `json:"rule_minutes,omitempty"`
	RuleTotal   int64    `json:"rule_total,omitempty"`
	RuleTags    []string `json:"rule_tags,omitempty"`
	Limit       int64    `json:"limit,omitempty"`
	Recipient   string   `json:"recipient,omitempty"` // a message's recipient
	Template    string   `json:"template,omitempty"`  // a message template's name
	// WaitsForRefund: the customer message is held until the refund
	// RefundID succeeds.
	WaitsForRefund bool `json:"waits_for_refund,omitempty"`
}

// EventItem is a quantity of one SKU (or line name without a SKU).
type EventItem struct {
	Label    string `json:"label"`
	Quantity int    `json:"qty"`
}

// IsZero reports whether d holds nothing.
func (d EventData) IsZero() bool {
	b, _ := json.Marshal(d)
	return string(b) == "{}"
}

// EventKinds lists every kind the store writes to a timeline.
var EventKinds = []string{
	EventImported, EventCreated, EventCancelled,
	EventRefund, EventVoid, EventRestocked, EventNotificationOwed,
	EventReturned, EventStoreCredit, EventRefundFailed, EventRefundRetry,
	EventRecreated, EventRecreatedFrom,
	EventMessageResent, EventRequestReceived, EventRequestApproved, EventRequestDeclined,
	EventShopifyCancelSent, EventShopifyRefused, EventShopifyCancelled, EventShopifyRestockSent,
}

// Event kinds written by the Shopify connection.
const (
	EventShopifyCancelSent  = "shopify_cancel_sent"  // a cancel was sent to Shopify; the order waits for its job
	EventShopifyRefused     = "shopify_refused"      // Shopify refused a call; Note holds its messages
	EventShopifyCancelled   = "shopify_cancelled"    // cancelled in Shopify's own admin, seen through the API
	EventShopifyRestockSent = "shopify_restock_sent" // a restock was sent to Shopify
)

// Event kinds written by customer requests and the outbox.
const (
	EventMessageResent   = "message_resent"
	EventRequestReceived = "request_received"
	EventRequestApproved = "request_approved"
	EventRequestDeclined = "request_declined"
)
