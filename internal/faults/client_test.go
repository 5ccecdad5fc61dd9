package faults

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// client is one browser: a cookie jar, the CSRF token of its session, no
// redirects followed (a 303 is an answer of its own here), and a deadline
// on every request so that a hang shows up as an error instead of a stuck
// test.
type client struct {
	base string
	hc   *http.Client
	mu   sync.Mutex
	csrf string // the last token a page showed
}

func newClient(base string, deadline time.Duration) *client {
	c := newVisitor(base, deadline)
	c.hc.Jar, _ = cookiejar.New(nil)
	return c
}

// newVisitor is a browser that keeps no cookies: every request comes from
// someone who never signed in.
func newVisitor(base string, deadline time.Duration) *client {
	return &client{base: base, hc: &http.Client{
		Timeout:       deadline,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *client) token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.csrf
}

// response is what came back, read in full.
type response struct {
	status   int
	header   http.Header
	body     string
	elapsed  time.Duration
	method   string
	path     string
	location string
}

func (r *response) String() string {
	s := fmt.Sprintf("%s %s → %d after %v", r.method, r.path, r.status, r.elapsed.Round(time.Millisecond))
	if h := heading(r.body); h != "" {
		s += fmt.Sprintf(" (%q)", h)
	}
	if r.location != "" {
		s += " → " + r.location
	}
	return s
}

func (c *client) do(method, path string, form url.Values) (*response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w (after %v)", method, path, err, time.Since(start).Round(time.Millisecond))
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the body: %w (after %v)", method, path, err, time.Since(start).Round(time.Millisecond))
	}
	r := &response{status: res.StatusCode, header: res.Header, body: string(b), elapsed: time.Since(start),
		method: method, path: path, location: res.Header.Get("Location")}
	if tok := csrfToken(r.body); tok != "" {
		c.mu.Lock()
		c.csrf = tok
		c.mu.Unlock()
	}
	return r, nil
}

func (c *client) get(path string) (*response, error) { return c.do(http.MethodGet, path, nil) }

// post sends a form with the session's CSRF token.
func (c *client) post(path string, form url.Values) (*response, error) {
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.token())
	}
	return c.do(http.MethodPost, path, form)
}

// demoPassword signs in every demo account (cmd/canceldesk/serve.go).
const demoPassword = "demo-password"

// signIn signs in with a demo account: the sign-in form for a CSRF token,
// the form posted, 303 to the orders page, then the orders page for the
// session's new token.
func (c *client) signIn(email string) error {
	r, err := c.get("/login")
	if err != nil {
		return err
	}
	if r.status != http.StatusOK || c.token() == "" {
		return fmt.Errorf("sign-in form: %v", r)
	}
	r, err = c.post("/login", url.Values{"email": {email}, "password": {demoPassword}, "next": {"/orders"}})
	if err != nil {
		return err
	}
	if r.status != http.StatusSeeOther || r.location != "/orders" {
		return fmt.Errorf("sign in as %s: %v, want 303 to /orders", email, r)
	}
	r, err = c.get("/orders")
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("orders page after sign-in: %v", r)
	}
	return nil
}

var (
	csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	csrfMeta  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)
	h1        = regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`)
	tags      = regexp.MustCompile(`<[^>]+>`)
)

func csrfToken(body string) string {
	if m := csrfMeta.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	if m := csrfInput.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// heading is the text of the page's first <h1>.
func heading(body string) string {
	m := h1.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(m[1], "")))
}

// isErrorPage reports whether body is the dashboard's own error page (as
// opposed to, say, a bare text answer or a truncated body).
func isErrorPage(body string) bool {
	// The dashboard's error card, or the store-branded one of a customer page.
	return strings.Contains(body, `error-page" role="alert"`) && strings.Contains(body, "</html>")
}

// isTimeout reports whether err is the client giving up at its deadline.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
