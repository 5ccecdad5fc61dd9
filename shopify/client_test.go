package shopify_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
)

// sleeps records the client's waits and moves the stand-in's clock
// instead of waiting.
type sleeps struct {
	mu  sync.Mutex
	got []time.Duration
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.got...)
}

func newClient(t *testing.T, srv *shopifytest.Server) (*shopify.Client, *sleeps) {
	t.Helper()
	c, err := shopify.NewClient(srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sl := &sleeps{}
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		sl.mu.Lock()
		sl.got = append(sl.got, d)
		sl.mu.Unlock()
		srv.Advance(d)
		return ctx.Err()
	}
	return c, sl
}

func TestNewClientChecksConfig(t *testing.T) {
	good := shopify.Config{Shop: "my-shop.myshopify.com", AccessToken: "shpat_x"}
	if _, err := shopify.NewClient(good, nil); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for name, cfg := range map[string]shopify.Config{
		"no shop":       {AccessToken: "shpat_x"},
		"not myshopify": {Shop: "shop.example.com", AccessToken: "shpat_x"},
		"a URL as shop": {Shop: "https://my-shop.myshopify.com", AccessToken: "shpat_x"},
		"no token":      {Shop: "my-shop.myshopify.com", AccessToken: "  "},
		"base not http": {Shop: "my-shop.myshopify.com", AccessToken: "shpat_x", APIBase: "ftp://x"},
		"base no host":  {Shop: "my-shop.myshopify.com", AccessToken: "shpat_x", APIBase: "http://"},
	} {
		if _, err := shopify.NewClient(cfg, nil); err == nil {
			t.Errorf("%s: NewClient accepted %+v", name, cfg)
		} else if strings.Contains(err.Error(), "shpat_x") {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}
}

func TestRequestsGoToTheVersionedEndpointWithTheToken(t *testing.T) {
	srv := shopifytest.New(t)
	c, _ := newClient(t, srv)
	if _, err := c.Job(context.Background(), "gid://shopify/Job/1"); err == nil {
		t.Fatal("an unknown job: no error")
	}
	reqs := srv.Requests("job")
	if len(reqs) != 1 {
		t.Fatalf("%d job requests, want 1", len(reqs))
	}
	if got := reqs[0].Header.Get("X-Shopify-Access-Token"); got != srv.Token() {
		t.Errorf("X-Shopify-Access-Token = %q", got)
	}
	if got := reqs[0].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if reqs[0].Variables["id"] != "gid://shopify/Job/1" {
		t.Errorf("variables = %v", reqs[0].Variables)
	}
}

func TestBadTokenIsAClearErrorWithoutTheToken(t *testing.T) {
	srv := shopifytest.New(t)
	cfg := srv.Config()
	cfg.AccessToken = "shpat_wrong_secret_value"
	c, err := shopify.NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Sleep = func(context.Context, time.Duration) error { t.Error("a 401 was retried"); return nil }
	_, err = c.Orders(context.Background(), "", "", 50)
	if err == nil {
		t.Fatal("a wrong token: no error")
	}
	var busy *shopify.BusyError
	if errors.As(err, &busy) {
		t.Errorf("a wrong token is not busy: %v", err)
	}
	if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "SHOPIFY_ACCESS_TOKEN") {
		t.Errorf("error %q does not say the token was refused", err)
	}
	if strings.Contains(err.Error(), cfg.AccessToken) {
		t.Errorf("error %q shows the token", err)
	}
}

func TestUnknownVersionIsAClearError(t *testing.T) {
	srv := shopifytest.New(t)
	cfg := srv.Config()
	cfg.APIVersion = "2019-01"
	c, err := shopify.NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Order(context.Background(), "1")
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "SHOPIFY_API_VERSION") {
		t.Fatalf("an unknown version: %v", err)
	}
}

func TestThrottledWaitsForTheBucketThenSucceeds(t *testing.T) {
	srv := shopifytest.New(t, shopifytest.WithBucket(1000, 50))
	id := srv.AddOrder(shopifytest.OrderSpec{})
	c, sl := newClient(t, srv)
	// The order query asks for 28 + 2 + 3×100 = 330 points; the bucket
	// holds 100 and refills 50 a second: (330-100)/50 = 4.6 s.
	srv.SetAvailable(100)
	o, err := c.Order(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if o == nil || o.ExternalID != id {
		t.Fatalf("order = %+v", o)
	}
	got := sl.all()
	if len(got) != 1 {
		t.Fatalf("waits %v, want one", got)
	}
	if got[0] < 4600*time.Millisecond || got[0] > 4650*time.Millisecond {
		t.Errorf("waited %v, want 4.6s from throttleStatus", got[0])
	}
	if n := len(srv.Requests("order")); n != 2 {
		t.Errorf("%d order requests, want 2 (throttled, then answered)", n)
	}
}

func TestThrottledAgainAndAgainRetriesWithTheSameRequest(t *testing.T) {
	srv := shopifytest.New(t)
	id := srv.AddOrder(shopifytest.OrderSpec{})
	c, sl := newClient(t, srv)
	srv.ThrottleNext(3)
	res, err := c.OrderCancel(context.Background(), shopify.CancelInput{OrderID: id, Reason: "customer", RefundMethod: shopify.RefundOriginal})
	if err != nil {
		t.Fatal(err)
	}
	if res.JobID == "" {
		t.Fatalf("no job: %+v", res)
	}
	reqs := srv.Requests("orderCancel")
	if len(reqs) != 4 {
		t.Fatalf("%d orderCancel requests, want 4", len(reqs))
	}
	for _, r := range reqs[1:] {
		if r.Query != reqs[0].Query || r.Variables["orderId"] != reqs[0].Variables["orderId"] {
			t.Errorf("a retry differs: %v", r.Variables)
		}
	}
	// The bucket was full: each wait is the floor, not zero.
	for _, d := range sl.all() {
		if d < 250*time.Millisecond || d > time.Second {
			t.Errorf("waited %v", d)
		}
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	srv := shopifytest.New(t)
	c, sl := newClient(t, srv)
	srv.TooManyRequests(1, "3")
	if _, err := c.Orders(context.Background(), "", "", 10); err != nil {
		t.Fatal(err)
	}
	if got := sl.all(); len(got) != 1 || got[0] != 3*time.Second {
		t.Errorf("waits %v, want [3s]", got)
	}
}

func TestServerErrorsBackOffExponentially(t *testing.T) {
	srv := shopifytest.New(t)
	c, sl := newClient(t, srv)
	srv.FailNext(3, 503)
	if _, err := c.Orders(context.Background(), "", "", 10); err != nil {
		t.Fatal(err)
	}
	got := sl.all()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("wait %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestBusyWhenContextEnds(t *testing.T) {
	srv := shopifytest.New(t)
	id := srv.AddOrder(shopifytest.OrderSpec{})
	c, _ := newClient(t, srv)
	srv.ThrottleNext(1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return context.Canceled }
	_, err := c.OrderCancel(ctx, shopify.CancelInput{OrderID: id, Reason: "staff", RefundMethod: shopify.RefundNone})
	var busy *shopify.BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("err = %v, want *BusyError", err)
	}
	if busy.RetryAfter <= 0 || !strings.Contains(busy.Error(), "THROTTLED") {
		t.Errorf("busy = %+v", busy)
	}
	if n := len(srv.Requests("orderCancel")); n != 1 {
		t.Errorf("%d requests after the context ended, want 1", n)
	}
}

func TestBusyAfterBoundedAttempts(t *testing.T) {
	srv := shopifytest.New(t)
	c, _ := newClient(t, srv)
	c.MaxAttempts = 4
	srv.FailNext(1000, 502)
	_, err := c.Orders(context.Background(), "", "", 10)
	var busy *shopify.BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("err = %v, want *BusyError", err)
	}
	if !strings.Contains(busy.Msg, "502") || busy.RetryAfter != 8*time.Second {
		t.Errorf("busy = %+v, want HTTP 502 and the next backoff 8s", busy)
	}
	if n := len(srv.Requests("orders")); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestNetworkErrorIsBusy(t *testing.T) {
	cfg := shopify.Config{Shop: "x.myshopify.com", AccessToken: "shpat_net", APIBase: "http://127.0.0.1:1"}
	c, err := shopify.NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.MaxAttempts = 2
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	_, err = c.Job(context.Background(), "gid://shopify/Job/1")
	var busy *shopify.BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("err = %v, want *BusyError", err)
	}
	if strings.Contains(err.Error(), "shpat_net") {
		t.Errorf("error shows the token: %v", err)
	}
}
