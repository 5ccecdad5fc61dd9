package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/store"
)

// Both limiters count per key within a window and forget on Reset.
func TestLimiters(t *testing.T) {
	rdb := testRedis(t)
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key := "test:" + time.Now().Format("150405.000000000")
	for name, l := range map[string]handlers.Limiter{"redis": store.NewRedisLimiter(rdb), "memory": store.NewMemoryLimiter(clock)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			defer l.Reset(ctx, key)
			for want := 1; want <= 3; want++ {
				if n, err := l.Hit(ctx, key, time.Minute); err != nil || n != want {
					t.Fatalf("hit %d: %d, %v", want, n, err)
				}
			}
			if n, _ := l.Count(ctx, key+"-other"); n != 0 {
				t.Errorf("another key counted %d", n)
			}
			if n, _ := l.Count(ctx, key); n != 3 {
				t.Errorf("count = %d, want 3", n)
			}
			if err := l.Undo(ctx, key); err != nil {
				t.Fatal(err)
			}
			if n, _ := l.Count(ctx, key); n != 2 {
				t.Errorf("after undo: %d, want 2", n)
			}
			// Undo never opens a window nor counts below zero.
			if err := l.Undo(ctx, key+"-none"); err != nil {
				t.Fatal(err)
			}
			if n, _ := l.Hit(ctx, key+"-none", time.Minute); n != 1 {
				t.Errorf("a hit after undoing nothing counted %d, want 1", n)
			}
			l.Reset(ctx, key+"-none")
			if err := l.Reset(ctx, key); err != nil {
				t.Fatal(err)
			}
			if n, _ := l.Count(ctx, key); n != 0 {
				t.Errorf("after reset: %d", n)
			}
		})
	}
	t.Run("MemoryWindowEnds", func(t *testing.T) {
		l := store.NewMemoryLimiter(clock)
		l.Hit(context.Background(), "k", time.Minute)
		now = now.Add(61 * time.Second)
		if n, _ := l.Count(context.Background(), "k"); n != 0 {
			t.Errorf("count after the window = %d", n)
		}
	})
	t.Run("UndoAfterTheWindow", func(t *testing.T) {
		l := store.NewMemoryLimiter(clock)
		l.Hit(context.Background(), "u", time.Minute)
		now = now.Add(61 * time.Second)
		l.Undo(context.Background(), "u")
		if n, _ := l.Hit(context.Background(), "u", time.Minute); n != 1 {
			t.Errorf("first hit of a new window = %d", n)
		}
	})
	t.Run("RedisUndoOpensNoWindow", func(t *testing.T) {
		l := store.NewRedisLimiter(rdb)
		ctx := context.Background()
		if err := l.Undo(ctx, key+"-gone"); err != nil {
			t.Fatal(err)
		}
		if n := rdb.Exists(ctx, "canceldesk:limit:"+key+"-gone").Val(); n != 0 {
			t.Error("undo created a counter")
		}
	})
	t.Run("RedisKeyExpires", func(t *testing.T) {
		l := store.NewRedisLimiter(rdb)
		ctx := context.Background()
		defer l.Reset(ctx, key)
		l.Hit(ctx, key, time.Minute)
		if ttl := rdb.TTL(ctx, "canceldesk:limit:"+key).Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("TTL = %v, want within a minute", ttl)
		}
	})
}
