package store

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisLimiter counts attempts in fixed windows in Redis, so every app
// instance sees the same counts.
type RedisLimiter struct{ rdb *redis.Client }

// NewRedisLimiter counts attempts in Redis.
func NewRedisLimiter(rdb *redis.Client) *RedisLimiter { return &RedisLimiter{rdb: rdb} }

const limitPrefix = "canceldesk:limit:"

// Hit records one attempt under key and returns the attempts in the window.
func (l *RedisLimiter) Hit(ctx context.Context, key string, window time.Duration) (int, error) {
	var incr *redis.IntCmd
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, limitPrefix+key)
		p.ExpireNX(ctx, limitPrefix+key, window)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(incr.Val()), nil
}

// Count returns the attempts in the current window.
func (l *RedisLimiter) Count(ctx context.Context, key string) (int, error) {
	n, err := l.rdb.Get(ctx, limitPrefix+key).Int()
	if err == redis.Nil {
		return 0, nil
	}
	return n, err
}

// undoScript takes one attempt back, but only from a window that still
// exists: a bare DECR after the window ended would start a new one at -1
// that never expires.
var undoScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]))
if n and n > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0`)

// Undo takes back one attempt counted under key, e.g. one that turned out
// to be legitimate. It never counts below zero nor opens a window.
func (l *RedisLimiter) Undo(ctx context.Context, key string) error {
	return undoScript.Run(ctx, l.rdb, []string{limitPrefix + key}).Err()
}

// Reset forgets the attempts under key.
func (l *RedisLimiter) Reset(ctx context.Context, key string) error {
	return l.rdb.Del(ctx, limitPrefix+key).Err()
}

// MemoryLimiter is the in-process limiter for a single instance without
// Redis.
type MemoryLimiter struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]memoryWindow
}

type memoryWindow struct {
	n       int
	expires time.Time
}

// NewMemoryLimiter counts attempts in process; now is the clock.
func NewMemoryLimiter(now func() time.Time) *MemoryLimiter {
	return &MemoryLimiter{now: now, m: map[string]memoryWindow{}}
}

// Hit records one attempt under key and returns the attempts in the window.
func (l *MemoryLimiter) Hit(_ context.Context, key string, window time.Duration) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.m[key]
	if !now.Before(w.expires) {
		w = memoryWindow{expires: now.Add(window)}
		if len(l.m) > 100_000 { // bound memory under a flood of distinct keys
			l.sweep(now)
		}
	}
	w.n++
	l.m[key] = w
	return w.n, nil
}

// Count returns the attempts in the current window.
func (l *MemoryLimiter) Count(_ context.Context, key string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.m[key]; l.now().Before(w.expires) {
		return w.n, nil
	}
	return 0, nil
}

// Undo takes back one attempt counted under key, e.g. one that turned out
// to be legitimate. It never counts below zero nor opens a window.
func (l *MemoryLimiter) Undo(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.m[key]; ok && w.n > 0 && l.now().Before(w.expires) {
		w.n--
		l.m[key] = w
	}
	return nil
}

// Reset forgets the attempts under key.
func (l *MemoryLimiter) Reset(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
	return nil
}

func (l *MemoryLimiter) sweep(now time.Time) {
	for k, w := range l.m {
		if !now.Before(w.expires) {
			delete(l.m, k)
		}
	}
}
