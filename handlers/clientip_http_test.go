package handlers_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk/handlers"
)

// liveApp serves a test app on a loopback port, so every request's peer is
// 127.0.0.1 (as a load balancer on the same machine would be), trusting the
// proxies listed.
func liveApp(t *testing.T, trustedProxies string) string {
	t.Helper()
	proxies, err := handlers.ParseTrustedProxies(trustedProxies)
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, func(c *handlers.Config) { c.TrustedProxies = proxies })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.app.Listener(ln)
	t.Cleanup(func() { a.app.Shutdown() })
	return "http://" + ln.Addr().String()
}

// postForwarded submits a public form as a fresh visitor whose request
// arrives with X-Forwarded-For: xff (none when empty), and returns the status.
func postForwarded(t *testing.T, base, path string, form url.Values, xff string) int {
	t.Helper()
	status, err := forwardedPost(base, path, form, xff)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

func forwardedPost(base, path string, form url.Values, xff string) (int, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(base + path)
	if err != nil {
		return 0, err
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	if err != nil {
		return 0, err
	}
	form.Set("_csrf", doc.Find(`meta[name="csrf-token"]`).AttrOr("content", ""))
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if res, err = hc.Do(req); err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// limitedForm is a public form limited per address.
type limitedForm struct {
	name, path string
	limit      int // attempts an address gets in a window
	allowed    int // the status of an attempt within the limit
	form       func(i int) url.Values
}

var limitedForms = []limitedForm{
	{"SignIn", "/login", 20, http.StatusUnauthorized, func(i int) url.Values {
		// A different account each time: only the address limit counts.
		return url.Values{"email": {fmt.Sprintf("nobody%d@example.com", i)}, "password": {"wrong"}}
	}},
	{"CancellationForm", "/cancel", 10, http.StatusSeeOther, func(i int) url.Values {
		return requestForm(fmt.Sprintf("#NX%d", i), "x@example.com")
	}},
}

// useUpLimit makes f.limit attempts, the i-th forwarded for xff(i), a few
// at a time; every one must be allowed.
func useUpLimit(t *testing.T, base string, f limitedForm, xff func(i int) string) {
	t.Helper()
	var wg sync.WaitGroup
	statuses, errs := make([]int, f.limit), make([]error, f.limit)
	slots := make(chan struct{}, 4)
	for i := range f.limit {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			statuses[i], errs[i] = forwardedPost(base, f.path, f.form(i), xff(i))
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if errs[i] != nil || st != f.allowed {
			t.Fatalf("attempt %d within the limit: %d (%v), want %d", i+1, st, errs[i], f.allowed)
		}
	}
}

// TestForwardedFor: a client that is not a trusted proxy cannot pick its
// address with X-Forwarded-For: however it varies the header, its attempts
// share one limit. Behind a trusted proxy each client has its own limit,
// under the address the proxy appended: what the client wrote to the left
// of it changes nothing.
func TestForwardedFor(t *testing.T) {
	type attempt struct {
		xff     string
		blocked bool // over the limit
	}
	for _, sc := range []struct {
		name, trusted string
		xff           func(i int) string // of the attempts that use the limit up
		then          []attempt
	}{
		{"UntrustedPeer", "10.0.0.0/8", func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) },
			[]attempt{{"203.0.113.250", true}}},
		{"TrustedProxy", "127.0.0.1/32", func(i int) string { return fmt.Sprintf("6.6.6.%d, 198.51.100.1", i+1) },
			[]attempt{{"7.7.7.7,198.51.100.1", true}, {"198.51.100.2", false}, {"", false}}},
	} {
		for _, f := range limitedForms {
			t.Run(sc.name+"/"+f.name, func(t *testing.T) {
				base := liveApp(t, sc.trusted)
				useUpLimit(t, base, f, sc.xff)
				for i, at := range sc.then {
					want := f.allowed
					if at.blocked {
						want = http.StatusTooManyRequests
					}
					if st := postForwarded(t, base, f.path, f.form(1000+i), at.xff); st != want {
						t.Errorf("X-Forwarded-For %q after the limit was used up: %d, want %d", at.xff, st, want)
					}
				}
			})
		}
	}
}
