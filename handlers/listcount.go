package handlers

import (
	"sync"
	"time"

	"github.com/canceldesk/canceldesk"
)

// keptByKey keeps figures that are costly to work out (the orders list's
// bounded count per filter, the analytics page's figures and chart per
// range) for a few seconds, so paging through a filter or coming back to a
// page does not read them again. A committed write on this instance that
// may change them forgets them all at once (see committed); one on
// another instance shows after the TTL.
type keptByKey[V any] struct {
	mu  sync.Mutex
	gen uint64 // bumped by forget: figures read before it are not kept
	m   map[string]kept[V]
	ttl time.Duration
	// making are the figures being read now, by key: a request that
	// misses the same key meanwhile waits for them instead of reading too.
	making map[string]*making[V]
}

type making[V any] struct {
	done chan struct{}
	v    V
	err  error
}

type kept[V any] struct {
	v  V
	at time.Time
}

// keptMax bounds how many keys are kept; past it the kept figures are
// dropped and reading starts over.
const keptMax = 256

// countKey is what the list's count of f depends on: the filter without
// its cursor and page size.
func countKey(f canceldesk.OrderFilter) string {
	return f.Values(time.UTC).Encode()
}

// get returns the kept figures of key, and the generation to hand to put.
func (k *keptByKey[V]) get(key string, now time.Time) (v V, ok bool, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.m[key]
	if ok && now.Sub(c.at) >= k.ttl {
		delete(k.m, key)
		return v, false, k.gen
	}
	return c.v, ok, k.gen
}

// put keeps v for key unless a write was committed since get returned gen
// (v may predate it).
func (k *keptByKey[V]) put(key string, v V, now time.Time, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen {
		return
	}
	if k.m == nil || len(k.m) >= keptMax {
		k.m = map[string]kept[V]{}
	}
	k.m[key] = kept[V]{v: v, at: now}
}

func (k *keptByKey[V]) forget() {
	k.mu.Lock()
	k.gen++
	k.m = nil
	k.mu.Unlock()
}

// getOrMake returns the kept figures of key, or makes them with mk and
// keeps them; requests that miss the same key at the same time share one
// mk (under load, a write forgets the figures for every reader at once).
func (k *keptByKey[V]) getOrMake(key string, now func() time.Time, mk func() (V, error)) (V, error) {
	v, ok, gen := k.get(key, now())
	if ok {
		return v, nil
	}
	k.mu.Lock()
	if w, ok := k.making[key]; ok {
		k.mu.Unlock()
		<-w.done
		if w.err != nil {
			return mk() // the maker's request failed (or went away): try with this one
		}
		return w.v, nil
	}
	w := &making[V]{done: make(chan struct{})}
	if k.making == nil {
		k.making = map[string]*making[V]{}
	}
	k.making[key] = w
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		delete(k.making, key)
		k.mu.Unlock()
		close(w.done)
	}()
	w.v, w.err = mk()
	if w.err == nil {
		k.put(key, w.v, now(), gen)
	}
	return w.v, w.err
}
