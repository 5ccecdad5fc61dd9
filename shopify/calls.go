package shopify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

// Sending calls.
const (
	callBatch = 50
	// sendLease is how long a call being sent is kept from other senders
	// (the loop, another instance): the attempt is recorded before the
	// request goes out, so that after a crash the next sender knows the
	// first may have reached Shopify and checks the order before sending.
	sendLease  = time.Minute
	msgSending = "Sent to Shopify; waiting for its answer."
	msgBusy    = "Shopify is busy"
	// pagePolls is how often Send asks about a cancel's job while the page
	// waits (PollWait apart); the loop asks again later.
	pagePolls       = 8
	defaultPollWait = 250 * time.Millisecond
	callMaxBackoff  = 5 * time.Minute
	// A cancel whose earlier answer was lost is checked again this often,
	// for this long after that attempt, before Shopify's refusal stands.
	unknownRecheck  = 10 * time.Second
	unknownPatience = 15 * time.Minute
)

// SendDue sends the calls that are due (queued, their time come) and asks
// once about the jobs of running ones. It returns the first failure to
// record an outcome; a call Shopify could not take stays queued.
func (w *Worker) SendDue(ctx context.Context) error {
	calls, err := w.Store.DueShopifyCalls(ctx, w.now(), callBatch)
	if err != nil {
		return err
	}
	var first error
	for _, c := range calls {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := w.send(ctx, c.ID, 1); err != nil {
			w.log().Error("shopify: sending a call", "call", c.ID, "order", c.OrderID, "kind", c.Kind, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// Send sends the call now and waits, at most ctx, for Shopify's first
// answer (see handlers.ShopifyConn). The call's state in the store says
// what came of it.
func (w *Worker) Send(ctx context.Context, callID int64) error {
	return w.send(ctx, callID, pagePolls)
}

func (w *Worker) send(ctx context.Context, id int64, polls int) error {
	defer w.lockCall(id)()
	c, err := w.Store.ShopifyCall(ctx, id)
	if err != nil {
		return err
	}
	switch c.State {
	case canceldesk.CallQueued:
		if c.Kind == canceldesk.ShopifyCallRestock {
			return w.sendRestock(ctx, c)
		}
		if running, err := w.sendCancel(ctx, c); err != nil || !running {
			return err
		}
		return w.poll(ctx, c, polls)
	case canceldesk.CallRunning:
		return w.poll(ctx, c, polls)
	}
	return nil // done or failed: nothing left to send
}

// sendCancel sends orderCancel; running is true when Shopify accepted it
// and c.JobID is its job.
func (w *Worker) sendCancel(ctx context.Context, c *canceldesk.ShopifyCall) (running bool, err error) {
	if c.Cancel == nil {
		return false, w.refused(ctx, c, "The cancel request of this call is missing.")
	}
	// Sent before (a crash or a timeout left the answer unknown, or
	// Shopify was busy): if the order reads cancelled, that attempt went
	// through, and sending again would cancel twice.
	tried := c.Attempts > 0
	if tried {
		if done, err := w.completeIfCancelled(ctx, c); err != nil || done {
			return false, w.busyOr(ctx, c, err)
		}
	}
	if err := w.Store.ShopifyCallBusy(ctx, c.ID, w.now().Add(sendLease), msgSending); err != nil {
		return false, err
	}
	p, err := w.API.OrderCancel(ctx, CancelInputFor(c))
	if err != nil {
		return false, w.busyOr(ctx, c, err)
	}
	rctx := context.WithoutCancel(ctx) // Shopify has answered: record it whatever the page does
	if len(p.UserErrors) > 0 {
		if tried {
			if done, err := w.completeIfCancelled(rctx, c); err != nil || done {
				return false, w.busyOr(rctx, c, err)
			}
		}
		if w.mayStillBeCancelling(c) {
			// The earlier attempt's answer was lost: its job may still be
			// running at Shopify ("already being cancelled"). Wait for the
			// order to read cancelled rather than fail a cancel that is
			// happening.
			return false, w.Store.ShopifyCallBusy(rctx, c.ID, w.now().Add(unknownRecheck), msgSending)
		}
		return false, w.refused(rctx, c, JoinUserErrors(p.UserErrors))
	}
	if err := w.Store.ShopifyCallAccepted(rctx, c.ID, p.JobID); err != nil {
		return false, err
	}
	c.State, c.JobID = canceldesk.CallRunning, p.JobID
	if p.JobDone {
		return false, w.confirmCancel(rctx, c)
	}
	return true, nil
}

// mayStillBeCancelling reports whether an earlier attempt of c reached
// Shopify with its answer lost (a crash, a page that stopped waiting) not
// long ago: a job Cancel Desk never heard of may still be cancelling it.
func (w *Worker) mayStillBeCancelling(c *canceldesk.ShopifyCall) bool {
	return c.Attempts > 0 && c.Error == msgSending && w.now().Sub(c.UpdatedAt) < unknownPatience
}

// CancelInputFor maps a cancel call to orderCancel's arguments: the
// dialog's reason, restock and staff note; the money back to the original
// payment (or as store credit when the request's refund goes to store
// credit) for a refund now, none for refund later; and Shopify emails the
// customer only when the dialog asked for the customer to be told and the
// settings leave that to Shopify (else Cancel Desk sends its own message,
// or none: never both).
func CancelInputFor(c *canceldesk.ShopifyCall) CancelInput {
	req := c.Cancel
	in := CancelInput{OrderID: c.ExternalID, Reason: req.Reason, RefundMethod: RefundNone,
		Restock: req.Restock, StaffNote: req.StaffNote, NotifyCustomer: c.ShopifyNotifies && req.NotifyCustomer}
	if req.Refund == canceldesk.RefundNow {
		in.RefundMethod = RefundOriginal
		if req.Gateway == canceldesk.GatewayStoreCredit {
			in.RefundMethod = RefundStoreCredit
		}
	}
	return in
}

// JoinUserErrors is Shopify's refusal as staff read it: its messages.
func JoinUserErrors(errs []UserError) string {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		if m := strings.TrimSpace(e.Message); m != "" {
			msgs = append(msgs, m)
		} else if e.Code != "" {
			msgs = append(msgs, e.Code)
		}
	}
	if len(msgs) == 0 {
		return "Shopify refused the call."
	}
	return strings.Join(msgs, " ")
}

// poll asks about a running cancel's job up to polls times, PollWait
// apart, and applies the cancel here once the job is done. A job not done
// yet, or a question Shopify could not answer, leaves the call running
// for the loop to ask again.
func (w *Worker) poll(ctx context.Context, c *canceldesk.ShopifyCall, polls int) error {
	wait := w.PollWait
	if wait <= 0 {
		wait = defaultPollWait
	}
	for i := range polls {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		done, err := w.API.Job(ctx, c.JobID)
		if _, busy := isBusy(err); busy || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// The job may be gone (jobs do not live for ever): the order
			// says whether the cancel happened.
			if ok, oerr := w.completeIfCancelled(ctx, c); ok || oerr != nil {
				return oerr
			}
			return err
		}
		if done {
			return w.confirmCancel(context.WithoutCancel(ctx), c)
		}
	}
	return nil
}

// confirmCancel reads the order after its cancel job is done: cancelled,
// the cancel is applied here; not cancelled, Shopify's job failed.
func (w *Worker) confirmCancel(ctx context.Context, c *canceldesk.ShopifyCall) error {
	done, err := w.completeIfCancelled(ctx, c)
	if err != nil || done {
		return err
	}
	return w.refused(ctx, c, "Shopify finished the cancel, but the order is not cancelled there; open it in Shopify to see why.")
}

// completeIfCancelled reads the order at Shopify and, when it is
// cancelled, applies the call here and stores the fresh order.
func (w *Worker) completeIfCancelled(ctx context.Context, c *canceldesk.ShopifyCall) (bool, error) {
	o, err := w.API.Order(ctx, c.ExternalID)
	if err != nil {
		return false, err
	}
	if o == nil || !o.Cancelled() {
		return false, nil
	}
	return true, w.complete(ctx, c, o)
}

// complete applies a call Shopify has done, then stores the order as
// Shopify now shows it (when read).
func (w *Worker) complete(ctx context.Context, c *canceldesk.ShopifyCall, fresh *canceldesk.Order) error {
	ctx = context.WithoutCancel(ctx)
	if err := w.Store.CompleteShopifyCall(ctx, c.ID); err != nil {
		return err
	}
	if fresh == nil {
		return nil
	}
	_, err := w.Store.UpsertShopifyOrders(ctx, []*canceldesk.Order{fresh})
	return err
}

func (w *Worker) refused(ctx context.Context, c *canceldesk.ShopifyCall, msg string) error {
	return w.Store.ShopifyCallRefused(context.WithoutCancel(ctx), c.ID, msg)
}

// busyOr records that Shopify could not take the call now (busy, the
// network, or an error retrying may cure): it stays queued and is sent
// again later with the same key. A nil err records nothing.
func (w *Worker) busyOr(ctx context.Context, c *canceldesk.ShopifyCall, err error) error {
	if err == nil {
		return nil
	}
	next, msg := w.now().Add(callBackoff(c.Attempts)), err.Error()
	b, busy := isBusy(err)
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The page stopped waiting, maybe after the request went out: the
		// answer is unknown, and the next sender checks the order first.
		next, msg = w.now().Add(callsEvery), msgSending
	case busy:
		next, msg = w.now().Add(max(b.RetryAfter, time.Second)), msgBusy
	}
	rctx := context.WithoutCancel(ctx)
	if serr := w.Store.ShopifyCallBusy(rctx, c.ID, next, msg); serr != nil {
		return serr
	}
	if msg == msgSending {
		return nil // not an error: the answer is awaited
	}
	return w.Store.RecordShopifyError(rctx, w.now(), c.About()+": "+msg)
}

// callBackoff is the wait before sending again after an error that is not
// Shopify's throttling: doubling from 5s, at most callMaxBackoff.
func callBackoff(attempts int) time.Duration {
	d := 5 * time.Second
	for range min(attempts, 10) {
		d *= 2
	}
	return min(d, callMaxBackoff)
}

// sendRestock sends a restock as refundCreate with the lines and no money,
// under the call's key, so a retry never restocks twice.
func (w *Worker) sendRestock(ctx context.Context, c *canceldesk.ShopifyCall) error {
	in, err := w.restockInput(ctx, c)
	var ce *canceldesk.Error
	if errors.As(err, &ce) {
		return w.refused(ctx, c, ce.Message)
	}
	if err != nil {
		return err
	}
	p, err := w.API.RefundCreate(ctx, in, c.IdempotencyKey)
	if err != nil {
		return w.busyOr(ctx, c, err)
	}
	if len(p.UserErrors) > 0 {
		return w.refused(ctx, c, JoinUserErrors(p.UserErrors))
	}
	return w.complete(ctx, c, nil)
}

// restockInput names the restocked units by Shopify's ids: units that were
// cancelled go back as CANCEL, units that came back as RETURN (the split
// PlanRestock makes).
func (w *Worker) restockInput(ctx context.Context, c *canceldesk.ShopifyCall) (RefundInput, error) {
	in := RefundInput{OrderID: c.ExternalID, Note: "Restocked in Cancel Desk"}
	orders := w.orders()
	if c.Restock == nil || orders == nil {
		return in, &canceldesk.Error{Code: canceldesk.EINVALID, Message: "This restock cannot be sent to Shopify."}
	}
	o, err := orders.Order(ctx, c.OrderID)
	if err != nil {
		return in, err
	}
	loc, err := w.locationExternalID(ctx, o, c.Restock.LocationID)
	if err != nil {
		return in, err
	}
	if loc == "" {
		return in, &canceldesk.Error{Code: canceldesk.EINVALID, Message: "This location is not one of the shop's locations in Shopify."}
	}
	plan, err := canceldesk.PlanRestock(o, *c.Restock)
	if err != nil {
		return in, err
	}
	ext := map[int64]string{}
	for _, li := range o.LineItems {
		ext[li.ID] = li.ExternalID
	}
	for _, pl := range plan {
		id := ext[pl.LineItemID]
		if id == "" {
			return in, &canceldesk.Error{Code: canceldesk.EINVALID, Message: fmt.Sprintf("%s is not known to Shopify.", pl.Name)}
		}
		if pl.Restocked > 0 {
			in.Lines = append(in.Lines, RefundLine{LineItemID: id, Quantity: pl.Restocked, RestockType: "CANCEL", LocationID: loc})
		}
		if pl.ReturnRestocked > 0 {
			in.Lines = append(in.Lines, RefundLine{LineItemID: id, Quantity: pl.ReturnRestocked, RestockType: "RETURN", LocationID: loc})
		}
	}
	return in, nil
}

// locationExternalID is Shopify's id of the location id: the order's own
// location's, or one of the shop's; "" when Shopify does not know it.
func (w *Worker) locationExternalID(ctx context.Context, o *canceldesk.Order, id int64) (string, error) {
	if o.LocationID == id && o.LocationExternalID != "" {
		return o.LocationExternalID, nil
	}
	locs, err := w.orders().Locations(ctx)
	if err != nil {
		return "", err
	}
	for _, l := range locs {
		if l.ID == id {
			return l.ExternalID, nil
		}
	}
	return "", nil
}
