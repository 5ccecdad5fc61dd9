package handlers

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
)

// maxBulk bounds how many orders one bulk cancel takes.
const maxBulk = 100

// bulkPage is the view of the bulk cancel: the choices once for all the
// selected orders, then a result per order.
type bulkPage struct {
	Page
	Orders    []*canceldesk.Order
	Form      cancelForm
	Reasons   []canceldesk.ReasonOption
	Locations []canceldesk.Location
	Errors    map[string]string
	Results   []bulkResult
	// RefundNote, beside the refund choice, says how many of the orders
	// refunding now would take over this account's staff refund limit.
	RefundNote string
	// Previews say, per order, what the cancel will do with the choices
	// so far (the single cancel dialog's preview of each).
	Previews []cancelPage
	settings canceldesk.Settings
}

// OfferKinds are the offers the form can attach to the messages.
func (bulkPage) OfferKinds() []string { return cancelPage{}.OfferKinds() }

// bulkResult says what happened to one order of a bulk cancel.
type bulkResult struct {
	Order   *canceldesk.Order
	Refund  *canceldesk.Refund
	Outcome string // what the cancel did about the money (bulkOutcome)
	Skipped string // why the order was left as it was; "" when cancelled
	// NeedsManager: left as it was because its refund is over the staff
	// refund limit.
	NeedsManager bool
	// InShopify: sent to Shopify, which has not cancelled it yet.
	InShopify bool
}

// Cancelled counts the orders the bulk cancel cancelled.
func (p bulkPage) Cancelled() int {
	n := 0
	for _, r := range p.Results {
		if r.Skipped == "" && !r.InShopify {
			n++
		}
	}
	return n
}

// bulkView loads the selected orders (ids from the query or the form).
func (s *Server) bulkView(c *fiber.Ctx, ids []string) (bulkPage, error) {
	l := localizer(c)
	if len(ids) == 0 {
		return bulkPage{}, &canceldesk.Error{Code: canceldesk.EINVALID, Key: "bulk.none_selected", Message: "Select the orders to cancel."}
	}
	if len(ids) > maxBulk {
		return bulkPage{}, &canceldesk.Error{Code: canceldesk.EINVALID, Key: "bulk.too_many", Message: "Cancel at most 100 orders at once."}
	}
	ctx := c.UserContext()
	p := bulkPage{Page: s.page(c, l.T("bulk.title"), "orders"), Reasons: canceldesk.DefaultReasons}
	seen := map[int64]bool{}
	for _, raw := range ids {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || seen[id] {
			continue
		}
		seen[id] = true
		o, err := s.Store.Order(ctx, id)
		if canceldesk.ErrorCode(err) == canceldesk.ENOTFOUND {
			continue
		} else if err != nil {
			return p, err
		}
		p.Orders = append(p.Orders, o)
	}
	var err error
	if p.Locations, err = s.Store.Locations(ctx); err != nil {
		return p, err
	}
	if p.settings, err = s.Refunds.Settings(ctx); err != nil {
		return p, err
	}
	p.Form = defaultCancelForm(p.settings, p.Locations)
	return p, nil
}

// planBulk previews the cancel of each order with the form's choices, as
// the cancel dialog does (canceldesk.PlanCancel, the staff refund limit),
// and counts the orders whose refund now would take the signed-in account
// over its staff refund limit, for the note beside the refund choice.
func (s *Server) planBulk(c *fiber.Ctx, p *bulkPage) error {
	acct, l, n := currentAccount(c), localizer(c), 0
	var locName string
	for _, loc := range p.Locations {
		if loc.ID == p.Form.LocationID {
			locName = loc.Name
		}
	}
	for _, o := range p.Orders {
		cp := cancelPage{Page: p.Page, Order: o, Form: p.Form, Gateway: s.gatewayFor(o), LocationName: locName}
		s.shopifyPreview(&cp, p.settings)
		req := p.Form.request(o.ID, acct, cp.Gateway, l)
		cp.Plan = canceldesk.PlanCancel(o, req)
		over, limit, err := s.overStaffLimit(c.UserContext(), o, req, p.settings)
		if err != nil {
			return err
		}
		if over {
			n++
			cp.RefundNote = needsManagerNote(l, limit, o.Currency)
		}
		p.Previews = append(p.Previews, cp)
	}
	if n > 0 {
		p.RefundNote = l.N("bulk.needs_manager_note", n)
	}
	return nil
}

// bulkChoices reads the choices of the form from the query string when it
// carries them (the live preview, the no-JavaScript "update preview").
func bulkChoices(c *fiber.Ctx, p *bulkPage) {
	if c.Query("key") != "" {
		p.Form = readCancelForm(c, func(k string) string { return c.Query(k) })
	}
}

// bulkForm shows the choices for the orders selected in the list, with
// what the cancel will do to each.
func (s *Server) bulkForm(c *fiber.Ctx) error { return s.bulkPlanned(c, "orders/bulk", "") }

// bulkPreview answers the per-order preview fragment for the choices so
// far.
func (s *Server) bulkPreview(c *fiber.Ctx) error {
	return s.bulkPlanned(c, "orders/_bulk_preview", "orders/_bulk_preview")
}

// bulkPlanned renders the selected orders (ids and choices from the query)
// with their previews.
func (s *Server) bulkPlanned(c *fiber.Ctx, page, fragment string) error {
	p, err := s.bulkView(c, queryAll(c, "ids"))
	if err != nil {
		return err
	}
	bulkChoices(c, &p)
	if err := s.planBulk(c, &p); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, page, fragment, p)
}

// bulkCancel cancels each selected order with the same choices, each in
// its own transaction and with its own idempotency key derived from the
// form's, so submitting the form twice cancels and refunds nothing twice.
// Orders that cannot be cancelled are skipped with the reason; so are orders
// whose refund is over the staff refund limit (the store refuses each one
// in its own transaction, counting what this account refunded on it).
func (s *Server) bulkCancel(c *fiber.Ctx) error {
	ids := formAll(c, "ids")
	p, err := s.bulkView(c, ids)
	if err != nil {
		return err
	}
	l := localizer(c)
	p.Form = readCancelForm(c, func(k string) string { return c.FormValue(k) })
	acct := currentAccount(c)
	// Shopify's first answers are awaited for the whole bulk at most this
	// long; calls not sent by then are sent by the worker.
	deadline := time.Now().Add(shopifySendWait)
	for _, o := range p.Orders {
		req := p.Form.request(o.ID, acct, s.gatewayFor(o), l)
		req.IdempotencyKey = p.Form.Key + ":" + strconv.FormatInt(o.ID, 10)
		req.Source = canceldesk.SourceBulk
		if err := req.Validate(); err != nil {
			de, ok := err.(*canceldesk.Error)
			if !ok {
				return err
			}
			p.Errors = map[string]string{de.Field: l.T(de.Key)}
			return s.render(c, fiber.StatusBadRequest, "orders/bulk", "", p)
		}
		var res *canceldesk.CancelResult
		var call *canceldesk.ShopifyCall
		if s.viaShopify(o) {
			call, err = s.shopifyCancel(c.UserContext(), req, deadline)
		} else {
			res, err = s.Store.CancelOrder(c.UserContext(), req)
		}
		switch de, ok := err.(*canceldesk.Error); {
		case err == nil && call != nil && call.State == canceldesk.CallFailed:
			p.Results = append(p.Results, bulkResult{Order: o, Skipped: refusal(l, call)})
		case err == nil && call != nil:
			p.Results = append(p.Results, bulkResult{Order: o, Outcome: callOutcome(l, call),
				InShopify: call.State != canceldesk.CallDone})
		case err == nil:
			rf, err := s.settledRefund(c, res.Refund)
			if err != nil {
				return err
			}
			p.Results = append(p.Results, bulkResult{Order: o, Refund: rf, Outcome: bulkOutcome(l, o, req.Refund, rf)})
		case isStaffLimit(err):
			p.Results = append(p.Results, bulkResult{Order: o, NeedsManager: true,
				Skipped: needsManagerNote(l, p.settings.StaffRefundLimit[o.Currency], o.Currency)})
		case ok && (de.Code == canceldesk.ECONFLICT || de.Code == canceldesk.EINVALID) && de.Key != "":
			p.Results = append(p.Results, bulkResult{Order: o, Skipped: l.T(de.Key)})
		default:
			return err
		}
	}
	return s.render(c, fiber.StatusOK, "orders/bulk", "", p)
}

// settledRefund reads rf again after the after-commit kick asked its gateway, so the
// result shows the gateway's answer; nil stays nil.
func (s *Server) settledRefund(c *fiber.Ctx, rf *canceldesk.Refund) (*canceldesk.Refund, error) {
	if rf == nil || rf.Status != canceldesk.RefundPending {
		return rf, nil
	}
	rs, err := s.Refunds.Refunds(c.UserContext(), rf.OrderID)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if rs[i].ID == rf.ID {
			return &rs[i], nil
		}
	}
	return rf, nil
}

// bulkOutcome says what cancelling o (as it was before) did about its
// money: "voided" for an authorization voided, "refunded US$x" only for a
// refund the gateway confirmed (a pending or failed one says so), "refund
// owed US$x" when the refund was left for later, "" when nothing was paid.
func bulkOutcome(l *i18n.Localizer, o *canceldesk.Order, choice canceldesk.RefundChoice, rf *canceldesk.Refund) string {
	switch {
	case rf != nil && rf.Kind == canceldesk.RefundKindVoid:
		return l.T("bulk.voided")
	case rf != nil && rf.Status == canceldesk.RefundSucceeded:
		return l.T("bulk.refunded", "Amount", l.Money(rf.Amount, rf.Currency))
	case rf != nil && rf.Status == canceldesk.RefundFailed:
		return l.T("bulk.refund_failed", "Amount", l.Money(rf.Amount, rf.Currency))
	case rf != nil:
		return l.T("bulk.refund_pending", "Amount", l.Money(rf.Amount, rf.Currency))
	case choice == canceldesk.RefundLater && canceldesk.HasRefundableBalance(o):
		return l.T("bulk.refund_owed", "Amount", l.Money(canceldesk.RefundableAmount(o), o.Currency))
	}
	return ""
}

// queryAll returns every value of a repeated query parameter.
func queryAll(c *fiber.Ctx, key string) []string {
	var out []string
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if string(k) == key {
			out = append(out, string(v))
		}
	})
	return out
}

// formAll returns every value of a repeated form field.
func formAll(c *fiber.Ctx, key string) []string {
	var out []string
	c.Context().PostArgs().VisitAll(func(k, v []byte) {
		if string(k) == key {
			out = append(out, string(v))
		}
	})
	return out
}
