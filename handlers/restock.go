package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// restockPage is the manual restock form of a cancelled or refunded order.
type restockPage struct {
	Page
	Order      *canceldesk.Order
	Lines      []restockLine
	Locations  []canceldesk.Location
	LocationID int64
	Key        string
	Errors     map[string]string
	Error      string
}

type restockLine struct {
	canceldesk.LineItem
	Restockable int
	Qty         string
	Field       string
}

func (s *Server) restockView(c *fiber.Ctx, get func(string) string) (restockPage, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return restockPage{}, fiber.ErrNotFound
	}
	ctx := c.UserContext()
	o, err := s.Store.Order(ctx, id)
	if err != nil {
		return restockPage{}, err
	}
	locs, settings, err := s.orderStock(ctx, o)
	if err != nil {
		return restockPage{}, err
	}
	l := localizer(c)
	p := restockPage{Page: s.page(c, l.T("restock.title", "Name", o.Name), "orders"), Order: o, Locations: locs,
		LocationID: defaultLocation(settings, locs), Key: randomToken(), Errors: map[string]string{}}
	if get != nil {
		p.LocationID, _ = strconv.ParseInt(get("location"), 10, 64)
		p.Key = get("key")
	}
	for _, li := range o.LineItems {
		n := canceldesk.ManualRestockable(li)
		if n == 0 {
			continue
		}
		rl := restockLine{LineItem: li, Restockable: n, Field: fmt.Sprintf("qty_%d", li.ID), Qty: strconv.Itoa(n)}
		if get != nil {
			rl.Qty = get(rl.Field)
		}
		p.Lines = append(p.Lines, rl)
	}
	return p, nil
}

// restockForm shows what can still go back to stock.
func (s *Server) restockForm(c *fiber.Ctx) error {
	p, err := s.restockView(c, nil)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "orders/restock", "orders/_restock", p)
}

// restockOrder puts the chosen units back to stock in one transaction;
// bad quantities come back beside their fields and change nothing.
func (s *Server) restockOrder(c *fiber.Ctx) error {
	p, err := s.restockView(c, func(k string) string { return c.FormValue(k) })
	if err != nil {
		return err
	}
	l := localizer(c)
	req := canceldesk.RestockRequest{OrderID: p.Order.ID, LocationID: p.LocationID, IdempotencyKey: p.Key,
		Actor: currentAccount(c).Email}
	for _, rl := range p.Lines {
		if rl.Qty == "" {
			continue
		}
		q, err := strconv.Atoi(rl.Qty)
		if err != nil || q < 0 {
			p.Errors[rl.Field] = l.T("validation.quantity")
			continue
		}
		req.Lines = append(req.Lines, canceldesk.RestockLineRequest{LineItemID: rl.ID, Quantity: q})
	}
	var call *canceldesk.ShopifyCall
	switch {
	case len(p.Errors) > 0:
	case s.viaShopify(p.Order):
		call, err = s.sendToShopify(c.UserContext(), time.Now().Add(shopifySendWait),
			func(ctx context.Context) (*canceldesk.ShopifyCall, error) {
				return s.ShopifyStore.QueueShopifyRestock(ctx, req)
			})
	default:
		err = s.Refunds.RestockOrder(c.UserContext(), req)
	}
	var de *canceldesk.Error
	switch {
	case len(p.Errors) > 0:
		return s.render(c, fiber.StatusBadRequest, "orders/restock", "orders/_restock", p)
	case err == nil && call != nil && call.State == canceldesk.CallFailed:
		p.Error, p.Key = refusal(l, call), randomToken()
		return s.render(c, fiber.StatusUnprocessableEntity, "orders/restock", "orders/_restock", p)
	case err == nil && call != nil:
		return afterCall(c, call)
	case err == nil:
		return redirect(c, "/orders/"+strconv.FormatInt(p.Order.ID, 10)+"?restocked=1")
	case errors.As(err, &de) && de.Field != "" && de.Key != "":
		p.Errors[de.Field] = l.T(de.Key)
	case errors.As(err, &de) && de.Key != "" && de.Code != canceldesk.EINTERNAL:
		p.Error = l.T(de.Key)
	default:
		return err
	}
	return s.render(c, errorStatus(de.Code), "orders/restock", "orders/_restock", p)
}
