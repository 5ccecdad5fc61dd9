package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/canceldesk/canceldesk"
)

// route is one line of the table: a page or action, and for search the
// kind of term.
type route int

const (
	rList route = iota
	rListNext
	rSearchSurname
	rSearchEmail
	rSearchNumber
	rDetail
	rChart30
	rChart365
	rCancelDialog
	rCancelPost
	numRoutes
)

var routeNames = [numRoutes]string{
	rList:          "GET /orders",
	rListNext:      "GET /orders?after=… (next pages)",
	rSearchSurname: "GET /orders?q=<surname>",
	rSearchEmail:   "GET /orders?q=<email>",
	rSearchNumber:  "GET /orders?q=<order number>",
	rDetail:        "GET /orders/{id}",
	rChart30:       "GET /analytics?range=30",
	rChart365:      "GET /analytics?range=365",
	rCancelDialog:  "GET /orders/{id}/cancel (dialog)",
	rCancelPost:    "POST /orders/{id}/cancel",
}

// searchKind is the kind of search term.
type searchKind int

const (
	searchSurname searchKind = iota
	searchEmail
	searchNumber
	numSearchKinds
)

var searchRoutes = [numSearchKinds]route{rSearchSurname, rSearchEmail, rSearchNumber}

// maxListDepth is how many next pages a user follows at most.
const maxListDepth = 10

// requestTimeout bounds one request; a slower answer is an error.
const requestTimeout = 30 * time.Second

// routeStats is what one virtual user, or all of them, saw of a route.
type routeStats struct {
	n, errs  int
	lat      []time.Duration // every answered request, failed ones too
	firstErr string
	firstAt  time.Duration // since the traffic started
	slowest  slowRequest
}

// slowRequest is the slowest answer of a route, and what was asked.
type slowRequest struct {
	took time.Duration
	what string
}

// results is the whole run's traffic.
type results struct {
	routes    [numRoutes]routeStats
	wall      time.Duration // from the first request of the mix to the last answer
	signIn    []time.Duration
	cancelled int // cancels that succeeded
	poolSize  int
	poolOut   bool // the cancels ran out of open orders and the mix went on without them
}

func (r *results) totals() (n, errs int) {
	for _, s := range r.routes {
		n += s.n
		errs += s.errs
	}
	return n, errs
}

// verdict fails the run when too many requests failed.
func (r *results) verdict(maxErrors float64) error {
	n, errs := r.totals()
	if n == 0 {
		return errors.New("no requests were made")
	}
	if rate := float64(errs) / float64(n); rate > maxErrors {
		return fmt.Errorf("FAIL: %d of %d requests failed (%.2f%%), above -max-errors %.2f%%", errs, n, 100*rate, 100*maxErrors)
	}
	return nil
}

// vu is one virtual user: a browser with its own cookie jar, keep-alive
// connection and CSRF token, signed in as the load's manager.
type vu struct {
	id     int
	base   string
	client *http.Client
	csrf   string
	rng    *rand.Rand
	data   *data
	start  time.Time
	stats  [numRoutes]routeStats
	count  *atomic.Int64 // requests answered by all users, for progress

	next  string // the next page of the last list page, if any
	depth int    // next pages followed since the first page
}

func newVU(id int, base string, d *data, seed int64, count *atomic.Int64) (*vu, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil, // loopback, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
	return &vu{id: id, base: base, data: d, count: count, rng: rand.New(rand.NewPCG(uint64(seed), uint64(id))),
		client: &http.Client{Transport: tr, Jar: jar, Timeout: requestTimeout,
			// Redirects are checked, not followed: a cancel answers 303,
			// and a 303 to /login means the session was lost.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}

var (
	csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
	nextLink = regexp.MustCompile(`rel="next" href="([^"]+)"`)
	keyInput = regexp.MustCompile(`name="key" value="([^"]+)"`)
)

// signIn signs in through the form as a browser does, then reads the
// session's CSRF token from the orders page.
func (v *vu) signIn(ctx context.Context) error {
	body, resp, err := v.fetch(ctx, http.MethodGet, "login", nil)
	if err != nil {
		return err
	}
	m := csrfMeta.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("GET /login (%s) without a CSRF token", resp.Status)
	}
	form := url.Values{"_csrf": {string(m[1])}, "email": {loadEmail}, "password": {loadPassword}}
	if _, resp, err = v.fetch(ctx, http.MethodPost, "login", form); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orders" {
		return fmt.Errorf("POST /login answered %s to %q, want 303 to /orders", resp.Status, resp.Header.Get("Location"))
	}
	if body, resp, err = v.fetch(ctx, http.MethodGet, "orders", nil); err != nil {
		return err
	}
	if m = csrfMeta.FindSubmatch(body); resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("GET /orders after sign-in: %s, CSRF token found: %v", resp.Status, m != nil)
	}
	v.csrf = string(m[1])
	return nil
}

// fetch makes one request and reads the whole answer (so the connection
// is reused).
func (v *vu) fetch(ctx context.Context, method, path string, form url.Values) ([]byte, *http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, v.base+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp, err
}

// do makes a request of the route, times it and records the outcome: a
// transport error, a status other than 2xx/3xx or a redirect to the
// sign-in page is an error, and so is what check says (when given).
// ok reports success; a request cut short by the run's end is not counted.
func (v *vu) do(ctx context.Context, r route, method, path string, form url.Values,
	check func(*http.Response, []byte) error) (body []byte, ok bool) {
	t := time.Now()
	body, resp, err := v.fetch(ctx, method, path, form)
	el := time.Since(t)
	if ctx.Err() != nil {
		return nil, false
	}
	s := &v.stats[r]
	s.n++
	v.count.Add(1)
	if err == nil {
		s.lat = append(s.lat, el)
		if el > s.slowest.took {
			s.slowest = slowRequest{el, method + " /" + strings.TrimPrefix(path, "/")}
		}
		switch loc := resp.Header.Get("Location"); {
		case resp.StatusCode >= 400 || resp.StatusCode < 200:
			err = fmt.Errorf("%s: %s", resp.Status, pageText(body))
		case resp.StatusCode >= 300 && strings.HasPrefix(loc, "/login"):
			err = fmt.Errorf("%s to %s: the session was lost", resp.Status, loc)
		case check != nil:
			err = check(resp, body)
		}
	}
	if err != nil {
		s.errs++
		if s.firstErr == "" {
			s.firstErr, s.firstAt = fmt.Sprintf("%s %s: %v", method, "/"+strings.TrimPrefix(path, "/"), err), time.Since(v.start)
		}
		return body, false
	}
	return body, true
}

// tags and spaces strip a page down to its text for an error note.
var (
	tags   = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
	mainEl = regexp.MustCompile(`(?s)<main[^>]*>(.*)</main>`)
)

var (
	alertEl    = regexp.MustCompile(`(?s)role="alert"[^>]*>(.*?)</`)
	fieldError = regexp.MustCompile(`class="field-error" id="([^"]+)-error">([^<]+)<`)
)

// pageText says why a page refused: its alert banner and field errors
// when it has them (a form sent back), else the start of its main text.
func pageText(b []byte) string {
	s := string(b)
	var why []string
	for _, m := range alertEl.FindAllStringSubmatch(s, 3) {
		if t := strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(m[1], " "))); t != "" {
			why = append(why, t)
		}
	}
	for _, m := range fieldError.FindAllStringSubmatch(s, 5) {
		if t := strings.TrimSpace(html.UnescapeString(m[2])); t != "" {
			why = append(why, m[1]+": "+t)
		}
	}
	if len(why) > 0 {
		return strings.Join(why, "; ")
	}
	if m := mainEl.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	s = strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(tags.ReplaceAllString(s, " ")), " "))
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	if s == "" {
		return "(no text)"
	}
	return s
}

// traffic is what the virtual users share while they run.
type traffic struct {
	ctx      context.Context
	deadline time.Time // zero: none
	budget   atomic.Int64
	capped   bool
	cancels  []int64
	nextCan  atomic.Int64
	poolOut  atomic.Bool
	okCancel atomic.Int64
	weights  mix
}

// reserve takes n requests from the -requests budget; false when the run
// is over.
func (t *traffic) reserve(n int) bool {
	if t.ctx.Err() != nil || (!t.deadline.IsZero() && !time.Now().Before(t.deadline)) {
		return false
	}
	return !t.capped || t.budget.Add(-int64(n)) >= 0
}

// takeOrder hands out an open order no other user cancels.
func (t *traffic) takeOrder() (int64, bool) {
	i := t.nextCan.Add(1) - 1
	if i >= int64(len(t.cancels)) {
		t.poolOut.Store(true)
		return 0, false
	}
	return t.cancels[i], true
}

// pick draws an operation by weight; cancels drop out once their orders
// are used up.
func (v *vu) pick(t *traffic) op {
	w := t.weights
	if t.poolOut.Load() {
		w[opCancel] = 0
	}
	x := v.rng.IntN(max(w.total(), 1))
	for o, n := range w {
		if x < n {
			return op(o)
		}
		x -= n
	}
	return opList
}

// run drives the mix until the run is over.
func (v *vu) run(t *traffic) {
	ctx := t.ctx
	for {
		o := v.pick(t)
		need := 1
		if o == opCancel {
			need = 2
		}
		if !t.reserve(need) {
			return
		}
		switch o {
		case opList:
			r, path := rList, "orders"
			if v.next != "" && v.depth < maxListDepth && v.rng.IntN(2) == 0 {
				r, path = rListNext, v.next
				v.depth++
			} else {
				v.depth = 0
			}
			body, ok := v.do(ctx, r, http.MethodGet, path, nil, nil)
			v.next = ""
			if m := nextLink.FindSubmatch(body); ok && m != nil {
				v.next = html.UnescapeString(string(m[1]))
			}
		case opSearch:
			k := searchKind(v.rng.IntN(int(numSearchKinds)))
			terms := v.data.terms[k]
			term := terms[v.rng.IntN(len(terms))]
			v.do(ctx, searchRoutes[k], http.MethodGet, "orders?q="+url.QueryEscape(term), nil, nil)
		case opDetail:
			id := v.data.detailIDs[v.rng.IntN(len(v.data.detailIDs))]
			v.do(ctx, rDetail, http.MethodGet, "orders/"+strconv.FormatInt(id, 10), nil, nil)
		case opChart:
			if v.rng.IntN(2) == 0 {
				v.do(ctx, rChart30, http.MethodGet, "analytics?range=30", nil, nil)
			} else {
				v.do(ctx, rChart365, http.MethodGet, "analytics?range=365", nil, nil)
			}
		case opCancel:
			id, ok := t.takeOrder()
			if !ok { // no open order left: give the requests back
				t.budget.Add(int64(need))
				continue
			}
			if v.cancel(ctx, id) {
				t.okCancel.Add(1)
			}
		}
	}
}

// cancel opens the cancel dialog of order id, as staff do, and submits it:
// the customer changed their mind, refund now, restock, notify. Success
// is the 303 to the order page saying it was cancelled.
func (v *vu) cancel(ctx context.Context, id int64) bool {
	path := "orders/" + strconv.FormatInt(id, 10) + "/cancel"
	var key string
	if _, ok := v.do(ctx, rCancelDialog, http.MethodGet, path, nil, func(resp *http.Response, body []byte) error {
		m := keyInput.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			return fmt.Errorf("%s without the dialog's idempotency key", resp.Status)
		}
		key = string(m[1])
		return nil
	}); !ok {
		return false
	}
	form := url.Values{"_csrf": {v.csrf}, "key": {key}, "reason": {canceldesk.DefaultReasons[0].Key}, "refund": {"now"},
		"restock": {"1"}, "location": {strconv.FormatInt(v.data.location.ID, 10)}, "note": {"canceldesk-load"}, "notify": {"1"}}
	want := "/orders/" + strconv.FormatInt(id, 10) + "?cancelled=1"
	_, ok := v.do(ctx, rCancelPost, http.MethodPost, path, form, func(resp *http.Response, body []byte) error {
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			return fmt.Errorf("%s to %q, want 303 to %s: %s", resp.Status, resp.Header.Get("Location"), want, pageText(body))
		}
		return nil
	})
	return ok
}

// drive signs the virtual users in, one after another (a sign-in hashes
// the password with Argon2id, 19 MiB each: signing all in at once would
// put that in the server's peak memory, which real users arriving over
// time do not), then runs the mix with all of them at once.
func (l *load) drive(ctx context.Context) (*results, error) {
	res := &results{poolSize: len(l.data.cancelIDs)}
	vus := make([]*vu, l.cfg.vus)
	var count atomic.Int64
	for i := range vus {
		v, err := newVU(i, l.srv.base, l.data, l.cfg.seed, &count)
		if err != nil {
			return nil, err
		}
		defer v.client.CloseIdleConnections()
		t := time.Now()
		if err := v.signIn(ctx); err != nil {
			return nil, fmt.Errorf("virtual user %d could not sign in: %w", i+1, err)
		}
		res.signIn = append(res.signIn, time.Since(t))
		vus[i] = v
	}
	l.srv.rssSignedIn = l.srv.mem.current()
	l.progress("%d virtual users signed in; server RSS %s", len(vus), mb(l.srv.rssSignedIn))

	t := &traffic{ctx: ctx, cancels: l.data.cancelIDs, weights: l.cfg.mix, capped: l.cfg.requests > 0}
	t.budget.Store(int64(l.cfg.requests))
	what := []string{}
	if l.cfg.duration > 0 {
		what = append(what, l.cfg.duration.String())
	}
	if l.cfg.requests > 0 {
		what = append(what, strconv.Itoa(l.cfg.requests)+" requests")
	}
	if len(what) == 2 {
		what = []string{what[0] + " or " + what[1] + ", whichever ends first"}
	}
	l.progress("driving %s with %d virtual users for %s", l.cfg.mix.String(), len(vus), what[0])
	l.loadBefore = loadAverage()
	l.srv.mem.traffic(true)
	l.srv.cpuStart = procCPU(l.srv.pid)
	start := time.Now()
	if l.cfg.duration > 0 {
		t.deadline = start.Add(l.cfg.duration)
	}
	var wg sync.WaitGroup
	for _, v := range vus {
		v.start = start
		wg.Go(func() { v.run(t) })
	}
	stopTicker := make(chan struct{})
	var tickWG sync.WaitGroup
	tickWG.Go(func() { l.tick(stopTicker, start, &count) })
	wg.Wait()
	res.wall = time.Since(start)
	close(stopTicker)
	tickWG.Wait()
	l.srv.cpuEnd = procCPU(l.srv.pid)
	l.srv.mem.traffic(false)

	for _, v := range vus {
		for r := range v.stats {
			s, vs := &res.routes[r], &v.stats[r]
			s.n += vs.n
			s.errs += vs.errs
			s.lat = append(s.lat, vs.lat...)
			if vs.slowest.took > s.slowest.took {
				s.slowest = vs.slowest
			}
			if vs.firstErr != "" && (s.firstErr == "" || vs.firstAt < s.firstAt) {
				s.firstErr, s.firstAt = vs.firstErr, vs.firstAt
			}
		}
	}
	res.cancelled = int(t.okCancel.Load())
	res.poolOut = t.poolOut.Load()
	return res, nil
}

// tick reports progress every 5 seconds.
func (l *load) tick(stop <-chan struct{}, start time.Time, count *atomic.Int64) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	last, lastAt := 0, start
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			n := int(count.Load())
			l.progress("%s: %d requests, %.0f req/s in the last %s; server RSS %s", now.Sub(start).Round(time.Second), n,
				float64(n-last)/now.Sub(lastAt).Seconds(), now.Sub(lastAt).Round(time.Second), mb(l.srv.mem.current()))
			last, lastAt = n, now
		}
	}
}
