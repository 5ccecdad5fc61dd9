package payments

import (
	"context"
	"log/slog"
	"time"

	"github.com/canceldesk/canceldesk"
)

// Processor drives refunds recorded as pending to their gateway's answer.
// The store writes the refund row first, in the transaction of the action
// that owes it; the gateway is asked only after commit, with the row's
// idempotency key, so asking twice (a retry, two instances, a restart)
// never pays twice.
type Processor struct {
	Store    canceldesk.RefundStore
	Registry *Registry
	Log      *slog.Logger
	// Timeout bounds one gateway call made while a page waits.
	Timeout time.Duration
}

// pendingBatch bounds the refunds one pass asks about.
const pendingBatch = 100

// GatewayFor names the gateway refunds of an order go through.
func (p *Processor) GatewayFor(o *canceldesk.Order) string { return p.Registry.ForOrder(o) }

// Settle asks the gateway about one pending refund now and records its
// answer; a page that just recorded the refund waits for it. Errors are
// logged: the refund stays pending and the next pass of Run tries again.
func (p *Processor) Settle(ctx context.Context, refundID int64) {
	jobs, err := p.Store.PendingRefunds(ctx, pendingBatch)
	if err != nil {
		p.Log.Error("listing pending refunds", "err", err)
		return
	}
	for _, job := range jobs {
		if job.ID == refundID {
			p.process(ctx, job)
			return
		}
	}
}

// Kick is the payment worker's part of the store's after-commit hook: it
// asks the gateways about the refunds a committed write recorded pending,
// at once, so the page that follows shows their answer. What it misses (a
// timeout, a crash) the next pass of Run picks up.
func (p *Processor) Kick(ctx context.Context, ch canceldesk.Changes) {
	for _, id := range ch.Pending {
		p.Settle(ctx, id)
	}
}

// RunOnce asks about every pending refund, oldest first, and returns how
// many it settled (succeeded or failed).
func (p *Processor) RunOnce(ctx context.Context) (int, error) {
	jobs, err := p.Store.PendingRefunds(ctx, pendingBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, job := range jobs {
		if ctx.Err() != nil {
			break
		}
		if p.process(ctx, job) != StatusPending {
			n++
		}
	}
	return n, nil
}

// Run calls RunOnce every interval until ctx ends: it picks up refunds a
// page could not wait for, and those left pending by a crash.
func (p *Processor) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := p.RunOnce(ctx); err != nil && ctx.Err() == nil {
			p.Log.Error("settling pending refunds", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// process asks the refund's gateway and records the answer; it returns
// the status recorded.
func (p *Processor) process(ctx context.Context, job canceldesk.RefundJob) string {
	g := p.Registry.Gateway(job.Gateway)
	var res Result
	if g == nil {
		// The gateway was configured when the refund was made and is not
		// now: say so on the refund instead of leaving it pending forever.
		res = failed(true, "The "+job.Gateway+" gateway is not configured; configure it and retry.")
	} else {
		timeout := p.Timeout
		if timeout <= 0 {
			timeout = DefaultStripeTimeout
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		res = g.Process(cctx, Call{Kind: job.Kind, Amount: job.Amount, Currency: job.Currency,
			Reference: job.Reference, IdempotencyKey: job.IdempotencyKey, ExternalID: job.ExternalID, Lines: job.Lines})
		cancel()
	}
	if err := p.Store.SettleRefund(ctx, job.ID, res.Status, res.ProviderID, res.Error); err != nil {
		p.Log.Error("recording a refund's answer", "refund", job.ID, "status", res.Status, "err", err)
		return StatusPending
	}
	if res.Status == StatusFailed {
		p.Log.Warn("refund failed", "refund", job.ID, "order", job.OrderID, "gateway", job.Gateway, "err", res.Error)
	}
	return res.Status
}
