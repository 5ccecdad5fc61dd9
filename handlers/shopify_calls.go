package handlers

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
)

// shopifySendWait is how long a page waits for Shopify's first answer to a
// cancel or a restock; a call not answered by then stays queued and the
// worker sends it.
const shopifySendWait = 8 * time.Second

// errShopifyRecreate refuses to re-create a Shopify order here.
var errShopifyRecreate = &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "shopify.no_recreate",
	Message: "A Shopify order is re-created in Shopify, not here."}

// viaShopify reports whether o is cancelled and restocked through Shopify:
// the connection is live and the order is the shop's. Nothing local claims
// such an order cancelled before Shopify has done it.
func (s *Server) viaShopify(o *canceldesk.Order) bool {
	return s.Shopify != nil && s.ShopifyStore != nil && o.ShopifyOrder()
}

// shopifyPreview marks the preview of a cancel of a Shopify order: Shopify
// cancels, refunds and restocks it, and emails the customer when the
// settings leave that to it.
func (s *Server) shopifyPreview(p *cancelPage, settings canceldesk.Settings) {
	if p.ViaShopify = s.viaShopify(p.Order); p.ViaShopify {
		p.Gateway, p.ShopifyNotifies = canceldesk.GatewayShopify, settings.ShopifyNotifies
	}
}

// sendToShopify records a call (queue: the outbox row, written before
// anything is sent), sends it if the deadline allows, and reads it back:
// failed when Shopify refused, running or done when it accepted, queued
// when it was busy (Attempts > 0) or not asked yet. A second submission of
// the same form finds the same call (its idempotency key) and sends nothing
// twice.
func (s *Server) sendToShopify(ctx context.Context, deadline time.Time,
	queue func(context.Context) (*canceldesk.ShopifyCall, error)) (*canceldesk.ShopifyCall, error) {
	call, err := queue(ctx)
	if err != nil {
		return nil, err
	}
	if call.State != canceldesk.CallQueued || !time.Now().Before(deadline) {
		return call, nil
	}
	sendCtx, cancel := context.WithDeadline(ctx, deadline)
	err = s.Shopify.Send(sendCtx, call.ID)
	cancel()
	if err != nil {
		// The call is in the outbox: the worker sends it again.
		s.Logger.Warn("sending a call to Shopify", "call", call.ID, "err", err)
	}
	return s.ShopifyStore.ShopifyCall(ctx, call.ID)
}

// shopifyCancel sends req as a cancel to Shopify, which emails the
// customer only when the settings leave that to it.
func (s *Server) shopifyCancel(ctx context.Context, req canceldesk.CancelRequest, deadline time.Time) (*canceldesk.ShopifyCall, error) {
	return s.sendToShopify(ctx, deadline, func(ctx context.Context) (*canceldesk.ShopifyCall, error) {
		settings, err := s.Refunds.Settings(ctx)
		if err != nil {
			return nil, err
		}
		return s.ShopifyStore.QueueShopifyCancel(ctx, req, settings.ShopifyNotifies)
	})
}

// cancelNow cancels the dialog's order as req says and answers the dialog:
// through Shopify for a Shopify order, else with local (CancelOrder, or the
// approval of a customer request). Shopify's refusal comes back in the
// dialog (422), with its messages at the top; bad choices come back as a
// local cancel's do (cancelled).
func (s *Server) cancelNow(c *fiber.Ctx, p cancelPage, req canceldesk.CancelRequest,
	local func(context.Context, canceldesk.CancelRequest) (*canceldesk.CancelResult, error)) error {
	if !s.viaShopify(p.Order) {
		res, err := local(c.UserContext(), req)
		return s.cancelled(c, p, res, err)
	}
	call, err := s.shopifyCancel(c.UserContext(), req, time.Now().Add(shopifySendWait))
	if err != nil {
		return s.cancelled(c, p, nil, err)
	}
	if call.State == canceldesk.CallFailed {
		p.Refused = refusal(localizer(c), call)
		// Sent again, the dialog is a new call: Shopify may take it once
		// the merchant has dealt with what it refused.
		p.Form.Key = randomToken()
		keepURL(c)
		return s.render(c, fiber.StatusUnprocessableEntity, "orders/cancel", "orders/_cancel", p)
	}
	return afterCall(c, call)
}

// refusal is what staff read when Shopify refused call.
func refusal(l *i18n.Localizer, call *canceldesk.ShopifyCall) string {
	return l.T("shopify.refused."+call.Kind, "Message", call.Error)
}

// afterCall leads to the order page after a call Shopify did not refuse:
// a done call shows the toast of a local cancel or restock; an open one
// shows the page's "in Shopify" banner until it ends.
func afterCall(c *fiber.Ctx, call *canceldesk.ShopifyCall) error {
	target := "/orders/" + strconv.FormatInt(call.OrderID, 10)
	if call.State == canceldesk.CallDone {
		target += doneQuery(call)
	}
	return redirect(c, target)
}

// doneQuery is the order page's query that toasts a done call.
func doneQuery(call *canceldesk.ShopifyCall) string {
	if call.Kind == canceldesk.ShopifyCallRestock {
		return "?restocked=1"
	}
	return "?cancelled=1"
}

// callOutcome says, in a bulk cancel's results, where a call Shopify did
// not refuse stands.
func callOutcome(l *i18n.Localizer, call *canceldesk.ShopifyCall) string {
	return l.T("shopify.call." + callStage(call))
}

// callStage names where a call stands for the catalogue: done, running,
// busy (queued after Shopify was busy), sending (queued, not sent yet) or
// failed.
func callStage(call *canceldesk.ShopifyCall) string {
	switch {
	case call.State == canceldesk.CallQueued && call.Attempts > 0:
		return "busy"
	case call.State == canceldesk.CallQueued:
		return "sending"
	}
	return call.State
}

// callPage is the banner of an order's open call, alone (the order page's
// polling).
type callPage struct {
	Page
	ShopifyCall *canceldesk.ShopifyCall
}

// Stage is where the banner's call stands (callStage).
func (p callPage) Stage() string { return callStage(p.ShopifyCall) }

// shopifyCallStatus answers the order page's poll of a call: the banner
// again while the call is open, else the order page (a done cancel shows
// cancelled, a refusal is on the timeline).
func (s *Server) shopifyCallStatus(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || s.ShopifyStore == nil {
		return fiber.ErrNotFound
	}
	callID, _ := strconv.ParseInt(c.Query("call"), 10, 64)
	call, err := s.ShopifyStore.ShopifyCall(c.UserContext(), callID)
	if err != nil {
		return err
	}
	if call.OrderID != id {
		return fiber.ErrNotFound
	}
	target := "/orders/" + strconv.FormatInt(id, 10)
	switch call.State {
	case canceldesk.CallQueued, canceldesk.CallRunning:
		if !isFragment(c) {
			return redirect(c, target)
		}
		return s.render(c, fiber.StatusOK, "", "orders/_shopify_call", callPage{Page: s.page(c, "", "orders"), ShopifyCall: call})
	case canceldesk.CallDone:
		target += doneQuery(call)
	default:
		target += "?refused=1"
	}
	return redirect(c, target)
}

// Stage is where the order's open call stands (callStage), "" when none.
func (p orderPage) Stage() string {
	if p.ShopifyCall == nil {
		return ""
	}
	return callStage(p.ShopifyCall)
}

// shopifyOrder fills what the order page says of a Shopify order: the
// link to it in the Shopify admin and the call open for it, if any.
func (s *Server) shopifyOrder(ctx context.Context, p *orderPage) error {
	if !s.viaShopify(p.Order) {
		return nil
	}
	p.ShopifyURL = s.Shopify.AdminOrderURL(p.Order.ExternalID)
	call, err := s.ShopifyStore.OpenShopifyCall(ctx, p.Order.ID)
	if canceldesk.ErrorCode(err) == canceldesk.ENOTFOUND {
		return nil
	}
	p.ShopifyCall = call
	return err
}
