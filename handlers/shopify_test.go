package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
	"github.com/canceldesk/canceldesk/store"
)

// shopifyApp is the dashboard connected to a stand-in shop through the
// real client and worker, on a real store.
type shopifyApp struct {
	*testApp
	shop   *shopifytest.Server
	worker *shopify.Worker
}

// newShopifyApp connects a fresh dashboard to a fresh stand-in shop. The
// worker's loop does not run: tests call its steps (SendDue, Backfill).
func newShopifyApp(t testing.TB, opts ...shopifytest.Option) *shopifyApp {
	t.Helper()
	shop := shopifytest.New(t, opts...)
	w := newWorker(t, shop)
	a := newTestApp(t, func(cfg *handlers.Config) {
		db := cfg.Store.(*store.DB)
		w.Store, w.Orders = db, db
		cfg.Shopify, cfg.ShopifyStore = w, db
	})
	return &shopifyApp{testApp: a, shop: shop, worker: w}
}

// newWorker is a worker of the stand-in shop whose client never waits
// for real between tries (the stand-in's clock moves instead); its
// store is set by the caller.
func newWorker(t testing.TB, shop *shopifytest.Server) *shopify.Worker {
	t.Helper()
	api, err := shopify.NewClient(shop.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	api.Sleep = func(ctx context.Context, d time.Duration) error {
		shop.Advance(d)
		return ctx.Err()
	}
	return &shopify.Worker{API: api, Config: shop.Config(), PollWait: 5 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// waitUntil polls cond for up to 10 seconds.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func TestShopifySettingsCard(t *testing.T) {
	t.Run("NotConnectedSaysHow", func(t *testing.T) {
		a := newTestApp(t)
		_, doc := a.get(t, "/settings")
		if got := doc.Find("#shopify .shopify-not-connected").Text(); !strings.Contains(got, "SHOPIFY_SHOP") || !strings.Contains(got, "README") {
			t.Errorf("card = %q", got)
		}
		if doc.Find(`input[name="cancel_emails"]`).Length() != 0 {
			t.Error("the email choice is offered without a connection")
		}
		if res, _ := a.post(t, "/settings/shopify/sync", nil); res.StatusCode != 404 {
			t.Errorf("Sync now without a connection: status %d", res.StatusCode)
		}
	})

	t.Run("ShowsTheConnectionsState", func(t *testing.T) {
		a := newShopifyApp(t)
		ctx := context.Background()
		body := []byte(`{"id":4001,"updated_at":"2026-12-04T10:00:00Z"}`)
		h := signedDelivery(a.shop.Secret(), "orders/create", "wh-s1", body)
		a.deliver(t, body, h)
		a.deliver(t, body, h)
		at := time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
		if err := a.db.SyncFinished(ctx, at, "Shopify answered 401: the access token was refused"); err != nil {
			t.Fatal(err)
		}
		_, doc := a.get(t, "/settings")
		card := doc.Find("#shopify")
		for sel, want := range map[string]string{
			".shopify-shop": a.shop.Shop(), ".shopify-webhooks": "2 received · 1 waiting", ".shopify-calls": "0",
			".shopify-orders": "0", ".shopify-last-sync": "Dec 4, 2026",
		} {
			if got := strings.TrimSpace(card.Find(sel).Text()); !strings.Contains(got, want) {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
		if got := card.Find(".shopify-last-error").Text(); !strings.Contains(got, "access token was refused") || !strings.Contains(got, "Dec 4, 2026") {
			t.Errorf("last error = %q", got)
		}
	})

	t.Run("SyncNowIsForManagersWithCSRF", func(t *testing.T) {
		a := newShopifyApp(t)
		staff := a.signedIn(t, canceldesk.RoleStaff)
		if res, _ := staff.post(t, "/settings/shopify/sync", nil); res.StatusCode != 403 {
			t.Errorf("staff: status %d, want 403", res.StatusCode)
		}
		manager := a.signedIn(t, canceldesk.RoleManager)
		if res, _ := manager.post(t, "/settings/shopify/sync", url.Values{"_csrf": {"forged"}}); res.StatusCode != 403 {
			t.Errorf("forged token: status %d, want 403", res.StatusCode)
		}
		if st := a.state(t); st.LastSyncAt != nil {
			t.Fatalf("a refused Sync now synced: %+v", st)
		}
		res, _ := manager.post(t, "/settings/shopify/sync", nil)
		if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/settings?saved=shopify") {
			t.Fatalf("status %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		waitUntil(t, "the pass has ended", func() bool { return a.state(t).LastSyncAt != nil })
		if len(a.shop.Requests("orders")) == 0 {
			t.Error("Sync now asked Shopify for nothing")
		}
		_, doc := manager.get(t, res.Header.Get("Location"))
		if got := doc.Find(".toast").Text(); got != "A sync with Shopify has started." {
			t.Errorf("toast = %q", got)
		}
	})

	t.Run("WhoEmailsTheCustomerIsSavedWithTheSettings", func(t *testing.T) {
		a := newShopifyApp(t)
		manager := a.signedIn(t, canceldesk.RoleManager)
		manager.get(t, "/settings")
		for _, tc := range []struct {
			choice string
			want   bool
		}{{"shopify", true}, {"canceldesk", false}} {
			res, _ := manager.post(t, "/settings", url.Values{"store_name": {"Tea House"}, "cancel_emails": {tc.choice}})
			if res.StatusCode != 303 {
				t.Fatalf("%s: status %d", tc.choice, res.StatusCode)
			}
			st, err := a.db.Settings(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.ShopifyNotifies != tc.want || st.StoreName != "Tea House" {
				t.Errorf("%s: ShopifyNotifies = %v, store %q", tc.choice, st.ShopifyNotifies, st.StoreName)
			}
			_, doc := manager.get(t, "/settings")
			if v, _ := doc.Find(`input[name="cancel_emails"]:checked`).Attr("value"); v != tc.choice {
				t.Errorf("%s: the form shows %q checked", tc.choice, v)
			}
		}
		// A form refused for another field keeps the choice as made, unsaved.
		res, doc := manager.post(t, "/settings", url.Values{"store_name": {"Tea House"}, "cancel_emails": {"shopify"}, "alert_rate": {"150"}})
		if v, _ := doc.Find(`input[name="cancel_emails"]:checked`).Attr("value"); res.StatusCode != 400 || v != "shopify" {
			t.Errorf("refused form: status %d, %q checked", res.StatusCode, v)
		}
		if st, err := a.db.Settings(context.Background()); err != nil || st.ShopifyNotifies {
			t.Errorf("the refused form was saved: %+v %v", st, err)
		}
	})
}
