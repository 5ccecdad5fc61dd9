package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/canceldesk/canceldesk/shopify"
	"github.com/canceldesk/canceldesk/store"
)

// errNoShop says how to connect a shop.
var errNoShop = errors.New("no shop is connected: set SHOPIFY_SHOP (name.myshopify.com), SHOPIFY_ACCESS_TOKEN and SHOPIFY_WEBHOOK_SECRET")

// shopifyCommand runs `canceldesk shopify sync`: it backfills every order of
// the connected shop and ends with one summary line:
// synced N orders (M line items, C cancelled), U updated
// Interrupted (Ctrl-C), it stops after the page in hand; run again, it
// resumes from there.
func shopifyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "sync" {
		fmt.Fprintln(stderr, "usage: canceldesk shopify sync [flags]")
		return errUsage
	}
	var cfg config
	fs := flag.NewFlagSet("shopify sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	sc, ok, err := shopify.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	if !ok {
		return errNoShop
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	w, err := newShopifyWorker(sc, db, newLogger(stderr))
	if err != nil {
		return err
	}
	n, err := w.Backfill(ctx)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "interrupted after %d orders; run it again to resume\n", n.Orders)
		}
		return fmt.Errorf("syncing %s: %w", sc.Shop, err)
	}
	fmt.Fprintln(stdout, shopify.SyncSummary(n))
	return nil
}

// newShopifyWorker connects to the shop's Admin API, with the client's own
// bound on one request.
func newShopifyWorker(sc shopify.Config, db *store.DB, log *slog.Logger) (*shopify.Worker, error) {
	client, err := shopify.NewClient(sc, nil)
	if err != nil {
		return nil, fmt.Errorf("shopify: %w", err)
	}
	return &shopify.Worker{Store: db, API: client, Config: sc, Log: log, Orders: db}, nil
}
