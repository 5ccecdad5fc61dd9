package shopify

import (
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	full := map[string]string{"SHOPIFY_SHOP": "Hearth.myshopify.com", "SHOPIFY_ACCESS_TOKEN": "shpat_secret",
		"SHOPIFY_WEBHOOK_SECRET": "whsec"}

	cfg, ok, err := ConfigFromEnv(env(nil))
	if ok || err != nil || cfg.Shop != "" {
		t.Errorf("unset: ok=%v err=%v shop=%q, want no connection", ok, err, cfg.Shop)
	}
	cfg, ok, err = ConfigFromEnv(env(full))
	if !ok || err != nil {
		t.Fatalf("set: ok=%v err=%v", ok, err)
	}
	want := Config{Shop: "hearth.myshopify.com", AccessToken: "shpat_secret", WebhookSecret: "whsec",
		APIBase: "https://hearth.myshopify.com", APIVersion: DefaultAPIVersion}
	if cfg != want {
		t.Errorf("config = %+v, want %+v", cfg, want)
	}
	withBase := map[string]string{"SHOPIFY_API_BASE": "http://127.0.0.1:9999/", "SHOPIFY_API_VERSION": "2026-07"}
	for k, v := range full {
		withBase[k] = v
	}
	if cfg, _, err = ConfigFromEnv(env(withBase)); err != nil || cfg.APIBase != "http://127.0.0.1:9999" || cfg.APIVersion != "2026-07" {
		t.Errorf("base and version: %+v, %v", cfg, err)
	}
	for _, tc := range []struct{ unset, set, value, says string }{
		{unset: "SHOPIFY_ACCESS_TOKEN", says: "SHOPIFY_ACCESS_TOKEN"},
		{unset: "SHOPIFY_WEBHOOK_SECRET", says: "SHOPIFY_WEBHOOK_SECRET"},
		{set: "SHOPIFY_SHOP", value: "hearth.example.com", says: "SHOPIFY_SHOP"},
		{set: "SHOPIFY_API_BASE", value: "ftp://x", says: "SHOPIFY_API_BASE"},
	} {
		kv := map[string]string{}
		for k, v := range full {
			kv[k] = v
		}
		delete(kv, tc.unset)
		if tc.set != "" {
			kv[tc.set] = tc.value
		}
		_, ok, err := ConfigFromEnv(env(kv))
		if !ok || err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%+v: ok=%v err=%v, want an error naming %s", tc, ok, err, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), "shpat_secret") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

func TestAdminOrderURL(t *testing.T) {
	w := &Worker{Config: Config{Shop: "hearth.myshopify.com"}}
	if got, want := w.AdminOrderURL("820982911946154508"), "https://admin.shopify.com/store/hearth/orders/820982911946154508"; got != want {
		t.Errorf("AdminOrderURL = %q, want %q", got, want)
	}
}
