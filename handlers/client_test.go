package handlers_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

// client is a browser-like test client: it keeps cookies and the CSRF
// token of the last page it saw.
type client struct {
	app  *fiber.App
	jar  map[string]*http.Cookie
	csrf string
}

func (a *testApp) anonymous() *client { return &client{app: a.app, jar: map[string]*http.Cookie{}} }

// signedIn returns a client signed in with the test account of role.
func (a *testApp) signedIn(t testing.TB, role canceldesk.Role) *client {
	t.Helper()
	c := a.anonymous()
	res, _ := c.login(t, testEmails[role], testPassword)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in as %s: status %d", role, res.StatusCode)
	}
	c.get(t, "/account") // the sign-in renewed the CSRF token: pick it up
	return c
}

// login submits the sign-in form.
func (c *client) login(t testing.TB, email, password string) (*http.Response, *goquery.Document) {
	t.Helper()
	c.get(t, "/login")
	return c.post(t, "/login", url.Values{"email": {email}, "password": {password}})
}

func (c *client) do(t testing.TB, req *http.Request) (*http.Response, *goquery.Document) {
	t.Helper()
	for _, ck := range c.jar {
		req.AddCookie(ck)
	}
	// An absolute target ("http://evil.example/cancel") is sent as a browser
	// sends it: the path, and the host in the Host header, which HTTP/1.1
	// requires (httptest would write the absolute form without one).
	if strings.HasPrefix(req.RequestURI, "http://") || strings.HasPrefix(req.RequestURI, "https://") {
		req.RequestURI = ""
	}
	if req.Host == "" {
		req.Host = "example.com" // what httptest.NewRequest names
	}
	res, err := c.roundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Unix() <= 1) || ck.Value == "" {
			delete(c.jar, ck.Name)
		} else {
			c.jar[ck.Name] = ck
		}
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok, ok := doc.Find(`meta[name="csrf-token"]`).Attr("content"); ok {
		c.csrf = tok
	}
	return res, doc
}

// roundTrip serves req on an in-memory connection. A body over the form
// limit may be refused unread, with the 413 page; app.Test reports that as
// an error and drops the page, so such a request is served here on a
// connection of its own (as app.Test does) and the page read all the same.
func (c *client) roundTrip(req *http.Request) (*http.Response, error) {
	if req.ContentLength <= handlers.MaxFormBytes {
		return c.app.Test(req, 10_000)
	}
	c.app.Handler() // builds the routes, as app.Test does
	conn, server := net.Pipe()
	defer conn.Close()
	go func() {
		defer server.Close()
		c.app.Server().ServeConn(server)
	}()
	go req.Write(conn)
	res, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, err
}

func (c *client) get(t testing.TB, target string, headers ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(t, req)
}

// post submits a form with the client's CSRF token (unless form has one).
func (c *client) post(t testing.TB, target string, form url.Values) (*http.Response, *goquery.Document) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.csrf)
	}
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(t, req)
}

func (c *client) sessionID() string {
	for name, ck := range c.jar {
		if strings.Contains(name, "session") {
			return ck.Value
		}
	}
	return ""
}
