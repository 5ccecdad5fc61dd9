package faults

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sample is one request of a load: when it started, and what came back.
type sample struct {
	who   string // which browser: "staff" (signed in) or "visitor" (no cookie)
	path  string
	start time.Time
	end   time.Time
	res   *response
	err   error
}

func (s sample) String() string {
	at := s.start.Format("15:04:05.000")
	if s.err != nil {
		return fmt.Sprintf("%s %s GET %s: %v", at, s.who, s.path, s.err)
	}
	return fmt.Sprintf("%s %s %v", at, s.who, s.res)
}

// load runs a small steady load: each worker sends its requests one after
// another, round robin, with a short pause, until halted.
type load struct {
	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	halted  sync.Once
	wg      sync.WaitGroup
}

// worker is one goroutine of a load: a browser and the pages it cycles
// through.
type worker struct {
	who   string
	c     *client
	paths []string
}

func startLoad(workers ...worker) *load {
	l := &load{stop: make(chan struct{})}
	for _, w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				path := w.paths[i%len(w.paths)]
				s := sample{who: w.who, path: path, start: time.Now()}
				s.res, s.err = w.c.get(path)
				s.end = time.Now()
				l.mu.Lock()
				l.samples = append(l.samples, s)
				l.mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	return l
}

// halt stops the workers and waits for their last requests; calling it
// again only waits.
func (l *load) halt() {
	l.halted.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// between returns the samples that started and ended in [from, to): a
// request under way when a fault began or ended belongs to no phase.
func (l *load) between(from, to time.Time) []sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sample
	for _, s := range l.samples {
		if !s.start.Before(from) && s.end.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

func (l *load) all() []sample { return l.between(time.Time{}, time.Now().Add(time.Hour)) }

// summary counts the answers of some samples, e.g. "staff 503:12 visitor 200:9".
func summary(ss []sample) string {
	counts := map[string]int{}
	var keys []string
	for _, s := range ss {
		k := s.who + " "
		if s.err != nil {
			k += "error"
		} else {
			k += fmt.Sprint(s.res.status)
		}
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:%d ", k, counts[k])
	}
	return strings.TrimSpace(b.String())
}

// judge checks the samples of one phase of a load: there are some, and
// want finds nothing wrong with each answer (requests without an answer
// are reported apart, by the caller).
func judge(t *testing.T, phase string, ss []sample, want func(s sample) string) {
	t.Helper()
	var slowest time.Duration
	for _, s := range ss {
		slowest = max(slowest, s.end.Sub(s.start))
	}
	t.Logf("%s: %s (slowest %v)", phase, summary(ss), slowest.Round(time.Millisecond))
	if len(ss) < 3 {
		t.Errorf("%s: only %d requests: the load did not run", phase, len(ss))
	}
	bad := 0
	for _, s := range ss {
		if s.err != nil {
			continue
		}
		if why := want(s); why != "" {
			if bad++; bad <= 10 {
				t.Errorf("%s: %v: %s", phase, s, why)
			}
		}
	}
}

func want200(s sample) string {
	if s.res.status != http.StatusOK {
		return "want 200"
	}
	return ""
}

// mostly200 checks that at least half of a phase's answers are 200.
func mostly200(t *testing.T, phase string, ss []sample) {
	t.Helper()
	n := 0
	for _, s := range ss {
		if s.err == nil && s.res.status == http.StatusOK {
			n++
		}
	}
	if 2*n < len(ss) {
		t.Errorf("%s: only %d of %d answers are 200", phase, n, len(ss))
	}
}

// report fails the test with the first few of some bad samples.
func report(t *testing.T, what string, bad []sample) {
	t.Helper()
	for i, s := range bad {
		if i == 10 {
			t.Errorf("… and %d more", len(bad)-i)
			break
		}
		t.Errorf("%s: %v", what, s)
	}
}
