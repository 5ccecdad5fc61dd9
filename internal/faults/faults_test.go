package faults

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk/store"
)

// deadline bounds every request of the tests: an answer later than this is
// a hang. It is generous (machines are shared and busy); nothing here
// measures speed.
const deadline = 2 * time.Second

// sessionsUnavailable is the heading of the 503 page of a request whose
// session cannot be read (en.json "error.sessions_unavailable").
const sessionsUnavailable = "Sign-in service unavailable"

const staffEmail = "staff@demo.canceldesk.test"

var orderLink = regexp.MustCompile(`href="/orders/(\d+)"`)

// someOrder returns the id of the first order the orders page links to.
func someOrder(t *testing.T, c *client) int64 {
	t.Helper()
	r, err := c.get("/orders")
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("orders page: %v %v", r, err)
	}
	m := orderLink.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("the orders page links to no order:\n%.2000s", r.body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// TestRedisOutage runs the server with its sessions and order cache in a
// private redis-server under a small steady load, then hangs that Redis
// (SIGSTOP), kills it (SIGKILL) and starts it again on the same port.
//
// Verdict: while Redis hangs or is down, every request of the signed-in
// browser (it carries a session cookie, so it needs the session store) gets
// the 503 "Sign-in service unavailable" page — never a 500, a redirect to
// sign-in or a hang — while a visitor without a session gets the sign-in
// page, the customers' cancel form and /healthz with 200 from the database;
// the order cache falls back to the database within a short timeout; and
// once Redis is back (empty: it keeps nothing on disk), signing in again
// works and the order pages answer 200, all from the same process.
func TestRedisOutage(t *testing.T) {
	rs := startRedis(t, freePort(t))
	dbPath := filepath.Join(t.TempDir(), "canceldesk.db")
	a := startApp(t, appConfig{DB: dbPath, Redis: rs.url(), Demo: true})

	staff := newClient(a.base, deadline)
	if err := staff.signIn(staffEmail); err != nil {
		t.Fatal(err)
	}
	orderID := someOrder(t, staff)
	orderPage := "/orders/" + strconv.FormatInt(orderID, 10)

	// The order cache of the store package, in this process, on the same
	// database and the same Redis, with go-redis's default client options
	// (a 3s read timeout, 3 retries): it must not wait for those.
	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatalf("opening the server's database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: rs.addr()})
	t.Cleanup(func() { rdb.Close() })
	cache := store.NewCache(db, rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// The order is in Redis before Redis fails (a busy machine may make
	// the cache give up on Redis once or twice: it then reads the database).
	key := "canceldesk:order:v3:" + strconv.FormatInt(orderID, 10)
	for i := 0; ; i++ {
		cacheReads(t, cache, orderID, "Redis up")
		n, err := rdb.Exists(context.Background(), key).Result()
		if err == nil && n == 1 {
			break
		}
		if i == 20 {
			t.Fatalf("order %d is not in Redis after 20 reads through the cache (%d, %v): the cache is not in use", orderID, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	l := startLoad(
		worker{"staff", staff, []string{"/orders", "/login"}},
		worker{"staff", staff, []string{orderPage}},
		worker{"visitor", newVisitor(a.base, deadline), []string{"/login", "/cancel", "/healthz"}},
	)
	defer l.halt() // once: the test halts it too
	t0 := time.Now()
	time.Sleep(1500 * time.Millisecond)

	// Redis hangs: the process is there, its socket accepts, nothing answers.
	hungAt := time.Now()
	rs.signal(syscall.SIGSTOP)
	time.Sleep(1500 * time.Millisecond)
	cacheReads(t, cache, orderID, "Redis hung")
	contAt := time.Now()
	rs.signal(syscall.SIGCONT)
	time.Sleep(500 * time.Millisecond)

	// Redis dies.
	rs.kill(t)
	downAt := time.Now()
	time.Sleep(3 * time.Second)
	cacheReads(t, cache, orderID, "Redis down")
	if a.exited() {
		t.Fatalf("the server exited while Redis was down: %v", a.waitErr)
	}

	// Redis comes back, empty, on the same port: sign in again.
	restartAt := time.Now()
	startRedis(t, rs.port)
	var signErr error
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if signErr = staff.signIn(staffEmail); signErr == nil {
			break
		}
	}
	if signErr != nil {
		t.Fatalf("signing in again 15s after Redis came back: %v", signErr)
	}
	backAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	l.halt()
	end := time.Now()

	// Every request answered in full, before the deadline, never with a 500.
	var broken []sample
	for _, s := range l.all() {
		if s.err != nil || (s.res.status >= 500 && s.res.status != http.StatusServiceUnavailable) {
			broken = append(broken, s)
		}
	}
	report(t, "no answer, or a server error", broken)

	sessions503 := func(s sample) bool {
		return s.res.status == http.StatusServiceUnavailable && heading(s.res.body) == sessionsUnavailable && isErrorPage(s.res.body)
	}
	outage := func(s sample) string {
		if s.who == "visitor" {
			return want200(s)
		}
		if !sessions503(s) {
			return fmt.Sprintf("want the 503 page %q", sessionsUnavailable)
		}
		return ""
	}
	// With Redis up, a busy machine may still make Redis miss the
	// server's 100ms timeouts now and then: the 503 page is then the
	// right answer, but most answers must be 200.
	healthy := func(s sample) string {
		if s.res.status == http.StatusOK || (s.who == "staff" && sessions503(s)) {
			return ""
		}
		return "want 200"
	}
	for _, phase := range []struct {
		name     string
		from, to time.Time
		want     func(sample) string
	}{
		{"Redis up", t0, hungAt, healthy},
		{"Redis hung", hungAt, contAt, outage},
		{"Redis down", downAt, restartAt, outage},
		{"Redis back, signed in again", backAt, end, healthy},
	} {
		ss := l.between(phase.from, phase.to)
		judge(t, phase.name, ss, phase.want)
		if phase.name == "Redis up" || phase.name == "Redis back, signed in again" {
			mostly200(t, phase.name, ss)
		}
	}

	if a.exited() {
		t.Fatalf("the server exited: %v", a.waitErr)
	}
}

// cacheReads reads the order through the Redis order cache and checks that
// it comes back, from Redis or from the database, well before go-redis's
// own timeouts would let go of a hung Redis.
func cacheReads(t *testing.T, cache *store.Cache, id int64, when string) {
	t.Helper()
	const bound = time.Second // the cache's own timeout is 50ms
	type result struct {
		name    string
		err     error
		elapsed time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		o, err := cache.Order(context.Background(), id)
		r := result{err: err, elapsed: time.Since(start)}
		if o != nil {
			r.name = o.Name
		}
		done <- r
	}()
	select {
	case r := <-done:
		if r.err != nil || r.name == "" {
			t.Errorf("%s: order cache read of order %d: %q, %v", when, id, r.name, r.err)
		} else if r.elapsed > bound {
			t.Errorf("%s: the order cache answered after %v: it must fall back to the database within a short timeout (it has 50ms)",
				when, r.elapsed.Round(time.Millisecond))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: the order cache did not answer in 30s", when)
	}
}

// TestPostgresRestart runs the server on a private PostgreSQL under a small
// load and restarts PostgreSQL (stop -m fast, a second and a half down,
// start).
//
// Verdict: while PostgreSQL is down, every request that needs the database
// fails cleanly — the dashboard's "unavailable" error page with 503, before the
// deadline — and the process stays up; after PostgreSQL is back, the same
// process answers 200 on /orders within 15s and from then on.
func TestPostgresRestart(t *testing.T) {
	pg := startPostgres(t)
	a := startApp(t, appConfig{DB: pg.url("canceldesk"), Demo: true})
	staff := newClient(a.base, 5*time.Second)
	if err := staff.signIn(staffEmail); err != nil {
		t.Fatal(err)
	}
	orderPage := "/orders/" + strconv.FormatInt(someOrder(t, staff), 10)

	l := startLoad(
		worker{"staff", staff, []string{"/orders", "/orders?q=a"}},
		worker{"staff", staff, []string{orderPage, "/inventory"}},
		worker{"visitor", newVisitor(a.base, 5*time.Second), []string{"/healthz"}},
	)
	defer l.halt() // once: the test halts it too
	t0 := time.Now()
	time.Sleep(1500 * time.Millisecond)

	stopAt := time.Now()
	pg.stop(t)
	downAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	upAt := time.Now()
	pg.start(t)

	probe := newClient(a.base, 5*time.Second)
	probe.hc.Jar = staff.hc.Jar // the same session
	var last string
	recovered := false
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		r, err := probe.get("/orders")
		if err == nil && r.status == http.StatusOK {
			recovered = true
			break
		}
		last = fmt.Sprint(r, err)
	}
	if !recovered {
		t.Fatalf("/orders did not answer 200 within 15s of PostgreSQL starting again; last: %s", last)
	}
	backAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	l.halt()
	end := time.Now()

	var broken []sample
	for _, s := range l.all() {
		if s.err != nil {
			broken = append(broken, s)
		}
	}
	report(t, "no answer", broken)
	judge(t, "PostgreSQL up", l.between(t0, stopAt), want200)
	judge(t, "PostgreSQL down", l.between(downAt, upAt), func(s sample) string {
		switch {
		case s.path == "/healthz":
			if s.res.status != http.StatusServiceUnavailable {
				return "want 503 from the health check"
			}
		case s.res.status != http.StatusServiceUnavailable || !isErrorPage(s.res.body):
			return "want the error page with 503 (unavailable, try again)"
		}
		return ""
	})
	judge(t, "PostgreSQL back", l.between(backAt, end), want200)
	if a.exited() {
		t.Fatalf("the server exited: %v", a.waitErr)
	}
}

// TestGracefulShutdown sends SIGTERM while two requests are on their way
// in: a POST whose body is half sent, and a GET whose headers are half sent
// on a keep-alive connection that already served one request.
//
// Verdict: new connections are refused from then on; both requests, once
// their senders finish them 300ms later, get a complete HTTP response; the
// process exits with status 0 soon after.
func TestGracefulShutdown(t *testing.T) {
	a := startApp(t, appConfig{DB: filepath.Join(t.TempDir(), "canceldesk.db")})
	addr := "127.0.0.1:" + strconv.Itoa(a.port)
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	write := func(c net.Conn, s string) {
		t.Helper()
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, s); err != nil {
			t.Fatalf("write: %v", err)
		}
	}

	// A keep-alive connection: one request answered, the next one's
	// headers half sent.
	keep := dial()
	keepR := bufio.NewReader(keep)
	write(keep, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
	if res := readResponse(t, keep, keepR, "GET /healthz"); res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("first GET on the keep-alive connection: %d (close %v)", res.StatusCode, res.Close)
	}
	write(keep, "GET /login HTTP/1.1\r\nHost: "+addr+"\r\n")

	// A POST with half of its body.
	body := "email=someone%40example.com&password=not-the-password&next=%2Forders"
	post := dial()
	postR := bufio.NewReader(post)
	write(post, "POST /login HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:len(body)/2])

	time.Sleep(500 * time.Millisecond) // the server has read what was sent
	a.signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)

	// The listener is closed: a new connection is refused.
	refused := false
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Errorf("new connections are still accepted 5s after SIGTERM")
	}

	write(post, body[len(body)/2:])
	res := readResponse(t, post, postR, "POST /login (half sent at SIGTERM)")
	if res.StatusCode < 200 || res.StatusCode >= 500 {
		t.Errorf("POST /login finished after SIGTERM: status %d, want the app's answer (403: no CSRF token)", res.StatusCode)
	}
	t.Logf("POST /login, half sent at SIGTERM: %s (Connection: close %v)", res.Status, res.Close)
	write(keep, "\r\n")
	res = readResponse(t, keep, keepR, "GET /login (headers half sent at SIGTERM)")
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /login finished after SIGTERM: status %d, want 200", res.StatusCode)
	}
	t.Logf("GET /login, headers half sent at SIGTERM on a keep-alive connection: %s (Connection: close %v)", res.Status, res.Close)

	if !a.waitExit(25 * time.Second) {
		t.Fatalf("the server has not exited 25s after SIGTERM (its requests were answered)")
	}
	if code := a.state.ExitCode(); code != 0 {
		t.Fatalf("the server exited with %v after SIGTERM, want status 0:\n%s", a.state, a.logTail())
	}
	if !strings.Contains(a.log(), "shutting down") {
		t.Errorf("the log does not say it shut down:\n%s", a.logTail())
	}
}

// readResponse reads one complete HTTP response (status line, headers and
// the whole body its headers announce) within 10s.
func readResponse(t *testing.T, c net.Conn, r *bufio.Reader, what string) *http.Response {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("%s: no complete response (status line and headers): %v", what, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("%s: %d with a truncated body (%d bytes read): %v", what, res.StatusCode, len(b), err)
	}
	if res.ContentLength >= 0 && int64(len(b)) != res.ContentLength {
		t.Fatalf("%s: body of %d bytes, Content-Length %d", what, len(b), res.ContentLength)
	}
	return res
}
