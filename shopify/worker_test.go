package shopify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/shopify"
	"github.com/canceldesk/canceldesk/store"
)

// eachStore runs fn on a fresh SQLite store and a fresh PostgreSQL one.
func eachStore(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dsn := t.TempDir() + "/shopify.db"
			if dialect == "postgres" {
				dsn = testenv.PostgresSchema(t)
			}
			db, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			fn(t, db)
		})
	}
}

// newWorker connects a worker to the stand-in. The client's waits move the
// stand-in's clock instead of sleeping, so throttling costs no real time.
func newWorker(t *testing.T, st canceldesk.ShopifyStore, db *store.DB, sv *shopifytest.Server) (*shopify.Worker, *shopify.Client) {
	t.Helper()
	c, err := shopify.NewClient(sv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Sleep = func(ctx context.Context, d time.Duration) error { sv.Advance(d); return ctx.Err() }
	w := &shopify.Worker{Store: st, API: c, Config: sv.Config(), PollWait: time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if st != canceldesk.ShopifyStore(db) {
		w.Orders = db // a store wrapped for a fault reads orders from the real one
	}
	return w, c
}

// shopWith starts a stand-in with one order as spec says, a worker on db,
// and brings the order in.
func shopWith(t *testing.T, db *store.DB, spec shopifytest.OrderSpec, opts ...shopifytest.Option) (
	*shopifytest.Server, string, *shopify.Worker, *shopify.Client, *canceldesk.Order) {
	t.Helper()
	sv := shopifytest.New(t, opts...)
	id := sv.AddOrder(spec)
	w, c := newWorker(t, db, db, sv)
	return sv, id, w, c, syncOne(t, w, db, id)
}

// syncOne brings the stand-in's order id in, as a webhook would, and
// returns it as stored here.
func syncOne(t *testing.T, w *shopify.Worker, db *store.DB, id string) *canceldesk.Order {
	t.Helper()
	ctx := context.Background()
	o, err := w.API.Order(ctx, id)
	if err != nil || o == nil {
		t.Fatalf("reading order %s from the stand-in: %v", id, err)
	}
	if _, err := db.UpsertShopifyOrders(ctx, []*canceldesk.Order{o}); err != nil {
		t.Fatal(err)
	}
	return localOrder(t, db, o.Name)
}

func localOrder(t *testing.T, db *store.DB, name string) *canceldesk.Order {
	t.Helper()
	ctx := context.Background()
	page, err := db.ListOrders(ctx, canceldesk.OrderFilter{Query: name})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range page.Orders {
		if s.Name == name {
			o, err := db.Order(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
	}
	t.Fatalf("order %s is not stored", name)
	return nil
}

// stopAfter is the client whose context ends once pages pages were read
// and stored: an interrupted backfill (Ctrl-C) between two pages.
type stopAfter struct {
	shopify.API
	pages  int
	cancel context.CancelFunc
}

func (s *stopAfter) Orders(ctx context.Context, q, after string, first int) (shopify.OrdersPage, error) {
	if s.pages--; s.pages < 0 {
		s.cancel()
	}
	return s.API.Orders(ctx, q, after, first)
}

// TestShopifyWorkerBackfill syncs a few thousand orders over many pages,
// is interrupted after the second page and resumes, and a second run
// changes nothing.
func TestShopifyWorkerBackfill(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sv := shopifytest.New(t)
		ids := sv.AddOrders(2000)
		var want canceldesk.ShopifySyncCount
		for _, id := range ids {
			n := sv.Order(id)
			want.Orders++
			want.LineItems += len(n.LineItems.Nodes)
			if n.CancelledAt != nil {
				want.Cancelled++
			}
		}
		w, _ := newWorker(t, db, db, sv)

		ictx, cancel := context.WithCancel(ctx)
		real := w.API
		w.API = &stopAfter{API: real, pages: 2, cancel: cancel}
		first, err := w.Backfill(ictx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted backfill: err = %v, want context.Canceled", err)
		}
		st, err := db.ShopifyState(ctx)
		if err != nil || st.SyncCursor == "" {
			t.Fatalf("after the interruption the cursor is %q (%v), want where to resume", st.SyncCursor, err)
		}
		if first.Orders == 0 || first.Orders >= want.Orders {
			t.Fatalf("interrupted after 2 pages: %d orders synced of %d", first.Orders, want.Orders)
		}

		w.API = real
		pagesBefore := len(sv.Requests("orders"))
		rest, err := w.Backfill(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := db.CountOrders(ctx); n != int64(want.Orders) {
			t.Errorf("orders stored = %d, want %d (none twice)", n, want.Orders)
		}
		if got := first.Created + rest.Created; got != want.Orders {
			t.Errorf("created over both runs = %d, want %d", got, want.Orders)
		}
		// The resumed run starts at the cursor, not at the first page.
		if q := sv.Requests("orders")[pagesBefore]; q.Variables["after"] == nil {
			t.Errorf("the resumed run asked for the first page again")
		}
		if rest.Orders != want.Orders-first.Orders {
			t.Errorf("resumed run synced %d orders after %d, want the rest of %d and no page twice", rest.Orders, first.Orders, want.Orders)
		}
		st, _ = db.ShopifyState(ctx)
		if st.SyncCursor != "" || st.LastSyncAt == nil || st.LastSeenUpdatedAt == nil {
			t.Errorf("state after the backfill: %+v", st)
		}

		again, err := w.Backfill(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again.Created != 0 || again.Updated != 0 || again.Orders != want.Orders ||
			again.LineItems != want.LineItems || again.Cancelled != want.Cancelled {
			t.Errorf("second run = %+v, want %d orders, %d line items, %d cancelled, 0 created, 0 updated",
				again, want.Orders, want.LineItems, want.Cancelled)
		}
		if got, wantLine := shopify.SyncSummary(again), "synced 2000 orders"; !strings.HasPrefix(got, wantLine) {
			t.Errorf("summary = %q", got)
		}
		// Every order stored counts once: the run that changed nothing adds none.
		if st, _ := db.ShopifyState(ctx); st.OrdersSynced != int64(want.Orders) {
			t.Errorf("OrdersSynced = %d, want %d", st.OrdersSynced, want.Orders)
		}
	})
}

// TestShopifyWorkerWebhooksOutOfOrder: the newer delivery is processed
// first; the older one, arriving late, changes nothing and reads nothing.
func TestShopifyWorkerWebhooksOutOfOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sv, id, w, _, o := shopWith(t, db, shopifytest.OrderSpec{Email: "ann@example.com"})
		older := o.ShopifyUpdatedAt.Add(time.Minute)
		newer := o.ShopifyUpdatedAt.Add(2 * time.Minute)
		sv.SetOrder(id, func(n *shopify.OrderNode) { n.Note = "Gift wrap, please"; n.UpdatedAt = newer })

		for i, at := range []time.Time{newer, older} {
			if _, err := db.EnqueueWebhook(ctx, canceldesk.ShopifyWebhook{WebhookID: []string{"wh-new", "wh-old"}[i],
				Topic: canceldesk.TopicOrdersUpdated, OrderID: id, UpdatedAt: &at, ReceivedAt: time.Now().UTC()}); err != nil {
				t.Fatal(err)
			}
		}
		reads := len(sv.Requests("order"))
		if err := w.ProcessWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(sv.Requests("order")) - reads; got != 1 {
			t.Errorf("orders read for two deliveries = %d, want 1 (the older delivery is older than what is stored)", got)
		}
		got := localOrder(t, db, o.Name)
		if got.Notes != "Gift wrap, please" || got.ShopifyUpdatedAt == nil || !got.ShopifyUpdatedAt.Equal(newer) {
			t.Errorf("order after the deliveries: note %q, updated %v; want the newer state", got.Notes, got.ShopifyUpdatedAt)
		}
		st, _ := db.ShopifyState(ctx)
		if st.WebhooksPending != 0 || st.WebhooksReceived != 2 {
			t.Errorf("webhooks pending %d, received %d; want 0 and 2", st.WebhooksPending, st.WebhooksReceived)
		}
	})
}

// eventually waits up to 10s for ok.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
	}
}

// TestShopifyWorkerRun: the running worker reconciles at start, brings in
// an order a webhook names, and sends a queued cancel on its own.
func TestShopifyWorkerRun(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sv := shopifytest.New(t, shopifytest.WithJobPolls(1))
		sv.AddOrders(5)
		w, _ := newWorker(t, db, db, sv)
		stopped := make(chan struct{})
		go func() { w.Run(ctx); close(stopped) }()
		defer func() { cancel(); <-stopped }()
		eventually(t, "the start's reconciliation stored the shop's orders", func() bool {
			n, _ := db.CountOrders(ctx)
			st, _ := db.ShopifyState(ctx)
			return n == 5 && st.LastSyncAt != nil && !w.Syncing()
		})

		id := sv.AddOrder(shopifytest.OrderSpec{Email: "new@example.com"})
		name := sv.Order(id).Name
		now := time.Now().UTC()
		if _, err := db.EnqueueWebhook(ctx, canceldesk.ShopifyWebhook{WebhookID: "wh-run-1", Topic: canceldesk.TopicOrdersCreate,
			OrderID: id, UpdatedAt: &now, ReceivedAt: now}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the webhook's order is stored", func() bool {
			n, _ := db.CountOrders(ctx)
			return n == 6
		})

		o := localOrder(t, db, name)
		call := queueCancel(t, db, cancelReq(o, "run-loop-cancel-0001"), true)
		eventually(t, "the queued cancel is sent and applied", func() bool {
			c, err := db.ShopifyCall(ctx, call.ID)
			return err == nil && c.State == canceldesk.CallDone
		})
		if v := sv.Requests("orderCancel")[0].Variables; v["notifyCustomer"] != true {
			t.Errorf("Shopify notifies: notifyCustomer = %v, want true", v["notifyCustomer"])
		}
		if !localOrder(t, db, name).Cancelled() {
			t.Error("the order is not cancelled here")
		}
	})
}

// TestShopifyWorkerKick: a call queued by a committed write is sent when
// the store's after-commit hook kicks the worker, not at the loop's next
// tick (an hour away here).
func TestShopifyWorkerKick(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sv := shopifytest.New(t, shopifytest.WithJobPolls(1))
		id := sv.AddOrder(shopifytest.OrderSpec{Email: "kick@example.com"})
		w, _ := newWorker(t, db, db, sv)
		w.CallsEvery = time.Hour
		if _, err := w.Backfill(ctx); err != nil {
			t.Fatal(err)
		}
		db.OnCommit(w.Kick)
		stopped := make(chan struct{})
		go func() { w.Run(ctx); close(stopped) }()
		defer func() { cancel(); <-stopped }()

		o := localOrder(t, db, sv.Order(id).Name)
		call := queueCancel(t, db, cancelReq(o, "kick-loop-cancel-0001"), false)
		eventually(t, "the kicked worker sent the queued cancel", func() bool {
			c, err := db.ShopifyCall(ctx, call.ID)
			return err == nil && c.State == canceldesk.CallDone
		})
		if n := len(sv.Requests("orderCancel")); n != 1 {
			t.Errorf("orderCancel sent %d times, want 1", n)
		}
	})
}
