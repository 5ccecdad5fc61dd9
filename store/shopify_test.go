package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// shopOrder is cancelOrder as the shop's Admin API returns it: Shopify's
// order id ext, its line ids, and when Shopify last changed it.
func shopOrder(name, ext string, updated time.Time, mods ...func(*canceldesk.Order)) *canceldesk.Order {
	return cancelOrder(name, append([]func(*canceldesk.Order){func(o *canceldesk.Order) {
		o.ExternalID, o.ShopifyUpdatedAt = ext, &updated
		for i := range o.LineItems {
			o.LineItems[i].ExternalID = fmt.Sprintf("gid://shopify/LineItem/%s%d", ext, i+1)
		}
	}}, mods...)...)
}

// resync is a later copy of o from the API: a fresh order (as the client
// builds one) with Shopify's updated_at at updated.
func resync(o *canceldesk.Order, updated time.Time, mods ...func(*canceldesk.Order)) *canceldesk.Order {
	return shopOrder(o.Name, o.ExternalID, updated, mods...)
}

func shopifyUpsert(t *testing.T, db *store.DB, orders ...*canceldesk.Order) canceldesk.ShopifySyncCount {
	t.Helper()
	n, err := db.UpsertShopifyOrders(ctx(t), orders)
	if err != nil {
		t.Fatalf("UpsertShopifyOrders: %v", err)
	}
	return n
}

func storedOrder(t *testing.T, db *store.DB, id int64) *canceldesk.Order {
	t.Helper()
	o, err := db.Order(ctx(t), id)
	if err != nil {
		t.Fatalf("Order(%d): %v", id, err)
	}
	return o
}

func shopifyState(t *testing.T, db *store.DB) canceldesk.ShopifyState {
	t.Helper()
	s, err := db.ShopifyState(ctx(t))
	if err != nil {
		t.Fatalf("ShopifyState: %v", err)
	}
	return s
}

func eventKinds(t *testing.T, db *store.DB, orderID int64) []string {
	t.Helper()
	events, err := db.Events(ctx(t), orderID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

func countKind(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}

func TestShopifyUpsert(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		t.Run("NewNewerOlderEqual", func(t *testing.T) {
			o := shopOrder("#1001", "1001", day(3))
			if n := shopifyUpsert(t, db, o); n != (canceldesk.ShopifySyncCount{Orders: 1, LineItems: 2, Created: 1}) {
				t.Fatalf("new: count = %+v", n)
			}
			got := storedOrder(t, db, o.ID)
			if got.ExternalID != "1001" || got.ShopifyUpdatedAt == nil || !got.ShopifyUpdatedAt.Equal(day(3)) ||
				got.LineItems[1].ExternalID != "gid://shopify/LineItem/10012" || !got.ShopifyOrder() {
				t.Fatalf("stored = %+v", got)
			}
			if at, err := db.ShopifyOrderUpdatedAt(ctx(t), "1001"); err != nil || at == nil || !at.Equal(day(3)) {
				t.Fatalf("ShopifyOrderUpdatedAt = %v, %v", at, err)
			}
			if at, err := db.ShopifyOrderUpdatedAt(ctx(t), "404"); err != nil || at != nil {
				t.Fatalf("ShopifyOrderUpdatedAt(unknown) = %v, %v", at, err)
			}

			newer := resync(o, day(4), func(o *canceldesk.Order) {
				o.Email, o.Notes, o.Tags, o.Risk = "new@example.com", "Gift", []string{"vip"}, canceldesk.RiskHigh
				o.FulfillmentStatus = canceldesk.FulfillmentPartial
				o.LineItems[0].FulfilledQuantity = 1
			})
			if n := shopifyUpsert(t, db, newer); n != (canceldesk.ShopifySyncCount{Orders: 1, LineItems: 2, Updated: 1}) {
				t.Fatalf("newer: count = %+v", n)
			}
			got = storedOrder(t, db, o.ID)
			if got.Email != "new@example.com" || got.Notes != "Gift" || !slices.Equal(got.Tags, []string{"vip"}) ||
				got.Risk != canceldesk.RiskHigh || got.FulfillmentStatus != canceldesk.FulfillmentPartial ||
				got.LineItems[0].FulfilledQuantity != 1 || !got.ShopifyUpdatedAt.Equal(day(4)) {
				t.Fatalf("after newer = %+v", got)
			}
			if page := listOrders(t, db, canceldesk.OrderFilter{Query: "new@example"}); !slices.Equal(names(page), []string{"#1001"}) {
				t.Errorf("search by the new email = %v", names(page))
			}
			if events := eventKinds(t, db, o.ID); !slices.Equal(events, []string{"imported"}) {
				t.Errorf("events = %v", events)
			}

			for _, c := range []struct {
				name string
				at   time.Time
			}{{"older", day(3)}, {"equal", day(4)}} {
				stale := resync(o, c.at, func(o *canceldesk.Order) { o.Email = "stale@example.com" })
				if n := shopifyUpsert(t, db, stale); n != (canceldesk.ShopifySyncCount{Orders: 1, LineItems: 2}) {
					t.Errorf("%s: count = %+v", c.name, n)
				}
				if got := storedOrder(t, db, o.ID); got.Email != "new@example.com" || !got.ShopifyUpdatedAt.Equal(day(4)) {
					t.Errorf("%s overwrote: email %q, updated %v", c.name, got.Email, got.ShopifyUpdatedAt)
				}
			}
			if s := shopifyState(t, db); s.LastSeenUpdatedAt == nil || !s.LastSeenUpdatedAt.Equal(day(4)) {
				t.Errorf("LastSeenUpdatedAt = %v, want %v", s.LastSeenUpdatedAt, day(4))
			}
		})

		t.Run("CSVImportAdopted", func(t *testing.T) {
			byID := cancelOrder("#2001", func(o *canceldesk.Order) { o.ExternalID = "2001" })
			byName := cancelOrder("#2002")
			importOrders(t, db, byID, byName)
			before := countOrders(t, db)
			n := shopifyUpsert(t, db, shopOrder("#2001", "2001", day(3), func(o *canceldesk.Order) {
				o.LineItems[1].FulfilledQuantity = 1
			}), shopOrder("#2002", "2002", day(3)))
			if n.Created != 0 || n.Updated != 2 || countOrders(t, db) != before {
				t.Fatalf("count = %+v, orders %d → %d", n, before, countOrders(t, db))
			}
			for _, o := range []*canceldesk.Order{byID, byName} {
				got := storedOrder(t, db, o.ID)
				if got.ExternalID != o.Name[1:] || !got.ShopifyOrder() ||
					got.LineItems[0].ExternalID != "gid://shopify/LineItem/"+o.Name[1:]+"1" ||
					got.LineItems[1].ExternalID != "gid://shopify/LineItem/"+o.Name[1:]+"2" {
					t.Errorf("%s adopted as %+v", o.Name, got)
				}
			}
			if got := storedOrder(t, db, byID.ID); got.LineItems[1].FulfilledQuantity != 1 {
				t.Errorf("the Bowl line (matched by SKU) fulfilled %d, want 1", got.LineItems[1].FulfilledQuantity)
			}
		})

		t.Run("ShopifyCancellationRecordedOnce", func(t *testing.T) {
			o := shopOrder("#3001", "3001", day(3))
			shopifyUpsert(t, db, o)
			cancelled := func(updated time.Time) *canceldesk.Order {
				return resync(o, updated, func(o *canceldesk.Order) {
					o.CancelledAt, o.CancelReason = ptr(day(4)), canceldesk.ReasonCustomer
					o.LineItems[0].FulfilledQuantity = 1
				})
			}
			for i, at := range []time.Time{day(4), day(4), day(5)} {
				n := shopifyUpsert(t, db, cancelled(at))
				if n.Cancelled != 1 || n.Updated != map[int]int{0: 1, 1: 0, 2: 1}[i] {
					t.Errorf("upsert %d: count = %+v", i, n)
				}
			}
			got := storedOrder(t, db, o.ID)
			if !got.Cancelled() || !got.CancelledAt.Equal(day(4)) || got.CancelReason != canceldesk.ReasonCustomer {
				t.Fatalf("order = %+v", got)
			}
			if l := got.LineItems; l[0].CancelledQuantity != 1 || l[0].FulfilledQuantity != 1 || l[1].CancelledQuantity != 1 {
				t.Errorf("lines = %+v", l)
			}
			if n := countKind(eventKinds(t, db, o.ID), canceldesk.EventShopifyCancelled); n != 1 {
				t.Errorf("%d shopify_cancelled events, want 1", n)
			}
			if n := rowCount(t, raw, `SELECT count(*) FROM cancellations WHERE order_id = %d`, o.ID); n != 0 {
				t.Errorf("%d cancellations rows, want none (no one cancelled it here)", n)
			}
			if n := rowCount(t, raw, `SELECT coalesce(sum(cancelled_count), 0) FROM order_stats_hourly WHERE source = 'shopify'`); n != 1 {
				t.Errorf("analytics count %d cancels from shopify, want 1", n)
			}
			var sources []string
			err := db.ExportCancellations(ctx(t), day(4), day(5), func(r canceldesk.ExportRow) error {
				sources = append(sources, r.Source)
				return nil
			})
			if err != nil || !slices.Equal(sources, []string{canceldesk.SourceShopify}) {
				t.Errorf("export sources = %v, %v", sources, err)
			}
		})

		t.Run("NewOrderCancelledAtShopify", func(t *testing.T) {
			o := shopOrder("#3501", "3501", day(3), func(o *canceldesk.Order) {
				o.CancelledAt, o.CancelReason = ptr(day(3)), canceldesk.ReasonFraud
				o.FinancialStatus, o.RefundedAmount = canceldesk.FinancialRefunded, 3050
			})
			shopifyUpsert(t, db, o)
			got := storedOrder(t, db, o.ID)
			if got.LineItems[0].CancelledQuantity != 2 || got.LineItems[1].CancelledQuantity != 1 || got.RefundedSucceeded != 3050 {
				t.Errorf("order = %+v", got)
			}
			refunds, _ := db.Refunds(ctx(t), o.ID)
			if len(refunds) != 1 || refunds[0].Gateway != canceldesk.GatewayShopify || refunds[0].Status != canceldesk.RefundSucceeded {
				t.Errorf("refunds = %+v", refunds)
			}
			if n := rowCount(t, raw, `SELECT coalesce(sum(cancelled_count), 0) FROM order_stats_hourly WHERE source = 'shopify' AND reason = 'fraud'`); n != 1 {
				t.Errorf("analytics count %d fraud cancels from shopify, want 1", n)
			}
		})

		t.Run("RefundDifferenceRecordedOnce", func(t *testing.T) {
			o := shopOrder("#4001", "4001", day(3))
			shopifyUpsert(t, db, o)
			refunded := func(at time.Time, amount int64) *canceldesk.Order {
				return resync(o, at, func(o *canceldesk.Order) {
					o.RefundedAmount, o.FinancialStatus = amount, canceldesk.FinancialPartiallyRefunded
				})
			}
			shopifyUpsert(t, db, refunded(day(4), 1000))
			shopifyUpsert(t, db, refunded(day(5), 1000))
			shopifyUpsert(t, db, refunded(day(6), 1500))
			refunds, err := db.Refunds(ctx(t), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			var amounts []int64
			for _, r := range refunds {
				if r.Gateway != canceldesk.GatewayShopify || r.Status != canceldesk.RefundSucceeded || r.Kind != canceldesk.RefundKindRefund {
					t.Errorf("refund %+v", r)
				}
				amounts = append(amounts, r.Amount)
			}
			if !slices.Equal(amounts, []int64{1000, 500}) {
				t.Errorf("refund amounts = %v, want [1000 500]", amounts)
			}
			got := storedOrder(t, db, o.ID)
			b := canceldesk.BalanceOf(got, refunds)
			if got.RefundedSucceeded != 1500 || got.RefundedAmount != 1500 || b.Refunded != 1500 || b.Pending != 0 ||
				got.FinancialStatus != canceldesk.FinancialPartiallyRefunded {
				t.Errorf("order refunded %d/%d, balance %+v, status %s", got.RefundedSucceeded, got.RefundedAmount, b, got.FinancialStatus)
			}
			if n := countKind(eventKinds(t, db, o.ID), canceldesk.EventRefund); n != 2 {
				t.Errorf("%d refund events, want 2", n)
			}
		})

		t.Run("LocalCancellationUntouched", func(t *testing.T) {
			loc := stockedLocation(t, db)
			o := shopOrder("#5001", "5001", day(3))
			shopifyUpsert(t, db, o)
			if _, err := db.CancelOrder(ctx(t), cancelReq(o, loc, cancelKey(5001))); err != nil {
				t.Fatal(err)
			}
			before := storedOrder(t, db, o.ID)
			shopifyUpsert(t, db, resync(o, day(4), func(o *canceldesk.Order) {
				o.CancelledAt, o.CancelReason = ptr(day(4)), canceldesk.ReasonOther
				o.RefundedAmount, o.FinancialStatus = 3050, canceldesk.FinancialRefunded
			}))
			got := storedOrder(t, db, o.ID)
			if !got.CancelledAt.Equal(*before.CancelledAt) || got.CancelReason != before.CancelReason ||
				got.RefundedSucceeded != before.RefundedSucceeded || countKind(eventKinds(t, db, o.ID), canceldesk.EventShopifyCancelled) != 0 {
				t.Errorf("the local cancel changed: %+v → %+v", before, got)
			}
		})
	})
}

func TestShopifyWebhooks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		t.Run("DedupeUnderConcurrency", func(t *testing.T) {
			const n = 40
			dups := make([]bool, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dups[i], errs[i] = db.EnqueueWebhook(ctx(t), canceldesk.ShopifyWebhook{WebhookID: "wh-same",
						Topic: canceldesk.TopicOrdersUpdated, OrderID: "1", UpdatedAt: ptr(day(3)), ReceivedAt: day(3)})
				}()
			}
			wg.Wait()
			fresh := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("EnqueueWebhook %d: %v", i, errs[i])
				}
				if !dups[i] {
					fresh++
				}
			}
			s := shopifyState(t, db)
			if fresh != 1 || s.WebhooksPending != 1 || s.WebhooksReceived != n {
				t.Fatalf("%d queued, state %+v; want 1 queued of %d received", fresh, s, n)
			}
			claimed, err := db.ClaimWebhooks(ctx(t), 10, time.Minute)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("ClaimWebhooks = %+v, %v", claimed, err)
			}
			w := claimed[0]
			if w.WebhookID != "wh-same" || w.Topic != canceldesk.TopicOrdersUpdated || w.OrderID != "1" ||
				w.UpdatedAt == nil || !w.UpdatedAt.Equal(day(3)) || !w.ReceivedAt.Equal(day(3)) || w.Attempts != 1 {
				t.Errorf("claimed %+v", w)
			}
			if err := db.FinishWebhook(ctx(t), w.ID, ""); err != nil {
				t.Fatal(err)
			}
			if s := shopifyState(t, db); s.WebhooksPending != 0 {
				t.Errorf("pending after finish = %d", s.WebhooksPending)
			}
		})

		t.Run("LeasesAndRetries", func(t *testing.T) {
			now := fixedNow
			db.Now = func() time.Time { return now }
			t.Cleanup(func() { db.Now = func() time.Time { return fixedNow } })
			for i := range 20 {
				if _, err := db.EnqueueWebhook(ctx(t), canceldesk.ShopifyWebhook{WebhookID: fmt.Sprintf("wh-%02d", i),
					Topic: canceldesk.TopicOrdersCreate, OrderID: fmt.Sprint(i), ReceivedAt: day(3).Add(time.Duration(i) * time.Second)}); err != nil {
					t.Fatal(err)
				}
			}
			var (
				wg  sync.WaitGroup
				got [2][]canceldesk.ShopifyWebhook
				err [2]error
			)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i], err[i] = db.ClaimWebhooks(ctx(t), 15, time.Minute)
				}()
			}
			wg.Wait()
			seen := map[int64]bool{}
			for i := range 2 {
				if err[i] != nil {
					t.Fatal(err[i])
				}
				for _, w := range got[i] {
					if seen[w.ID] {
						t.Errorf("delivery %d claimed twice", w.ID)
					}
					seen[w.ID] = true
				}
			}
			if len(seen) != 20 {
				t.Fatalf("%d deliveries claimed, want 20", len(seen))
			}
			if again, _ := db.ClaimWebhooks(ctx(t), 50, time.Minute); len(again) != 0 {
				t.Fatalf("claimed %d leased deliveries", len(again))
			}
			for id := range seen {
				msg := ""
				if id == got[0][0].ID {
					msg = "Shopify answered 502"
				}
				if err := db.FinishWebhook(ctx(t), id, msg); err != nil {
					t.Fatal(err)
				}
			}
			if again, _ := db.ClaimWebhooks(ctx(t), 50, time.Minute); len(again) != 0 {
				t.Fatalf("a failed delivery was claimed again within its lease")
			}
			now = now.Add(time.Minute + time.Second)
			retry, err2 := db.ClaimWebhooks(ctx(t), 50, time.Minute)
			if err2 != nil || len(retry) != 1 || retry[0].ID != got[0][0].ID || retry[0].Attempts != 2 || retry[0].Error != "Shopify answered 502" {
				t.Fatalf("retry = %+v, %v", retry, err2)
			}
			if err := db.FinishWebhook(ctx(t), 1<<40, ""); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
				t.Errorf("FinishWebhook(unknown) = %v", err)
			}
		})
	})
}

// sameError reports whether two errors carry the same code, field, key and
// message.
func sameError(t *testing.T, what string, got, want error) {
	t.Helper()
	var g, w *canceldesk.Error
	if want == nil || !errors.As(got, &g) || !errors.As(want, &w) || !reflect.DeepEqual(*g, *w) {
		t.Errorf("%s: got %#v, want %#v (as CancelOrder)", what, got, want)
	}
}

func TestShopifyQueueCancelChecksAsCancelOrder(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db)
		if err := db.SaveSettings(ctx(t), canceldesk.Settings{StoreName: "Shop", StaffRefundLimit: map[string]int64{"USD": 1000}}, "owner"); err != nil {
			t.Fatal(err)
		}
		open, done := shopOrder("#6001", "6001", day(3)), shopOrder("#6002", "6002", day(3), func(o *canceldesk.Order) {
			o.CancelledAt, o.CancelReason = ptr(day(3)), canceldesk.ReasonOther
		})
		shopifyUpsert(t, db, open, done)
		for _, c := range []struct {
			name string
			req  canceldesk.CancelRequest
		}{
			{"bad reason", func() canceldesk.CancelRequest {
				r := cancelReq(open, loc, cancelKey(1))
				r.Reason = "bored"
				return r
			}()},
			{"no location", func() canceldesk.CancelRequest { r := cancelReq(open, loc, cancelKey(2)); r.LocationID = 0; return r }()},
			{"already cancelled", cancelReq(done, loc, cancelKey(3))},
			{"over the staff limit", func() canceldesk.CancelRequest {
				r := cancelReq(open, loc, cancelKey(4))
				r.ActorRole = canceldesk.RoleStaff
				return r
			}()},
		} {
			before := footprintOf(t, db, raw, c.req.OrderID)
			_, qerr := db.QueueShopifyCancel(ctx(t), c.req, false)
			sameFootprint(t, c.name, footprintOf(t, db, raw, c.req.OrderID), before)
			_, cerr := db.CancelOrder(ctx(t), c.req)
			if qerr == nil {
				t.Errorf("%s: queued", c.name)
				continue
			}
			sameError(t, c.name, qerr, cerr)
		}
		if n := rowCount(t, raw, `SELECT count(*) FROM shopify_calls`); n != 0 {
			t.Errorf("%d calls recorded by refused requests", n)
		}

		req := cancelReq(open, loc, cancelKey(10))
		req.ActorRole = canceldesk.RoleManager
		before := footprintOf(t, db, raw, open.ID)
		call, err := db.QueueShopifyCancel(ctx(t), req, true)
		if err != nil {
			t.Fatalf("QueueShopifyCancel: %v", err)
		}
		want := req
		want.Gateway = canceldesk.GatewayShopify
		if call.ID == 0 || call.OrderID != open.ID || call.ExternalID != "6001" || call.Kind != canceldesk.ShopifyCallCancel ||
			call.State != canceldesk.CallQueued || call.IdempotencyKey != req.IdempotencyKey || !call.ShopifyNotifies ||
			call.Cancel == nil || !reflect.DeepEqual(*call.Cancel, want) || !call.NextAt.Equal(fixedNow) {
			t.Fatalf("call = %+v", call)
		}
		after := footprintOf(t, db, raw, open.ID)
		if after.Events != before.Events+1 || countKind(eventKinds(t, db, open.ID), canceldesk.EventShopifyCancelSent) != 1 {
			t.Errorf("events %d → %d, want one shopify_cancel_sent", before.Events, after.Events)
		}
		after.Events = before.Events
		sameFootprint(t, "queueing a cancel", after, before)

		if again, err := db.QueueShopifyCancel(ctx(t), req, true); err != nil || again.ID != call.ID {
			t.Errorf("same key again = %+v, %v; want call %d", again, err, call.ID)
		}
		other := cancelReq(open, loc, cancelKey(11))
		if _, err := db.QueueShopifyCancel(ctx(t), other, false); canceldesk.ErrorCode(err) != canceldesk.ECONFLICT {
			t.Errorf("a second open call = %v, want ECONFLICT", err)
		}
		if got, err := db.OpenShopifyCall(ctx(t), open.ID); err != nil || got.ID != call.ID {
			t.Errorf("OpenShopifyCall = %+v, %v", got, err)
		}
		if _, err := db.OpenShopifyCall(ctx(t), done.ID); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			t.Errorf("OpenShopifyCall(no call) = %v", err)
		}
		if s := shopifyState(t, db); s.CallsPending != 1 {
			t.Errorf("CallsPending = %d, want 1", s.CallsPending)
		}
	})
}

func TestShopifyCompleteCancelWritesWhatCancelOrderWrites(t *testing.T) {
	for _, notifies := range []bool{false, true} {
		t.Run(fmt.Sprintf("ShopifyNotifies=%v", notifies), func(t *testing.T) {
			forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
				loc := stockedLocation(t, db)
				remote := shopOrder("#7001", "7001", day(3), func(o *canceldesk.Order) { o.LineItems[0].FulfilledQuantity = 1 })
				local := cancelOrder("#7002", func(o *canceldesk.Order) { o.LineItems[0].FulfilledQuantity = 1 })
				shopifyUpsert(t, db, remote)
				importOrders(t, db, local)

				call, err := db.QueueShopifyCancel(ctx(t), cancelReq(remote, loc, cancelKey(1)), notifies)
				if err != nil {
					t.Fatal(err)
				}
				// Shopify's job runs: its webhook arrives before the job is
				// polled; the open call leaves the cancel and its refund to
				// CompleteShopifyCall.
				shopifyUpsert(t, db, resync(remote, day(4), func(o *canceldesk.Order) {
					o.LineItems[0].FulfilledQuantity = 1
					o.CancelledAt, o.CancelReason = ptr(day(4)), canceldesk.ReasonInventory
					o.RefundedAmount, o.FinancialStatus = 2050, canceldesk.FinancialPartiallyRefunded
				}))
				if got := storedOrder(t, db, remote.ID); got.Cancelled() || got.RefundedSucceeded != 0 ||
					got.FinancialStatus != canceldesk.FinancialPaid {
					t.Fatalf("the sync applied what the open call owns: %+v", got)
				}
				if err := db.ShopifyCallAccepted(ctx(t), call.ID, "gid://shopify/Job/1"); err != nil {
					t.Fatal(err)
				}
				if due, err := db.DueShopifyCalls(ctx(t), fixedNow, 10); err != nil || len(due) != 1 || due[0].State != canceldesk.CallRunning ||
					due[0].JobID != "gid://shopify/Job/1" {
					t.Fatalf("DueShopifyCalls = %+v, %v", due, err)
				}
				if err := db.CompleteShopifyCall(ctx(t), call.ID); err != nil {
					t.Fatalf("CompleteShopifyCall: %v", err)
				}
				localReq := cancelReq(local, loc, cancelKey(2))
				if notifies {
					localReq.NotifyCustomer = false
				}
				if _, err := db.CancelOrder(ctx(t), localReq); err != nil {
					t.Fatal(err)
				}

				r, l := storedOrder(t, db, remote.ID), storedOrder(t, db, local.ID)
				for i := range r.LineItems {
					rl, ll := r.LineItems[i], l.LineItems[i]
					if rl.CancelledQuantity != ll.CancelledQuantity || rl.RestockedQuantity != ll.RestockedQuantity ||
						rl.RefundedQuantity != ll.RefundedQuantity || rl.FulfilledQuantity != ll.FulfilledQuantity {
						t.Errorf("line %d: Shopify %+v, local %+v", i, rl, ll)
					}
				}
				if r.RefundedAmount != l.RefundedAmount || r.RefundedSucceeded != l.RefundedSucceeded || r.FinancialStatus != l.FinancialStatus ||
					r.CancelReason != l.CancelReason || !r.Cancelled() || r.ShippingRefunded != l.ShippingRefunded {
					t.Errorf("order: Shopify %+v\nlocal %+v", r, l)
				}
				rr, _ := db.Refunds(ctx(t), remote.ID)
				lr, _ := db.Refunds(ctx(t), local.ID)
				if len(rr) != 1 || len(lr) != 1 || rr[0].Amount != lr[0].Amount || rr[0].Shipping != lr[0].Shipping ||
					rr[0].Status != canceldesk.RefundSucceeded || rr[0].Gateway != canceldesk.GatewayShopify || rr[0].CancellationID == 0 {
					t.Errorf("refunds: Shopify %+v, local %+v", rr, lr)
				}
				if rb, lb := canceldesk.BalanceOf(r, rr), canceldesk.BalanceOf(l, lr); rb.Refunded != lb.Refunded || rb.Pending != 0 ||
					rb.State() != lb.State() {
					t.Errorf("balance: Shopify %+v, local %+v", rb, lb)
				}
				for _, q := range []string{
					`SELECT count(*) FROM inventory_movements WHERE order_id = %d AND kind = 'cancel_restock'`,
					`SELECT coalesce(sum(delta), 0) FROM inventory_movements WHERE order_id = %d`,
					`SELECT count(*) FROM cancellations WHERE order_id = %d`,
					`SELECT count(*) FROM outbox WHERE order_id = %d`,
				} {
					if a, b := rowCount(t, raw, q, remote.ID), rowCount(t, raw, q, local.ID); a != b {
						t.Errorf("%s: Shopify %d, local %d", q, a, b)
					}
				}
				if n := rowCount(t, raw, `SELECT count(*) FROM outbox WHERE order_id = %d`, remote.ID); (n == 0) != notifies {
					t.Errorf("%d customer messages with ShopifyNotifies %v", n, notifies)
				}

				before := footprintOf(t, db, raw, remote.ID)
				if err := db.CompleteShopifyCall(ctx(t), call.ID); err != nil {
					t.Fatalf("CompleteShopifyCall again: %v", err)
				}
				sameFootprint(t, "completing a done call", footprintOf(t, db, raw, remote.ID), before)
				if c, err := db.ShopifyCall(ctx(t), call.ID); err != nil || c.State != canceldesk.CallDone {
					t.Errorf("call after = %+v, %v", c, err)
				}
				if _, err := db.OpenShopifyCall(ctx(t), remote.ID); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
					t.Errorf("OpenShopifyCall after done = %v", err)
				}
				// Shopify's refunded total now matches ours: a later sync adds no refund.
				shopifyUpsert(t, db, resync(remote, day(5), func(o *canceldesk.Order) {
					o.LineItems[0].FulfilledQuantity = 1
					o.CancelledAt, o.CancelReason = ptr(day(4)), canceldesk.ReasonInventory
					o.RefundedAmount, o.FinancialStatus = r.RefundedSucceeded, r.FinancialStatus
				}))
				if rr2, _ := db.Refunds(ctx(t), remote.ID); len(rr2) != 1 {
					t.Errorf("%d refunds after the later sync, want 1", len(rr2))
				}
			})
		})
	}
}

func TestShopifyCallRefusedAndBusy(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db)
		o := shopOrder("#8001", "8001", day(3))
		shopifyUpsert(t, db, o)
		call, err := db.QueueShopifyCancel(ctx(t), cancelReq(o, loc, cancelKey(1)), false)
		if err != nil {
			t.Fatal(err)
		}
		later := fixedNow.Add(time.Minute)
		if err := db.ShopifyCallBusy(ctx(t), call.ID, later, "Throttled"); err != nil {
			t.Fatal(err)
		}
		if due, _ := db.DueShopifyCalls(ctx(t), fixedNow, 10); len(due) != 0 {
			t.Errorf("a busy call is due before its time: %+v", due)
		}
		due, _ := db.DueShopifyCalls(ctx(t), later, 10)
		if len(due) != 1 || due[0].Attempts != 1 || due[0].Error != "Throttled" || due[0].State != canceldesk.CallQueued {
			t.Fatalf("due = %+v", due)
		}
		before := footprintOf(t, db, raw, o.ID)
		if err := db.ShopifyCallRefused(ctx(t), call.ID, "Order has been fulfilled"); err != nil {
			t.Fatal(err)
		}
		after := footprintOf(t, db, raw, o.ID)
		events, _ := db.Events(ctx(t), o.ID)
		last := events[len(events)-1]
		if last.Kind != canceldesk.EventShopifyRefused || last.Data.Note != "Order has been fulfilled" || after.Events != before.Events+1 {
			t.Errorf("last event = %+v", last)
		}
		after.Events = before.Events
		sameFootprint(t, "a refused call", after, before)
		if c, _ := db.ShopifyCall(ctx(t), call.ID); c.State != canceldesk.CallFailed || c.Error != "Order has been fulfilled" {
			t.Errorf("call = %+v", c)
		}
		if err := db.CompleteShopifyCall(ctx(t), call.ID); canceldesk.ErrorCode(err) != canceldesk.ECONFLICT {
			t.Errorf("completing a failed call = %v, want ECONFLICT", err)
		}
		if _, err := db.ShopifyCall(ctx(t), 1<<40); canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			t.Errorf("ShopifyCall(unknown) = %v", err)
		}
		// The order is free for a new call.
		if _, err := db.QueueShopifyCancel(ctx(t), cancelReq(o, loc, cancelKey(2)), false); err != nil {
			t.Errorf("a new call after a refusal: %v", err)
		}
	})
}

func TestShopifyRestockCall(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db)
		o := shopOrder("#9001", "9001", day(3))
		shopifyUpsert(t, db, o)
		restock := canceldesk.RestockRequest{OrderID: o.ID, LocationID: loc.ID, IdempotencyKey: "restock-key-0000001", Actor: "staff@example.com"}
		_, qerr := db.QueueShopifyRestock(ctx(t), restock)
		if qerr == nil {
			t.Fatal("a restock with nothing to restock was queued")
		}
		sameError(t, "nothing to restock", qerr, db.RestockOrder(ctx(t), restock))

		req := cancelReq(o, loc, cancelKey(1))
		req.Restock = false
		if _, err := db.CancelOrder(ctx(t), req); err != nil {
			t.Fatal(err)
		}
		got := storedOrder(t, db, o.ID)
		restock.Lines = []canceldesk.RestockLineRequest{{LineItemID: got.LineItems[0].ID, Quantity: 2},
			{LineItemID: got.LineItems[1].ID, Quantity: 1}}
		call, err := db.QueueShopifyRestock(ctx(t), restock)
		if err != nil {
			t.Fatalf("QueueShopifyRestock: %v", err)
		}
		if call.Kind != canceldesk.ShopifyCallRestock || call.Restock == nil || !reflect.DeepEqual(*call.Restock, restock) ||
			countKind(eventKinds(t, db, o.ID), canceldesk.EventShopifyRestockSent) != 1 {
			t.Fatalf("call = %+v", call)
		}
		if stock, _ := db.Stock(ctx(t), []string{"MUG"}); onHand(stock, "MUG") != 5 {
			t.Errorf("queueing restocked: %+v", stock)
		}
		if err := db.CompleteShopifyCall(ctx(t), call.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.CompleteShopifyCall(ctx(t), call.ID); err != nil {
			t.Fatal(err)
		}
		stock, _ := db.Stock(ctx(t), []string{"MUG", "BOWL"})
		got = storedOrder(t, db, o.ID)
		if onHand(stock, "MUG") != 7 || onHand(stock, "BOWL") != 6 || got.LineItems[0].RestockedQuantity != 2 {
			t.Errorf("after the restock call: stock %+v, lines %+v", stock, got.LineItems)
		}
		if n := rowCount(t, raw, `SELECT count(*) FROM inventory_movements WHERE order_id = %d AND kind = 'manual'`, o.ID); n != 2 {
			t.Errorf("%d manual movements, want 2", n)
		}
	})
}

func TestShopifyPendingRefundJob(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		loc := stockedLocation(t, db)
		o := shopOrder("#9501", "9501", day(3), func(o *canceldesk.Order) {
			o.Location, o.LocationExternalID = "Main", "gid://shopify/Location/1"
			o.PaymentMethod = canceldesk.GatewayShopify
		})
		shopifyUpsert(t, db, o)
		if locs, err := db.Locations(ctx(t)); err != nil || len(locs) != 1 ||
			locs[0] != (canceldesk.Location{ID: loc.ID, Name: "Main", ExternalID: "gid://shopify/Location/1"}) {
			t.Fatalf("Locations = %+v, %v; want Main with Shopify's id", locs, err)
		}
		req := cancelReq(o, loc, cancelKey(1))
		req.Gateway = canceldesk.GatewayShopify
		if _, err := db.CancelOrder(ctx(t), req); err != nil {
			t.Fatal(err)
		}
		jobs, err := db.PendingRefunds(ctx(t), 10)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("PendingRefunds = %+v, %v", jobs, err)
		}
		want := []canceldesk.RefundJobLine{
			{ExternalID: "gid://shopify/LineItem/95011", Quantity: 2, Restock: true, LocationExternalID: "gid://shopify/Location/1"},
			{ExternalID: "gid://shopify/LineItem/95012", Quantity: 1, Restock: true, LocationExternalID: "gid://shopify/Location/1"},
		}
		if jobs[0].ExternalID != "9501" || !reflect.DeepEqual(jobs[0].Lines, want) {
			t.Errorf("job = %+v, lines %+v; want lines %+v", jobs[0], jobs[0].Lines, want)
		}

		// A refund after the cancel: its own plan's lines, one restocked.
		o2 := shopOrder("#9502", "9502", day(3), func(o *canceldesk.Order) {
			o.Location, o.LocationExternalID = "Main", "gid://shopify/Location/1"
			o.PaymentMethod = canceldesk.GatewayShopify
			o.LineItems[1].FulfilledQuantity = 1
		})
		shopifyUpsert(t, db, o2)
		stored := storedOrder(t, db, o2.ID)
		_, err = db.RefundOrder(ctx(t), canceldesk.RefundRequest{OrderID: o2.ID, Method: canceldesk.MethodOriginal,
			Gateway: canceldesk.GatewayShopify, IdempotencyKey: "refund-key-00000001", Actor: "staff@example.com",
			ActorRole: canceldesk.RoleManager, Lines: []canceldesk.RefundLineRequest{
				{LineItemID: stored.LineItems[0].ID, Quantity: 1, Restock: canceldesk.RestockCancel, LocationID: loc.ID},
				{LineItemID: stored.LineItems[1].ID, Quantity: 1, Restock: canceldesk.RestockReturnNoRestock},
			}})
		if err != nil {
			t.Fatalf("RefundOrder: %v", err)
		}
		jobs, err = db.PendingRefunds(ctx(t), 10)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("PendingRefunds = %+v, %v", jobs, err)
		}
		want = []canceldesk.RefundJobLine{
			{ExternalID: "gid://shopify/LineItem/95021", Quantity: 1, Restock: true, LocationExternalID: "gid://shopify/Location/1"},
			{ExternalID: "gid://shopify/LineItem/95022", Quantity: 1},
		}
		if jobs[1].ExternalID != "9502" || !reflect.DeepEqual(jobs[1].Lines, want) {
			t.Errorf("refund job = %+v, lines %+v; want lines %+v", jobs[1], jobs[1].Lines, want)
		}
	})
}

func TestShopifyStateAndSettings(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		if s := shopifyState(t, db); s != (canceldesk.ShopifyState{}) {
			t.Errorf("new state = %+v", s)
		}
		if err := db.SaveSyncProgress(ctx(t), "cursor-1"); err != nil {
			t.Fatal(err)
		}
		if s := shopifyState(t, db); s.SyncCursor != "cursor-1" {
			t.Errorf("cursor = %q", s.SyncCursor)
		}
		if err := db.SaveSyncProgress(ctx(t), ""); err != nil {
			t.Fatal(err)
		}
		if err := db.SyncFinished(ctx(t), day(5), "Shopify answered 401"); err != nil {
			t.Fatal(err)
		}
		s := shopifyState(t, db)
		if s.SyncCursor != "" || s.OrdersSynced != 0 || s.LastSyncAt == nil || !s.LastSyncAt.Equal(day(5)) ||
			s.LastError != "Shopify answered 401" || s.LastErrorAt == nil || !s.LastErrorAt.Equal(day(5)) {
			t.Errorf("state = %+v", s)
		}
		if err := db.SyncFinished(ctx(t), day(6), ""); err != nil {
			t.Fatal(err)
		}
		if s := shopifyState(t, db); s.LastError != "" || s.LastErrorAt != nil || !s.LastSyncAt.Equal(day(6)) {
			t.Errorf("state after a good pass = %+v", s)
		}

		settings := canceldesk.DefaultSettings()
		if settings.ShopifyNotifies {
			t.Error("ShopifyNotifies is on by default")
		}
		settings.ShopifyNotifies = true
		if err := db.SaveSettings(ctx(t), settings, "owner"); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Settings(ctx(t)); err != nil || !got.ShopifyNotifies {
			t.Errorf("Settings = %+v, %v", got, err)
		}
	})
}
