package shopify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
	"github.com/canceldesk/canceldesk/store"
)

// cancelReq is the dialog's cancel of o: out of stock, refund now to the
// original payment, restock, a staff note, Cancel Desk tells the customer.
func cancelReq(o *canceldesk.Order, key string) canceldesk.CancelRequest {
	return canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonInventory, ReasonLabel: "Item out of stock",
		Refund: canceldesk.RefundNow, Restock: true, LocationID: o.LocationID, StaffNote: "Supplier delayed — 補貨中",
		NotifyCustomer: true, Gateway: canceldesk.GatewayShopify, IdempotencyKey: key,
		Actor: "manager@example.com", ActorRole: canceldesk.RoleManager}
}

func queueCancel(t *testing.T, db *store.DB, req canceldesk.CancelRequest, shopifyNotifies bool) *canceldesk.ShopifyCall {
	t.Helper()
	c, err := db.QueueShopifyCancel(context.Background(), req, shopifyNotifies)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func callState(t *testing.T, db *store.DB, id int64) *canceldesk.ShopifyCall {
	t.Helper()
	c, err := db.ShopifyCall(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cancellations counts the order's cancel entries on its timeline.
func cancellations(t *testing.T, db *store.DB, orderID int64) int {
	t.Helper()
	evs, err := db.Events(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Kind == canceldesk.EventCancelled {
			n++
		}
	}
	return n
}

// at moves the worker's clock d ahead of now.
func at(d time.Duration) func() time.Time { return func() time.Time { return time.Now().UTC().Add(d) } }

// TestShopifyWorkerCancelAfterJob: Shopify accepts the cancel and its job
// is not done at first; the order here stays as it was until the job is
// done and the order reads cancelled at Shopify. What orderCancel received
// is the dialog's request, field by field.
func TestShopifyWorkerCancelAfterJob(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sv, id, w, _, o := shopWith(t, db, shopifytest.OrderSpec{Email: "ann@example.com"}, shopifytest.WithJobPolls(3))
		req := cancelReq(o, "cancel-after-job-0001")
		call := queueCancel(t, db, req, false)

		for poll := 1; poll <= 2; poll++ {
			if err := w.SendDue(ctx); err != nil {
				t.Fatal(err)
			}
			c := callState(t, db, call.ID)
			if c.State != canceldesk.CallRunning || !strings.HasPrefix(c.JobID, "gid://shopify/Job/") {
				t.Fatalf("after poll %d: call %s job %q, want running with Shopify's job", poll, c.State, c.JobID)
			}
			if got := localOrder(t, db, o.Name); got.Cancelled() {
				t.Fatalf("after poll %d the order is cancelled here before Shopify's job is done", poll)
			}
		}
		if err := w.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallDone {
			t.Fatalf("after the job is done: call %s (%s), want done", c.State, c.Error)
		}
		got := localOrder(t, db, o.Name)
		if !got.Cancelled() || got.CancelReason != canceldesk.ReasonInventory || cancellations(t, db, o.ID) != 1 {
			t.Errorf("order here: cancelled %v reason %q, %d cancel entries; want cancelled once for inventory",
				got.Cancelled(), got.CancelReason, cancellations(t, db, o.ID))
		}

		sent := sv.Requests("orderCancel")
		if len(sent) != 1 {
			t.Fatalf("orderCancel sent %d times, want 1", len(sent))
		}
		v := sent[0].Variables
		rm, _ := v["refundMethod"].(map[string]any)
		for _, f := range []struct {
			name      string
			got, want any
		}{
			{"orderId", v["orderId"], "gid://shopify/Order/" + id},
			{"reason", v["reason"], "INVENTORY"},
			{"refundMethod", len(rm) == 1 && rm["originalPaymentMethodsRefund"] == true, true},
			{"restock", v["restock"], true},
			{"staffNote", v["staffNote"], req.StaffNote},
			{"notifyCustomer", v["notifyCustomer"], false}, // Cancel Desk sends its own message
		} {
			if f.got != f.want {
				t.Errorf("orderCancel %s = %v, want %v", f.name, f.got, f.want)
			}
		}
		if c := sv.Cancellation(id); c == nil || !c.Done {
			t.Errorf("the stand-in's cancellation: %+v, want done", c)
		}
	})
}

// TestShopifyWorkerCancelRefused: Shopify refuses (a pending payment
// authorization); staff read its message and nothing here is cancelled.
func TestShopifyWorkerCancelRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sv, id, w, _, o := shopWith(t, db, shopifytest.OrderSpec{PendingAuthorization: true})
		call := queueCancel(t, db, cancelReq(o, "cancel-refused-00001"), false)
		if err := w.Send(ctx, call.ID); err != nil {
			t.Fatal(err)
		}
		c := callState(t, db, call.ID)
		if c.State != canceldesk.CallFailed || !strings.Contains(c.Error, "pending payment authorization") {
			t.Errorf("call %s %q, want failed with Shopify's message", c.State, c.Error)
		}
		got := localOrder(t, db, o.Name)
		if got.Cancelled() || got.RefundedAmount != o.RefundedAmount || cancellations(t, db, o.ID) != 0 {
			t.Errorf("the refused order changed here: cancelled %v, refunded %d", got.Cancelled(), got.RefundedAmount)
		}
		if sv.Order(id).CancelledAt != nil {
			t.Error("the stand-in cancelled a refused order")
		}
	})
}

// TestShopifyWorkerCancelThrottled: Shopify is busy; the call stays queued
// ("Shopify is busy") and is sent again later, the same call, and the
// order is cancelled once.
func TestShopifyWorkerCancelThrottled(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sv, id, w, client, o := shopWith(t, db, shopifytest.OrderSpec{}, shopifytest.WithJobPolls(1))
		call := queueCancel(t, db, cancelReq(o, "cancel-throttled-001"), false)

		client.MaxAttempts = 2
		sv.ThrottleNext(2)
		if err := w.Send(ctx, call.ID); err != nil {
			t.Fatal(err)
		}
		c := callState(t, db, call.ID)
		if c.State != canceldesk.CallQueued || c.Attempts == 0 || c.Error != "Shopify is busy" || !c.NextAt.After(time.Now()) {
			t.Fatalf("throttled call: %s attempts %d %q next %v; want queued, busy, later", c.State, c.Attempts, c.Error, c.NextAt)
		}
		if sv.Cancellation(id) != nil {
			t.Fatal("a throttled orderCancel took effect")
		}
		if err := w.SendDue(ctx); err != nil { // not due yet
			t.Fatal(err)
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallQueued {
			t.Fatalf("sent again before its time: %s", c.State)
		}

		w.Now = at(10 * time.Minute)
		if err := w.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallDone || c.ID != call.ID {
			t.Fatalf("retried call: %s %q, want done", c.State, c.Error)
		}
		if got := localOrder(t, db, o.Name); !got.Cancelled() || cancellations(t, db, o.ID) != 1 {
			t.Errorf("order after the retry: cancelled %v, %d cancel entries", got.Cancelled(), cancellations(t, db, o.ID))
		}
		accepted := 0
		for _, r := range sv.Requests("orderCancel") {
			if r.Variables["orderId"] == "gid://shopify/Order/"+id {
				accepted++
			}
		}
		if accepted != 3 { // two throttled, one taken
			t.Errorf("orderCancel requests = %d, want 2 throttled and 1 taken", accepted)
		}
	})
}

// failAccepted is the store failing to record Shopify's answer: the
// process dies between orderCancel and writing down its job.
type failAccepted struct{ canceldesk.ShopifyStore }

func (failAccepted) ShopifyCallAccepted(context.Context, int64, string) error {
	return errors.New("the process died")
}

// TestShopifyWorkerCancelCrash: Shopify accepted the cancel, and the
// answer was lost. A new worker neither loses the cancel nor repeats it:
// while Shopify's job runs it waits; once the order reads cancelled at
// Shopify it applies the cancel here, once.
func TestShopifyWorkerCancelCrash(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sv := shopifytest.New(t, shopifytest.WithJobPolls(1))
		id := sv.AddOrder(shopifytest.OrderSpec{Email: "ann@example.com"})
		crashing, client := newWorker(t, failAccepted{db}, db, sv)
		o := syncOne(t, crashing, db, id)
		call := queueCancel(t, db, cancelReq(o, "cancel-crash-000001"), false)
		if err := crashing.Send(ctx, call.ID); err == nil {
			t.Fatal("the crashing worker recorded the job")
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallQueued || c.Attempts != 1 {
			t.Fatalf("after the crash: %s attempts %d, want queued with the attempt counted", c.State, c.Attempts)
		}

		// Restarted before Shopify's job is done: the call waits.
		restarted, _ := newWorker(t, db, db, sv)
		restarted.Now = at(2 * time.Minute)
		if err := restarted.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallQueued {
			t.Fatalf("while Shopify's job runs: call %s %q, want still queued", c.State, c.Error)
		}
		if localOrder(t, db, o.Name).Cancelled() {
			t.Fatal("cancelled here before Shopify did")
		}

		// Shopify runs its job on its own.
		job := sv.Cancellation(id).JobID
		if done, err := client.Job(ctx, job); err != nil || !done {
			t.Fatalf("job %s: done %v %v", job, done, err)
		}
		restarted.Now = at(5 * time.Minute)
		if err := restarted.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallDone {
			t.Fatalf("after Shopify's job: call %s %q, want done", c.State, c.Error)
		}
		if got := localOrder(t, db, o.Name); !got.Cancelled() || cancellations(t, db, o.ID) != 1 {
			t.Errorf("order here: cancelled %v, %d cancel entries; want cancelled once", got.Cancelled(), cancellations(t, db, o.ID))
		}
		if c := sv.Cancellation(id); c == nil || c.JobID != job {
			t.Errorf("the stand-in cancelled the order by another job: %+v", c)
		}
		if n := len(sv.Refunds(id)); n != 0 {
			t.Errorf("refunds made at the stand-in besides the cancel's own: %d", n)
		}
	})
}

// TestCancelInputFor: refund later refunds nothing; store credit goes to
// store credit; Shopify notifies only when told to.
func TestCancelInputFor(t *testing.T) {
	for _, tc := range []struct {
		refund  canceldesk.RefundChoice
		gateway string
		notify  bool
		want    string
	}{
		{canceldesk.RefundNow, canceldesk.GatewayShopify, false, shopify.RefundOriginal},
		{canceldesk.RefundNow, canceldesk.GatewayStoreCredit, true, shopify.RefundStoreCredit},
		{canceldesk.RefundLater, canceldesk.GatewayShopify, true, shopify.RefundNone},
	} {
		c := &canceldesk.ShopifyCall{ExternalID: "42", ShopifyNotifies: tc.notify, Cancel: &canceldesk.CancelRequest{
			Reason: canceldesk.ReasonFraud, Refund: tc.refund, Gateway: tc.gateway, StaffNote: "n"}}
		in := shopify.CancelInputFor(c)
		if in.RefundMethod != tc.want || in.NotifyCustomer != tc.notify || in.OrderID != "42" ||
			in.Reason != canceldesk.ReasonFraud || in.StaffNote != "n" || in.Restock {
			t.Errorf("%s via %s: %+v, want refund method %s", tc.refund, tc.gateway, in, tc.want)
		}
	}
}

// TestShopifyWorkerRestock: units of a cancelled order put back to stock
// go to Shopify as refundCreate with the lines, no money and the call's
// key; then they are restocked here.
func TestShopifyWorkerRestock(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sv, id, w, _, o := shopWith(t, db, shopifytest.OrderSpec{}, shopifytest.WithJobPolls(1))
		req := cancelReq(o, "restock-cancel-00001")
		req.Restock, req.Refund = false, canceldesk.RefundLater
		if err := w.Send(ctx, queueCancel(t, db, req, false).ID); err != nil {
			t.Fatal(err)
		}
		o = localOrder(t, db, o.Name)
		if !o.Cancelled() || o.LineItems[0].CancelledQuantity != 2 {
			t.Fatalf("cancelled first: %v, %d shirts cancelled", o.Cancelled(), o.LineItems[0].CancelledQuantity)
		}
		if rm := sv.Requests("orderCancel")[0].Variables["refundMethod"].(map[string]any); rm["originalPaymentMethodsRefund"] != false {
			t.Errorf("refund later sent refundMethod %v, want originalPaymentMethodsRefund false", rm)
		}

		call, err := db.QueueShopifyRestock(ctx, canceldesk.RestockRequest{OrderID: o.ID, LocationID: o.LocationID,
			Lines: []canceldesk.RestockLineRequest{{LineItemID: o.LineItems[0].ID, Quantity: 2}}, IdempotencyKey: "restock-call-000001", Actor: "manager@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Send(ctx, call.ID); err != nil {
			t.Fatal(err)
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallDone {
			t.Fatalf("restock call %s %q, want done", c.State, c.Error)
		}
		refunds := sv.Refunds(id)
		if len(refunds) != 1 || refunds[0].Amount != 0 || refunds[0].IdempotencyKey != call.IdempotencyKey {
			t.Fatalf("refunds at the stand-in: %+v, want one without money under the call's key", refunds)
		}
		lines, _ := refunds[0].Input["refundLineItems"].([]any)
		if len(lines) != 1 {
			t.Fatalf("refundLineItems %v", refunds[0].Input)
		}
		l := lines[0].(map[string]any)
		if l["lineItemId"] != o.LineItems[0].ExternalID || l["quantity"] != float64(2) || l["restockType"] != "CANCEL" ||
			l["locationId"] != o.LocationExternalID || o.LocationExternalID == "" {
			t.Errorf("refundLineItems[0] = %v, want 2 × %s CANCEL at %q", l, o.LineItems[0].ExternalID, o.LocationExternalID)
		}
		if got := localOrder(t, db, o.Name); got.LineItems[0].RestockedQuantity != 2 {
			t.Errorf("restocked here: %d, want 2", got.LineItems[0].RestockedQuantity)
		}
	})
}

// lostAnswer is a page that stops waiting just as Shopify takes the
// cancel: the client reports the context's end as busy.
type lostAnswer struct {
	shopify.API
	cancel context.CancelFunc
}

func (l lostAnswer) OrderCancel(ctx context.Context, in shopify.CancelInput) (shopify.CancelPayload, error) {
	if _, err := l.API.OrderCancel(ctx, in); err != nil {
		return shopify.CancelPayload{}, err
	}
	l.cancel()
	return shopify.CancelPayload{}, &shopify.BusyError{Msg: ctx.Err().Error()}
}

// TestShopifyWorkerCancelPageGaveUp: the page's wait ended after
// orderCancel reached Shopify; the loop does not send it again, and
// applies it once Shopify's job is done.
func TestShopifyWorkerCancelPageGaveUp(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sv, id, w, client, o := shopWith(t, db, shopifytest.OrderSpec{}, shopifytest.WithJobPolls(1))
		call := queueCancel(t, db, cancelReq(o, "cancel-gave-up-00001"), false)
		pctx, cancel := context.WithCancel(ctx)
		w.API = lostAnswer{API: client, cancel: cancel}
		if err := w.Send(pctx, call.ID); err != nil {
			t.Fatal(err)
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallQueued {
			t.Fatalf("after the page gave up: %s %q, want queued", c.State, c.Error)
		}
		w.API = client
		if _, err := client.Job(ctx, sv.Cancellation(id).JobID); err != nil { // Shopify runs its job
			t.Fatal(err)
		}
		w.Now = at(time.Minute)
		if err := w.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c := callState(t, db, call.ID); c.State != canceldesk.CallDone {
			t.Fatalf("after Shopify's job: %s %q, want done", c.State, c.Error)
		}
		if n := len(sv.Requests("orderCancel")); n != 1 {
			t.Errorf("orderCancel sent %d times, want once", n)
		}
		if cancellations(t, db, o.ID) != 1 {
			t.Errorf("cancel entries: %d, want 1", cancellations(t, db, o.ID))
		}
	})
}
