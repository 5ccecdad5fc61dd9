package handlers

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// ordersPage is the view of the orders list.
type ordersPage struct {
	Page
	Form     filterForm
	Errors   map[string]string // field → message
	Orders   []canceldesk.OrderSummary
	NextURL  string
	PrevURL  string // set when newer orders come before this page
	FirstURL string // set when not on the first page
	// Count is the number of matching orders, at most CountLimit+1.
	Count        int
	CountLimit   int // how far the list counts (OrderFilter.CountLimit)
	Financials   []canceldesk.FinancialStatus
	Fulfillments []canceldesk.FulfillmentStatus
	Filtered     bool // any search or filter is active
	// Alert: the cancellation rate is above the managers' threshold.
	Alert *RateAlert
	// OOB is set for HTMX requests: the fragment then also refreshes the
	// messages beside the filter fields, which live outside it.
	OOB bool
}

// ErrorFields are the filter fields that can carry a message.
func (ordersPage) ErrorFields() []string {
	return []string{"q", "status", "financial", "fulfillment", "from", "to"}
}

// filterForm echoes the query string back into the form, as typed.
type filterForm struct {
	Q, Status, Financial, Fulfillment, From, To string
}

func readFilterForm(c *fiber.Ctx) filterForm {
	return filterForm{Q: c.Query("q"), Status: c.Query("status"), Financial: c.Query("financial"),
		Fulfillment: c.Query("fulfillment"), From: c.Query("from"), To: c.Query("to")}
}

// ordersList shows the orders, newest first, narrowed by search and filters.
// A malformed filter answers 400 with the message beside its field.
func (s *Server) ordersList(c *fiber.Ctx) error {
	l := localizer(c)
	p := ordersPage{
		Page:         s.page(c, l.T("orders.title"), "orders"),
		Form:         readFilterForm(c),
		Financials:   canceldesk.FinancialStatuses,
		Fulfillments: canceldesk.FulfillmentStatuses,
		OOB:          isFragment(c),
		Alert:        s.rateAlert(c),
	}
	query, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	f, err := canceldesk.ParseOrderFilter(query, s.Location)
	if err != nil {
		de, ok := err.(*canceldesk.Error)
		if !ok || de.Field == "" {
			return err
		}
		p.Errors = map[string]string{de.Field: l.T(de.Key)}
		return s.render(c, fiber.StatusBadRequest, "orders/index", "orders/_results", p)
	}
	key := countKey(f)
	count, counted, gen := s.listCounts.get(key, s.Now())
	f.Count = !counted
	result, err := s.Store.ListOrders(c.UserContext(), f)
	if err != nil {
		return err
	}
	if !counted {
		count = result.Count
		s.listCounts.put(key, count, s.Now(), gen)
	}
	p.Orders, p.Count, p.CountLimit = result.Orders, count, f.CountLimit()
	values := f.Values(s.Location)
	p.Filtered = len(values) > 0
	p.NextURL = pageURL(f, "after", result.Next, s.Location)
	p.PrevURL = pageURL(f, "before", result.Prev, s.Location)
	if f.After != nil || p.PrevURL != "" {
		p.FirstURL = "/orders"
		if len(values) > 0 {
			p.FirstURL += "?" + values.Encode()
		}
	}
	return s.render(c, fiber.StatusOK, "orders/index", "orders/_results", p)
}

// CountText is the number of matching orders in words: exact up to the
// bound, then "10,000+ orders" ("1,000+" for a search).
func (p ordersPage) CountText() string {
	if p.Count > p.CountLimit {
		return p.L.N("orders.count_more", p.CountLimit)
	}
	return p.L.N("orders.count", p.Count)
}

// pageURL links the page at cursor cur in direction dir ("after" or
// "before"), keeping the search and filters; "" without a cursor.
func pageURL(f canceldesk.OrderFilter, dir string, cur *canceldesk.Cursor, loc *time.Location) string {
	if cur == nil {
		return ""
	}
	v := f.Values(loc)
	v.Set(dir, cur.String())
	return "/orders?" + v.Encode()
}

// orderPage is the view of one order.
type orderPage struct {
	Page
	Order  *canceldesk.Order
	Events []canceldesk.Event
	Stock  map[string][]canceldesk.StockLevel // by SKU
	// Balance is what the refunds amount to: the Paid card, the line
	// states and the failed-refund banner read it.
	Balance canceldesk.RefundBalance
	// Cancellation is how the order was cancelled, when it was here.
	Cancellation *canceldesk.Cancellation
	Refunds      []canceldesk.Refund
	Credits      []canceldesk.StoreCredit
	// What may still happen: the actions menu offers only these. A fully
	// shipped order cannot be cancelled (canceldesk.PlanCancel's rule): it
	// is returned and refunded.
	CanRefund, CanReturn, CanRestock, CanCancel bool
	// Recreation is the order re-created from this one, if any: the page
	// links to it instead of offering to re-create.
	Recreation *canceldesk.Recreation
	// RelatedOrders are the ids of the orders the timeline names (by name).
	RelatedOrders map[string]int64
	// ReasonLabels name the timeline's cancel reasons by key, in the
	// reader's language, retired ones included.
	ReasonLabels map[string]string
	// Toast is the catalogue key of what the last action did, if any.
	Toast string
	// ShopifyURL is the order in the Shopify admin ("" when the order is
	// not the shop's or Shopify is not connected); ShopifyCall is the
	// cancel or restock sent to Shopify and not done yet.
	ShopifyURL  string
	ShopifyCall *canceldesk.ShopifyCall
}

// orderShow shows one order with its lines, totals, customer and timeline.
func (s *Server) orderShow(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	ctx := c.UserContext()
	o, err := s.Store.Order(ctx, id)
	if err != nil {
		return err
	}
	events, err := s.Store.Events(ctx, id)
	if err != nil {
		return err
	}
	var skus []string
	for _, li := range o.LineItems {
		if li.SKU != "" {
			skus = append(skus, li.SKU)
		}
	}
	levels, err := s.Store.Stock(ctx, skus)
	if err != nil {
		return err
	}
	stock := map[string][]canceldesk.StockLevel{}
	for _, lv := range levels {
		stock[lv.SKU] = append(stock[lv.SKU], lv)
	}
	l := localizer(c)
	p := orderPage{
		Page:      s.page(c, l.T("order.title", "Name", o.Name), "orders"),
		Order:     o,
		Events:    events,
		Stock:     stock,
		CanRefund: canceldesk.HasRefundableBalance(o),
	}
	for _, rl := range canceldesk.Refundable(o) {
		p.CanReturn = p.CanReturn || (rl.Returnable > 0 && rl.Refundable > 0)
		p.CanRestock = p.CanRestock || canceldesk.ManualRestockable(rl.LineItem) > 0
	}
	p.CanReturn = p.CanReturn && p.CanRefund
	p.CanCancel = canceldesk.PlanCancel(o, canceldesk.CancelRequest{OrderID: o.ID}).OK()
	if p.Refunds, err = s.Refunds.Refunds(ctx, id); err != nil {
		return err
	}
	p.Balance = canceldesk.BalanceOf(o, p.Refunds)
	for _, t := range []string{"cancelled", "recreated", "refunded", "restocked", "retried", "refused"} {
		if c.Query(t) != "" {
			p.Toast = "toast." + t
		}
	}
	// After a cancel or a refund, the toast says when the money did not
	// move (yet).
	if c.Query("cancelled") != "" || c.Query("refunded") != "" {
		switch p.Balance.State() {
		case canceldesk.RefundStateFailed:
			p.Toast += "_refund_failed"
		case canceldesk.RefundStatePending:
			p.Toast += "_refund_pending"
		}
	}
	if p.Credits, err = s.Refunds.StoreCredits(ctx, id); err != nil {
		return err
	}
	if o.Cancelled() {
		if p.Cancellation, err = s.Store.Cancellation(ctx, id); err != nil && canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			return err
		}
		if p.Recreation, err = s.Store.Recreation(ctx, id); err != nil && canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			return err
		}
	}
	if p.RelatedOrders, err = s.relatedOrders(ctx, events, p.Recreation); err != nil {
		return err
	}
	if p.ReasonLabels, err = s.reasonLabels(c); err != nil {
		return err
	}
	if err := s.shopifyOrder(ctx, &p); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "orders/show", "", p)
}

// RefundsTitle heads the order's list of refunds: a void released an
// authorization and gave nothing back, so it is never called a refund.
func (p orderPage) RefundsTitle() string {
	var refunds, voids bool
	for _, r := range p.Refunds {
		refunds, voids = refunds || r.Kind != canceldesk.RefundKindVoid, voids || r.Kind == canceldesk.RefundKindVoid
	}
	switch {
	case voids && refunds:
		return "order.refunds_and_voids"
	case voids:
		return "order.voids"
	}
	return "order.refunds"
}

// relatedOrders finds the ids of the orders the timeline's entries name
// (re-created as / from), so they link to their pages; a name that no
// longer exists stays text.
func (s *Server) relatedOrders(ctx context.Context, events []canceldesk.Event, rec *canceldesk.Recreation) (map[string]int64, error) {
	ids := map[string]int64{}
	if rec != nil {
		ids[rec.OrderName] = rec.OrderID
	}
	for _, e := range events {
		name := e.Data.Order
		if _, ok := ids[name]; ok || name == "" {
			continue
		}
		page, err := s.Store.ListOrders(ctx, canceldesk.OrderFilter{Query: name, Limit: 20})
		if err != nil {
			return nil, err
		}
		for _, o := range page.Orders {
			if o.Name == name {
				ids[name] = o.ID
			}
		}
	}
	return ids, nil
}
