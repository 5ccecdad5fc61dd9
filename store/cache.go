package store

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
)

// Cache keeps order state in Redis in front of the store: Order reads
// through it; every other method is the wrapped store's. It fails open:
// when Redis is slow or down, reads go to the database after a short
// timeout and the dashboard keeps working. It overrides no write: the
// store's after-commit hook calls Forget with the orders each committed
// write changed (serve wires it), so no write can leave an order stale.
type Cache struct {
	canceldesk.OrderStore
	rdb *redis.Client
	// reads is rdb with its read and write timeouts set to timeout, for
	// the read path (see NewCache).
	reads   *redis.Client
	ttl     time.Duration
	timeout time.Duration
	// settle is how long after a commit Forget drops the orders again: a
	// read that loaded an order before the commit can put it back in
	// Redis right after the first DEL; the second one, once such a read
	// has finished (it waits at most timeout for Redis), removes it.
	settle time.Duration
	log    *slog.Logger
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
	return &Cache{OrderStore: st, rdb: rdb, reads: rdb.WithTimeout(timeout), ttl: 10 * time.Minute, timeout: timeout,
		settle: time.Second, log: log}
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

// Forget is the cache's part of the after-commit hook (see DB.OnCommit):
// it drops the orders a committed write changed. Every instance reads the
// same Redis, so a write on one instance is seen at once by all. It drops
// them a second time after settle, for a read that raced the commit.
func (c *Cache) Forget(ctx context.Context, ch canceldesk.Changes) {
	if len(ch.Orders) == 0 {
		return
	}
	c.Invalidate(ctx, ch.Orders...)
	ids := slices.Clone(ch.Orders)
	time.AfterFunc(c.settle, func() { c.Invalidate(context.WithoutCancel(ctx), ids...) })
}
