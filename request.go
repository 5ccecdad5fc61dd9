package canceldesk

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Statuses of a customer's cancellation request.
const (
	RequestPending  = "pending"  // waiting in the staff queue
	RequestApproved = "approved" // approved; the order is cancelled
	RequestDeclined = "declined" // declined with the store's message
	RequestRefused  = "refused"  // the order could not be cancelled any more (shipped or cancelled already)
)

// CustomerReasons are the reasons a customer can give, in the form's order.
var CustomerReasons = []string{"changed_mind", "ordered_by_mistake", "better_price", "delivery_too_long", "other"}

// Limits of the public form.
const (
	MaxRequestOrderLen   = 40
	MaxRequestCommentLen = 1000
	MaxDeclineMessageLen = 1000
)

// RequestForm is what a customer submits on the public form.
type RequestForm struct {
	OrderNumber string
	Email       string
	Reason      string // one of CustomerReasons
	Comment     string
	// Locale is the language of the page the form was filed on: the
	// request's messages are written in it (see CustomerLanguage).
	Locale string
}

// Normalize trims the form and writes the order number as the shop does
// ("1001" and "#1001" are the same order).
func (f RequestForm) Normalize() RequestForm {
	f.OrderNumber = strings.TrimSpace(f.OrderNumber)
	if f.OrderNumber != "" && !strings.HasPrefix(f.OrderNumber, "#") {
		f.OrderNumber = "#" + f.OrderNumber
	}
	f.Email = strings.TrimSpace(f.Email)
	f.Comment = strings.TrimSpace(f.Comment)
	return f
}

// Validate checks the form's shape only (never whether the order exists):
// the first problem as an EINVALID *Error with its field.
func (f RequestForm) Validate() error {
	switch n := utf8.RuneCountInString(f.OrderNumber); {
	case n <= 1:
		return fieldError(EINVALID, "order", "validation.request_order", "Enter your order number, like #1001.")
	case n > MaxRequestOrderLen:
		return fieldError(EINVALID, "order", "validation.request_order_long", "That order number is too long.")
	}
	if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email || len(f.Email) > 254 {
		return fieldError(EINVALID, "email", "validation.email", "Enter an email address like name@example.com.")
	}
	if !slices.Contains(CustomerReasons, f.Reason) {
		return fieldError(EINVALID, "reason", "validation.request_reason", "Choose a reason.")
	}
	if utf8.RuneCountInString(f.Comment) > MaxRequestCommentLen {
		return fieldError(EINVALID, "comment", "validation.request_comment", "Your comment is too long (at most 1,000 characters).")
	}
	return nil
}

// CancellationRequest is a customer's request to cancel an order.
type CancellationRequest struct {
	ID        int64
	OrderID   int64
	OrderName string
	Email     string
	Reason    string // one of CustomerReasons
	Comment   string
	Status    string
	// Token is the secret of the status link; only its hash is stored, so
	// it is set only on the request just filed.
	Token          string
	Decision       string // the store's message to the customer when declined
	DecidedBy      string // an account email, or "rule" for an automatic approval
	Rule           string // the auto-approval rule that approved it, in words
	CreatedAt      time.Time
	DecidedAt      *time.Time
	CancellationID int64
	// Locale is the language the request was filed in, its messages'.
	Locale string
}

// AutoApproval is the managers' rule for approving requests without
// waiting for staff: every condition must hold.
type AutoApproval struct {
	Enabled bool
	// MaxAgeMinutes: the order was placed at most this long ago.
	MaxAgeMinutes int
	// MaxTotal per currency (minor units): the order's total is at most
	// this; a currency without a value is never approved automatically.
	MaxTotal map[string]int64
	// ExcludeTags: an order with any of these tags (case-insensitive)
	// waits for staff.
	ExcludeTags []string
}

// Approves reports whether the rule approves a request for o at now, and
// when not, why (a catalogue key). Conditions: enabled; nothing fulfilled;
// the order younger than MaxAgeMinutes; total at most MaxTotal of its
// currency; risk not high; none of ExcludeTags.
func (r AutoApproval) Approves(o *Order, now time.Time) (bool, string) {
	limit, ok := r.MaxTotal[o.Currency]
	switch {
	case !r.Enabled:
		return false, "rule.off"
	case o.Cancelled():
		return false, "rule.cancelled"
	case o.FulfillmentStatus != FulfillmentUnfulfilled || anyFulfilled(o):
		return false, "rule.fulfilled"
	case r.MaxAgeMinutes <= 0 || now.Sub(o.CreatedAt) > time.Duration(r.MaxAgeMinutes)*time.Minute:
		return false, "rule.too_old"
	case !ok || o.Total > limit:
		return false, "rule.too_much"
	case o.Risk == RiskHigh:
		return false, "rule.risky"
	}
	for _, tag := range o.Tags {
		for _, ex := range r.ExcludeTags {
			if strings.EqualFold(strings.TrimSpace(tag), strings.TrimSpace(ex)) {
				return false, "rule.tagged"
			}
		}
	}
	return true, ""
}

// Describe is the rule in words, for the timeline of an order it approved.
func (r AutoApproval) Describe(currency string) string {
	s := fmt.Sprintf("auto-approval: nothing shipped, placed within %d min, total ≤ %s %s, risk not high",
		r.MaxAgeMinutes, Money{r.MaxTotal[currency], currency}.Decimal(), currency)
	if len(r.ExcludeTags) > 0 {
		s += ", no tag of " + strings.Join(r.ExcludeTags, ", ")
	}
	return s
}

func anyFulfilled(o *Order) bool {
	for _, li := range o.LineItems {
		if li.FulfilledQuantity > 0 {
			return true
		}
	}
	return false
}

// RequestStore keeps customer cancellation requests. Every method is one
// transaction.
type RequestStore interface {
	// FileRequest records a request from the public form. When no order
	// has that number and email (case-insensitive), it writes nothing and
	// returns (nil, nil): the caller answers the same either way. An order
	// already cancelled or shipped gets RequestRefused and a message
	// saying so; otherwise the request is pending and the customer gets a
	// "received" message with the status link (base + token), unless the
	// auto-approval rule approves it: then the order is cancelled at once
	// (full refund to the original payment through gatewayFor(order), nil
	// meaning manual; restock as the settings say; the timeline naming the
	// rule) and the customer gets "approved".
	FileRequest(ctx context.Context, f RequestForm, statusBase string, gatewayFor func(*Order) string) (*CancellationRequest, error)
	// RequestByToken returns the request whose status link carries token.
	RequestByToken(ctx context.Context, token string) (*CancellationRequest, error)
	// PendingRequests lists the queue, oldest first, and how many there are.
	PendingRequests(ctx context.Context, limit int) ([]CancellationRequest, int, error)
	// Request returns one request, or ErrNotFound.
	Request(ctx context.Context, id int64) (*CancellationRequest, error)
	// ApproveRequest cancels the order as req says and marks the request
	// approved, in one transaction; a request decided already is ECONFLICT
	// (two staff deciding at once: one decision). Staff decide within
	// their refund limit: a refund now over it is EFORBIDDEN (as
	// CancelOrder) and the request stays pending. The auto-approval rule
	// (FileRequest) is the store's own decision and is not held to it.
	ApproveRequest(ctx context.Context, id int64, req CancelRequest) (*CancelResult, error)
	// DeclineRequest marks the request declined with the store's message
	// and emails the customer; decided already is ECONFLICT.
	DeclineRequest(ctx context.Context, id int64, message, actor string) error
	// AutoApproval returns the rule; SaveAutoApproval stores it.
	AutoApproval(ctx context.Context) (AutoApproval, error)
	SaveAutoApproval(ctx context.Context, r AutoApproval, actor string) error
}
