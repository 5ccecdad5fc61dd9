package canceldesk

import (
	"context"
	"slices"
	"sync"
)

// ChangeKind says which kind of fact a committed write changed, for the
// copies kept of it (counts in the navigation, the rate alert).
type ChangeKind uint8

const (
	// ChangedOrders: an order's state, lines, stock or timeline; new orders.
	ChangedOrders ChangeKind = 1 << iota
	// ChangedRefunds: a refund was recorded, settled or retried.
	ChangedRefunds
	// ChangedRequests: a customer's cancellation request was filed or decided.
	ChangedRequests
	// ChangedSettings: settings, the auto-approval rule, templates, locations.
	ChangedSettings
	// ChangedShopifyCalls: a call to Shopify was queued; the connection's
	// worker owes it a send (its loop catches up on any missed).
	ChangedShopifyCalls
)

// Changes is what one committed write changed. The store records it in
// the write's transaction and hands it to its after-commit hook only when
// the transaction committed: a write that failed or rolled back changes
// nothing and reports nothing.
type Changes struct {
	Kinds ChangeKind
	// Orders are the orders whose stored state changed (each once).
	Orders []int64
	// Refunds are the refunds written or settled (each once).
	Refunds []int64
	// Pending are the refunds recorded pending at a payment gateway: the
	// gateway is owed a call now (the background worker catches up on any
	// call missed).
	Pending []int64
}

// Has reports whether any of the kinds k changed.
func (c Changes) Has(k ChangeKind) bool { return c.Kinds&k != 0 }

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return c.Kinds == 0 && len(c.Orders) == 0 && len(c.Refunds) == 0 && len(c.Pending) == 0
}

// Order records that the order id changed.
func (c *Changes) Order(id int64) {
	c.Kinds |= ChangedOrders
	if id != 0 && !slices.Contains(c.Orders, id) {
		c.Orders = append(c.Orders, id)
	}
}

// Refund records that rf changed, and so its order; a pending refund is
// also owed a gateway call when pending is true.
func (c *Changes) Refund(rf *Refund, pending bool) {
	if rf == nil {
		return
	}
	c.Order(rf.OrderID)
	c.Kinds |= ChangedRefunds
	if !slices.Contains(c.Refunds, rf.ID) {
		c.Refunds = append(c.Refunds, rf.ID)
	}
	if pending && rf.Status == RefundPending && !slices.Contains(c.Pending, rf.ID) {
		c.Pending = append(c.Pending, rf.ID)
	}
}

// AfterCommit is the one after-commit hook of a running app: serve makes
// one, hands its Run to the store (store.DB.OnCommit) and adds the parts
// that keep copies or owe work after a write: the order cache, the
// navigation counts, the payment worker. Add every part before serving.
type AfterCommit struct {
	mu   sync.RWMutex
	subs []func(context.Context, Changes)
}

// Add subscribes fn to every committed write's Changes, after those
// added before it.
func (a *AfterCommit) Add(fn func(context.Context, Changes)) {
	a.mu.Lock()
	a.subs = append(a.subs, fn)
	a.mu.Unlock()
}

// Run hands ch to every subscriber, in the order they were added.
func (a *AfterCommit) Run(ctx context.Context, ch Changes) {
	a.mu.RLock()
	subs := a.subs
	a.mu.RUnlock()
	for _, fn := range subs {
		fn(ctx, ch)
	}
}
