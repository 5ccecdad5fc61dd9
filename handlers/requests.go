package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
)

// The public form's limits: per address and per order number, in a window.
const (
	requestsPerIP    = 10
	requestsPerOrder = 3
	requestWindow    = time.Hour
	// requestFloor is the least time the form's answer takes, so an answer
	// about an existing order (which writes) and one about none (which
	// does not) cannot be told apart by their timing.
	requestFloor = 400 * time.Millisecond
)

// requestFormPage is the public cancellation form.
type requestFormPage struct {
	publicPage
	Form    canceldesk.RequestForm
	Reasons []string
	Errors  map[string]string
	Error   string // about the request as a whole (too many tries)
}

func (s *Server) requestFormView(c *fiber.Ctx, f canceldesk.RequestForm) (requestFormPage, error) {
	pp, err := s.publicPageOf(c, localizer(c).T("request.title"))
	return requestFormPage{publicPage: pp, Form: f, Reasons: canceldesk.CustomerReasons, Errors: map[string]string{}}, err
}

// requestForm shows the public form: no account needed.
func (s *Server) requestForm(c *fiber.Ctx) error {
	p, err := s.requestFormView(c, canceldesk.RequestForm{OrderNumber: c.Query("order")})
	if err != nil {
		return err
	}
	return s.renderPublic(c, fiber.StatusOK, "requests/form", p)
}

// requestSubmit files a customer's request. Whatever the order number and
// email, a well-formed request gets the same answer after the same time:
// the form never tells whether an order exists or the email matches.
func (s *Server) requestSubmit(c *fiber.Ctx) error {
	started := time.Now()
	f := canceldesk.RequestForm{OrderNumber: c.FormValue("order"), Email: c.FormValue("email"),
		Reason: c.FormValue("reason"), Comment: c.FormValue("comment"), Locale: localizer(c).Lang()}.Normalize()
	p, err := s.requestFormView(c, f)
	if err != nil {
		return err
	}
	l := localizer(c)
	if err := f.Validate(); err != nil {
		var de *canceldesk.Error
		if !errors.As(err, &de) {
			return err
		}
		p.Errors[de.Field] = l.T(de.Key)
		return s.renderPublic(c, fiber.StatusBadRequest, "requests/form", p)
	}
	ctx := c.UserContext()
	ipKey, orderKey := "request:ip:"+s.clientIP(c), "request:order:"+strings.ToLower(f.OrderNumber)
	nIP, err1 := s.Limiter.Hit(ctx, ipKey, requestWindow)
	nOrder, err2 := s.Limiter.Hit(ctx, orderKey, requestWindow)
	if err := errors.Join(err1, err2); err != nil {
		return &canceldesk.Error{Code: canceldesk.EUNAVAILABLE, Key: "request.unavailable", Message: err.Error()}
	}
	if nIP > requestsPerIP || nOrder > requestsPerOrder {
		p.Error = l.T("request.too_many")
		return s.renderPublic(c, fiber.StatusTooManyRequests, "requests/form", p)
	}
	// A bot fills the field people never see: it gets the same answer.
	if c.FormValue("website") == "" {
		// Approved by the rule, its refund goes to the gateway after
		// commit (the store's hook).
		if _, err := s.Requests.FileRequest(ctx, f, s.publicLink(statusPath), s.gatewayFor); err != nil {
			return err
		}
	}
	if wait := requestFloor - time.Since(started); wait > 0 {
		time.Sleep(wait)
	}
	return redirect(c, "/cancel/sent")
}

// requestSent is the one answer to every well-formed request.
func (s *Server) requestSent(c *fiber.Ctx) error {
	p, err := s.publicPageOf(c, localizer(c).T("request.sent_title"))
	if err != nil {
		return err
	}
	return s.renderPublic(c, fiber.StatusOK, "requests/sent", p)
}

// requestStatusPage is what the customer's status link shows.
type requestStatusPage struct {
	publicPage
	Request *canceldesk.CancellationRequest
	Order   *canceldesk.Order // for the refund's state once approved
}

// requestStatus shows a request to whoever holds its unguessable link.
func (s *Server) requestStatus(c *fiber.Ctx) error {
	ctx := c.UserContext()
	r, err := s.Requests.RequestByToken(ctx, c.Params("token"))
	if err != nil {
		return err
	}
	pp, err := s.publicPageOf(c, localizer(c).T("request.status_title", "Order", r.OrderName))
	if err != nil {
		return err
	}
	p := requestStatusPage{publicPage: pp, Request: r}
	if r.Status == canceldesk.RequestApproved && r.OrderID != 0 {
		if p.Order, err = s.Store.Order(ctx, r.OrderID); err != nil {
			return err
		}
	}
	c.Set("Referrer-Policy", "no-referrer") // the link is the secret
	return s.renderPublic(c, fiber.StatusOK, "requests/status", p)
}

// queuePage is the staff's queue of pending requests.
type queuePage struct {
	Page
	Rows  []queueRow
	Total int
}

type queueRow struct {
	canceldesk.CancellationRequest
	Order *canceldesk.Order
	Age   time.Duration
}

// queueLimit bounds one page of the queue.
const queueLimit = 100

// requestQueue lists pending requests, oldest first, with their orders.
func (s *Server) requestQueue(c *fiber.Ctx) error {
	ctx := c.UserContext()
	rs, total, err := s.Requests.PendingRequests(ctx, queueLimit)
	if err != nil {
		return err
	}
	l := localizer(c)
	p := queuePage{Page: s.page(c, l.T("queue.title"), "requests"), Total: total}
	now := s.Now()
	for _, r := range rs {
		row := queueRow{CancellationRequest: r, Age: now.Sub(r.CreatedAt)}
		if r.OrderID != 0 {
			if row.Order, err = s.Store.Order(ctx, r.OrderID); err != nil {
				return err
			}
		}
		p.Rows = append(p.Rows, row)
	}
	return s.render(c, fiber.StatusOK, "requests/queue", "", p)
}

// declinePage asks for the message to the customer.
type declinePage struct {
	Page
	Request *canceldesk.CancellationRequest
	Message string
	Errors  map[string]string
	Error   string
}

func (s *Server) requestByParam(c *fiber.Ctx) (*canceldesk.CancellationRequest, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, fiber.ErrNotFound
	}
	return s.Requests.Request(c.UserContext(), id)
}

// declineForm shows the decline form of a request.
func (s *Server) declineForm(c *fiber.Ctx) error {
	r, err := s.requestByParam(c)
	if err != nil {
		return err
	}
	l := localizer(c)
	p := declinePage{Page: s.page(c, l.T("queue.decline_title", "Order", r.OrderName), "requests"), Request: r,
		Errors: map[string]string{}}
	return s.render(c, fiber.StatusOK, "requests/decline", "", p)
}

// declineRequest declines with the store's message, which the customer
// is emailed; a request decided meanwhile says so and changes nothing.
func (s *Server) declineRequest(c *fiber.Ctx) error {
	r, err := s.requestByParam(c)
	if err != nil {
		return err
	}
	l := localizer(c)
	p := declinePage{Page: s.page(c, l.T("queue.decline_title", "Order", r.OrderName), "requests"), Request: r,
		Message: c.FormValue("message"), Errors: map[string]string{}}
	err = s.Requests.DeclineRequest(c.UserContext(), r.ID, p.Message, currentAccount(c).Email)
	var de *canceldesk.Error
	switch {
	case err == nil:
		return redirect(c, "/requests?declined=1")
	case errors.As(err, &de) && de.Field != "":
		p.Errors[de.Field] = l.T(de.Key)
	case errors.As(err, &de) && de.Code == canceldesk.ECONFLICT:
		p.Error = l.T(de.Key)
	default:
		return err
	}
	return s.render(c, errorStatus(de.Code), "requests/decline", "", p)
}

// approveRequest cancels the order from the prefilled cancel dialog and
// marks the request approved, in one transaction; the customer is emailed.
// Two staff deciding at once: one decision, the other sees it. Staff
// decide within their refund limit: over it the dialog says so beside the
// refund choice and the request stays pending.
func (s *Server) approveRequest(c *fiber.Ctx) error {
	r, err := s.requestByParam(c)
	if err != nil {
		return err
	}
	f := readCancelForm(c, func(k string) string { return c.FormValue(k) })
	p, err := s.cancelViewOf(c, r.OrderID, &f)
	if err != nil {
		return err
	}
	p.RequestID = r.ID
	l := localizer(c)
	req := f.request(p.Order.ID, currentAccount(c), p.Gateway, l)
	req.NotifyCustomer = false // the approval message tells the customer
	if err := req.Validate(); err != nil {
		var de *canceldesk.Error
		if !errors.As(err, &de) {
			return err
		}
		p.Errors = map[string]string{de.Field: l.T(de.Key)}
		return s.render(c, fiber.StatusBadRequest, "orders/cancel", "orders/_cancel", p)
	}
	if s.viaShopify(p.Order) {
		req.Source = canceldesk.SourceCustomerRequest
	}
	return s.cancelNow(c, p, req, func(ctx context.Context, req canceldesk.CancelRequest) (*canceldesk.CancelResult, error) {
		return s.Requests.ApproveRequest(ctx, r.ID, req)
	})
}
