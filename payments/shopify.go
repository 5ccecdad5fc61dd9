package payments

import (
	"context"
	"errors"
	"strings"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/shopify"
)

// Messages a merchant reads in Result.Error.
const (
	msgShopifyBusy      = "Shopify is busy; the refund is queued and will be sent again."
	msgShopifyNoOrder   = "This order is not known to Shopify, so it cannot be refunded there."
	msgShopifyNoPayment = "Shopify shows no payment on this order to refund."
	msgShopifyVoid      = "An authorized Shopify payment is released by cancelling the order, not refunded."
)

// Shopify refunds a Shopify order through Shopify's refundCreate: the shop's
// own payment provider gives the money back, and Shopify's order records
// the refund and the restock. Every call carries the refund's idempotency
// key (@idempotent), so a retry after a timeout or a crash never refunds
// twice.
type Shopify struct {
	API shopify.API
}

// Name is canceldesk.GatewayShopify.
func (*Shopify) Name() string { return canceldesk.GatewayShopify }

// Process sends the refund. The order is read from Shopify first: its
// payment's gateway names the refund transaction, its parent transaction is
// the sale or capture (when the refund row does not name it), and a line's
// fulfilled units say how restocked units go back: units within the
// unshipped ones as CANCEL, shipped ones as RETURN; units not restocked as
// NO_RESTOCK. Shopify busy (throttled, 429, 5xx, the network) leaves the
// refund pending for the next pass, with the same key; Shopify's refusal
// fails it with Shopify's message.
func (s *Shopify) Process(ctx context.Context, c Call) (res Result) {
	if s == nil || s.API == nil {
		return failed(false, "Shopify is not connected.")
	}
	if strings.TrimSpace(c.IdempotencyKey) == "" {
		return failed(false, "This refund has no idempotency key, so it was not sent to Shopify.")
	}
	if c.Kind == KindVoid {
		return failed(false, msgShopifyVoid)
	}
	if c.ExternalID == "" {
		return failed(false, msgShopifyNoOrder)
	}
	o, err := s.API.Order(ctx, c.ExternalID)
	if err != nil {
		return shopifyFailure(err)
	}
	if o == nil {
		return failed(false, msgShopifyNoOrder)
	}
	in := shopify.RefundInput{OrderID: c.ExternalID, Amount: c.Amount, Currency: c.Currency,
		ParentTransaction: c.Reference, Gateway: o.PaymentMethod, Lines: refundLines(o, c.Lines)}
	if in.ParentTransaction == "" {
		in.ParentTransaction = o.PaymentReference
	}
	if in.Amount > 0 && in.ParentTransaction == "" {
		return failed(false, msgShopifyNoPayment)
	}
	p, err := s.API.RefundCreate(ctx, in, c.IdempotencyKey)
	if err != nil {
		return shopifyFailure(err)
	}
	if len(p.UserErrors) > 0 {
		return failed(false, "Shopify refused the refund: "+shopify.JoinUserErrors(p.UserErrors))
	}
	return Result{Status: StatusSucceeded, ProviderID: p.RefundID}
}

// refundLines names the refund's lines as Shopify's refundLineItems.
func refundLines(o *canceldesk.Order, lines []canceldesk.RefundJobLine) []shopify.RefundLine {
	unshipped := map[string]int{}
	for _, li := range o.LineItems {
		unshipped[li.ExternalID] = max(li.Quantity-li.FulfilledQuantity, 0)
	}
	out := make([]shopify.RefundLine, 0, len(lines))
	for _, l := range lines {
		rl := shopify.RefundLine{LineItemID: l.ExternalID, Quantity: l.Quantity, RestockType: "NO_RESTOCK"}
		if l.Restock && l.LocationExternalID != "" {
			rl.RestockType, rl.LocationID = "RETURN", l.LocationExternalID
			if l.Quantity <= unshipped[l.ExternalID] {
				rl.RestockType = "CANCEL"
			}
		}
		out = append(out, rl)
	}
	return out
}

// shopifyFailure turns an error of the API into a Result: Shopify busy
// keeps the refund pending (it is sent again with the same key); anything
// else fails it, retryable, with the cause.
func shopifyFailure(err error) Result {
	var busy *shopify.BusyError
	if errors.As(err, &busy) {
		return Result{Status: StatusPending, Error: msgShopifyBusy}
	}
	return failed(true, "Shopify could not be reached; try again. ("+shortCause(err)+")")
}
