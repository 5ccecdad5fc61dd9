package payments

// These tests talk to a real stripe-mock (scripts/test.sh starts it and
// exports CANCELDESK_TEST_STRIPE). stripe-mock is stateless: it validates a
// request against Stripe's OpenAPI spec and answers with a fixture, so it
// cannot say "already refunded" or honour idempotency keys (it only echoes
// the Idempotency-Key header back). What our side sends is checked by
// recording the real HTTP traffic to it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/canceldesk/canceldesk/internal/testenv"
)

// exchange is one HTTP request our Stripe client sent, and what came back.
type exchange struct {
	Method, Path   string
	IdempotencyKey string     // request header
	Form           url.Values // request body
	Status         int        // 0 when no response came
	EchoedKey      string     // Idempotency-Key header of the response
	Err            error
}

// recorder is an http.RoundTripper that passes requests on to a real
// transport and keeps a copy of each exchange.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func newRecorder() *recorder {
	return &recorder{next: http.DefaultTransport.(*http.Transport).Clone()}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchange{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get("Idempotency-Key")}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if ex.Form, err = url.ParseQuery(string(body)); err != nil {
			return nil, fmt.Errorf("recorder: body %q is not a form: %v", body, err)
		}
	}
	res, err := r.next.RoundTrip(req)
	ex.Err = err
	if res != nil {
		ex.Status = res.StatusCode
		ex.EchoedKey = res.Header.Get("Idempotency-Key")
	}
	r.mu.Lock()
	r.log = append(r.log, ex)
	r.mu.Unlock()
	return res, err
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log...)
}

// mockStripe returns a Stripe gateway aimed at stripe-mock whose traffic rec
// records.
func mockStripe(t *testing.T, rec *recorder) *Stripe {
	t.Helper()
	s, err := newStripe(StripeConfig{SecretKey: testenv.StripeMockKey, APIBase: testenv.StripeMockURL(t)}, rec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestStripeName(t *testing.T) {
	s, err := NewStripe(StripeConfig{SecretKey: "sk_test_123"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "stripe" {
		t.Errorf("Name() = %q, want stripe", s.Name())
	}
}

func TestNewStripeRejectsBadConfig(t *testing.T) {
	for _, cfg := range []StripeConfig{
		{},
		{SecretKey: "   "},
		{SecretKey: "sk_test_123", APIBase: "127.0.0.1:12111"},
		{SecretKey: "sk_test_123", APIBase: "ftp://127.0.0.1:12111"},
	} {
		if s, err := NewStripe(cfg); err == nil || s != nil {
			t.Errorf("NewStripe(%+v) = %v, %v; want an error", cfg, s, err)
		}
	}
}

func TestStripeRefundSucceeds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ref, param, other string
	}{
		{"charge", "ch_3PcdTestCharge", "charge", "payment_intent"},
		{"payment intent", "pi_3PcdTestIntent", "payment_intent", "charge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder()
			s := mockStripe(t, rec)
			c := Call{Kind: KindRefund, Amount: 1250, Currency: "USD", Reference: tc.ref, IdempotencyKey: "refund-" + tc.ref}
			got := s.Process(context.Background(), c)
			if got.Status != StatusSucceeded || !strings.HasPrefix(got.ProviderID, "re_") || got.Error != "" || got.Retryable {
				t.Fatalf("Process(%+v) = %+v, want succeeded with a re_ id", c, got)
			}
			ex := rec.exchanges()
			if len(ex) != 1 {
				t.Fatalf("sent %d requests, want 1: %+v", len(ex), ex)
			}
			e := ex[0]
			if e.Method != http.MethodPost || e.Path != "/v1/refunds" || e.Status != http.StatusOK {
				t.Errorf("request %s %s → %d, want POST /v1/refunds → 200", e.Method, e.Path, e.Status)
			}
			if e.Form.Get(tc.param) != tc.ref || e.Form.Has(tc.other) || e.Form.Get("amount") != "1250" {
				t.Errorf("form = %v, want %s=%s amount=1250 and no %s", e.Form, tc.param, tc.ref, tc.other)
			}
		})
	}
}

// The amount sent is in Stripe's units for the currency, not ours.
func TestStripeRefundSendsStripeUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		currency string
		amount   int64
		want     string
	}{
		{"USD", 1999, "1999"},
		{"JPY", 500, "500"},
		{"ISK", 500, "50000"},
		{"KWD", 1250, "12500"},
	} {
		rec := newRecorder()
		s := mockStripe(t, rec)
		c := Call{Kind: KindRefund, Amount: tc.amount, Currency: tc.currency, Reference: "ch_units", IdempotencyKey: "units-" + tc.currency}
		if got := s.Process(context.Background(), c); got.Status != StatusSucceeded {
			t.Errorf("%s: Process = %+v, want succeeded", tc.currency, got)
		}
		ex := rec.exchanges()
		if len(ex) != 1 || ex[0].Form.Get("amount") != tc.want {
			t.Errorf("%s %d: sent %+v, want amount=%s", tc.currency, tc.amount, ex, tc.want)
		}
	}
}

func TestStripeRetrySendsSameIdempotencyKey(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	s := mockStripe(t, rec)
	c := Call{Kind: KindRefund, Amount: 700, Currency: "USD", Reference: "ch_3PcdIdem", IdempotencyKey: "order-1042-refund-1"}
	for i := range 2 {
		if got := s.Process(context.Background(), c); got.Status != StatusSucceeded {
			t.Fatalf("call %d: %+v, want succeeded", i+1, got)
		}
	}
	// Another refund gets its own key: the key comes from the Call.
	other := c
	other.IdempotencyKey = "order-1042-refund-2"
	if got := s.Process(context.Background(), other); got.Status != StatusSucceeded {
		t.Fatalf("other refund: %+v, want succeeded", got)
	}

	ex := rec.exchanges()
	if len(ex) != 3 {
		t.Fatalf("sent %d requests, want 3: %+v", len(ex), ex)
	}
	for i, want := range []string{c.IdempotencyKey, c.IdempotencyKey, other.IdempotencyKey} {
		e := ex[i]
		if e.IdempotencyKey != want {
			t.Errorf("request %d: Idempotency-Key %q, want %q", i+1, e.IdempotencyKey, want)
		}
		// stripe-mock echoes the header it received, as Stripe does.
		if e.EchoedKey != want {
			t.Errorf("request %d: stripe-mock echoed Idempotency-Key %q, want %q", i+1, e.EchoedKey, want)
		}
		if e.Form.Get("amount") != "700" || e.Form.Get("charge") != "ch_3PcdIdem" {
			t.Errorf("request %d: form %v, want amount=700 charge=ch_3PcdIdem", i+1, e.Form)
		}
	}
	// The retry is the same request byte for byte as far as Stripe cares.
	if ex[0].Form.Encode() != ex[1].Form.Encode() {
		t.Errorf("retry form %q differs from first %q", ex[1].Form.Encode(), ex[0].Form.Encode())
	}
}

func TestStripeFailedThenRetried(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	down, err := newStripe(StripeConfig{SecretKey: testenv.StripeMockKey, APIBase: "http://" + closedPort(t)}, rec)
	if err != nil {
		t.Fatal(err)
	}
	up := mockStripe(t, rec)
	c := Call{Kind: KindRefund, Amount: 4200, Currency: "USD", Reference: "ch_3PcdRetry", IdempotencyKey: "order-77-refund-1"}

	first := down.Process(context.Background(), c)
	if first.Status != StatusFailed || !first.Retryable || !strings.HasPrefix(first.Error, msgStripeUnreachable) {
		t.Fatalf("Stripe down: %+v, want failed, retryable, %q", first, msgStripeUnreachable)
	}
	if !strings.Contains(first.Error, "connection refused") {
		t.Errorf("Stripe down: error %q does not name the cause", first.Error)
	}
	second := up.Process(context.Background(), c)
	if second.Status != StatusSucceeded || !strings.HasPrefix(second.ProviderID, "re_") {
		t.Fatalf("retry: %+v, want succeeded with a re_ id", second)
	}

	ex := rec.exchanges()
	if len(ex) != 2 {
		t.Fatalf("sent %d requests, want 2: %+v", len(ex), ex)
	}
	if ex[0].Err == nil || ex[1].Err != nil || ex[1].Status != http.StatusOK {
		t.Errorf("exchanges %+v: want the first to fail on the network and the second to get 200", ex)
	}
	if ex[0].IdempotencyKey != c.IdempotencyKey || ex[1].IdempotencyKey != c.IdempotencyKey {
		t.Errorf("Idempotency-Key first %q, retry %q; want both %q", ex[0].IdempotencyKey, ex[1].IdempotencyKey, c.IdempotencyKey)
	}
	if ex[0].Form.Encode() != ex[1].Form.Encode() {
		t.Errorf("retry form %q differs from first %q", ex[1].Form.Encode(), ex[0].Form.Encode())
	}
}

// A server that accepts and never answers: the per-call timeout ends the call
// and the failure is retryable.
func TestStripeTimeoutIsRetryable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})

	s, err := newStripe(StripeConfig{SecretKey: testenv.StripeMockKey, APIBase: "http://" + ln.Addr().String(), Timeout: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := s.Process(context.Background(), Call{Kind: KindRefund, Amount: 100, Currency: "USD", Reference: "ch_slow", IdempotencyKey: "k"})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("call took %v with a 300ms timeout", elapsed)
	}
	if got.Status != StatusFailed || !got.Retryable || got.Error != msgStripeUnreachable+" (timed out)" {
		t.Errorf("hung server: %+v, want failed, retryable, %q", got, msgStripeUnreachable+" (timed out)")
	}
}

func TestStripeVoid(t *testing.T) {
	t.Parallel()
	t.Run("payment intent is cancelled", func(t *testing.T) {
		rec := newRecorder()
		s := mockStripe(t, rec)
		c := Call{Kind: KindVoid, Amount: 1250, Currency: "USD", Reference: "pi_3PcdVoid", IdempotencyKey: "order-9-void"}
		got := s.Process(context.Background(), c)
		if got != (Result{Status: StatusSucceeded, ProviderID: "pi_3PcdVoid"}) {
			t.Fatalf("Process(%+v) = %+v, want succeeded with ProviderID pi_3PcdVoid", c, got)
		}
		ex := rec.exchanges()
		if len(ex) != 1 || ex[0].Method != http.MethodPost || ex[0].Path != "/v1/payment_intents/pi_3PcdVoid/cancel" ||
			ex[0].Status != http.StatusOK || ex[0].IdempotencyKey != c.IdempotencyKey {
			t.Errorf("sent %+v, want one POST /v1/payment_intents/pi_3PcdVoid/cancel → 200 with Idempotency-Key %q", ex, c.IdempotencyKey)
		}
	})
	for _, tc := range []struct{ ref, want string }{
		{"ch_3PcdCaptured", msgVoidCaptured},
		{"", msgNoVoidPayment},
		{"py_other", msgNoVoidPayment},
	} {
		t.Run("refused "+tc.ref, func(t *testing.T) {
			rec := newRecorder()
			s := mockStripe(t, rec)
			got := s.Process(context.Background(), Call{Kind: KindVoid, Amount: 1250, Currency: "USD", Reference: tc.ref, IdempotencyKey: "k"})
			if got != failed(false, tc.want) {
				t.Errorf("void %q = %+v, want failed, not retryable, %q", tc.ref, got, tc.want)
			}
			if ex := rec.exchanges(); len(ex) != 0 {
				t.Errorf("void %q sent %+v, want nothing sent", tc.ref, ex)
			}
		})
	}
}

// Calls that cannot be right are refused before anything reaches Stripe.
func TestStripeRefusesBadCalls(t *testing.T) {
	t.Parallel()
	good := Call{Kind: KindRefund, Amount: 1250, Currency: "USD", Reference: "ch_ok", IdempotencyKey: "k"}
	for _, tc := range []struct {
		name    string
		edit    func(*Call)
		wantMsg string // prefix
	}{
		{"no reference", func(c *Call) { c.Reference = "" }, msgNoRefundPayment},
		{"other provider's reference", func(c *Call) { c.Reference = "PAYID-123" }, msgNoRefundPayment},
		{"refund id as reference", func(c *Call) { c.Reference = "re_123" }, msgNoRefundPayment},
		{"no idempotency key", func(c *Call) { c.IdempotencyKey = " " }, "This refund has no idempotency key"},
		{"zero amount", func(c *Call) { c.Amount = 0 }, "The refund amount cannot be sent to Stripe"},
		{"no currency", func(c *Call) { c.Currency = "" }, "The refund amount cannot be sent to Stripe"},
		{"unknown kind", func(c *Call) { c.Kind = "chargeback" }, "Unknown kind"},
	} {
		rec := newRecorder()
		s := mockStripe(t, rec)
		c := good
		tc.edit(&c)
		got := s.Process(context.Background(), c)
		if got.Status != StatusFailed || got.Retryable || !strings.HasPrefix(got.Error, tc.wantMsg) {
			t.Errorf("%s: %+v, want failed, not retryable, %q…", tc.name, got, tc.wantMsg)
		}
		if ex := rec.exchanges(); len(ex) != 0 {
			t.Errorf("%s: sent %+v, want nothing sent", tc.name, ex)
		}
	}
	var nilStripe *Stripe
	if got := nilStripe.Process(context.Background(), good); got.Status != StatusFailed || got.Retryable {
		t.Errorf("nil *Stripe: %+v, want failed, not retryable", got)
	}
}

// stripe-mock answers a key that is not a test key with Stripe's 401 error
// body: the whole error path (HTTP status, JSON body, *stripe.Error, Result)
// runs for real.
func TestStripeErrorFromStripeMock(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	s, err := newStripe(StripeConfig{SecretKey: "sk_live_123", APIBase: testenv.StripeMockURL(t)}, rec)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Process(context.Background(), Call{Kind: KindRefund, Amount: 100, Currency: "USD", Reference: "ch_x", IdempotencyKey: "k"})
	if got != failed(false, msgBadAPIKey) {
		t.Errorf("rejected key: %+v, want failed, not retryable, %q", got, msgBadAPIKey)
	}
	if ex := rec.exchanges(); len(ex) != 1 || ex[0].Status != http.StatusUnauthorized {
		t.Errorf("exchanges %+v, want one answered 401 by stripe-mock", ex)
	}
}

// stripe-mock cannot produce these errors, so each is Stripe's documented
// JSON error body turned into an error by stripe-go's own response parser
// (the code path a real Stripe answer takes), then mapped.
func TestStripeFailureMapping(t *testing.T) {
	parser, ok := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}).(*stripe.BackendImplementation)
	if !ok {
		t.Fatal("stripe-go's API backend is not a *stripe.BackendImplementation")
	}
	answer := func(status int, body string) error {
		res := &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{"Request-Id": {"req_1"}}}
		return parser.ResponseToError(res, []byte(body))
	}
	for _, tc := range []struct {
		name string
		err  error
		want Result
	}{
		{"charge already refunded",
			answer(400, `{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge ch_x has already been refunded."}}`),
			failed(false, "This charge was already refunded in Stripe.")},
		{"amount too large",
			answer(400, `{"error":{"type":"invalid_request_error","code":"amount_too_large","param":"amount","message":"Refund amount ($20.00) is greater than charge amount ($10.00)"}}`),
			failed(false, "Refund amount ($20.00) is greater than charge amount ($10.00)")},
		{"no such charge",
			answer(404, `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"charge","message":"No such charge: 'ch_x'"}}`),
			failed(false, "No such charge: 'ch_x'")},
		{"payment intent not cancellable",
			answer(400, `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"You cannot cancel this PaymentIntent because it has a status of succeeded."}}`),
			failed(false, "You cannot cancel this PaymentIntent because it has a status of succeeded.")},
		{"invalid request without a message",
			answer(400, `{"error":{"type":"invalid_request_error"}}`),
			failed(false, "Stripe refused the request (HTTP 400, invalid_request_error).")},
		{"bad key",
			answer(401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_live_****1234"}}`),
			failed(false, msgBadAPIKey)},
		{"rate limited",
			answer(429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly."}}`),
			failed(true, msgStripeUnreachable+" (Stripe is busy: HTTP 429)")},
		{"same key in flight",
			answer(409, `{"error":{"type":"idempotency_error","code":"idempotency_key_in_use","message":"There is currently another in-progress request using this Idempotent Key."}}`),
			failed(true, msgStripeUnreachable+" (Stripe is busy: HTTP 409)")},
		{"Stripe error",
			answer(500, `{"error":{"type":"api_error","message":"An unknown error occurred"}}`),
			failed(true, msgStripeUnreachable+" (Stripe answered HTTP 500)")},
		{"gateway page instead of JSON",
			answer(502, `<html>Bad Gateway</html>`),
			Result{Status: StatusFailed, Retryable: true}}, // message checked below
		{"connection refused",
			&url.Error{Op: "Post", URL: "https://api.stripe.com/v1/refunds", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}},
			failed(true, msgStripeUnreachable+" (connection refused)")},
		{"deadline",
			fmt.Errorf("wrapped: %w", context.DeadlineExceeded),
			failed(true, msgStripeUnreachable+" (timed out)")},
		{"cancelled",
			&url.Error{Op: "Post", URL: "https://api.stripe.com/v1/refunds", Err: context.Canceled},
			failed(true, msgStripeUnreachable+" (cancelled)")},
		{"other network error",
			&url.Error{Op: "Post", URL: "https://api.stripe.com/v1/refunds", Err: errors.New("tls: handshake failure")},
			failed(true, msgStripeUnreachable+" (tls: handshake failure)")},
	} {
		got := stripeFailure(tc.err)
		if tc.want.Error == "" {
			if got.Status != StatusFailed || !got.Retryable || !strings.HasPrefix(got.Error, msgStripeUnreachable+" (") {
				t.Errorf("%s: %+v, want failed, retryable, %q…", tc.name, got, msgStripeUnreachable)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: stripeFailure(%v)\n got %+v\nwant %+v", tc.name, tc.err, got, tc.want)
		}
	}
}
