package testenv

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// EnvStripe is the base URL of a stripe-mock server (stateless fake of the
// Stripe API), e.g. http://127.0.0.1:12111. scripts/test.sh exports it.
const EnvStripe = "CANCELDESK_TEST_STRIPE"

// StripeMockKey is a test secret key that stripe-mock accepts.
const StripeMockKey = "sk_test_123"

// StripeMockURL returns the stripe-mock base URL from CANCELDESK_TEST_STRIPE
// after checking, within 5s, that it answers like the Stripe API (GET
// /v1/charges with a test key returns 200). The test fails when the variable
// is unset or stripe-mock does not answer.
func StripeMockURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvStripe)
	if raw == "" {
		t.Fatalf("testenv: %s is not set; this test needs stripe-mock: %s", EnvStripe, hint)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Fatalf("testenv: %s must be an http:// URL such as http://127.0.0.1:12111, got %q", EnvStripe, raw)
	}
	base := strings.TrimRight(raw, "/")

	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/charges", nil)
	if err != nil {
		t.Fatalf("testenv: %s=%s: %v", EnvStripe, raw, err)
	}
	req.Header.Set("Authorization", "Bearer "+StripeMockKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("testenv: stripe-mock at %s=%s does not answer: %v; %s", EnvStripe, raw, err, hint)
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 300))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("testenv: %s=%s does not answer like stripe-mock: GET /v1/charges returned %s: %s; %s",
			EnvStripe, raw, res.Status, strings.TrimSpace(string(body)), hint)
	}
	return base
}
