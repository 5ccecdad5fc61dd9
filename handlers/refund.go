package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// refundPage is the view of the refund dialog (a page of its own without
// JavaScript), its totals fragment, and the return variant of both.
type refundPage struct {
	Page
	Order     *canceldesk.Order
	Lines     []refundLineView
	Form      refundForm
	Plan      canceldesk.RefundPlan
	Locations []canceldesk.Location
	Gateway   string // where "original payment" refunds go: "manual", "stripe"
	// CreditUntil is when the store credit asked for expires (nil: never,
	// or not a store credit), for the summary.
	CreditUntil *time.Time
	Errors      map[string]string
	Error       string // about the refund as a whole
	// Return shows only shipped lines and proposes returning them.
	Return bool
	// OOB is set for the live totals fragment: it then also refreshes the
	// messages beside the fields, which live outside it.
	OOB bool
}

// ErrorFields are the dialog's fields that can carry a message: each
// line's quantity and restock, then the rest.
func (p refundPage) ErrorFields() []string {
	var out []string
	for _, l := range p.Lines {
		if l.Refundable > 0 { // a line refunded in full has no fields
			out = append(out, l.QtyField, l.RestockField)
		}
	}
	out = append(out, "lines", "location", "adjustment", "method", "credit_expires", "note")
	if !p.Return {
		out = append(out, "shipping")
	}
	return out
}

// refundLineView is one line of the dialog with its limits and choices.
type refundLineView struct {
	canceldesk.RefundableLine
	Qty          int
	Restock      canceldesk.RestockType
	Options      []canceldesk.RestockType // restock types with room left on this line
	QtyField     string                   // form field names, also used for errors
	RestockField string
}

// refundForm holds the dialog's choices as submitted, as typed.
type refundForm struct {
	Qty          map[int64]string
	Restock      map[int64]string
	LocationID   int64
	ShippingMode string // "full", "amount" or "none"
	Shipping     string
	Adjustment   string
	Method       string
	CreditExpiry string // YYYY-MM-DD in the store's time zone
	Note         string
	Notify       bool
	Key          string
}

// readRefundForm reads the choices from a query string or a posted form.
func readRefundForm(o *canceldesk.Order, get func(string) string) refundForm {
	f := refundForm{Qty: map[int64]string{}, Restock: map[int64]string{}, ShippingMode: get("shipping_mode"),
		Shipping: get("shipping"), Adjustment: get("adjustment"), Method: get("method"),
		CreditExpiry: get("credit_expires"), Note: get("note"), Notify: get("notify") != "", Key: get("key")}
	f.LocationID, _ = strconv.ParseInt(get("location"), 10, 64)
	for _, li := range o.LineItems {
		f.Qty[li.ID] = get(fmt.Sprintf("qty_%d", li.ID))
		f.Restock[li.ID] = get(fmt.Sprintf("restock_%d", li.ID))
	}
	return f
}

// refundProposal is what the dialog proposes to refund.
type refundProposal int

const (
	proposeNothing refundProposal = iota
	// proposeReturn: every returnable unit, back to stock.
	proposeReturn
	// proposeOwed: what a cancel refunding later left owed: the cancelled
	// units not refunded yet (already dealt with for stock), and the
	// shipping when nothing shipped, as the cancel would have refunded.
	proposeOwed
)

// defaultRefundForm proposes, by what, nothing refunded yet, every
// returnable unit back to stock, or what a refund-later cancel owes;
// money back to the original payment, restock to the default location.
func defaultRefundForm(o *canceldesk.Order, settings canceldesk.Settings, locs []canceldesk.Location, what refundProposal) refundForm {
	f := refundForm{Qty: map[int64]string{}, Restock: map[int64]string{}, ShippingMode: "none",
		Method: string(canceldesk.MethodOriginal), Notify: o.Email != "", Key: randomToken(),
		LocationID: defaultLocation(settings, locs)}
	shipped := false
	for _, rl := range canceldesk.Refundable(o) {
		shipped = shipped || rl.FulfilledQuantity > 0
		switch {
		case what == proposeReturn && rl.Returnable > 0:
			f.Qty[rl.ID] = strconv.Itoa(rl.Returnable)
			f.Restock[rl.ID] = string(canceldesk.RestockReturn)
		case what == proposeOwed:
			if n := min(rl.Refundable, rl.CancelledQuantity-rl.UnshippedRefunded()); n > 0 {
				f.Qty[rl.ID] = strconv.Itoa(n)
				f.Restock[rl.ID] = string(canceldesk.RestockNone)
			}
		}
	}
	if what == proposeOwed && !shipped && o.Shipping > o.ShippingRefunded {
		f.ShippingMode = "full"
	}
	return f
}

// orderStock loads the locations and settings of a dialog about o's
// stock: o's own location, when it has one that still exists, comes first
// and is the settings' default for the dialog (see defaultLocation).
func (s *Server) orderStock(ctx context.Context, o *canceldesk.Order) ([]canceldesk.Location, canceldesk.Settings, error) {
	locs, err := s.Store.Locations(ctx)
	if err != nil {
		return nil, canceldesk.Settings{}, err
	}
	settings, err := s.Refunds.Settings(ctx)
	if err != nil {
		return nil, canceldesk.Settings{}, err
	}
	i := slices.IndexFunc(locs, func(l canceldesk.Location) bool { return l.ID == o.LocationID })
	if o.LocationID == 0 || i < 0 {
		return locs, settings, nil
	}
	own := locs[i]
	locs = append([]canceldesk.Location{own}, slices.Delete(locs, i, i+1)...)
	settings.DefaultLocationID = own.ID
	return locs, settings, nil
}

// defaultLocation is the settings' default location when it still exists,
// else the first one.
func defaultLocation(settings canceldesk.Settings, locs []canceldesk.Location) int64 {
	for _, l := range locs {
		if l.ID == settings.DefaultLocationID {
			return l.ID
		}
	}
	if len(locs) > 0 {
		return locs[0].ID
	}
	return 0
}

// request turns the form into the domain's refund request; amounts that
// do not parse come back as field errors.
func (f refundForm) request(o *canceldesk.Order, acct *canceldesk.Account, gateway string, loc *time.Location, now time.Time) (canceldesk.RefundRequest, map[string]string) {
	errs := map[string]string{}
	req := canceldesk.RefundRequest{OrderID: o.ID, Method: canceldesk.RefundMethod(f.Method), Gateway: gateway,
		FullShipping: f.ShippingMode == "full", Note: f.Note, NotifyCustomer: f.Notify, IdempotencyKey: f.Key,
		Actor: acct.Email, ActorRole: acct.Role}
	for _, li := range o.LineItems {
		raw := strings.TrimSpace(f.Qty[li.ID])
		if raw == "" || raw == "0" {
			continue
		}
		q, err := strconv.Atoi(raw)
		if err != nil || q < 0 {
			errs[fmt.Sprintf("qty_%d", li.ID)] = "validation.quantity"
			continue
		}
		rt := canceldesk.RestockType(f.Restock[li.ID])
		if rt == "" {
			rt = canceldesk.RestockNone
		}
		req.Lines = append(req.Lines, canceldesk.RefundLineRequest{LineItemID: li.ID, Quantity: q, Restock: rt, LocationID: f.LocationID})
	}
	if f.ShippingMode == "amount" {
		amt, err := canceldesk.ParseAmount(f.Shipping, o.Currency)
		if err != nil {
			errs["shipping"] = "validation.amount"
		}
		req.Shipping = amt
	}
	if strings.TrimSpace(f.Adjustment) != "" {
		amt, err := canceldesk.ParseAmount(f.Adjustment, o.Currency)
		if err != nil {
			errs["adjustment"] = "validation.amount"
		}
		req.Adjustment = amt
	}
	if req.Method == canceldesk.MethodStoreCredit && strings.TrimSpace(f.CreditExpiry) != "" {
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(f.CreditExpiry))
		end := canceldesk.StoreCreditExpiry(day, loc) // valid through the whole day
		switch {
		case err != nil:
			errs["credit_expires"] = "validation.date"
		case !end.After(now):
			errs["credit_expires"] = "validation.credit_expired" // a credit that could never be used
		default:
			req.CreditExpiresAt = &end
		}
	}
	return req, errs
}

// refundView loads what the dialog shows for the order in the URL.
func (s *Server) refundView(c *fiber.Ctx, form func(*canceldesk.Order) refundForm, ret bool, what refundProposal) (refundPage, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return refundPage{}, fiber.ErrNotFound
	}
	ctx := c.UserContext()
	o, err := s.Store.Order(ctx, id)
	if err != nil {
		return refundPage{}, err
	}
	locs, settings, err := s.orderStock(ctx, o)
	if err != nil {
		return refundPage{}, err
	}
	l := localizer(c)
	title := l.T("refund.title", "Name", o.Name)
	if ret {
		title = l.T("refund.return_title", "Name", o.Name)
	}
	p := refundPage{Page: s.page(c, title, "orders"), Order: o, Locations: locs, Return: ret,
		Gateway: s.gatewayFor(o), Errors: map[string]string{}}
	if form == nil {
		p.Form = defaultRefundForm(o, settings, locs, what)
	} else {
		p.Form = form(o)
	}
	for _, rl := range canceldesk.Refundable(o) {
		if ret && rl.Returnable == 0 {
			continue
		}
		v := refundLineView{RefundableLine: rl, Restock: canceldesk.RestockType(p.Form.Restock[rl.ID]),
			QtyField: fmt.Sprintf("qty_%d", rl.ID), RestockField: fmt.Sprintf("restock_%d", rl.ID)}
		v.Qty, _ = strconv.Atoi(p.Form.Qty[rl.ID])
		v.Options = rl.RestockOptions()
		p.Lines = append(p.Lines, v)
	}
	req, errs := p.Form.request(o, currentAccount(c), p.Gateway, s.Location, s.Now())
	p.CreditUntil = req.CreditExpiresAt
	for field, key := range errs {
		p.Errors[field] = l.T(key)
	}
	limit := settings.StaffRefundLimit[o.Currency]
	p.Plan, err = canceldesk.PlanRefund(o, req, limit)
	var de *canceldesk.Error
	if err != nil && errors.As(err, &de) {
		// The live totals show the problem; nothing is refunded until it is fixed.
		switch {
		case de.Field != "" && de.Field != "key" && (form != nil || de.Code != canceldesk.EINVALID):
			p.Errors[de.Field] = l.T(de.Key)
		case de.Code == canceldesk.ECONFLICT:
			p.Error = l.T(de.Key)
		}
	} else if err != nil {
		return p, err
	}
	return p, nil
}

// refundDialog shows the refund dialog: a fragment for htmx (a modal),
// else a page. ?return=1 shows the return variant; ?owed=1 (the links of
// the refund-later backlog) proposes what the cancel left owed.
func (s *Server) refundDialog(c *fiber.Ctx) error {
	ret, what := c.Query("return") != "", proposeNothing
	switch {
	case ret:
		what = proposeReturn
	case c.Query("owed") != "":
		what = proposeOwed
	}
	p, err := s.refundView(c, s.queryRefundForm(c), ret, what)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "orders/refund", "orders/_refund", p)
}

// queryRefundForm reads the form from the query string, when it carries
// one (the no-JavaScript "update totals" button), else nil (defaults).
func (s *Server) queryRefundForm(c *fiber.Ctx) func(*canceldesk.Order) refundForm {
	if c.Query("key") == "" {
		return nil
	}
	return func(o *canceldesk.Order) refundForm {
		return readRefundForm(o, func(k string) string { return c.Query(k) })
	}
}

// refundTotals answers the live totals fragment for the choices so far.
func (s *Server) refundTotals(c *fiber.Ctx) error {
	p, err := s.refundView(c, s.queryRefundForm(c), c.Query("return") != "", proposeNothing)
	if err != nil {
		return err
	}
	p.OOB = true
	return s.render(c, fiber.StatusOK, "orders/_refund_totals", "orders/_refund_totals", p)
}

// refundOrder refunds in one transaction, then asks the gateway. Bad
// choices come back beside their fields (400), over the staff limit with
// its reason (403), a refund that no longer fits with the reason (409);
// nothing changes in those cases. A second submission of the same dialog
// lands on the same result.
func (s *Server) refundOrder(c *fiber.Ctx) error {
	ret := c.FormValue("return") != ""
	p, err := s.refundView(c, func(o *canceldesk.Order) refundForm {
		return readRefundForm(o, func(k string) string { return c.FormValue(k) })
	}, ret, proposeNothing)
	if err != nil {
		return err
	}
	// The store plans again under its lock and replays a second
	// submission of this dialog, so only what does not parse stops here.
	l := localizer(c)
	req, errs := p.Form.request(p.Order, currentAccount(c), p.Gateway, s.Location, s.Now())
	if len(errs) > 0 {
		return s.render(c, fiber.StatusBadRequest, "orders/refund", "orders/_refund", p)
	}
	_, err = s.Refunds.RefundOrder(c.UserContext(), req)
	var de *canceldesk.Error
	switch {
	case err == nil:
	case errors.As(err, &de) && de.Field != "" && de.Key != "":
		p.Errors[de.Field] = l.T(de.Key)
		return s.render(c, errorStatus(de.Code), "orders/refund", "orders/_refund", p)
	case errors.As(err, &de) && de.Key != "" && de.Code != canceldesk.EINTERNAL:
		p.Error = l.T(de.Key)
		return s.render(c, errorStatus(de.Code), "orders/refund", "orders/_refund", p)
	default:
		return err
	}
	return redirect(c, "/orders/"+strconv.FormatInt(p.Order.ID, 10)+"?refunded=1")
}

// retryRefund sends a failed refund to its gateway again, with the same
// idempotency key, so the customer can never be paid twice; staff are held
// to their refund limit, as for a new refund.
func (s *Server) retryRefund(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	acct := currentAccount(c)
	rf, err := s.Refunds.RetryRefund(c.UserContext(), id, acct.Email, acct.Role)
	if err != nil {
		return err
	}
	return redirect(c, "/orders/"+strconv.FormatInt(rf.OrderID, 10)+"?retried=1")
}

// gatewayFor is the gateway refunds of an order go through
// (canceldesk.RefundGateway with the configured payment providers).
func (s *Server) gatewayFor(o *canceldesk.Order) string {
	if s.Payments == nil {
		return canceldesk.OrderRefundGateway(o, nil)
	}
	return canceldesk.OrderRefundGateway(o, s.Payments.GatewayFor)
}

// CanSubmit reports whether the refund can be confirmed as it stands.
func (p refundPage) CanSubmit() bool {
	return len(p.Errors) == 0 && p.Error == "" && p.Plan.Total > 0 && !p.Plan.NeedsManager
}

// gatewayKey is the template function that names a gateway in catalogue
// keys: "manual", "stripe", "store_credit", "shopify", or "other".
func gatewayKey(gateway string) string {
	switch gateway {
	case canceldesk.GatewayManual, canceldesk.GatewayStoreCredit, "stripe", canceldesk.GatewayShopify:
		return gateway
	}
	return "other"
}

// age is the template function that says how long ago, roughly: minutes,
// hours or days.
func age(l interface {
	N(string, int, ...any) string
}, d time.Duration) string {
	switch {
	case d < time.Hour:
		return l.N("age.minutes", max(int(d/time.Minute), 1))
	case d < 48*time.Hour:
		return l.N("age.hours", int(d/time.Hour))
	}
	return l.N("age.days", int(d/(24*time.Hour)))
}
