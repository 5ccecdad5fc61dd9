package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/i18n"
)

// cancelPage is the view of the cancel dialog (a page of its own without
// JavaScript) and of its preview fragment.
type cancelPage struct {
	Page
	Order     *canceldesk.Order
	Form      cancelForm
	Plan      canceldesk.CancelPlan
	Reasons   []canceldesk.ReasonOption
	Locations []canceldesk.Location
	Errors    map[string]string
	Error     string // about the cancel as a whole, e.g. cancelled meanwhile
	// Refused is Shopify's refusal of the cancel, with its messages.
	Refused string
	// ViaShopify: the cancel goes to Shopify, which emails the customer
	// when ShopifyNotifies (Settings) instead of Cancel Desk.
	ViaShopify, ShopifyNotifies bool
	// LocationName is where restocked units go, for the preview.
	LocationName string
	Gateway      string // where the refund goes: "manual", "stripe"
	// RequestID is the customer request this cancel approves, if any.
	RequestID int64
	// RefundNote, beside the refund choice, says that refunding now would
	// take this account over its staff refund limit; "" when it would not.
	RefundNote string
}

// Action is where the dialog posts: the order's cancel, or the approval of
// the customer's request.
func (p cancelPage) Action() string {
	if p.RequestID != 0 {
		return "/requests/" + strconv.FormatInt(p.RequestID, 10) + "/approve"
	}
	return "/orders/" + strconv.FormatInt(p.Order.ID, 10) + "/cancel"
}

// OfferKinds are the offers the dialog can attach to the message.
func (cancelPage) OfferKinds() []string {
	return []string{canceldesk.OfferNone, canceldesk.OfferDiscount, canceldesk.OfferProduct}
}

// cancelForm holds the dialog's choices as submitted.
type cancelForm struct {
	Reason     string // a ReasonOption key
	Refund     string
	Restock    bool
	LocationID int64
	Note       string
	Notify     bool
	OfferKind  string // "", "discount", "product"
	OfferText  string
	Key        string // idempotency key of this rendering of the dialog
}

// defaultCancelForm is what a fresh dialog proposes: the first of the
// store's reasons, refund now, restock (as the settings say) to the default
// location, tell the customer (unless the reason says otherwise).
func defaultCancelForm(settings canceldesk.Settings, locs []canceldesk.Location, reasons []canceldesk.ReasonOption) cancelForm {
	f := cancelForm{Refund: string(canceldesk.RefundNow), Restock: settings.RestockOnCancel,
		LocationID: defaultLocation(settings, locs), Notify: true, Key: randomToken()}
	if len(reasons) > 0 {
		f.Reason, f.Notify = reasons[0].Key, canceldesk.DefaultNotify(reasons[0].Code)
	}
	return f
}

// readCancelForm reads the choices from a query string or a posted form.
func readCancelForm(c *fiber.Ctx, get func(string) string) cancelForm {
	loc, _ := strconv.ParseInt(get("location"), 10, 64)
	return cancelForm{Reason: get("reason"), Refund: get("refund"), Restock: get("restock") != "",
		LocationID: loc, Note: get("note"), Notify: get("notify") != "", OfferKind: get("offer"),
		OfferText: get("offer_text"), Key: get("key")}
}

// request turns the form into the domain's cancel request by acct; the
// reason is one of reasons (the store's active ones), its label in l's
// language. A reason not among them leaves no code, which Validate refuses.
func (f cancelForm) request(reasons []canceldesk.ReasonOption, orderID int64, acct *canceldesk.Account, gateway string, l *i18n.Localizer) canceldesk.CancelRequest {
	r, _ := canceldesk.FindReason(reasons, f.Reason)
	return canceldesk.CancelRequest{OrderID: orderID, Reason: r.Code, ReasonLabel: r.Label(l.Lang()), ReasonKey: r.Key,
		Refund: canceldesk.RefundChoice(f.Refund), Restock: f.Restock, LocationID: f.LocationID,
		StaffNote: f.Note, NotifyCustomer: f.Notify, Offer: canceldesk.Offer{Kind: f.OfferKind, Text: f.OfferText},
		Gateway: gateway, IdempotencyKey: f.Key, Actor: acct.Email, ActorRole: acct.Role}
}

// cancelView loads what the dialog shows for the order in the URL; a
// ?request= (or posted request) approves that customer request with it.
func (s *Server) cancelView(c *fiber.Ctx, form *cancelForm) (cancelPage, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return cancelPage{}, fiber.ErrNotFound
	}
	p, err := s.cancelViewOf(c, id, form)
	if err != nil {
		return p, err
	}
	if rid, _ := strconv.ParseInt(c.Query("request"), 10, 64); rid > 0 && s.Requests != nil {
		r, err := s.Requests.Request(c.UserContext(), rid)
		if err != nil {
			return p, err
		}
		if r.OrderID != id {
			return p, fiber.ErrNotFound
		}
		p.RequestID = r.ID
	}
	return p, nil
}

// cancelViewOf loads what the dialog shows for order id.
func (s *Server) cancelViewOf(c *fiber.Ctx, id int64, form *cancelForm) (cancelPage, error) {
	ctx := c.UserContext()
	o, err := s.Store.Order(ctx, id)
	if err != nil {
		return cancelPage{}, err
	}
	locs, settings, err := s.orderStock(ctx, o)
	if err != nil {
		return cancelPage{}, err
	}
	reasons, err := s.Reasons.Reasons(ctx, false)
	if err != nil {
		return cancelPage{}, err
	}
	l := localizer(c)
	p := cancelPage{Page: s.page(c, l.T("cancel.title", "Name", o.Name), "orders"), Order: o,
		Reasons: reasons, Locations: locs}
	if form == nil {
		f := defaultCancelForm(settings, locs, reasons)
		form = &f
	}
	p.Form = *form
	for _, loc := range locs {
		if loc.ID == form.LocationID {
			p.LocationName = loc.Name
		}
	}
	p.Gateway = s.gatewayFor(o)
	s.shopifyPreview(&p, settings)
	req := form.request(reasons, o.ID, currentAccount(c), p.Gateway, l)
	p.Plan = canceldesk.PlanCancel(o, req)
	over, limit, err := s.overStaffLimit(ctx, o, req, settings)
	if over {
		p.RefundNote = needsManagerNote(l, limit, o.Currency)
	}
	return p, err
}

// overStaffLimit reports whether refunding o now as req's actor would pass
// the actor's staff refund limit (canceldesk.CheckStaffRefund, counting what
// the actor refunded on o before), and the limit in o's currency. The store
// decides under the order's lock; this is what the dialog says beforehand.
func (s *Server) overStaffLimit(ctx context.Context, o *canceldesk.Order, req canceldesk.CancelRequest,
	settings canceldesk.Settings) (bool, int64, error) {
	req.Refund = canceldesk.RefundNow
	plan := canceldesk.PlanCancel(o, req)
	if !plan.OK() || plan.RefundKind != canceldesk.RefundKindRefund {
		return false, 0, nil
	}
	limit := settings.StaffRefundLimit[o.Currency]
	if !canceldesk.StaffLimitApplies(req.ActorRole, limit, plan.RefundTotal) {
		return false, limit, nil // what the actor refunded before cannot matter
	}
	refunds, err := s.Refunds.Refunds(ctx, o.ID)
	if err != nil {
		return false, 0, err
	}
	err = canceldesk.CheckStaffRefund(req.ActorRole, limit, canceldesk.RefundedBy(refunds, req.Actor), plan.RefundTotal)
	return err != nil, limit, nil
}

// needsManagerNote is what staff read when a refund would pass their limit.
func needsManagerNote(l *i18n.Localizer, limit int64, currency string) string {
	return l.T("cancel.needs_manager", "Limit", l.Money(limit, currency))
}

// isStaffLimit reports whether err is the store refusing a refund over
// the staff limit.
func isStaffLimit(err error) bool {
	var de *canceldesk.Error
	return errors.As(err, &de) && de.Code == canceldesk.EFORBIDDEN && de.Key == "refund.needs_manager"
}

// cancelForm shows the cancel dialog: as a fragment for htmx (opened as a
// modal), else as a page. Query values (the no-JavaScript "update
// preview" button) prefill it.
func (s *Server) cancelDialog(c *fiber.Ctx) error {
	var form *cancelForm
	if c.Query("key") != "" {
		f := readCancelForm(c, func(k string) string { return c.Query(k) })
		form = &f
	}
	p, err := s.cancelView(c, form)
	if err != nil {
		return err
	}
	if form != nil && c.Query("reason_changed") != "" {
		// A new reason proposes its own default: no message for fraud.
		if r, ok := canceldesk.FindReason(p.Reasons, form.Reason); ok {
			form.Notify = canceldesk.DefaultNotify(r.Code)
			if p, err = s.cancelView(c, form); err != nil {
				return err
			}
		}
	}
	return s.render(c, fiber.StatusOK, "orders/cancel", "orders/_cancel", p)
}

// cancelPreview answers the preview fragment for the choices so far.
func (s *Server) cancelPreview(c *fiber.Ctx) error {
	f := readCancelForm(c, func(k string) string { return c.Query(k) })
	p, err := s.cancelView(c, &f)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "orders/_cancel_preview", "orders/_cancel_preview", p)
}

// cancelOrder cancels the order in one transaction. Bad choices come back
// beside their fields (400); an order cancelled meanwhile, or one that
// cannot be cancelled, comes back with the reason (409); nothing changes
// in either case. A second submission of the same dialog changes nothing
// and lands on the same result.
func (s *Server) cancelOrder(c *fiber.Ctx) error {
	f := readCancelForm(c, func(k string) string { return c.FormValue(k) })
	p, err := s.cancelView(c, &f)
	if err != nil {
		return err
	}
	l := localizer(c)
	req := f.request(p.Reasons, p.Order.ID, currentAccount(c), p.Gateway, l)
	if err := req.Validate(); err != nil {
		de, ok := err.(*canceldesk.Error)
		if !ok {
			return err
		}
		p.Errors = s.cancelFieldErrors(c, de, f.Reason)
		return s.render(c, fiber.StatusBadRequest, "orders/cancel", "orders/_cancel", p)
	}
	return s.cancelNow(c, p, req, s.Store.CancelOrder)
}

// cancelled answers a cancel from the dialog: the order page after it,
// or the dialog again with why not (409 for a conflict, such as cancelled
// meanwhile; 403 beside the refund choice for a refund over the staff
// limit; 400 beside a field, such as a location deleted while the dialog
// was open). Nothing changed in any of these cases.
func (s *Server) cancelled(c *fiber.Ctx, p cancelPage, res *canceldesk.CancelResult, err error) error {
	l := localizer(c)
	var de *canceldesk.Error
	switch {
	case err == nil:
	case isStaffLimit(err):
		settings, serr := s.Refunds.Settings(c.UserContext())
		if serr != nil {
			return serr
		}
		p.Errors = map[string]string{"refund": needsManagerNote(l, settings.StaffRefundLimit[p.Order.Currency], p.Order.Currency)}
		return s.render(c, fiber.StatusForbidden, "orders/cancel", "orders/_cancel", p)
	case errors.As(err, &de) && de.Code == canceldesk.ECONFLICT:
		p.Error = l.T(de.Key)
		return s.render(c, fiber.StatusConflict, "orders/cancel", "orders/_cancel", p)
	case errors.As(err, &de) && de.Field != "" && de.Key != "":
		p.Errors = map[string]string{de.Field: l.T(de.Key)}
		return s.render(c, fiber.StatusBadRequest, "orders/cancel", "orders/_cancel", p)
	default:
		return err
	}
	return redirect(c, "/orders/"+strconv.FormatInt(res.OrderID, 10)+"?cancelled=1")
}

// recreateOrder makes a new open order from a cancelled one (staff cancelled
// the wrong order), taking stock again; both timelines link to each other.
// An order is re-created once: asking again leads to the order made then.
func (s *Server) recreateOrder(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	if o, err := s.Store.Order(c.UserContext(), id); err != nil {
		return err
	} else if o.ShopifyOrder() {
		// A copy made here would be an order the shop never had.
		return errShopifyRecreate
	}
	o, err := s.Store.RecreateOrder(c.UserContext(), id, currentAccount(c).Email)
	if err != nil {
		return err
	}
	return redirect(c, "/orders/"+strconv.FormatInt(o.ID, 10)+"?recreated=1")
}

// cancelFieldErrors is the message beside the field Validate refused; a
// reason retired since the dialog was drawn says so.
func (s *Server) cancelFieldErrors(c *fiber.Ctx, de *canceldesk.Error, reasonKey string) map[string]string {
	key := de.Key
	if de.Field == "reason" && reasonKey != "" {
		all, err := s.Reasons.Reasons(c.UserContext(), true)
		if r, ok := canceldesk.FindReason(all, reasonKey); err == nil && ok && r.Retired {
			key = "validation.reason_retired"
		}
	}
	return map[string]string{de.Field: localizer(c).T(key)}
}

// reasonLabels are the labels of all the store's reasons, retired ones
// included, by key in the reader's language.
func (s *Server) reasonLabels(c *fiber.Ctx) (map[string]string, error) {
	all, err := s.Reasons.Reasons(c.UserContext(), true)
	labels := make(map[string]string, len(all))
	for _, r := range all {
		labels[r.Key] = r.Label(localizer(c).Lang())
	}
	return labels, err
}
