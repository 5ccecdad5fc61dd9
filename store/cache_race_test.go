package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// heldReads is a store whose Order reads the database, then waits for
// release before answering: a read that started before a commit and
// finishes after it.
type heldReads struct {
	canceldesk.OrderStore
	read, release chan struct{}
}

func (h heldReads) Order(ctx context.Context, id int64) (*canceldesk.Order, error) {
	o, err := h.OrderStore.Order(ctx, id)
	h.read <- struct{}{}
	<-h.release
	return o, err
}

// TestCacheForgetsAgainAfterARacingRead: a read that loaded the order
// before a commit and fills Redis right after the after-commit DEL leaves
// the old order in Redis only briefly: Forget drops it again.
func TestCacheForgetsAgainAfterARacingRead(t *testing.T) {
	ctx := context.Background()
	db, _, rdb := cachedStore(t)
	o := cacheOrder(t, db, "#race-"+time.Now().Format("150405.000000"))
	key := "canceldesk:order:v3:" + itoa(o.ID)
	rdb.Del(ctx, key)
	t.Cleanup(func() { rdb.Del(ctx, key) })

	held := heldReads{OrderStore: db, read: make(chan struct{}), release: make(chan struct{})}
	cache := store.NewCache(held, rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan error)
	go func() { _, err := cache.Order(ctx, o.ID); done <- err }()
	<-held.read // the old order is loaded; now a write commits
	cache.Forget(ctx, canceldesk.Changes{Orders: []int64{o.ID}})
	close(held.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, key).Result(); n != 1 {
		t.Fatal("the racing read did not put the old order back; the test proves nothing")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if n, _ := rdb.Exists(ctx, key).Result(); n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the old order stays in Redis after the commit")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
