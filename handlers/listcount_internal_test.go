package handlers

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Requests that miss the same key at once share one read; a failed read
// is not kept; forget drops what was kept; the TTL expires it.
func TestKeptByKeyGetOrMake(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	k := keptByKey[int]{ttl: 10 * time.Second}
	var calls atomic.Int32
	release := make(chan struct{})
	mk := func() (int, error) {
		calls.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Go(func() {
			v, err := k.getOrMake("a", clock, mk)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all miss
	close(release)
	wg.Wait()
	if n := calls.Load(); n < 1 || n > 2 {
		// Two at most: one that reached make before the others saw it.
		t.Errorf("%d reads for 8 requests that missed together, want 1", n)
	}
	for i, v := range got {
		if v != 42 {
			t.Errorf("request %d got %d, want 42", i, v)
		}
	}
	before := calls.Load()
	if v, _ := k.getOrMake("a", clock, mk); v != 42 || calls.Load() != before {
		t.Errorf("kept value: got %d after %d reads, want 42 without reading", v, calls.Load()-before)
	}

	fail := errors.New("down")
	if _, err := k.getOrMake("b", clock, func() (int, error) { return 0, fail }); !errors.Is(err, fail) {
		t.Errorf("err = %v, want %v", err, fail)
	}
	if _, ok, _ := k.get("b", now); ok {
		t.Error("a failed read was kept")
	}

	k.forget()
	if _, ok, _ := k.get("a", now); ok {
		t.Error("kept after forget")
	}
	k.put("c", 7, now, k.gen)
	now = now.Add(11 * time.Second)
	if _, ok, _ := k.get("c", now); ok {
		t.Error("kept past its TTL")
	}
	gen := k.gen
	k.forget()
	k.put("d", 1, now, gen)
	if _, ok, _ := k.get("d", now); ok {
		t.Error("a value read before a forget was kept")
	}
}
