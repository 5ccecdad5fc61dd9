package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	redisstorage "github.com/gofiber/storage/redis/v3"
	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/store"
)

// rawRequest writes request (the request line and headers, then body) on
// a new connection to the server at base, exactly as given, and reads the
// answer.
func rawRequest(t *testing.T, base, request string) (*http.Response, *goquery.Document) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to %q: %v", request, err)
	}
	_, doc := readPage(t, res)
	return res, doc
}

// wireGet asks for target, sent byte for byte as given (no client
// normalises it).
func wireGet(t *testing.T, base, target string, headers ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	return rawRequest(t, base, "GET "+target+" HTTP/1.1\r\nHost: desk.example\r\n"+strings.Join(headers, "")+"Connection: close\r\n\r\n")
}

// assertAlive checks the server still answers.
func assertAlive(t *testing.T, base string) {
	t.Helper()
	if res, _ := wireGet(t, base, "/login"); res.StatusCode != http.StatusOK {
		t.Fatalf("the server stopped answering: /login gave %d", res.StatusCode)
	}
}

// syncBuffer collects log output written from the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logTo sends the app's log to buf.
func logTo(buf *syncBuffer) func(*handlers.Config) {
	return func(c *handlers.Config) { c.Logger = slog.New(slog.NewTextHandler(buf, nil)) }
}

// TestUndecodableAddress: an address that cannot be decoded is a 400
// page, for signed-out visitors and members alike, and never takes the
// server down.
func TestUndecodableAddress(t *testing.T) {
	a := newTestApp(t)
	base := a.serve(t)
	targets := []string{
		"/%zz", "/orders%zz", "/cancel%zz", "/r/%zz", "/invite/%zz", "/static/%zz", "/%", "/orders%4",
		"/%ff", "/r/%c3%28", "/%00", // decode to something that is not text
		"/cancel%01", "/r/%7f", "/invite/%0a", // a path that decodes to a control character
		"/orders?q=%zz", "/login?next=%zz", "/cancel?lang=%zz", "/orders?%zz=1",
	}
	for _, who := range []struct {
		name   string
		cookie string
	}{{"SignedOut", ""}, {"SignedIn", "Cookie: " + a.cookieHeader() + "\r\n"}} {
		for _, target := range targets {
			t.Run(who.name+target, func(t *testing.T) {
				res, doc := wireGet(t, base, target, who.cookie)
				if res.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", res.StatusCode)
				}
				if h := doc.Find(".error-page h1").Text(); h != "Something in the request isn't right" {
					t.Errorf("heading %q, want the bad-request page", h)
				}
				if res.Header.Get("Content-Security-Policy") == "" {
					t.Error("the page lacks the security headers")
				}
				assertAlive(t, base)
			})
		}
	}
	t.Run("NotTextInTheQuerySaysSo", func(t *testing.T) {
		res, doc := wireGet(t, base, "/cancel?email=%ff")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find(".error-page").Text(), notTextMessage) {
			t.Fatalf("status %d, page %q", res.StatusCode, doc.Find(".error-page").Text())
		}
	})
	t.Run("GoodAddressesStillWork", func(t *testing.T) {
		for _, target := range []string{"/cancel?lang=zh-TW", "/login?next=%2Forders%3Fq%3D%25", "/cancel?email=a%2Bb%40example.com"} {
			if res, _ := wireGet(t, base, target); res.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", target, res.StatusCode)
			}
		}
	})
}

// panickyBacklog is the real store whose refund backlog panics once
// armed: a bug reached by every signed-in page, and by its error page.
type panickyBacklog struct {
	*store.DB
	armed *atomic.Bool
}

func (p panickyBacklog) RefundBacklog(ctx context.Context, limit int) ([]canceldesk.BacklogEntry, int, error) {
	if p.armed.Load() {
		panic("backlog exploded")
	}
	return p.DB.RefundBacklog(ctx, limit)
}

// panickyAccounts is the real store whose account lookup panics once
// armed.
type panickyAccounts struct {
	*store.DB
	armed *atomic.Bool
}

func (p panickyAccounts) Account(ctx context.Context, id int64) (*canceldesk.Account, error) {
	if p.armed.Load() {
		panic("account lookup exploded")
	}
	return p.DB.Account(ctx, id)
}

// faultyApp serves an app whose fault, installed by with, is armed once
// the app is up (the owner signed in), and logs to the buffer returned.
func faultyApp(t *testing.T, with func(*handlers.Config, *atomic.Bool)) (*testApp, string, *syncBuffer, *atomic.Bool) {
	t.Helper()
	log, armed := &syncBuffer{}, &atomic.Bool{}
	a := newTestApp(t, logTo(log), func(c *handlers.Config) { with(c, armed) })
	base := a.serve(t)
	armed.Store(true)
	return a, base, log, armed
}

// TestPanics: a handler that panics gets the 500 page and a log line with
// the stack; a panic while the error page itself is made gets a plain 500
// and one log line; the server answers on.
func TestPanics(t *testing.T) {
	t.Run("InAHandler", func(t *testing.T) {
		var log syncBuffer
		a := newTestApp(t, logTo(&log), func(c *handlers.Config) {
			c.Ready = func(context.Context) error { panic("health check exploded") }
		})
		base := a.serve(t)
		res, doc := wireGet(t, base, "/healthz")
		if res.StatusCode != http.StatusInternalServerError || doc.Find(".error-page h1").Text() != "Something went wrong" {
			t.Fatalf("status %d, heading %q", res.StatusCode, doc.Find(".error-page h1").Text())
		}
		if out := log.String(); !strings.Contains(out, "health check exploded") || !strings.Contains(out, "goroutine") {
			t.Errorf("the panic is not logged with its stack: %q", out)
		}
		assertAlive(t, base)
	})

	t.Run("InTheErrorPage", func(t *testing.T) {
		a, base, log, armed := faultyApp(t, func(c *handlers.Config, armed *atomic.Bool) {
			c.Refunds = panickyBacklog{c.Refunds.(*store.DB), armed}
		})
		a.clock.Advance(time.Minute) // past the navigation's cached count
		before := strings.Count(log.String(), "\n")
		res, _ := wireGet(t, base, "/orders", "Cookie: "+a.cookieHeader()+"\r\n")
		if res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", res.StatusCode)
		}
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")[before:]
		var errorPage []string
		for _, l := range lines {
			if strings.Contains(l, "error page") {
				errorPage = append(errorPage, l)
			}
		}
		if len(errorPage) != 1 || !strings.Contains(errorPage[0], "backlog exploded") {
			t.Errorf("want one log line about the error page's panic, got %q", lines)
		}
		armed.Store(false)
		assertAlive(t, base)
		if res, _ := wireGet(t, base, "/orders", "Cookie: "+a.cookieHeader()+"\r\n"); res.StatusCode != http.StatusOK {
			t.Errorf("after the panic: /orders gave %d", res.StatusCode)
		}
	})

	t.Run("WhileChoosingABodyLimit", func(t *testing.T) {
		// The upload's limit is chosen from the header, before any handler
		// (and so outside the recover middleware).
		a, base, log, armed := faultyApp(t, func(c *handlers.Config, armed *atomic.Bool) {
			c.Accounts = panickyAccounts{c.Accounts.(*store.DB), armed}
		})
		res, _ := rawRequest(t, base, fmt.Sprintf("POST /import HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"+
			"Content-Length: %d\r\nCookie: %s\r\nConnection: close\r\n\r\n", 30<<20, a.cookieHeader()))
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413: the form limit", res.StatusCode)
		}
		if !strings.Contains(log.String(), "account lookup exploded") {
			t.Errorf("the panic is not logged: %q", log.String())
		}
		armed.Store(false)
		assertAlive(t, base)
	})
}

// getSends lists, for each way the page sends a form by GET, the names of
// the fields it sends: an hx-get that includes its form (htmx leaves
// buttons out), and a button with formmethod="get" (the form's fields and
// the button's own name).
func getSends(doc *goquery.Document) map[string][]string {
	fields := func(form *goquery.Selection) []string {
		var names []string
		form.Find("input[name], select[name], textarea[name]").Each(func(_ int, s *goquery.Selection) {
			if typ, _ := s.Attr("type"); typ != "submit" && typ != "button" {
				names = append(names, s.AttrOr("name", ""))
			}
		})
		return names
	}
	sends := map[string][]string{}
	doc.Find(`[hx-get][hx-include="closest form"]`).Each(func(_ int, s *goquery.Selection) {
		sends["hx-get "+s.AttrOr("hx-get", "")] = fields(s.Closest("form"))
	})
	doc.Find(`button[formmethod="get"]`).Each(func(_ int, s *goquery.Selection) {
		names := fields(s.Closest("form"))
		if name, ok := s.Attr("name"); ok {
			names = append(names, name)
		}
		sends["formmethod=get "+s.AttrOr("formaction", "")] = names
	})
	return sends
}

// TestCSRFTokenNeverInTheURL: a token is taken from the header or the form
// body only, and the dialogs that send their form by GET (previews, live
// totals, the no-JavaScript refresh) do not put it in the URL.
func TestCSRFTokenNeverInTheURL(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	a.location(t, "Main Warehouse")
	staff := a.signedIn(t, canceldesk.RoleStaff)
	acct, _ := a.db.AccountByEmail(ctx, testEmails[canceldesk.RoleStaff])

	t.Run("ATokenInTheQueryIsRefused", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/account?_csrf="+url.QueryEscape(staff.csrf), strings.NewReader("language=zh-TW"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, _ := staff.do(t, req); res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", res.StatusCode)
		}
		if got, _ := a.db.Account(ctx, acct.ID); got.Language != "" {
			t.Fatalf("a refused request changed the language to %q", got.Language)
		}
		anon := a.anonymous()
		anon.get(t, "/cancel")
		req = httptest.NewRequest(http.MethodPost, "/cancel?_csrf="+url.QueryEscape(anon.csrf), strings.NewReader(requestForm("#1001", "a@example.com").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, _ := anon.do(t, req); res.StatusCode != http.StatusForbidden {
			t.Fatalf("public form: status %d, want 403", res.StatusCode)
		}
	})

	o := a.refundOrder(t, "#T100")
	for _, dialog := range []struct {
		path, form, confirm string
		choice              url.Values
	}{
		{fmt.Sprintf("/orders/%d/refund", o.ID), "form.refund-form", "button.btn-primary", url.Values{fmt.Sprintf("qty_%d", o.LineItems[0].ID): {"1"}}},
		{fmt.Sprintf("/orders/%d/cancel", o.ID), "form.cancel-form", "button.btn-destructive", nil},
	} {
		t.Run("GETsOf"+dialog.path, func(t *testing.T) {
			_, doc := staff.get(t, dialog.path)
			sends := getSends(doc)
			if len(sends) < 2 {
				t.Fatalf("the dialog sends its form by GET %d ways: %v", len(sends), sends)
			}
			for how, names := range sends {
				if slices.Contains(names, "_csrf") {
					t.Errorf("%s sends the CSRF token in the URL: %v", how, names)
				}
			}
			// Without JavaScript the confirm button carries the token.
			form := formOf(doc, dialog.form)
			button := doc.Find(dialog.form + " " + dialog.confirm)
			form.Set(button.AttrOr("name", ""), button.AttrOr("value", ""))
			for k, v := range dialog.choice {
				form[k] = v
			}
			if form.Get("_csrf") != staff.csrf {
				t.Fatalf("the confirm button sends %v", form)
			}
			if res, _ := staff.post(t, doc.Find(dialog.form).AttrOr("action", ""), form); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("confirming without JavaScript: status %d", res.StatusCode)
			}
		})
	}
}

// TestVisitorsStoreNoSession: sessions live in a private Redis, where any
// key is a session; visitors' pages and public forms add none, their forms
// are still protected by the CSRF cookie, and sign-in stores one.
func TestVisitorsStoreNoSession(t *testing.T) {
	ctx := context.Background()
	port := freePort(t)
	srv := startRedisServer(t, port)
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	t.Cleanup(func() { rdb.Close() })
	a := newTestApp(t, func(c *handlers.Config) { c.Sessions = redisstorage.NewFromConnection(rdb) })
	a.requestOrder(t, "#V1")
	keys := func() []string {
		t.Helper()
		all, err := rdb.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		// Sign-in also writes the account's session index and its known
		// device (canceldesk:…); every other key is a session.
		var k []string
		for _, key := range all {
			if !strings.HasPrefix(key, "canceldesk:") {
				k = append(k, key)
			}
		}
		slices.Sort(k)
		return k
	}
	before := keys()
	if len(before) != 1 {
		t.Fatalf("keys %v: want the signed-in owner's session alone", before)
	}

	t.Run("VisitorsAddNoKey", func(t *testing.T) {
		for i := 0; i < 20; i++ {
			for _, path := range []string{"/cancel", "/login", "/invite/not-a-token", "/r/not-a-token", "/nowhere", "/orders"} {
				a.anonymous().get(t, path)
			}
		}
		v := a.anonymous()
		v.get(t, "/cancel")
		if res, _ := v.post(t, "/cancel", requestForm("#V1", "buyer@example.com")); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("public form: status %d", res.StatusCode)
		}
		v.get(t, "/login")
		if res, _ := v.post(t, "/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password"}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed sign-in: status %d", res.StatusCode)
		}
		// A cookie naming no stored session is not stored either.
		v.jar["canceldesk_session"] = &http.Cookie{Name: "canceldesk_session", Value: "made-up"}
		v.get(t, "/cancel")
		if got := keys(); !slices.Equal(got, before) {
			t.Fatalf("keys after visitors: %v, want %v", got, before)
		}
	})

	t.Run("PublicFormsNeedTheVisitorsToken", func(t *testing.T) {
		v, other := a.anonymous(), a.anonymous()
		v.get(t, "/cancel")
		other.get(t, "/cancel")
		for name, tok := range map[string]string{"none": "", "forged": "forged-token", "another visitor's": other.csrf} {
			form := requestForm("#V1", "buyer@example.com")
			form.Set("_csrf", tok)
			if res, _ := v.post(t, "/cancel", form); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s token: status %d, want 403", name, res.StatusCode)
			}
		}
		// Without the cookie, the page's token is worth nothing.
		cookieless := a.anonymous()
		cookieless.csrf = v.csrf
		if res, _ := cookieless.post(t, "/login", url.Values{"email": {testEmails[canceldesk.RoleStaff]}, "password": {testPassword}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("token without its cookie: status %d, want 403", res.StatusCode)
		}
	})

	t.Run("SignInStoresOneSession", func(t *testing.T) {
		c := a.signedIn(t, canceldesk.RoleStaff)
		id := c.sessionID()
		if got := keys(); len(got) != 2 || !slices.Contains(got, id) {
			t.Fatalf("keys after sign-in: %v, want the new session %q beside %v", got, id, before)
		}
		if res, _ := c.get(t, "/orders"); res.StatusCode != http.StatusOK {
			t.Fatalf("signed in: %d", res.StatusCode)
		}
		if res, _ := c.post(t, "/logout", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", res.StatusCode)
		}
		if got := keys(); !slices.Equal(got, before) {
			t.Fatalf("keys after sign-out: %v, want %v", got, before)
		}
	})
}

// TestResponseHeaders: over TLS every answer tells browsers to stay on
// TLS; members' pages and pages whose address is a secret are kept by no
// cache; static assets keep their long cache.
func TestResponseHeaders(t *testing.T) {
	for _, secure := range []bool{false, true} {
		a := newTestApp(t, func(c *handlers.Config) { c.SecureCookies = secure })
		o := a.requestOrder(t, "#H1")
		if res, _ := fileRequest(t, a, "10.0.0.1", requestForm("#H1", "buyer@example.com")); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("filing a request: %d", res.StatusCode)
		}
		ms, _ := a.db.Messages(context.Background(), "", 10)
		received, _ := a.db.Message(context.Background(), ms[0].ID)
		status := regexp.MustCompile(`/r/[A-Za-z0-9_-]+`).FindString(received.Text)
		_, page := a.get(t, "/orders")
		asset := page.Find(`link[rel="stylesheet"]`).AttrOr("href", "")
		base := a.serve(t)
		member := "Cookie: " + a.cookieHeader() + "\r\n"
		for _, tc := range []struct {
			name, target, cookie, cache string
		}{
			{"MemberPage", "/orders", member, "no-store"},
			{"MemberOrder", fmt.Sprintf("/orders/%d", o.ID), member, "no-store"},
			{"MemberFragment", "/orders?q=H1", member + "HX-Request: true\r\n", "no-store"},
			{"MemberNotFound", "/nowhere", member, "no-store"},
			{"MemberOnAPublicPage", "/cancel", member, "no-store"},
			{"RequestStatus", status, "", "no-store"},
			{"UnknownRequestStatus", "/r/not-a-token", "", "no-store"},
			{"Invitation", "/invite/not-a-token", "", "no-store"},
			{"Asset", asset, member, "public, max-age=31536000"},
			{"VisitorPage", "/login", "", ""},
			{"Health", "/healthz", "", ""},
			{"BadAddress", "/%zz", "", ""},
		} {
			t.Run(fmt.Sprintf("%s/secure=%v", tc.name, secure), func(t *testing.T) {
				res, _ := wireGet(t, base, tc.target, tc.cookie)
				if res.StatusCode >= 500 {
					t.Fatalf("status %d", res.StatusCode)
				}
				if got := res.Header.Get("Cache-Control"); tc.cache != "" && got != tc.cache {
					t.Errorf("Cache-Control %q, want %q", got, tc.cache)
				}
				want := map[bool]string{true: "max-age=63072000; includeSubDomains"}[secure]
				if got := res.Header.Get("Strict-Transport-Security"); got != want {
					t.Errorf("Strict-Transport-Security %q, want %q", got, want)
				}
			})
		}
		t.Run(fmt.Sprintf("BodyRefusedUnread/secure=%v", secure), func(t *testing.T) {
			n := 40 << 20
			res, _ := rawRequest(t, base, fmt.Sprintf("POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", n))
			want := map[bool]string{true: "max-age=63072000; includeSubDomains"}[secure]
			if res.StatusCode != http.StatusRequestEntityTooLarge || res.Header.Get("Strict-Transport-Security") != want {
				t.Errorf("status %d, Strict-Transport-Security %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
			}
		})
	}
}

// TestUploadsNeedTheRoleFirst: only a member whose role may import sends
// an upload's worth of body; everyone else is refused before the body is
// read, and nobody else's multipart body is parsed (not even for its CSRF
// token) before the role check.
func TestUploadsNeedTheRoleFirst(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where a parsed multipart file over 16 MB would go
	a := newTestApp(t)
	base := a.serve(t)
	visitor := a.anonymous()
	visitor.get(t, "/login")
	staff := a.signedIn(t, canceldesk.RoleStaff)
	staff.get(t, "/orders")
	manager := a.signedIn(t, canceldesk.RoleManager)
	manager.get(t, "/orders")
	header := func(c *client, ct string, n int64) string {
		return fmt.Sprintf("POST /import HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\nCookie: %s\r\nConnection: close\r\n\r\n",
			ct, n, c.cookieHeader())
	}
	refused := func(t *testing.T, res *http.Response) {
		t.Helper()
		if res.StatusCode != http.StatusRequestEntityTooLarge && !toLogin(res) {
			t.Fatalf("status %d %s, want 413 or the sign-in page", res.StatusCode, location(res))
		}
	}

	for _, who := range []struct {
		name string
		c    *client
	}{{"Visitor", visitor}, {"Staff", staff}} {
		t.Run(who.name+"BigUploadRefusedUnread", func(t *testing.T) {
			// The header alone: the answer comes without the body.
			_, ct, n := multipartCSV(who.c.csrf, 30<<20)
			res, _ := rawRequest(t, base, header(who.c, ct, n))
			refused(t, res)
		})
		t.Run(who.name+"BigUploadSent", func(t *testing.T) {
			body, ct, n := multipartCSV(who.c.csrf, 30<<20)
			conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			go func() { io.Copy(conn, io.MultiReader(strings.NewReader(header(who.c, ct, n)), body)) }()
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			refused(t, res)
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("files left in the temporary directory: %v", left)
			}
		})
		t.Run(who.name+"SmallUploadNotParsed", func(t *testing.T) {
			// A NUL in a field answers 400 once the form is parsed: the
			// role check answers first.
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			w.WriteField("_csrf", who.c.csrf)
			w.WriteField("note", "a\x00b")
			fw, _ := w.CreateFormFile("file", "orders_export.csv")
			fw.Write([]byte("Name,Email\n#1,a@example.com\n"))
			w.Close()
			res, _ := rawRequest(t, base, header(who.c, w.FormDataContentType(), int64(body.Len()))+body.String())
			want := map[bool]int{true: http.StatusSeeOther, false: http.StatusForbidden}[who.c == visitor]
			if res.StatusCode != want || (who.c == visitor && !toLogin(res)) {
				t.Fatalf("status %d %s, want %d before the form is read", res.StatusCode, location(res), want)
			}
		})
	}

	t.Run("ManagersUploadIsImported", func(t *testing.T) {
		res, _, doc := postUpload(t, base, manager, 4*handlers.MaxFormBytes)
		if res.StatusCode != 200 || doc.Find(".import-summary").Length() != 1 {
			t.Fatalf("status %d, error %q", res.StatusCode, doc.Find("#file-error").Text())
		}
	})

	t.Run("ManagersUploadNeedsItsToken", func(t *testing.T) {
		body, ct, n := multipartCSV("forged-token", 4*handlers.MaxFormBytes)
		b, _ := io.ReadAll(body)
		res, _ := rawRequest(t, base, header(manager, ct, n)+string(b))
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", res.StatusCode)
		}
	})
}
