package shopify

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/canceldesk/canceldesk"
)

// Worker keeps Cancel Desk and the shop in step: it syncs orders in (a
// backfill, queued webhooks, a periodic reconciliation pass) and sends the
// calls Cancel Desk owes Shopify (cancels, restocks) from the store's
// outbox. It is the handlers' live connection (handlers.ShopifyConn).
type Worker struct {
	Store  canceldesk.ShopifyStore
	API    API
	Config Config
	Log    *slog.Logger
	Now    func() time.Time // nil = time.Now
	// Orders reads the local order of a restock call, whose lines and
	// location Shopify names by its own ids; nil = Store, when it reads
	// orders too (the store does).
	Orders OrderReader
	// PollWait is the pause between two questions about a cancel job while
	// a page waits in Send (0 = 250ms); the loop asks again later.
	PollWait time.Duration
	// CallsEvery is how often Run sends the calls that are due (0 = 2s);
	// Kick sends them sooner.
	CallsEvery time.Duration

	kickOnce sync.Once
	kicks    chan struct{} // Kick's nudges to Run, at most one waiting
	syncing  atomic.Bool   // a SyncNow pass is running
	runCtx   atomic.Pointer[context.Context]
	inflight sync.Map // call id → *sync.Mutex: one sender of a call at a time here
}

// OrderReader is the part of the order store a restock call reads.
type OrderReader interface {
	Order(ctx context.Context, id int64) (*canceldesk.Order, error)
	Locations(ctx context.Context) ([]canceldesk.Location, error)
}

func (w *Worker) orders() OrderReader {
	if w.Orders != nil {
		return w.Orders
	}
	r, _ := w.Store.(OrderReader)
	return r
}

// Intervals of Run.
const (
	webhookEvery   = time.Second
	callsEvery     = 2 * time.Second
	reconcileEvery = 5 * time.Minute
)

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}

// Run syncs and sends until ctx ends: queued webhooks every second, due
// calls every two seconds (CallsEvery) and when kicked, a reconciliation pass every five minutes (and
// one at start, to catch what arrived while Cancel Desk was down).
// Failures are logged; a failed pass is also stored as the connection's
// last error, which Settings shows.
func (w *Worker) Run(ctx context.Context) {
	w.runCtx.Store(&ctx)
	hooks := time.NewTicker(webhookEvery)
	defer hooks.Stop()
	every := w.CallsEvery
	if every <= 0 {
		every = callsEvery
	}
	calls := time.NewTicker(every)
	defer calls.Stop()
	recon := time.NewTicker(reconcileEvery)
	defer recon.Stop()
	w.SyncNow()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hooks.C:
			if err := w.ProcessWebhooks(ctx); err != nil && ctx.Err() == nil {
				w.log().Error("shopify: processing webhooks", "err", err)
			}
		case <-calls.C:
			w.sendDue(ctx)
		case <-w.kicked():
			w.sendDue(ctx)
		case <-recon.C:
			w.SyncNow()
		}
	}
}

// sendDue is Run's pass over the due calls, on its tick or when kicked.
func (w *Worker) sendDue(ctx context.Context) {
	if err := w.SendDue(ctx); err != nil && ctx.Err() == nil {
		w.log().Error("shopify: sending calls", "err", err)
	}
}

// Kick nudges Run to send the calls that are due now, rather than at its
// next tick, when a committed write queued one (ch has
// ChangedShopifyCalls): an after-commit hook (canceldesk.AfterCommit). It
// never blocks; nudges made while one waits are one.
func (w *Worker) Kick(_ context.Context, ch canceldesk.Changes) {
	if !ch.Has(canceldesk.ChangedShopifyCalls) {
		return
	}
	select {
	case w.kicked() <- struct{}{}:
	default:
	}
}

func (w *Worker) kicked() chan struct{} {
	w.kickOnce.Do(func() { w.kicks = make(chan struct{}, 1) })
	return w.kicks
}

// Shop is the shop's domain, "name.myshopify.com".
func (w *Worker) Shop() string { return w.Config.Shop }

// WebhookSecret is the secret that signs the shop's webhooks.
func (w *Worker) WebhookSecret() string { return w.Config.WebhookSecret }

// AdminOrderURL is the order in the Shopify admin.
func (w *Worker) AdminOrderURL(externalID string) string {
	name := strings.TrimSuffix(w.Config.Shop, ".myshopify.com")
	return "https://admin.shopify.com/store/" + name + "/orders/" + externalID
}

// SyncNow starts a reconciliation pass in the background, unless one is
// running; its outcome is stored (SyncFinished) for Settings to show.
func (w *Worker) SyncNow() {
	if !w.syncing.CompareAndSwap(false, true) {
		return
	}
	ctx := context.Background()
	if p := w.runCtx.Load(); p != nil {
		ctx = *p
	}
	go func() {
		defer w.syncing.Store(false)
		ctx, cancel := context.WithTimeout(ctx, reconcileEvery)
		defer cancel()
		if _, err := w.Reconcile(ctx); err != nil && ctx.Err() == nil {
			w.log().Error("shopify: reconciliation", "err", err)
		}
	}()
}

// Syncing reports whether a SyncNow pass is running.
func (w *Worker) Syncing() bool { return w.syncing.Load() }

// lockCall serialises the senders of one call in this process (a page's
// Send and the loop); the store's NextAt lease keeps other instances off.
func (w *Worker) lockCall(id int64) func() {
	m, _ := w.inflight.LoadOrStore(id, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
