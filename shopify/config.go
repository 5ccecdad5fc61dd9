package shopify

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ConfigFromEnv reads the connection from SHOPIFY_SHOP, SHOPIFY_ACCESS_TOKEN,
// SHOPIFY_WEBHOOK_SECRET, SHOPIFY_API_BASE and SHOPIFY_API_VERSION (the
// environment only: the token and the secret never go in flags). ok is
// false when SHOPIFY_SHOP is unset (no connection); a shop without a token
// or a webhook secret, or a bad base URL, is an error naming the variable.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	cfg = Config{
		Shop:          strings.ToLower(strings.TrimSpace(getenv("SHOPIFY_SHOP"))),
		AccessToken:   strings.TrimSpace(getenv("SHOPIFY_ACCESS_TOKEN")),
		WebhookSecret: getenv("SHOPIFY_WEBHOOK_SECRET"),
		APIBase:       strings.TrimRight(strings.TrimSpace(getenv("SHOPIFY_API_BASE")), "/"),
		APIVersion:    cmp.Or(strings.TrimSpace(getenv("SHOPIFY_API_VERSION")), DefaultAPIVersion),
	}
	if cfg.Shop == "" {
		return cfg, false, nil
	}
	if !shopDomain.MatchString(cfg.Shop) {
		return cfg, true, fmt.Errorf("SHOPIFY_SHOP %q is not a shop domain like name.myshopify.com", cfg.Shop)
	}
	if cfg.AccessToken == "" {
		return cfg, true, errors.New("SHOPIFY_SHOP is set but SHOPIFY_ACCESS_TOKEN is not: set the custom app's Admin API access token")
	}
	if cfg.WebhookSecret == "" {
		return cfg, true, errors.New("SHOPIFY_SHOP is set but SHOPIFY_WEBHOOK_SECRET is not: set the app's secret that signs webhooks")
	}
	cfg.APIBase, err = apiBase(cfg.Shop, cfg.APIBase)
	return cfg, true, err
}

// apiBase is the Admin API's base URL: raw without its trailing slash, or
// the shop's own domain when raw is empty.
func apiBase(shop, raw string) (string, error) {
	base := strings.TrimRight(strings.TrimSpace(raw), "/")
	if base == "" {
		return "https://" + shop, nil
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return base, fmt.Errorf("SHOPIFY_API_BASE %q is not an http(s) URL", raw)
	}
	return base, nil
}
