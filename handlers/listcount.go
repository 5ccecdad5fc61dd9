package handlers

import (
	"sync"
	"time"

	"github.com/canceldesk/canceldesk"
)

// listCounts keeps the orders list's bounded count ("10,000+") per filter
// for a few seconds, so paging through a filter or coming back to the list
// does not count again. A committed write on this instance that changed
// orders forgets them all at once (see committed); one on another
// instance shows after the TTL.
type listCounts struct {
	mu  sync.Mutex
	gen uint64 // bumped by forget: a count read before it is not kept
	m   map[string]listCount
	ttl time.Duration
}

type listCount struct {
	n  int
	at time.Time
}

// listCountsMax bounds how many filters are kept; past it the kept counts
// are dropped and counting starts over.
const listCountsMax = 512

// countKey is what the count of f depends on: the filter without its
// cursor and page size.
func countKey(f canceldesk.OrderFilter) string {
	return f.Values(time.UTC).Encode()
}

// get returns the kept count of key, and the generation to hand to put.
func (lc *listCounts) get(key string, now time.Time) (n int, ok bool, gen uint64) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	c, ok := lc.m[key]
	if ok && now.Sub(c.at) >= lc.ttl {
		delete(lc.m, key)
		ok = false
	}
	return c.n, ok, lc.gen
}

// put keeps n as the count of key unless a write was committed since get
// returned gen (the count may predate it).
func (lc *listCounts) put(key string, n int, now time.Time, gen uint64) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if gen != lc.gen {
		return
	}
	if lc.m == nil || len(lc.m) >= listCountsMax {
		lc.m = map[string]listCount{}
	}
	lc.m[key] = listCount{n: n, at: now}
}

func (lc *listCounts) forget() {
	lc.mu.Lock()
	lc.gen++
	lc.m = nil
	lc.mu.Unlock()
}
