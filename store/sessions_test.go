package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

// testRedis is a client of the test Redis, closed when the test ends.
func testRedis(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// Both session indexes list an account's sessions, forget the ones named,
// and drop the ones older than a session lives at the next sign-in.
func TestSessionIndexes(t *testing.T) {
	rdb := testRedis(t)
	account := time.Now().UnixNano() // an account no other test uses
	start := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	for name, x := range map[string]handlers.SessionIndex{
		"redis": store.NewRedisSessionIndex(rdb, 12*time.Hour), "memory": store.NewMemorySessionIndex(12 * time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i, id := range []string{"old", "a", "b"} {
				if err := x.Add(ctx, account, id, start.Add(time.Duration(i)*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			if ok, err := x.Has(ctx, account, "a"); !ok || err != nil {
				t.Fatalf("has a: %v, %v", ok, err)
			}
			if ok, _ := x.Has(ctx, account+1, "a"); ok {
				t.Error("another account has the session")
			}
			if err := x.Add(ctx, account, "c", start.Add(12*time.Hour+time.Minute)); err != nil {
				t.Fatal(err)
			}
			ids, err := x.IDs(ctx, account)
			slices.Sort(ids)
			if err != nil || !slices.Equal(ids, []string{"a", "b", "c"}) {
				t.Fatalf("ids = %v, %v; want the session older than 12 hours dropped", ids, err)
			}
			if err := x.Remove(ctx, account, "a", "b", "c"); err != nil {
				t.Fatal(err)
			}
			if ids, _ := x.IDs(ctx, account); len(ids) != 0 {
				t.Errorf("after remove: %v", ids)
			}
		})
	}
}
