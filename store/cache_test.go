package store_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

func cacheOrder(t *testing.T, db *store.DB, name string) *canceldesk.Order {
	t.Helper()
	o := &canceldesk.Order{Name: name, Email: "c@example.com", Currency: "USD", Total: 500,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		CreatedAt: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
		LineItems: []canceldesk.LineItem{{Name: "Bowl", SKU: "B-1", Quantity: 1, Price: 500}}}
	if _, err := db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	db, cache, rdb := cachedStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := cacheOrder(t, db, "#cache-"+time.Now().Format("150405.000000"))
	key := "canceldesk:order:v3:" + itoa(o.ID)
	rdb.Del(ctx, key)
	t.Cleanup(func() { rdb.Del(ctx, key) })

	t.Run("MissFillsRedis", func(t *testing.T) {
		got, err := cache.Order(ctx, o.ID)
		if err != nil || got.Name != o.Name {
			t.Fatalf("got %v, %v", got, err)
		}
		if n, _ := rdb.Exists(ctx, key).Result(); n != 1 {
			t.Fatal("order not cached in Redis")
		}
	})

	t.Run("HitServesFromRedis", func(t *testing.T) {
		// Prove the read comes from Redis: plant a changed copy there.
		if err := rdb.Set(ctx, key, `{"ID":`+itoa(o.ID)+`,"Name":"from-redis","Currency":"USD"}`, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := cache.Order(ctx, o.ID)
		if err != nil || got.Name != "from-redis" {
			t.Fatalf("got %v, %v", got, err)
		}
	})

	t.Run("InvalidateDropsEntry", func(t *testing.T) {
		cache.Invalidate(ctx, o.ID)
		got, err := cache.Order(ctx, o.ID)
		if err != nil || got.Name != o.Name {
			t.Fatalf("got %v, %v", got, err)
		}
	})

	t.Run("NotFoundIsNotCached", func(t *testing.T) {
		_, err := cache.Order(ctx, 987654321)
		if canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("RedisDownFailsOpen", func(t *testing.T) {
		// A port nothing listens on: every Redis call fails at once.
		down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		defer down.Close()
		got, err := store.NewCache(db, down, log).Order(ctx, o.ID)
		if err != nil || got.Name != o.Name {
			t.Fatalf("with Redis down: %v, %v", got, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// cachedStore opens a SQLite store in a temp dir with a Redis order cache
// in front of it (real Redis), subscribed to its after-commit hook as
// serve wires it; both are closed when the test ends.
func cachedStore(t *testing.T) (*store.DB, *store.Cache, *redis.Client) {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir()+"/cache.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	cache := store.NewCache(db, rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	db.OnCommit(cache.Forget)
	return db, cache, rdb
}
