package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"
	redisstorage "github.com/gofiber/storage/redis/v3"
	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/store"
)

// startRedisServer runs a redis-server of the test's own on port, keeping
// nothing on disk, and waits until it answers.
func startRedisServer(t testing.TB, port string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not installed: run scripts/test.sh")
	}
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	defer rdb.Close()
	for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
		if i > 100 {
			t.Fatal("private redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd
}

// freePort is a loopback TCP port nobody listens on.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// privateRedis is a client of a redis-server of the test's own, so that
// counts and sessions of other tests never mix in.
func privateRedis(t testing.TB) *redis.Client {
	t.Helper()
	port := freePort(t)
	srv := startRedisServer(t, port)
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// inRedis keeps the app's sessions and sign-in limits in rdb, as every
// instance of a deployment with Redis does.
func inRedis(rdb *redis.Client) func(*handlers.Config) {
	return func(c *handlers.Config) {
		c.Sessions, c.Limiter = redisstorage.NewFromConnection(rdb), store.NewRedisLimiter(rdb)
	}
}

// redisAndInProcess runs test once with sign-in limits and sessions in a
// real Redis, once in process; config sets the app up so, and limiter is
// the one it counts with.
func redisAndInProcess(t *testing.T, test func(t *testing.T, config func(*handlers.Config), limiter func() handlers.Limiter)) {
	t.Run("Redis", func(t *testing.T) {
		var limiter handlers.Limiter
		test(t, func(c *handlers.Config) {
			inRedis(privateRedis(t))(c)
			limiter = c.Limiter
		}, func() handlers.Limiter { return limiter })
	})
	t.Run("InProcess", func(t *testing.T) {
		var limiter handlers.Limiter
		test(t, func(c *handlers.Config) {
			limiter = store.NewMemoryLimiter(c.Now)
			c.Limiter = limiter
		}, func() handlers.Limiter { return limiter })
	})
}

// serve runs app on a loopback listener, so that clients can come from
// different addresses (127.0.0.2, ...), and returns its base URL.
func serve(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	return "http://" + ln.Addr().String()
}

// netClient is a browser at a given loopback address talking to a served
// app over TCP: it keeps its cookies and the CSRF token of its last page.
// Its methods are safe to call from other goroutines (no t.Fatal).
type netClient struct {
	base string
	http *http.Client
	csrf string
	lang string // Accept-Language
}

func newNetClient(base, from string) *netClient {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return &netClient{base: base, http: &http.Client{Jar: jar, Transport: &http.Transport{DialContext: dialer.DialContext},
		Timeout:       30 * time.Second, // a request the server holds fails the test instead of hanging it
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *netClient) do(method, path string, form url.Values) (int, *goquery.Document, error) {
	var body io.Reader
	if form != nil {
		form.Set("_csrf", c.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	if tok, ok := doc.Find(`meta[name="csrf-token"]`).Attr("content"); ok {
		c.csrf = tok
	}
	return res.StatusCode, doc, nil
}

// loginForm opens the sign-in page, as a browser does before signing in.
func (c *netClient) loginForm() error {
	_, _, err := c.do(http.MethodGet, "/login", nil)
	return err
}

// submitLogin posts the sign-in form and returns the status and the
// page's error message.
func (c *netClient) submitLogin(email, password string) (int, string, error) {
	status, doc, err := c.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		return 0, "", err
	}
	return status, strings.TrimSpace(doc.Find("#login-error").Text()), nil
}

// login opens the sign-in page and signs in.
func (c *netClient) login(t testing.TB, email, password string) (int, string) {
	t.Helper()
	if err := c.loginForm(); err != nil {
		t.Fatal(err)
	}
	status, msg, err := c.submitLogin(email, password)
	if err != nil {
		t.Fatal(err)
	}
	return status, msg
}

// signedIn reports whether the client's session opens the orders page.
func (c *netClient) signedIn(t testing.TB) bool {
	t.Helper()
	status, _, err := c.do(http.MethodGet, "/orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	return status == http.StatusOK
}

// TestSignInBurst: guesses sent at once from one address are counted
// before their passwords are checked, so no more than the limit are
// checked, and the right password late in the burst does not sign in.
func TestSignInBurst(t *testing.T) {
	redisAndInProcess(t, func(t *testing.T, config func(*handlers.Config), _ func() handlers.Limiter) {
		a := newTestApp(t, config)
		base := serve(t, a.app)
		var checks atomic.Int64
		handlers.OnPasswordCheck(t, func() { checks.Add(1) })
		const n, right, limit = 40, 30, 5
		owner := testEmails[canceldesk.RoleOwner]
		guessers := make([]*netClient, n)
		for i := range guessers {
			guessers[i] = newNetClient(base, "127.0.0.1")
			if err := guessers[i].loginForm(); err != nil {
				t.Fatal(err)
			}
		}
		statuses := make([]int, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, g := range guessers {
			password := fmt.Sprintf("wrong guess number %d", i)
			if i == right {
				password = testPassword
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var err error
				if statuses[i], _, err = g.submitLogin(owner, password); err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()

		if got := checks.Load(); got > limit {
			t.Errorf("%d passwords checked, want at most %d", got, limit)
		}
		checked := 0
		for i, status := range statuses {
			switch status {
			case http.StatusUnauthorized, http.StatusSeeOther:
				checked++
			case http.StatusTooManyRequests:
			default:
				t.Errorf("guess %d: status %d", i, status)
			}
			// Only the right password, checked within the limit, may sign in.
			if in := guessers[i].signedIn(t); in != (i == right && status == http.StatusSeeOther) {
				t.Errorf("guess %d (status %d): signed in = %v", i, status, in)
			}
		}
		if checked > limit {
			t.Errorf("%d guesses were answered after a check, want at most %d", checked, limit)
		}
		if statuses[right] != http.StatusSeeOther { // the account is still refused from this address
			if status, _ := newNetClient(base, "127.0.0.1").login(t, owner, testPassword); status != http.StatusTooManyRequests {
				t.Errorf("right after the burst, from the same address: %d, want 429", status)
			}
		}
	})
}

// TestSignInChecksBounded: the password checks running at once are
// bounded; one more sign-in is told to try shortly, in its language.
func TestSignInChecksBounded(t *testing.T) {
	a := newTestApp(t)
	base := serve(t, a.app)
	inside, release := make(chan struct{}, 64), make(chan struct{})
	handlers.OnPasswordCheck(t, func() { inside <- struct{}{}; <-release })
	releaseChecks := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseChecks) // also when the test fails early, so the server can stop
	slots := handlers.PasswordSlots()
	roles := canceldesk.Roles
	var held sync.WaitGroup
	for i := 0; i < slots; i++ {
		c := newNetClient(base, "127.0.0."+strconv.Itoa(2+i))
		held.Add(1)
		go func() {
			defer held.Done()
			if err := c.loginForm(); err != nil {
				t.Error(err)
				return
			}
			if status, _, err := c.submitLogin(testEmails[roles[i%len(roles)]], testPassword); err != nil || status != http.StatusSeeOther {
				t.Errorf("held sign-in %d: %d, %v", i, status, err)
			}
		}()
	}
	for i := 0; i < slots; i++ {
		<-inside // every slot is taken by a check that waits
	}
	for lang, want := range map[string]string{"en": "Try again shortly.", "zh-TW": "請稍後再試"} {
		c := newNetClient(base, "127.0.0.1")
		c.lang = lang
		status, msg := c.login(t, testEmails[canceldesk.RoleStaff], testPassword)
		if status != http.StatusTooManyRequests || !strings.Contains(msg, want) {
			t.Errorf("%s: a sign-in beyond the slots: %d %q, want 429 %q", lang, status, msg, want)
		}
		if c.signedIn(t) {
			t.Errorf("%s: a refused sign-in got a session", lang)
		}
	}
	// Accepting an invitation hashes a password: it waits for the same slots.
	c := newNetClient(base, "127.0.0.1")
	if _, _, err := c.do(http.MethodGet, "/invite/some-token", nil); err != nil {
		t.Fatal(err)
	}
	pw := "a long enough new password"
	status, doc, err := c.do(http.MethodPost, "/invite/some-token", url.Values{"password": {pw}, "confirm": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	if msg := doc.Find("main").Text(); status != http.StatusTooManyRequests || !strings.Contains(msg, "Try again shortly.") {
		t.Errorf("an invitation accepted beyond the slots: %d, want 429 with \"Try again shortly.\"", status)
	}
	releaseChecks()
	held.Wait()
}

// TestSignInOwnerKeepsAccess: a guesser on the owner's email from other
// addresses neither reaches the owner's address nor, once the account is
// refused from anywhere, the owner's known device.
func TestSignInOwnerKeepsAccess(t *testing.T) {
	redisAndInProcess(t, func(t *testing.T, config func(*handlers.Config), limiter func() handlers.Limiter) {
		a := newTestApp(t, config)
		base := serve(t, a.app)
		owner := testEmails[canceldesk.RoleOwner]
		device := newNetClient(base, "127.0.0.1") // the owner's own browser
		if status, msg := device.login(t, owner, testPassword); status != http.StatusSeeOther {
			t.Fatalf("owner's first sign-in: %d %q", status, msg)
		}
		if !device.signedIn(t) {
			t.Fatal("the owner's first sign-in gave no session")
		}
		if status, _, err := device.do(http.MethodPost, "/logout", url.Values{}); err != nil || status != http.StatusSeeOther {
			t.Fatalf("sign out: %d, %v", status, err)
		}

		for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
			guesser := newNetClient(base, from)
			for i := 0; i < 5; i++ {
				if status, _ := guesser.login(t, owner, "a wrong guess "+strconv.Itoa(i)); status != http.StatusUnauthorized {
					t.Fatalf("guess %d from %s: %d", i, from, status)
				}
			}
			if status, _ := guesser.login(t, owner, testPassword); status != http.StatusTooManyRequests {
				t.Fatalf("sixth attempt from %s: %d, want 429", from, status)
			}
		}
		if status, msg := newNetClient(base, "127.0.0.1").login(t, owner, testPassword); status != http.StatusSeeOther {
			t.Fatalf("a new browser at the owner's address after guesses elsewhere: %d %q", status, msg)
		}

		// Guessing from many more addresses (counted here directly) brings
		// the account to its limit from anywhere.
		ctx := context.Background()
		for n := 0; n < handlers.AccountLimit; {
			var err error
			if n, err = limiter().Hit(ctx, handlers.AccountLimitKey(owner), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		for _, from := range []string{"127.0.0.4", "127.0.0.1"} {
			c := newNetClient(base, from)
			if status, msg := c.login(t, owner, testPassword); status != http.StatusTooManyRequests || !strings.Contains(msg, "Try again in an hour") {
				t.Errorf("a browser never signed in, at %s: %d %q, want 429", from, status, msg)
			}
			if c.signedIn(t) {
				t.Errorf("a refused sign-in at %s got a session", from)
			}
		}
		if status, msg := device.login(t, owner, testPassword); status != http.StatusSeeOther || !device.signedIn(t) {
			t.Fatalf("the owner's known device: %d %q, want signed in", status, msg)
		}
	})
}
