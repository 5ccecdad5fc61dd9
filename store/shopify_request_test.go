package store_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// fileShopifyRequest syncs in a Shopify order named name and files its
// customer's request for it.
func fileShopifyRequest(t *testing.T, db *store.DB, name, ext string) (*canceldesk.Order, *canceldesk.CancellationRequest) {
	t.Helper()
	o := shopOrder(name, ext, day(3))
	shopifyUpsert(t, db, o)
	r, err := db.FileRequest(ctx(t), canceldesk.RequestForm{OrderNumber: name, Email: o.Email, Reason: "changed_mind"},
		"https://shop.example/r/", nil)
	if err != nil || r == nil || r.Status != canceldesk.RequestPending {
		t.Fatalf("FileRequest = %+v, %v", r, err)
	}
	return o, r
}

func TestShopifyCallApprovesRequest(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db)
		o, r := fileShopifyRequest(t, db, "#7101", "7101")
		req := cancelReq(o, loc, cancelKey(1))
		req.NotifyCustomer, req.RequestID, req.Source = false, r.ID, canceldesk.SourceCustomerRequest
		call, err := db.QueueShopifyCancel(ctx(t), req, false)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ShopifyCall(ctx(t), call.ID); got.Cancel == nil || got.Cancel.RequestID != r.ID {
			t.Fatalf("the stored call does not carry the request: %+v", got.Cancel)
		}
		if got, _ := db.Request(ctx(t), r.ID); got.Status != canceldesk.RequestPending {
			t.Errorf("request %s while the call is open, want pending", got.Status)
		}
		if err := db.CompleteShopifyCall(ctx(t), call.ID); err != nil {
			t.Fatal(err)
		}
		got, err := db.Request(ctx(t), r.ID)
		if err != nil || got.Status != canceldesk.RequestApproved || got.DecidedBy != req.Actor || got.DecidedAt == nil ||
			got.CancellationID == 0 {
			t.Fatalf("request after the call = %+v, %v; want approved by %s", got, err, req.Actor)
		}
		if n := rowCount(t, raw, `SELECT count(*) FROM cancellations WHERE id = %d AND order_id = %d`, got.CancellationID, o.ID); n != 1 {
			t.Errorf("the request's cancellation is not the order's")
		}
		if n := countKind(eventKinds(t, db, o.ID), canceldesk.EventRequestApproved); n != 1 {
			t.Errorf("%d request_approved events, want 1", n)
		}
		// The customer heard "received" then "approved", and nothing else.
		if n := rowCount(t, raw, `SELECT count(*) FROM outbox WHERE order_id = %d AND kind = 'request_approved'`, o.ID); n != 1 {
			t.Errorf("%d approved messages, want 1", n)
		}
		if n := rowCount(t, raw, `SELECT count(*) FROM outbox WHERE order_id = %d`, o.ID); n != 2 {
			t.Errorf("%d messages, want received and approved", n)
		}
		// A second cancel approving the decided request is refused.
		req.IdempotencyKey = cancelKey(2)
		if _, err := db.QueueShopifyCancel(ctx(t), req, false); canceldesk.ErrorCode(err) != canceldesk.ECONFLICT {
			t.Errorf("a call approving a decided request = %v, want ECONFLICT", err)
		}
	})
}

func TestShopifyRefusedCallLeavesRequestPending(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db)
		o, r := fileShopifyRequest(t, db, "#7201", "7201")
		req := cancelReq(o, loc, cancelKey(1))
		req.RequestID = r.ID
		call, err := db.QueueShopifyCancel(ctx(t), req, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ShopifyCallRefused(ctx(t), call.ID, "Cannot cancel an order with a pending payment authorization"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Request(ctx(t), r.ID); got.Status != canceldesk.RequestPending || got.CancellationID != 0 {
			t.Errorf("request after a refusal = %+v, want pending", got)
		}
		if n := rowCount(t, raw, `SELECT count(*) FROM outbox WHERE order_id = %d AND kind = 'request_approved'`, o.ID); n != 0 {
			t.Errorf("%d approved messages after a refusal", n)
		}
	})
}

func TestShopifyAutoApprovalQueuesCancel(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		stockedLocation(t, db)
		rule := canceldesk.AutoApproval{Enabled: true, MaxAgeMinutes: 60, MaxTotal: map[string]int64{"USD": 100000}}
		if err := db.SaveAutoApproval(ctx(t), rule, "manager@example.com"); err != nil {
			t.Fatal(err)
		}
		o := shopOrder("#7301", "7301", fixedNow.Add(-9*time.Minute), func(o *canceldesk.Order) {
			o.CreatedAt = fixedNow.Add(-10 * time.Minute)
		})
		shopifyUpsert(t, db, o)
		viaShopify := func(*canceldesk.Order) string { return canceldesk.GatewayShopify }
		r, err := db.FileRequest(ctx(t), canceldesk.RequestForm{OrderNumber: o.Name, Email: o.Email, Reason: "changed_mind"},
			"https://shop.example/r/", viaShopify)
		if err != nil || r == nil {
			t.Fatalf("FileRequest = %+v, %v", r, err)
		}
		if r.Status != canceldesk.RequestPending || storedOrder(t, db, o.ID).Cancelled() {
			t.Fatalf("request %s, order cancelled %v: want pending and not cancelled before Shopify", r.Status,
				storedOrder(t, db, o.ID).Cancelled())
		}
		if n := rowCount(t, raw, `SELECT count(*) FROM cancellations WHERE order_id = %d`, o.ID); n != 0 {
			t.Errorf("%d cancellations before Shopify has cancelled", n)
		}
		call, err := db.OpenShopifyCall(ctx(t), o.ID)
		if err != nil {
			t.Fatalf("no call queued: %v", err)
		}
		if call.State != canceldesk.CallQueued || call.Cancel == nil || call.Cancel.RequestID != r.ID ||
			call.Cancel.Source != canceldesk.SourceAutoApproved || call.Cancel.Actor != "rule" ||
			call.Cancel.Refund != canceldesk.RefundNow || call.Cancel.NotifyCustomer {
			t.Fatalf("call = %+v, cancel %+v", call, call.Cancel)
		}
		if due, _ := db.DueShopifyCalls(ctx(t), fixedNow, 10); len(due) != 1 || due[0].ID != call.ID {
			t.Errorf("due = %+v, want the queued call", due)
		}
		if err := db.CompleteShopifyCall(ctx(t), call.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Request(ctx(t), r.ID)
		if got.Status != canceldesk.RequestApproved || got.DecidedBy != "rule" || got.CancellationID == 0 {
			t.Errorf("request after the call = %+v, want approved by the rule", got)
		}
		if !storedOrder(t, db, o.ID).Cancelled() {
			t.Error("order not cancelled after the call")
		}
	})
}

// TestShopifyStateCountsAndErrors: every order stored from Shopify counts
// once; the last error is the latest of a pass's, a webhook's and a call's.
func TestShopifyStateCountsAndErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		loc := stockedLocation(t, db)
		a, b := shopOrder("#7401", "7401", day(3)), shopOrder("#7402", "7402", day(3))
		shopifyUpsert(t, db, a, b)
		shopifyUpsert(t, db, resync(a, day(3)), resync(b, day(3))) // the same state again: nothing stored
		shopifyUpsert(t, db, resync(a, day(4)))                    // a webhook's newer state
		if got := shopifyState(t, db).OrdersSynced; got != 3 {
			t.Errorf("OrdersSynced = %d, want 3 (two new, one changed)", got)
		}

		if err := db.SyncFinished(ctx(t), day(5), "The reconciliation stopped: EOF"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnqueueWebhook(ctx(t), canceldesk.ShopifyWebhook{WebhookID: "wh-1", Topic: canceldesk.TopicOrdersUpdated,
			OrderID: "7401"}); err != nil {
			t.Fatal(err)
		}
		hooks, err := db.ClaimWebhooks(ctx(t), 10, time.Minute)
		if err != nil || len(hooks) != 1 {
			t.Fatalf("claimed %+v, %v", hooks, err)
		}
		if err := db.FinishWebhook(ctx(t), hooks[0].ID, "Shopify answered 502"); err != nil {
			t.Fatal(err)
		}
		s := shopifyState(t, db)
		if s.LastError != "Webhook orders/updated for order 7401: Shopify answered 502" || s.LastErrorAt == nil ||
			!s.LastErrorAt.Equal(fixedNow) {
			t.Errorf("after a webhook's error: %q at %v", s.LastError, s.LastErrorAt)
		}
		// A good pass clears a pass's error, not a webhook's.
		if err := db.SyncFinished(ctx(t), day(6), ""); err != nil {
			t.Fatal(err)
		}
		if s := shopifyState(t, db); s.LastError != "Webhook orders/updated for order 7401: Shopify answered 502" {
			t.Errorf("a good pass cleared the webhook's error: %q", s.LastError)
		}
		// An older error does not replace a newer one.
		if err := db.RecordShopifyError(ctx(t), day(1), "Cancel of #7402: Shopify is busy"); err != nil {
			t.Fatal(err)
		}
		if s := shopifyState(t, db); s.LastError != "Webhook orders/updated for order 7401: Shopify answered 502" {
			t.Errorf("an older error replaced a newer one: %q", s.LastError)
		}
		call, err := db.QueueShopifyCancel(ctx(t), cancelReq(b, loc, cancelKey(1)), false)
		if err != nil {
			t.Fatal(err)
		}
		if call.OrderName != "#7402" || call.About() != "Cancel of #7402" {
			t.Errorf("call about %q", call.About())
		}
		if err := db.ShopifyCallRefused(ctx(t), call.ID, "Order has been fulfilled"); err != nil {
			t.Fatal(err)
		}
		if s := shopifyState(t, db); s.LastError != "Cancel of #7402: Order has been fulfilled" {
			t.Errorf("after a refusal: %q", s.LastError)
		}
	})
}

// TestShopifyOrderLocale: the language Shopify gives is stored with a new
// order and replaces the one stored when a later state gives one.
func TestShopifyOrderLocale(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		o := shopOrder("#7501", "7501", day(3), func(o *canceldesk.Order) { o.Locale = "en" })
		shopifyUpsert(t, db, o)
		if got := storedOrder(t, db, o.ID).Locale; got != "en" {
			t.Errorf("new order's locale %q, want en", got)
		}
		shopifyUpsert(t, db, resync(o, day(4), func(o *canceldesk.Order) { o.Locale = "zh-TW" }))
		if got := storedOrder(t, db, o.ID).Locale; got != "zh-TW" {
			t.Errorf("locale after Shopify's change %q, want zh-TW", got)
		}
		shopifyUpsert(t, db, resync(o, day(5))) // no language given: the stored one stays
		if got := storedOrder(t, db, o.ID).Locale; got != "zh-TW" {
			t.Errorf("locale after a state without one %q, want zh-TW", got)
		}
	})
}
