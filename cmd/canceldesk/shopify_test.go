package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
	"github.com/canceldesk/canceldesk/store"
)

// TestShopifySyncCommand: `canceldesk shopify sync` backfills the shop
// from the environment's connection and prints one summary line; a second
// run finds nothing changed; without a shop it says what to set.
func TestShopifySyncCommand(t *testing.T) {
	sv := shopifytest.New(t, shopifytest.WithBucket(100_000, 100_000)) // a plan that never throttles this test
	ids := sv.AddOrders(300)
	lines, cancelled := 0, 0
	for _, id := range ids {
		n := sv.Order(id)
		lines += len(n.LineItems.Nodes)
		if n.CancelledAt != nil {
			cancelled++
		}
	}
	cfg := sv.Config()
	t.Setenv("SHOPIFY_SHOP", cfg.Shop)
	t.Setenv("SHOPIFY_ACCESS_TOKEN", cfg.AccessToken)
	t.Setenv("SHOPIFY_WEBHOOK_SECRET", cfg.WebhookSecret)
	t.Setenv("SHOPIFY_API_BASE", cfg.APIBase)
	db := filepath.Join(t.TempDir(), "cd.db")
	sync := func() (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"shopify", "sync", "-db", db}, &out, &errOut)
		if strings.Contains(out.String()+errOut.String(), cfg.AccessToken) {
			t.Errorf("the access token was printed")
		}
		return strings.TrimSpace(out.String()), err
	}

	out, err := sync()
	if want := fmt.Sprintf("synced 300 orders (%d line items, %d cancelled), 0 updated", lines, cancelled); err != nil || out != want {
		t.Errorf("first sync: %q (%v), want %q", out, err, want)
	}
	if cancelled == 0 || lines <= 300 {
		t.Fatalf("the shop has %d line items and %d cancelled orders: too plain to test the counts", lines, cancelled)
	}
	sv.SetOrder(ids[0], func(n *shopify.OrderNode) {
		n.Note = "Changed in Shopify"
		n.UpdatedAt = n.UpdatedAt.Add(48 * time.Hour)
	})
	out, err = sync()
	if want := fmt.Sprintf("synced 300 orders (%d line items, %d cancelled), 1 updated", lines, cancelled); err != nil || out != want {
		t.Errorf("second sync: %q (%v), want %q", out, err, want)
	}

	t.Setenv("SHOPIFY_SHOP", "")
	if _, err := sync(); err == nil || !strings.Contains(err.Error(), "SHOPIFY_SHOP") {
		t.Errorf("without a shop: %v, want the variables to set", err)
	}
	t.Setenv("SHOPIFY_SHOP", cfg.Shop)
	t.Setenv("SHOPIFY_ACCESS_TOKEN", "")
	if _, err := sync(); err == nil || !strings.Contains(err.Error(), "SHOPIFY_ACCESS_TOKEN") {
		t.Errorf("without a token: %v, want SHOPIFY_ACCESS_TOKEN named", err)
	}
}

// TestServeConnectsTheShop: serve with a shop configured syncs its orders
// by itself (the worker's first reconciliation) and says so in its log,
// never printing the token.
func TestServeConnectsTheShop(t *testing.T) {
	sv := shopifytest.New(t, shopifytest.WithBucket(100_000, 100_000))
	sv.AddOrders(40)
	cfg := sv.Config()
	for k, v := range map[string]string{"SHOPIFY_SHOP": cfg.Shop, "SHOPIFY_ACCESS_TOKEN": cfg.AccessToken,
		"SHOPIFY_WEBHOOK_SECRET": cfg.WebhookSecret, "SHOPIFY_API_BASE": cfg.APIBase,
		"PUBLIC_URL": "", "LISTEN_ADDR": "", "TRUSTED_PROXIES": "", "REDIS_URL": "", "STRIPE_SECRET_KEY": "", "SMTP_HOST": ""} {
		t.Setenv(k, v)
	}
	dbPath := filepath.Join(t.TempDir(), "cd.db")
	ctx, cancel := context.WithCancel(context.Background())
	var log bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--db", dbPath, "--addr", "127.0.0.1:0"}, &log, &log) }()

	deadline := time.Now().Add(20 * time.Second)
	for len(sv.Requests("orders")) == 0 || !synced(t, dbPath, 40) {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("serve did not sync the shop's 40 orders; log:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	out := log.String()
	if !strings.Contains(out, "shop="+cfg.Shop) || strings.Contains(out, cfg.AccessToken) {
		t.Errorf("serve's log names the shop %v and hides the token %v:\n%s",
			strings.Contains(out, "shop="+cfg.Shop), !strings.Contains(out, cfg.AccessToken), out)
	}
}

// synced reports whether the database at path holds n orders.
func synced(t *testing.T, path string, n int64) bool {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		return false
	}
	defer db.Close()
	got, err := db.CountOrders(context.Background())
	return err == nil && got == n
}
