package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	redisstorage "github.com/gofiber/storage/redis/v3"
	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/store"
)

func location(res *http.Response) string { return res.Header.Get("Location") }

func toLogin(res *http.Response) bool {
	return res.StatusCode == http.StatusSeeOther && strings.HasPrefix(location(res), "/login")
}

// TestAccessMatrix walks the route table itself: every route, asked by a
// signed-out visitor and by each role, must answer as its role says.
func TestAccessMatrix(t *testing.T) {
	a := newTestApp(t)
	orders := a.seed(t, 1)
	staffAcct, err := a.db.AccountByEmail(context.Background(), testEmails[canceldesk.RoleStaff])
	if err != nil {
		t.Fatal(err)
	}
	req, err := a.db.FileRequest(context.Background(), canceldesk.RequestForm{OrderNumber: orders[0].Name,
		Email: orders[0].Email, Reason: "changed_mind"}, "http://test/r/", nil)
	if err != nil || req == nil {
		t.Fatalf("FileRequest: %+v, %v", req, err)
	}
	request := "/requests/" + strconv.FormatInt(req.ID, 10)
	params := map[string]string{
		"/orders/:id<int>":           "/orders/" + strconv.FormatInt(orders[0].ID, 10),
		"/staff/:id<int>":            "/staff/" + strconv.FormatInt(staffAcct.ID, 10),
		"/invite/:token":             "/invite/not-a-real-token",
		"/requests/:id<int>/decline": request + "/decline", // an empty message declines nothing
		"/requests/:id<int>/approve": request + "/approve", // an empty form approves nothing
	}
	forms := map[string]url.Values{
		"/staff/:id<int>": {"action": {"enable"}},
		"/account":        {"language": {"en"}},
		"/login":          {"email": {"nobody@example.com"}, "password": {"wrong password!"}},
	}
	routes := handlers.RouteTable()
	if len(routes) < 10 {
		t.Fatalf("route table has %d routes", len(routes))
	}
	// As the README says: staff decide customer requests, within their
	// refund limit (the store holds them to it); managers set the rule.
	for _, want := range []handlers.RouteInfo{
		{Method: http.MethodGet, Path: "/requests", Role: canceldesk.RoleStaff},
		{Method: http.MethodGet, Path: "/requests/:id<int>/decline", Role: canceldesk.RoleStaff},
		{Method: http.MethodPost, Path: "/requests/:id<int>/decline", Role: canceldesk.RoleStaff},
		{Method: http.MethodPost, Path: "/requests/:id<int>/approve", Role: canceldesk.RoleStaff},
		{Method: http.MethodPost, Path: "/settings/auto-approval", Role: canceldesk.RoleManager},
	} {
		if !slices.Contains(routes, want) {
			t.Errorf("route table: want %s %s for %s", want.Method, want.Path, want.Role)
		}
	}
	askers := []canceldesk.Role{"", canceldesk.RoleStaff, canceldesk.RoleManager, canceldesk.RoleOwner}
	for _, r := range routes {
		for _, who := range askers {
			name := fmt.Sprintf("%s %s as %s", r.Method, r.Path, map[bool]string{true: "signed-out", false: string(who)}[who == ""])
			t.Run(name, func(t *testing.T) {
				c := a.anonymous()
				if who != "" {
					c = a.signedIn(t, who)
				} else {
					c.get(t, "/login") // a visitor has a session and a CSRF token
				}
				path := r.Path
				if p, ok := params[r.Path]; ok {
					path = p
				}
				var res *http.Response
				if r.Method == http.MethodGet {
					res, _ = c.get(t, path)
				} else {
					form := url.Values{}
					for k, v := range forms[r.Path] {
						form[k] = v
					}
					res, _ = c.post(t, path, form)
				}
				switch {
				case r.Role == "":
					if res.StatusCode == http.StatusForbidden || toLogin(res) && r.Path != "/invite/:token" {
						t.Errorf("public route answered %d %s", res.StatusCode, location(res))
					}
				case who == "":
					if !toLogin(res) {
						t.Errorf("signed out: %d %s, want a redirect to /login", res.StatusCode, location(res))
					}
				case !who.AtLeast(r.Role):
					if res.StatusCode != http.StatusForbidden {
						t.Errorf("%s on a %s route: %d, want 403", who, r.Role, res.StatusCode)
					}
				default:
					signedOut := r.Path == "/logout" && location(res) == "/login?signed_out=1"
					if res.StatusCode == http.StatusForbidden || toLogin(res) && !signedOut || res.StatusCode >= 500 {
						t.Errorf("%s on a %s route: %d %s, want access", who, r.Role, res.StatusCode, location(res))
					}
				}
			})
		}
	}
}

func TestLogin(t *testing.T) {
	t.Run("NoDemoHintOutsideDemoMode", func(t *testing.T) {
		a := newTestApp(t)
		if _, doc := a.anonymous().get(t, "/login"); doc.Find(".demo-hint").Length() != 0 {
			t.Fatal("the login page shows demo accounts outside demo mode")
		}
		demo := newTestApp(t, func(c *handlers.Config) { c.Demo = true })
		if _, doc := demo.anonymous().get(t, "/login"); doc.Find(".demo-hint").Length() != 1 {
			t.Fatal("demo mode must say how to sign in")
		}
	})

	t.Run("WrongPasswordAndUnknownEmailLookAlike", func(t *testing.T) {
		a := newTestApp(t)
		r1, d1 := a.anonymous().login(t, testEmails[canceldesk.RoleStaff], "not the password")
		r2, d2 := a.anonymous().login(t, "nobody@example.com", "not the password")
		if r1.StatusCode != 401 || r2.StatusCode != 401 {
			t.Fatalf("statuses %d, %d", r1.StatusCode, r2.StatusCode)
		}
		if e1, e2 := d1.Find("#login-error").Text(), d2.Find("#login-error").Text(); e1 != e2 || e1 == "" {
			t.Errorf("messages differ: %q vs %q", e1, e2)
		}
	})

	t.Run("SessionIDChangesAtSignIn", func(t *testing.T) {
		a := newTestApp(t)
		signIn := func(c *client, role canceldesk.Role) string {
			t.Helper()
			c.get(t, "/login")
			if res, _ := c.post(t, "/login", url.Values{"email": {testEmails[role]}, "password": {testPassword}}); res.StatusCode != 303 {
				t.Fatalf("sign-in: %d", res.StatusCode)
			}
			return c.sessionID()
		}
		// An id planted before sign-in is not used...
		c := a.anonymous()
		c.jar["canceldesk_session"] = &http.Cookie{Name: "canceldesk_session", Value: "planted-by-someone-else"}
		first := signIn(c, canceldesk.RoleStaff)
		if first == "" || first == "planted-by-someone-else" {
			t.Fatalf("session id after sign-in: %q", first)
		}
		// ...nor is the session of whoever signed in before on this browser.
		second := signIn(c, canceldesk.RoleManager)
		if second == "" || second == first {
			t.Fatalf("session id not renewed: %q → %q", first, second)
		}
		replay := a.anonymous()
		replay.jar["canceldesk_session"] = &http.Cookie{Name: "canceldesk_session", Value: first}
		if res, _ := replay.get(t, "/orders"); !toLogin(res) {
			t.Errorf("old session id still signed in: %d", res.StatusCode)
		}
	})

	t.Run("RedirectsBackToWhereYouWere", func(t *testing.T) {
		a := newTestApp(t)
		c := a.anonymous()
		res, _ := c.get(t, "/orders?q=mug")
		if !toLogin(res) || !strings.Contains(location(res), "next=%2Forders%3Fq%3Dmug") {
			t.Fatalf("redirect = %s", location(res))
		}
		c.get(t, location(res))
		res, _ = c.post(t, "/login", url.Values{"email": {testEmails[canceldesk.RoleStaff]}, "password": {testPassword}, "next": {"/orders?q=mug"}})
		if location(res) != "/orders?q=mug" {
			t.Errorf("after sign-in: %s", location(res))
		}
		res, _ = a.anonymous().login(t, testEmails[canceldesk.RoleStaff], testPassword)
		if location(res) != "/orders" {
			t.Errorf("default target %s", location(res))
		}
	})

	t.Run("OffSiteNextIsIgnored", func(t *testing.T) {
		a := newTestApp(t)
		// A browser drops tabs and line breaks from a URL and reads a
		// backslash as a slash: "/\t/evil.example" is "//evil.example".
		for _, next := range []string{"https://evil.example", "//evil.example", "/\\evil.example", "/\t/evil.example",
			"/\n/evil.example", "/\t\\evil.example"} {
			c := a.anonymous()
			c.get(t, "/login")
			res, _ := c.post(t, "/login", url.Values{"email": {testEmails[canceldesk.RoleStaff]}, "password": {testPassword}, "next": {next}})
			if location(res) != "/orders" {
				t.Errorf("next %q led to %q", next, location(res))
			}
		}
	})

	t.Run("AttemptsLimitedPerAccount", func(t *testing.T) {
		a := newTestApp(t)
		for i := 0; i < 5; i++ {
			a.anonymous().login(t, testEmails[canceldesk.RoleStaff], "wrong password "+strconv.Itoa(i))
		}
		res, doc := a.anonymous().login(t, testEmails[canceldesk.RoleStaff], testPassword)
		if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(doc.Find("#login-error").Text(), "15 minutes") {
			t.Fatalf("sixth attempt: %d %q", res.StatusCode, doc.Find("#login-error").Text())
		}
		// Other accounts are not locked out by it.
		if res, _ := a.anonymous().login(t, testEmails[canceldesk.RoleManager], testPassword); res.StatusCode != 303 {
			t.Errorf("manager sign-in: %d", res.StatusCode)
		}
	})

	t.Run("AttemptsLimitedPerAddress", func(t *testing.T) {
		a := newTestApp(t)
		for i := 0; i < 20; i++ {
			a.anonymous().login(t, fmt.Sprintf("guess%d@example.com", i), "wrong password")
		}
		if res, _ := a.anonymous().login(t, testEmails[canceldesk.RoleOwner], testPassword); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("after 20 failures from one address: %d", res.StatusCode)
		}
	})
}

func TestSession(t *testing.T) {
	t.Run("LogoutEndsTheSessionOnTheServer", func(t *testing.T) {
		a := newTestApp(t)
		c := a.signedIn(t, canceldesk.RoleStaff)
		id := c.sessionID()
		if res, _ := c.post(t, "/logout", nil); location(res) != "/login?signed_out=1" {
			t.Fatalf("logout: %d %s", res.StatusCode, location(res))
		}
		replay := a.anonymous()
		replay.jar["canceldesk_session"] = &http.Cookie{Name: "canceldesk_session", Value: id}
		if res, _ := replay.get(t, "/orders"); !toLogin(res) {
			t.Errorf("session still valid after logout: %d", res.StatusCode)
		}
	})

	t.Run("IdleExpiry", func(t *testing.T) {
		a := newTestApp(t)
		c := a.signedIn(t, canceldesk.RoleStaff)
		a.clock.Advance(25 * time.Minute)
		if res, _ := c.get(t, "/orders"); res.StatusCode != 200 {
			t.Fatalf("after 25 idle minutes: %d", res.StatusCode)
		}
		a.clock.Advance(25 * time.Minute) // activity above restarted the idle clock
		if res, _ := c.get(t, "/orders"); res.StatusCode != 200 {
			t.Fatalf("25 minutes after the last request: %d", res.StatusCode)
		}
		a.clock.Advance(31 * time.Minute)
		res, doc := c.get(t, "/orders")
		if !toLogin(res) || !strings.Contains(location(res), "expired=1") {
			t.Fatalf("after 31 idle minutes: %d %s", res.StatusCode, location(res))
		}
		_, doc = c.get(t, location(res))
		if doc.Find(".banner-info").Length() != 1 {
			t.Error("the login page does not say the session ended")
		}
	})

	t.Run("AbsoluteExpiry", func(t *testing.T) {
		a := newTestApp(t)
		c := a.signedIn(t, canceldesk.RoleStaff)
		for i := 0; i < 12*3-1; i++ {
			a.clock.Advance(20 * time.Minute)
			if res, _ := c.get(t, "/orders?status=open"); res.StatusCode != 200 {
				t.Fatalf("after %v of activity: %d", time.Duration(i+1)*20*time.Minute, res.StatusCode)
			}
		}
		a.clock.Advance(20 * time.Minute)
		if res, _ := c.get(t, "/orders"); !toLogin(res) {
			t.Fatalf("after more than 12 hours: %d", res.StatusCode)
		}
	})

	t.Run("DisabledAccountLosesAccessAtOnce", func(t *testing.T) {
		a := newTestApp(t)
		staff := a.signedIn(t, canceldesk.RoleStaff)
		acct, _ := a.db.AccountByEmail(context.Background(), testEmails[canceldesk.RoleStaff])
		a.get(t, "/staff")
		if res, _ := a.post(t, "/staff/"+strconv.FormatInt(acct.ID, 10), url.Values{"action": {"disable"}}); res.StatusCode != 303 {
			t.Fatalf("disable: %d", res.StatusCode)
		}
		if res, _ := staff.get(t, "/orders"); !toLogin(res) {
			t.Fatalf("disabled account still in: %d", res.StatusCode)
		}
		if res, _ := a.anonymous().login(t, testEmails[canceldesk.RoleStaff], testPassword); res.StatusCode != 401 {
			t.Errorf("disabled account signed in: %d", res.StatusCode)
		}
	})

	t.Run("CookieFlags", func(t *testing.T) {
		for _, secure := range []bool{false, true} {
			a := newTestApp(t, func(c *handlers.Config) { c.SecureCookies = secure })
			prefix := map[bool]string{true: "__Host-"}[secure]
			check := func(res *http.Response, name string) {
				t.Helper()
				for _, ck := range res.Cookies() {
					if ck.Name == prefix+name {
						if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != secure {
							t.Errorf("%s flags: %+v", ck.Name, ck)
						}
						return
					}
				}
				t.Errorf("secure=%v: no %s cookie in %v", secure, prefix+name, res.Cookies())
			}
			c := a.anonymous()
			res, _ := c.get(t, "/login")
			check(res, "canceldesk_csrf") // a visitor's CSRF token
			res, _ = c.post(t, "/login", url.Values{"email": {testEmails[canceldesk.RoleStaff]}, "password": {testPassword}})
			check(res, "canceldesk_session")
		}
	})
}

// TestReinvite: a member who lost the link gets a new one, and the old one
// stops working; an active member gets none.
func TestReinvite(t *testing.T) {
	a := newTestApp(t)
	a.get(t, "/staff")
	_, doc := a.post(t, "/staff", url.Values{"name": {"Lin"}, "email": {"lin@example.com"}, "role": {"staff"}})
	first, _ := doc.Find(".invite-link input").Attr("value")
	acct, err := a.db.AccountByEmail(context.Background(), "lin@example.com")
	if err != nil || first == "" {
		t.Fatalf("invitation: %q, %v", first, err)
	}
	res, doc := a.post(t, "/staff/"+strconv.FormatInt(acct.ID, 10), url.Values{"action": {"reinvite"}})
	second, _ := doc.Find(".invite-link input").Attr("value")
	if res.StatusCode != 200 || second == "" || second == first {
		t.Fatalf("reinvite: %d, link %q", res.StatusCode, second)
	}
	setPassword := func(link string) int {
		c := a.anonymous()
		path := strings.TrimPrefix(link, "http://example.com")
		c.get(t, path)
		res, _ := c.post(t, path, url.Values{"password": {"another long password"}, "confirm": {"another long password"}})
		return res.StatusCode
	}
	if got := setPassword(first); got != http.StatusNotFound {
		t.Errorf("the replaced link answered %d, want 404", got)
	}
	if got := setPassword(second); got != http.StatusSeeOther {
		t.Errorf("the new link answered %d, want 303", got)
	}
	staff, _ := a.db.AccountByEmail(context.Background(), testEmails[canceldesk.RoleStaff])
	if res, _ := a.post(t, "/staff/"+strconv.FormatInt(staff.ID, 10), url.Values{"action": {"reinvite"}}); res.StatusCode != http.StatusConflict {
		t.Errorf("reinvite of an active member: %d, want 409", res.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	a := newTestApp(t)
	c := a.signedIn(t, canceldesk.RoleStaff)
	acct, _ := a.db.AccountByEmail(context.Background(), testEmails[canceldesk.RoleStaff])
	for _, tc := range []struct{ name, token string }{{"ErrMissing", ""}, {"ErrWrong", "forged-token"}} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := c.post(t, "/account", url.Values{"language": {"zh-TW"}, "_csrf": {tc.token}})
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got, _ := a.db.Account(context.Background(), acct.ID); got.Language != "" {
				t.Fatalf("a refused request changed the language to %q", got.Language)
			}
		})
	}
	t.Run("HeaderTokenWorksForHTMX", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, "/account", strings.NewReader("language=zh-TW"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", c.csrf)
		res, _ := c.do(t, req)
		if res.StatusCode != http.StatusNoContent || res.Header.Get("HX-Redirect") != "/account?saved=1" {
			t.Fatalf("status %d, HX-Redirect %q", res.StatusCode, res.Header.Get("HX-Redirect"))
		}
		if got, _ := a.db.Account(context.Background(), acct.ID); got.Language != "zh-TW" {
			t.Fatalf("language = %q", got.Language)
		}
	})
}

// TestRedisOutage runs the app on a private redis-server, stops it under
// the running app, then starts it again on the same port.
func TestRedisOutage(t *testing.T) {
	port := freePort(t)
	start := func() *exec.Cmd { return startRedisServer(t, port) }
	srv := start()
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })

	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond, MaxRetries: 1})
	t.Cleanup(func() { rdb.Close() })
	a := newTestApp(t, func(c *handlers.Config) {
		c.Sessions = redisstorage.NewFromConnection(rdb)
		c.Limiter = store.NewRedisLimiter(rdb)
	})
	a.seed(t, 3)
	if keys, _ := rdb.Keys(context.Background(), "*").Result(); len(keys) == 0 {
		t.Fatal("the session is not in Redis")
	}
	if res, _ := a.get(t, "/orders"); res.StatusCode != 200 {
		t.Fatalf("with Redis up: %d", res.StatusCode)
	}

	srv.Process.Kill()
	srv.Wait()
	res, doc := a.get(t, "/orders")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("with Redis down: %d, want 503", res.StatusCode)
	}
	if h := doc.Find(".error-page h1").Text(); h != "Sign-in service unavailable" {
		t.Errorf("503 page heading = %q", h)
	}
	if res, _ := a.anonymous().get(t, "/healthz"); res.StatusCode != 200 {
		t.Errorf("health check needs no session: %d", res.StatusCode)
	}

	srv = start()
	// Redis came back empty (it keeps nothing on disk): sign in again, no restart of the app.
	c := a.signedIn(t, canceldesk.RoleStaff)
	if res, _ := c.get(t, "/orders"); res.StatusCode != 200 {
		t.Fatalf("after Redis returned: %d", res.StatusCode)
	}
}
