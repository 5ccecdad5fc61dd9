package store

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
)

// Cache keeps order state in Redis in front of the store (cache-aside). It
// fails open: when Redis is slow or down, reads go to the database after a
// short timeout and the dashboard keeps working. Writes that change an order
// must call Invalidate after their transaction commits.
type Cache struct {
	canceldesk.OrderStore
	rdb *redis.Client
	// reads is rdb with its read and write timeouts set to timeout, for
	// the read path (see NewCache).
	reads   *redis.Client
	ttl     time.Duration
	timeout time.Duration
	log     *slog.Logger
}

// cacheVersion is part of every key; bump it when the cached shape changes.
const cacheVersion = "v3" // v3: orders carry RefundedSucceeded

// NewCache wraps st with a Redis cache of orders.
//
// go-redis lets a context's deadline cut a command short only when the
// client was made with ContextTimeoutEnabled; otherwise a hung Redis (up,
// but not answering) holds every read for the client's own read timeout,
// times its retries: 10s with go-redis's defaults. So reads go through a
// copy of rdb (sharing its connections) whose read and write timeouts are
// the cache's own. Invalidate keeps rdb's timeouts: a dropped invalidation
// would leave a stale order in the cache until it expires.
func NewCache(st canceldesk.OrderStore, rdb *redis.Client, log *slog.Logger) *Cache {
	const timeout = 50 * time.Millisecond
	return &Cache{OrderStore: st, rdb: rdb, reads: rdb.WithTimeout(timeout), ttl: 10 * time.Minute, timeout: timeout, log: log}
}

func orderKey(id int64) string {
	return "canceldesk:order:" + cacheVersion + ":" + strconv.FormatInt(id, 10)
}

// Order returns the order from Redis when cached, else from the store, and
// caches it.
func (c *Cache) Order(ctx context.Context, id int64) (*canceldesk.Order, error) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	b, err := c.reads.Get(rctx, orderKey(id)).Bytes()
	cancel()
	redisDown := false
	if err == nil {
		var o canceldesk.Order
		if json.Unmarshal(b, &o) == nil {
			return &o, nil
		}
	} else if err != redis.Nil {
		c.log.Warn("order cache unavailable; reading the database", "err", err)
		redisDown = true // and so not worth another timeout to fill it
	}
	o, err := c.OrderStore.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(o); err == nil && !redisDown {
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		_ = c.reads.Set(rctx, orderKey(id), b, c.ttl).Err()
		cancel()
	}
	return o, nil
}

// Invalidate drops cached orders. A failure is logged, and the entry then
// expires with its TTL.
func (c *Cache) Invalidate(ctx context.Context, ids ...int64) {
	if len(ids) == 0 {
		return
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = orderKey(id)
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Del(rctx, keys...).Err(); err != nil {
		c.log.Warn("order cache invalidation failed", "err", err, "ids", ids)
	}
}

// CancelOrder cancels through the wrapped store, then drops the cached
// order: after a cancel, and after a conflict too (the cache may have shown
// an order that was cancelled meanwhile).
func (c *Cache) CancelOrder(ctx context.Context, req canceldesk.CancelRequest) (*canceldesk.CancelResult, error) {
	res, err := c.OrderStore.CancelOrder(ctx, req)
	switch {
	case err == nil:
		c.Invalidate(ctx, res.OrderID)
	case canceldesk.ErrorCode(err) == canceldesk.ECONFLICT:
		c.Invalidate(ctx, req.OrderID)
	}
	return res, err
}

// RecreateOrder re-creates through the wrapped store, then drops the cached
// original: after a re-create, and after a conflict (the cache may have
// shown an order whose state changed meanwhile).
func (c *Cache) RecreateOrder(ctx context.Context, orderID int64, actor string) (*canceldesk.Order, error) {
	o, err := c.OrderStore.RecreateOrder(ctx, orderID, actor)
	if err == nil || canceldesk.ErrorCode(err) == canceldesk.ECONFLICT {
		c.Invalidate(ctx, orderID)
	}
	return o, err
}

// RefundCache is a canceldesk.RefundStore that drops the cached order after
// every write that changes it: refunds, restocks, a gateway's answer and a
// retry. Reads go straight to the wrapped store.
type RefundCache struct {
	canceldesk.RefundStore
	c *Cache
}

// NewRefundCache wraps rs so that c forgets the orders rs changes. A nil c
// caches nothing.
func NewRefundCache(rs canceldesk.RefundStore, c *Cache) *RefundCache {
	return &RefundCache{RefundStore: rs, c: c}
}

func (rc *RefundCache) invalidate(ctx context.Context, err error, ids ...int64) {
	if rc.c != nil && (err == nil || canceldesk.ErrorCode(err) == canceldesk.ECONFLICT) {
		rc.c.Invalidate(ctx, ids...)
	}
}

// RefundOrder refunds through the wrapped store, then drops the cached
// order: after a refund, and after a conflict (the cache may have shown an
// order that changed meanwhile).
func (rc *RefundCache) RefundOrder(ctx context.Context, req canceldesk.RefundRequest) (*canceldesk.RefundResult, error) {
	res, err := rc.RefundStore.RefundOrder(ctx, req)
	rc.invalidate(ctx, err, req.OrderID)
	return res, err
}

// RestockOrder restocks through the wrapped store, then drops the cached
// order.
func (rc *RefundCache) RestockOrder(ctx context.Context, req canceldesk.RestockRequest) error {
	err := rc.RefundStore.RestockOrder(ctx, req)
	rc.invalidate(ctx, err, req.OrderID)
	return err
}

// refundOrderIDer finds the order of a refund; *DB is one.
type refundOrderIDer interface {
	RefundOrderID(ctx context.Context, refundID int64) (int64, error)
}

// SettleRefund settles through the wrapped store, then drops the cached
// order of the refund (its financial status may have changed).
func (rc *RefundCache) SettleRefund(ctx context.Context, refundID int64, status, providerID, errMsg string) error {
	err := rc.RefundStore.SettleRefund(ctx, refundID, status, providerID, errMsg)
	if err != nil || rc.c == nil {
		return err
	}
	if f, ok := rc.RefundStore.(refundOrderIDer); ok {
		if id, lerr := f.RefundOrderID(ctx, refundID); lerr == nil {
			rc.c.Invalidate(ctx, id)
		} else {
			rc.c.log.Warn("order cache: no order for a settled refund", "err", lerr, "refund", refundID)
		}
	}
	return nil
}

// RetryRefund retries through the wrapped store, then drops the cached
// order.
func (rc *RefundCache) RetryRefund(ctx context.Context, refundID int64, actor string, role canceldesk.Role) (*canceldesk.Refund, error) {
	rf, err := rc.RefundStore.RetryRefund(ctx, refundID, actor, role)
	if err == nil {
		rc.invalidate(ctx, nil, rf.OrderID)
	}
	return rf, err
}
