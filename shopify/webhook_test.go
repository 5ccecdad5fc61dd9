package shopify_test

import (
	"encoding/json"
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
)

func TestWebhookSignature(t *testing.T) {
	srv := shopifytest.New(t)
	id := srv.AddOrder(shopifytest.OrderSpec{})
	body, h := srv.Webhook(canceldesk.TopicOrdersUpdated, id)
	sig := h.Get("X-Shopify-Hmac-Sha256")
	if !shopify.Verify(srv.Secret(), body, sig) {
		t.Fatal("a good signature does not verify")
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-2] ^= 1
	for name, ok := range map[string]bool{
		"tampered body": shopify.Verify(srv.Secret(), tampered, sig),
		"wrong secret":  shopify.Verify("another-secret", body, sig),
		"empty header":  shopify.Verify(srv.Secret(), body, ""),
		"not base64":    shopify.Verify(srv.Secret(), body, "%%%"),
		"empty secret":  shopify.Verify("", body, shopify.Sign("", body)),
	} {
		if ok {
			t.Errorf("%s verifies", name)
		}
	}
	for _, k := range []string{"X-Shopify-Topic", "X-Shopify-Webhook-Id", "X-Shopify-Shop-Domain", "X-Shopify-API-Version"} {
		if h.Get(k) == "" {
			t.Errorf("no %s", k)
		}
	}
	var p struct {
		ID        int64  `json:"id"`
		GID       string `json:"admin_graphql_api_id"`
		UpdatedAt string `json:"updated_at"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.GID != shopify.OrderGID(id) || p.UpdatedAt == "" || p.ID == 0 {
		t.Errorf("payload %s", body)
	}
	_, h2 := srv.Webhook(canceldesk.TopicOrdersUpdated, id)
	if h2.Get("X-Shopify-Webhook-Id") == h.Get("X-Shopify-Webhook-Id") {
		t.Error("two deliveries share a webhook id")
	}
	rbody, rh := srv.Webhook(canceldesk.TopicRefundsCreate, id)
	var r struct {
		OrderID   int64  `json:"order_id"`
		CreatedAt string `json:"created_at"`
	}
	if err := json.Unmarshal(rbody, &r); err != nil || r.OrderID != p.ID || r.CreatedAt == "" || rh.Get("X-Shopify-Topic") != "refunds/create" {
		t.Errorf("refunds/create payload %s", rbody)
	}
}

// FuzzVerify: a body verifies under its own signature and no other body's.
func FuzzVerify(f *testing.F) {
	f.Add("secret", []byte(`{"id":1}`), []byte(`{"id":2}`))
	f.Add("s", []byte{}, []byte{0})
	f.Fuzz(func(t *testing.T, secret string, body, other []byte) {
		sig := shopify.Sign(secret, body)
		if secret != "" && !shopify.Verify(secret, body, sig) {
			t.Fatal("a body does not verify under its own signature")
		}
		if string(other) != string(body) && shopify.Verify(secret, other, sig) {
			t.Fatal("another body verifies")
		}
	})
}
