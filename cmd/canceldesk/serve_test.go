package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveRefuses runs serve with args and returns the error it stops with;
// it must stop before opening the database (let alone listening).
func serveRefuses(t *testing.T, args ...string) error {
	t.Helper()
	for _, k := range []string{"PUBLIC_URL", "LISTEN_ADDR", "TRUSTED_PROXIES"} {
		t.Setenv(k, "")
	}
	db := filepath.Join(t.TempDir(), "cd.db")
	// A server that starts anyway is stopped, and the test fails, here.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	err := run(ctx, append([]string{"serve", "--db", db}, args...), &stderr, &stderr)
	if _, statErr := os.Stat(db); statErr == nil {
		t.Errorf("serve %v opened the database before refusing", args)
	}
	return err
}

// TestServeNeedsPublicURL: listening on every interface without a public
// URL, links in emails would have no trustworthy host: serve refuses.
func TestServeNeedsPublicURL(t *testing.T) {
	err := serveRefuses(t, "--addr", "0.0.0.0:0")
	if err == nil || !strings.Contains(err.Error(), "--public-url") || !strings.Contains(err.Error(), "PUBLIC_URL") {
		t.Fatalf("err = %v, want one naming --public-url and PUBLIC_URL", err)
	}
	err = serveRefuses(t, "--addr", "0.0.0.0:0", "--public-url", "desk.example.com")
	if err == nil || !strings.Contains(err.Error(), "PUBLIC_URL") {
		t.Fatalf("a URL without scheme: err = %v", err)
	}
}

func TestResolvePublicURL(t *testing.T) {
	for _, tc := range []struct {
		raw, addr string
		demo      bool
		want      string // "" for an error
	}{
		{"https://desk.example.com", "0.0.0.0:8080", false, "https://desk.example.com"},
		{"https://desk.example.com//", ":8080", false, "https://desk.example.com"},
		{"http://shop.example:8443/desk/", "10.0.0.5:8080", false, "http://shop.example:8443/desk"},
		{"", "127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"", "localhost:9000", false, "http://localhost:9000"},
		{"", "[::1]:8080", false, "http://[::1]:8080"},
		{"", "0.0.0.0:8080", true, "http://localhost:8080"},
		{"", ":8080", true, "http://localhost:8080"},
		{"", "0.0.0.0:8080", false, ""},
		{"", ":8080", false, ""},
		{"", "10.0.0.5:8080", false, ""},
		{"desk.example.com", "0.0.0.0:8080", false, ""},
		{"/desk", "127.0.0.1:8080", false, ""},
		{"ftp://desk.example.com", "0.0.0.0:8080", false, ""},
		{"javascript:alert(1)", "0.0.0.0:8080", false, ""},
		{"https://", "0.0.0.0:8080", false, ""},
		{"https://desk.example.com/?next=x", "0.0.0.0:8080", false, ""},
		{"https://desk.example.com/?", "0.0.0.0:8080", false, ""},
		{"https://desk.example.com/#top", "0.0.0.0:8080", false, ""},
		{"https://user:pw@desk.example.com", "0.0.0.0:8080", false, ""},
		{"https://desk example.com", "0.0.0.0:8080", false, ""},
	} {
		got, err := resolvePublicURL(tc.raw, tc.addr, tc.demo)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("resolvePublicURL(%q, %q, demo %v) = %q, %v; want %q", tc.raw, tc.addr, tc.demo, got, err, tc.want)
		}
	}
}

// TestServeRefusesBadTrustedProxies: a list with an entry that is not an
// address or a range stops serve, naming the entry, the flag and the
// environment variable.
func TestServeRefusesBadTrustedProxies(t *testing.T) {
	err := serveRefuses(t, "--trusted-proxies", "10.0.0.0/8, 10.0.0.300")
	for _, want := range []string{"--trusted-proxies", "TRUSTED_PROXIES", "10.0.0.300"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want one naming %s", err, want)
		}
	}
}

// TestServeRefusesHalfAShopifyConnection: a shop without its access token
// or webhook secret stops serve before it opens anything, naming what to
// set, and never printing the token.
func TestServeRefusesHalfAShopifyConnection(t *testing.T) {
	t.Setenv("SHOPIFY_SHOP", "hearth.myshopify.com")
	t.Setenv("SHOPIFY_ACCESS_TOKEN", "")
	t.Setenv("SHOPIFY_WEBHOOK_SECRET", "whsec")
	if err := serveRefuses(t); err == nil || !strings.Contains(err.Error(), "SHOPIFY_ACCESS_TOKEN") {
		t.Errorf("without a token: err = %v, want SHOPIFY_ACCESS_TOKEN named", err)
	}
	t.Setenv("SHOPIFY_ACCESS_TOKEN", "shpat_do_not_print")
	t.Setenv("SHOPIFY_WEBHOOK_SECRET", "")
	err := serveRefuses(t)
	if err == nil || !strings.Contains(err.Error(), "SHOPIFY_WEBHOOK_SECRET") || strings.Contains(err.Error(), "shpat_do_not_print") {
		t.Errorf("without a webhook secret: err = %v, want SHOPIFY_WEBHOOK_SECRET named and no token", err)
	}
}
