package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
)

// deliver posts a webhook delivery as Shopify sends it: no cookie, no CSRF
// token, the raw body and Shopify's headers.
func (a *shopifyApp) deliver(t testing.TB, body []byte, h http.Header) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/shopify", bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := a.anonymous().roundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(msg)
}

// signedDelivery is a delivery of topic with body, signed with secret.
func signedDelivery(secret, topic, webhookID string, body []byte) http.Header {
	h := http.Header{}
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Hmac-Sha256", shopify.Sign(secret, body))
	h.Set("X-Shopify-Webhook-Id", webhookID)
	h.Set("X-Shopify-Shop-Domain", "test-shop.myshopify.com")
	return h
}

// queued claims every delivery waiting in the queue.
func (a *shopifyApp) queued(t testing.TB) []canceldesk.ShopifyWebhook {
	t.Helper()
	ws, err := a.db.ClaimWebhooks(context.Background(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func (a *shopifyApp) state(t testing.TB) canceldesk.ShopifyState {
	t.Helper()
	st, err := a.db.ShopifyState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestShopifyWebhook(t *testing.T) {
	// An id past 2^53: read through a float64 it would come out as …992.
	const bigID = "9007199254740993"
	orderBody := []byte(`{"id":` + bigID + `,"admin_graphql_api_id":"gid://shopify/Order/` + bigID +
		`","updated_at":"2026-12-04T10:15:00-05:00","line_items":[]}`)

	t.Run("GoodSignatureIsQueued", func(t *testing.T) {
		a := newShopifyApp(t)
		status, _ := a.deliver(t, orderBody, signedDelivery(a.shop.Secret(), "orders/updated", "wh-1", orderBody))
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		ws := a.queued(t)
		if len(ws) != 1 {
			t.Fatalf("queued %d deliveries, want 1", len(ws))
		}
		w := ws[0]
		want := time.Date(2026, 12, 4, 15, 15, 0, 0, time.UTC)
		if w.WebhookID != "wh-1" || w.Topic != "orders/updated" || w.OrderID != bigID || w.UpdatedAt == nil || !w.UpdatedAt.Equal(want) {
			t.Errorf("queued %+v (updated %v), want wh-1, orders/updated, %s, %v", w, w.UpdatedAt, bigID, want)
		}
	})

	t.Run("StandInDeliveryIsQueued", func(t *testing.T) {
		a := newShopifyApp(t)
		id := a.shop.AddOrder(shopifytest.OrderSpec{Lines: []shopifytest.LineSpec{{Name: "Teapot", Quantity: 1, Price: "30.00"}}})
		body, h := a.shop.Webhook("orders/create", id)
		if status, msg := a.deliver(t, body, h); status != 200 {
			t.Fatalf("status %d: %s", status, msg)
		}
		ws := a.queued(t)
		if len(ws) != 1 || ws[0].OrderID != id || ws[0].Topic != "orders/create" ||
			ws[0].WebhookID != h.Get("X-Shopify-Webhook-Id") {
			t.Fatalf("queued %+v", ws)
		}
	})

	t.Run("RefundUsesOrderIDAndCreatedAt", func(t *testing.T) {
		a := newShopifyApp(t)
		body := []byte(`{"id":890088186047892319,"order_id":` + bigID + `,"created_at":"2026-12-04T16:00:00Z","refund_line_items":[]}`)
		if status, _ := a.deliver(t, body, signedDelivery(a.shop.Secret(), "refunds/create", "wh-r", body)); status != 200 {
			t.Fatalf("status %d", status)
		}
		ws := a.queued(t)
		if len(ws) != 1 || ws[0].OrderID != bigID || ws[0].UpdatedAt == nil ||
			!ws[0].UpdatedAt.Equal(time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)) {
			t.Fatalf("queued %+v", ws)
		}
	})

	t.Run("BadOrMissingSignatureIs401AndNothingQueued", func(t *testing.T) {
		a := newShopifyApp(t)
		bad := signedDelivery("another-secret", "orders/create", "wh-bad", orderBody)
		missing := signedDelivery(a.shop.Secret(), "orders/create", "wh-missing", orderBody)
		missing.Del("X-Shopify-Hmac-Sha256")
		tampered := signedDelivery(a.shop.Secret(), "orders/create", "wh-tampered", orderBody)
		notBase64 := signedDelivery(a.shop.Secret(), "orders/create", "wh-garbled", orderBody)
		notBase64.Set("X-Shopify-Hmac-Sha256", "%%%")
		for name, tc := range map[string]struct {
			h    http.Header
			body []byte
		}{
			"wrong secret": {bad, orderBody}, "missing": {missing, orderBody}, "not base64": {notBase64, orderBody},
			"body changed": {tampered, bytes.Replace(orderBody, []byte("10:15"), []byte("11:15"), 1)},
		} {
			status, msg := a.deliver(t, tc.body, tc.h)
			if status != 401 || !strings.Contains(msg, "signature") || len(msg) > 100 {
				t.Errorf("%s: status %d, %q", name, status, msg)
			}
		}
		if st := a.state(t); st.WebhooksReceived != 0 || len(a.queued(t)) != 0 {
			t.Fatalf("refused deliveries were counted or queued: %+v", st)
		}
	})

	t.Run("ReplayedWebhookIsQueuedOnce", func(t *testing.T) {
		a := newShopifyApp(t)
		h := signedDelivery(a.shop.Secret(), "orders/updated", "wh-replayed", orderBody)
		for i := 0; i < 3; i++ {
			if status, _ := a.deliver(t, orderBody, h); status != 200 {
				t.Fatalf("delivery %d: status %d", i+1, status)
			}
		}
		if ws := a.queued(t); len(ws) != 1 {
			t.Fatalf("queued %d, want 1", len(ws))
		}
		if st := a.state(t); st.WebhooksReceived != 3 {
			t.Errorf("received %d, want 3 (a repeat is counted, not queued)", st.WebhooksReceived)
		}
	})

	t.Run("FortyIdenticalDeliveriesAtOnceQueueOne", func(t *testing.T) {
		a := newShopifyApp(t)
		h := signedDelivery(a.shop.Secret(), "orders/create", "wh-storm", orderBody)
		var wg sync.WaitGroup
		statuses := make([]int, 40)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], _ = a.deliver(t, orderBody, h)
			}()
		}
		wg.Wait()
		for i, s := range statuses {
			if s != 200 {
				t.Errorf("delivery %d: status %d", i, s)
			}
		}
		if ws := a.queued(t); len(ws) != 1 {
			t.Fatalf("queued %d, want 1", len(ws))
		}
	})

	t.Run("BodyUpToOneMiBIsTakenAndHugeIs413", func(t *testing.T) {
		a := newShopifyApp(t)
		// Over the 256 KiB of a form, within the webhook's 1 MiB.
		big := []byte(`{"id":5001,"updated_at":"2026-12-04T10:00:00Z","note":"` + strings.Repeat("x", 600<<10) + `"}`)
		if status, msg := a.deliver(t, big, signedDelivery(a.shop.Secret(), "orders/updated", "wh-big", big)); status != 200 {
			t.Fatalf("600 KiB delivery: status %d %.80s", status, msg)
		}
		huge := []byte(`{"id":5002,"updated_at":"2026-12-04T10:00:00Z","note":"` + strings.Repeat("x", 2<<20) + `"}`)
		if status, _ := a.deliver(t, huge, signedDelivery(a.shop.Secret(), "orders/updated", "wh-huge", huge)); status != 413 {
			t.Fatalf("2 MiB delivery: status %d, want 413", status)
		}
		ws := a.queued(t)
		if len(ws) != 1 || ws[0].OrderID != "5001" {
			t.Fatalf("queued %+v, want only the 600 KiB one", ws)
		}
	})

	t.Run("MalformedPayloadWithGoodSignatureIs400", func(t *testing.T) {
		a := newShopifyApp(t)
		for i, body := range []string{
			`{"id":`, `not json`, `[]`, `null`, `{"updated_at":"2026-12-04T10:00:00Z"}`,
			`{"id":1.5,"updated_at":"2026-12-04T10:00:00Z"}`, `{"id":-7}`, `{"id":"abc"}`,
			`{"id":12,"updated_at":"yesterday"}`,
		} {
			b := []byte(body)
			status, _ := a.deliver(t, b, signedDelivery(a.shop.Secret(), "orders/updated", fmt.Sprintf("wh-m%d", i), b))
			if status != 400 {
				t.Errorf("%s: status %d, want 400", body, status)
			}
		}
		missingID := signedDelivery(a.shop.Secret(), "orders/updated", "", orderBody)
		if status, _ := a.deliver(t, orderBody, missingID); status != 400 {
			t.Errorf("no webhook id: status %d, want 400", status)
		}
		if ws := a.queued(t); len(ws) != 0 {
			t.Fatalf("queued %+v", ws)
		}
	})

	t.Run("UnknownTopicIsAnswered200AndIgnored", func(t *testing.T) {
		a := newShopifyApp(t)
		body := []byte(`{"id":77}`)
		if status, _ := a.deliver(t, body, signedDelivery(a.shop.Secret(), "products/update", "wh-p", body)); status != 200 {
			t.Fatalf("status %d", status)
		}
		if ws := a.queued(t); len(ws) != 0 {
			t.Fatalf("queued %+v", ws)
		}
	})

	t.Run("NotConnectedIs404", func(t *testing.T) {
		a := newTestApp(t)
		req := httptest.NewRequest(http.MethodPost, "/webhooks/shopify", bytes.NewReader(orderBody))
		req.Header.Set("X-Shopify-Topic", "orders/create")
		res, _ := a.anonymous().do(t, req)
		if res.StatusCode != 404 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}
