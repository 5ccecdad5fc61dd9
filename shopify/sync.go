package shopify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/canceldesk/canceldesk"
)

// PageSize is how many orders one page of a sync asks for: the most the
// orders connection returns.
const PageSize = 250

// reconcileOverlap reaches back before the newest updated_at seen: the
// search is second-granular, and an order updated within the same second
// as the last one seen must not be missed.
const reconcileOverlap = time.Minute

// Webhook processing: deliveries per pass, and how long one is leased to
// this instance.
const (
	webhookBatch = 50
	webhookLease = time.Minute
)

// Backfill stores every order of the shop, a page at a time, and records
// the cursor after each page, so that an interrupted run resumes where it
// stopped. Running it again changes nothing that did not change at
// Shopify. The count covers this run's pages.
func (w *Worker) Backfill(ctx context.Context) (canceldesk.ShopifySyncCount, error) {
	st, err := w.Store.ShopifyState(ctx)
	if err != nil {
		return canceldesk.ShopifySyncCount{}, err
	}
	return w.syncPages(ctx, "backfill", "", st.SyncCursor, func(next string, n canceldesk.ShopifySyncCount) error {
		// The page is stored: its cursor is kept even when interrupted
		// now, so the next run starts after it.
		return w.Store.SaveSyncProgress(context.WithoutCancel(ctx), next, n.Orders)
	})
}

// Reconcile stores the orders Shopify changed since the newest change seen
// (every order the first time), catching what webhooks missed.
func (w *Worker) Reconcile(ctx context.Context) (canceldesk.ShopifySyncCount, error) {
	st, err := w.Store.ShopifyState(ctx)
	if err != nil {
		return canceldesk.ShopifySyncCount{}, err
	}
	query := ""
	if st.LastSeenUpdatedAt != nil {
		query = "updated_at:>='" + st.LastSeenUpdatedAt.Add(-reconcileOverlap).UTC().Format(time.RFC3339) + "'"
	}
	return w.syncPages(ctx, "reconciliation", query, "", nil)
}

// syncPages stores every page of the orders matching query, from cursor
// on, handing each page's count and the cursor after it ("" after the
// last) to saved, and records the pass's end.
func (w *Worker) syncPages(ctx context.Context, pass, query, cursor string,
	saved func(next string, n canceldesk.ShopifySyncCount) error) (canceldesk.ShopifySyncCount, error) {
	var total canceldesk.ShopifySyncCount
	for {
		page, err := w.API.Orders(ctx, query, cursor, PageSize)
		if err != nil {
			return total, w.syncFailed(ctx, pass, err)
		}
		n, err := w.Store.UpsertShopifyOrders(ctx, page.Orders)
		if err != nil {
			return total, w.syncFailed(ctx, pass, err)
		}
		total.Add(n)
		cursor = ""
		if page.HasNext {
			cursor = page.EndCursor
		}
		if saved != nil {
			if err := saved(cursor, n); err != nil {
				return total, err
			}
		}
		if cursor == "" {
			return total, w.Store.SyncFinished(ctx, w.now(), "")
		}
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// syncFailed stores why a pass stopped (Settings shows it) and returns
// err; an interrupted pass (ctx ended) is not a failure to show, and
// returns ctx's error.
func (w *Worker) syncFailed(ctx context.Context, pass string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := fmt.Sprintf("The %s stopped: %v", pass, err)
	if serr := w.Store.SyncFinished(context.WithoutCancel(ctx), w.now(), msg); serr != nil {
		w.log().Error("shopify: recording a failed sync", "err", serr)
	}
	return err
}

// ProcessWebhooks processes the queued deliveries: each names an order,
// which is read afresh from Shopify (a payload may be stale or partial)
// unless what is stored is already as new as the delivery. A delivery that
// fails stays queued and is tried again after its lease.
func (w *Worker) ProcessWebhooks(ctx context.Context) error {
	hooks, err := w.Store.ClaimWebhooks(ctx, webhookBatch, webhookLease)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := ""
		if err := w.processWebhook(ctx, h); err != nil {
			msg = err.Error()
			w.log().Warn("shopify: webhook not processed", "webhook", h.WebhookID, "topic", h.Topic, "order", h.OrderID, "err", err)
		}
		if err := w.Store.FinishWebhook(ctx, h.ID, msg); err != nil {
			return err
		}
	}
	return nil
}

func (w *Worker) processWebhook(ctx context.Context, h canceldesk.ShopifyWebhook) error {
	if h.OrderID == "" {
		return nil // nothing to sync (the handler queues only what names an order)
	}
	stored, err := w.Store.ShopifyOrderUpdatedAt(ctx, h.OrderID)
	if err != nil {
		return err
	}
	if stored != nil && h.UpdatedAt != nil && !stored.Before(*h.UpdatedAt) {
		return nil // an older (or the same) state than the one stored
	}
	o, err := w.API.Order(ctx, h.OrderID)
	if err != nil {
		return err
	}
	if o == nil {
		return nil // Shopify has no such order (any more)
	}
	_, err = w.Store.UpsertShopifyOrders(ctx, []*canceldesk.Order{o})
	return err
}

// isBusy reports whether err says Shopify could not take the call now.
func isBusy(err error) (*BusyError, bool) {
	var b *BusyError
	return b, errors.As(err, &b)
}

// SyncSummary is the line `canceldesk shopify sync` ends with.
func SyncSummary(n canceldesk.ShopifySyncCount) string {
	return fmt.Sprintf("synced %d orders (%d line items, %d cancelled), %d updated", n.Orders, n.LineItems, n.Cancelled, n.Updated)
}
