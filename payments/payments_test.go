package payments

import (
	"context"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

func TestManualAlwaysSucceeds(t *testing.T) {
	var g Gateway = Manual{}
	if g.Name() != "manual" {
		t.Errorf("Name() = %q, want manual", g.Name())
	}
	for _, c := range []Call{
		{Kind: KindRefund, Amount: 1250, Currency: "USD", IdempotencyKey: "k1"},
		{Kind: KindVoid, Amount: 1, Currency: "TWD"},
		{}, // nothing to check: the merchant already moved the money
	} {
		if got := g.Process(context.Background(), c); got != (Result{Status: StatusSucceeded}) {
			t.Errorf("Process(%+v) = %+v, want succeeded", c, got)
		}
	}
}

func TestRegistryFor(t *testing.T) {
	s, err := NewStripe(StripeConfig{SecretKey: "sk_test_123"})
	if err != nil {
		t.Fatal(err)
	}
	withStripe, without := NewRegistry(s), NewRegistry(nil)
	for _, tc := range []struct {
		method string
		want   string // with Stripe configured
	}{
		{"Shopify Payments", "stripe"},
		{"shopify payments", "stripe"},
		{"  SHOPIFY PAYMENTS\t", "stripe"},
		{"Stripe", "stripe"},
		{"stripe", "stripe"},
		{"credit card", "stripe"},
		{"Credit Card", "stripe"},
		{"card", "stripe"},
		{" Card ", "stripe"},
		{"", "manual"},
		{"   ", "manual"},
		{"manual", "manual"},
		{"Manual", "manual"},
		{"PayPal", "manual"},
		{"paypal", "manual"},
		{"bank transfer", "manual"},
		{"Bank Deposit", "manual"},
		{"cash", "manual"},
		{"Cash on Delivery (COD)", "manual"},
		{"gift card", "manual"},
		{"Shopify Payments + PayPal", "manual"},
	} {
		if got := withStripe.For(tc.method); got != tc.want {
			t.Errorf("with Stripe: For(%q) = %q, want %q", tc.method, got, tc.want)
		}
		if got := without.For(tc.method); got != "manual" {
			t.Errorf("without Stripe: For(%q) = %q, want manual", tc.method, got)
		}
	}
}

func TestRegistryGateway(t *testing.T) {
	s, err := NewStripe(StripeConfig{SecretKey: "sk_test_123"})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(s)
	if g := r.Gateway("manual"); g == nil || g.Name() != "manual" {
		t.Errorf("Gateway(manual) = %v, want the manual gateway", g)
	}
	if g := r.Gateway("stripe"); g != Gateway(s) {
		t.Errorf("Gateway(stripe) = %v, want the configured *Stripe", g)
	}
	if g := r.Gateway("paypal"); g != nil {
		t.Errorf("Gateway(paypal) = %v, want nil", g)
	}

	r = NewRegistry(nil)
	if g := r.Gateway("manual"); g == nil || g.Name() != "manual" {
		t.Errorf("no Stripe: Gateway(manual) = %v, want the manual gateway", g)
	}
	// A plain nil, not a nil *Stripe in an interface, so `g == nil` works.
	if g := r.Gateway("stripe"); g != nil {
		t.Errorf("no Stripe: Gateway(stripe) = %#v, want nil", g)
	}
	// Every name For returns has a gateway.
	for _, reg := range []*Registry{NewRegistry(s), NewRegistry(nil)} {
		for _, m := range []string{"card", "PayPal", ""} {
			if reg.Gateway(reg.For(m)) == nil {
				t.Errorf("Gateway(For(%q)) is nil", m)
			}
		}
	}
}

func TestRegistryShopifyForOrder(t *testing.T) {
	synced := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	shopOrder := &canceldesk.Order{ExternalID: "1001", ShopifyUpdatedAt: &synced, PaymentMethod: "shopify_payments",
		PaymentReference: "gid://shopify/OrderTransaction/1"}
	exported := &canceldesk.Order{ExternalID: "1002", PaymentMethod: "Shopify Payments", PaymentReference: "ch_1"}
	connected := NewRegistry(nil).WithShopify(&Shopify{})
	if got := connected.ForOrder(shopOrder); got != canceldesk.GatewayShopify {
		t.Errorf("connected: ForOrder(the shop's order) = %q, want shopify", got)
	}
	if g := connected.Gateway(connected.ForOrder(shopOrder)); g == nil || g.Name() != canceldesk.GatewayShopify {
		t.Errorf("connected: Gateway(shopify) = %v, want the Shopify gateway", g)
	}
	if got := connected.ForOrder(exported); got != NameManual {
		t.Errorf("connected: ForOrder(an exported order) = %q, want manual", got)
	}
	notConnected := NewRegistry(nil)
	if got := notConnected.ForOrder(shopOrder); got != NameManual {
		t.Errorf("not connected: ForOrder(the shop's order) = %q, want manual", got)
	}
	if g := notConnected.Gateway(canceldesk.GatewayShopify); g != nil {
		t.Errorf("not connected: Gateway(shopify) = %#v, want nil", g)
	}
	if got := canceldesk.OrderRefundGateway(shopOrder, connected.ForOrder); got != canceldesk.GatewayShopify {
		t.Errorf("OrderRefundGateway(the shop's order) = %q, want shopify", got)
	}
}
