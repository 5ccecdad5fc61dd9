package i18n

import "testing"

// TestPaymentMethod: payment methods read as words in both languages,
// however the shop spelled them; unknown ones are shown as given.
func TestPaymentMethod(t *testing.T) {
	b := mustBundle(t)
	for _, c := range []struct{ method, en, zh string }{
		{"manual", "Manual payment", "手動付款"},
		{"Manual", "Manual payment", "手動付款"},
		{"card", "Card", "信用卡"},
		{"stripe", "Card (Stripe)", "信用卡（Stripe）"},
		{"shopify_payments", "Shopify Payments", "Shopify Payments"},
		{"Shopify Payments", "Shopify Payments", "Shopify Payments"},
		{"Cash on Delivery (COD)", "Cash on delivery", "貨到付款"},
		{"gift_card", "Gift card", "禮品卡"},
		{"bank_transfer", "Bank transfer", "Bank transfer"},
		{"Klarna", "Klarna", "Klarna"},
		{"", "", ""},
	} {
		if got := b.Localizer("en", nil).PaymentMethod(c.method); got != c.en {
			t.Errorf("en PaymentMethod(%q) = %q, want %q", c.method, got, c.en)
		}
		if got := b.Localizer("zh-TW", nil).PaymentMethod(c.method); got != c.zh {
			t.Errorf("zh-TW PaymentMethod(%q) = %q, want %q", c.method, got, c.zh)
		}
	}
}
