package payments

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/stripe/stripe-go/v82"
)

// DefaultStripeTimeout bounds one Stripe call when StripeConfig.Timeout is 0.
const DefaultStripeTimeout = 10 * time.Second

// Messages a merchant reads in Result.Error.
const (
	msgStripeUnreachable = "Stripe could not be reached; try again."
	msgAlreadyRefunded   = "This charge was already refunded in Stripe."
	msgNoRefundPayment   = "This order has no Stripe payment to refund."
	msgNoVoidPayment     = "This order has no Stripe payment to void."
	msgVoidCaptured      = "This Stripe payment was already captured, so it cannot be voided; refund it instead."
	msgBadAPIKey         = "Stripe refused Cancel Desk's API key; check the Stripe secret key in the settings."
)

// StripeConfig configures the Stripe gateway.
type StripeConfig struct {
	SecretKey string        // sk_test_... / sk_live_...
	APIBase   string        // "" = Stripe's default; tests use the stripe-mock URL, e.g. "http://127.0.0.1:12111"
	Timeout   time.Duration // per call; 0 = 10s
}

// Stripe refunds through the Stripe API with stripe-go v82. Each instance has
// its own client, key and backend: nothing global (such as stripe.Key) is
// set, so several instances, e.g. parallel tests, do not interfere.
type Stripe struct {
	client  *stripe.Client
	timeout time.Duration
}

// NewStripe returns a Stripe gateway. It fails when SecretKey is empty or
// APIBase is not an http(s) URL.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	return newStripe(cfg, nil)
}

// newStripe is NewStripe with the HTTP transport to use (nil: Go's default).
// Tests pass one that records the requests sent to stripe-mock.
func newStripe(cfg StripeConfig, transport http.RoundTripper) (*Stripe, error) {
	key := strings.TrimSpace(cfg.SecretKey)
	if key == "" {
		return nil, errors.New("payments: the Stripe secret key is empty")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultStripeTimeout
	}
	bc := &stripe.BackendConfig{
		HTTPClient: &http.Client{Timeout: timeout, Transport: transport},
		// No retries inside stripe-go: the caller retries later with the
		// same idempotency key, and a call must end within its timeout.
		MaxNetworkRetries: stripe.Int64(0),
		// Failures come back in the Result; do not also print them.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("payments: Stripe API base %q is not an http(s) URL", cfg.APIBase)
		}
		bc.URL = stripe.String(cfg.APIBase)
	}
	client := stripe.NewClient(key, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))
	return &Stripe{client: client, timeout: timeout}, nil
}

// Name is "stripe".
func (s *Stripe) Name() string { return NameStripe }

// Process refunds a charge or payment intent, or voids (cancels) an
// uncaptured payment intent.
func (s *Stripe) Process(ctx context.Context, c Call) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			// Stripe may or may not have acted; a retry with the same
			// idempotency key is safe and finds out.
			res = failed(true, fmt.Sprintf("Cancel Desk failed while talking to Stripe; try again. (internal error: %v)", p))
		}
	}()
	if s == nil || s.client == nil {
		return failed(false, "Stripe is not configured.")
	}
	// Without a key a retry could refund twice: refuse rather than risk it.
	if strings.TrimSpace(c.IdempotencyKey) == "" {
		return failed(false, "This refund has no idempotency key, so it was not sent to Stripe.")
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ref := strings.TrimSpace(c.Reference)
	switch c.Kind {
	case KindRefund:
		return s.refund(ctx, c, ref)
	case KindVoid:
		return s.void(ctx, c, ref)
	}
	return failed(false, fmt.Sprintf("Unknown kind of payment call %q.", c.Kind))
}

func (s *Stripe) refund(ctx context.Context, c Call, ref string) Result {
	p := &stripe.RefundCreateParams{}
	switch {
	case strings.HasPrefix(ref, "ch_"):
		p.Charge = stripe.String(ref)
	case strings.HasPrefix(ref, "pi_"):
		p.PaymentIntent = stripe.String(ref)
	default:
		return failed(false, msgNoRefundPayment)
	}
	amount, err := stripeAmount(c.Amount, c.Currency)
	if err != nil {
		return failed(false, "The refund amount cannot be sent to Stripe: "+err.Error()+".")
	}
	// No currency: Stripe refunds in the charge's own currency.
	p.Amount = stripe.Int64(amount)
	p.SetIdempotencyKey(c.IdempotencyKey)

	r, err := s.client.V1Refunds.Create(ctx, p)
	if err != nil {
		return stripeFailure(err)
	}
	switch r.Status {
	case stripe.RefundStatusSucceeded:
		return Result{Status: StatusSucceeded, ProviderID: r.ID}
	case stripe.RefundStatusFailed, stripe.RefundStatusCanceled:
		msg := "Stripe could not complete the refund"
		if r.FailureReason != "" {
			msg += " (" + strings.ReplaceAll(string(r.FailureReason), "_", " ") + ")"
		}
		return Result{Status: StatusFailed, ProviderID: r.ID, Error: msg + "."}
	}
	// pending, requires_action, or a status newer than this code: Stripe
	// holds the refund and it is not final yet.
	return Result{Status: StatusPending, ProviderID: r.ID}
}

func (s *Stripe) void(ctx context.Context, c Call, ref string) Result {
	switch {
	case strings.HasPrefix(ref, "pi_"):
	case strings.HasPrefix(ref, "ch_"):
		// A charge is captured money: only a refund gives it back, and
		// turning a void into a full refund silently is not ours to decide.
		return failed(false, msgVoidCaptured)
	default:
		return failed(false, msgNoVoidPayment)
	}
	p := &stripe.PaymentIntentCancelParams{}
	p.SetIdempotencyKey(c.IdempotencyKey)
	pi, err := s.client.V1PaymentIntents.Cancel(ctx, ref, p)
	if err != nil {
		return stripeFailure(err)
	}
	// Stripe answers with an error when it cannot cancel, so an answer
	// means the authorization is released (its status is "canceled";
	// stripe-mock, being stateless, returns a fixture status instead,
	// which is why the status is not checked).
	id := pi.ID
	if id == "" {
		id = ref
	}
	return Result{Status: StatusSucceeded, ProviderID: id}
}

// stripeFailure turns an error from stripe-go into a failed Result: a Stripe
// refusal is final, anything that may pass later is Retryable.
func stripeFailure(err error) Result {
	var se *stripe.Error
	if !errors.As(err, &se) {
		// No answer from Stripe: network error, timeout, cancelled
		// context, or a response that is not Stripe's JSON.
		return failed(true, msgStripeUnreachable+" ("+shortCause(err)+")")
	}
	switch {
	case se.Code == stripe.ErrorCodeChargeAlreadyRefunded:
		return failed(false, msgAlreadyRefunded)
	case se.HTTPStatusCode == http.StatusTooManyRequests,
		se.Code == stripe.ErrorCodeIdempotencyKeyInUse, // the same refund is still in flight
		se.Code == stripe.ErrorCodeLockTimeout:
		return failed(true, fmt.Sprintf("%s (Stripe is busy: HTTP %d)", msgStripeUnreachable, se.HTTPStatusCode))
	case se.HTTPStatusCode >= 500 || se.Type == stripe.ErrorTypeAPI:
		return failed(true, fmt.Sprintf("%s (Stripe answered HTTP %d)", msgStripeUnreachable, se.HTTPStatusCode))
	case se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden:
		return failed(false, msgBadAPIKey)
	}
	// amount_too_large, resource_missing, other invalid requests: Stripe's
	// own message says what is wrong with this payment.
	msg := strings.TrimSpace(se.Msg)
	if msg == "" {
		msg = fmt.Sprintf("Stripe refused the request (HTTP %d, %s).", se.HTTPStatusCode, se.Type)
	}
	return failed(false, msg)
}

// shortCause names why Stripe was not reached, without the request URL.
func shortCause(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return msg
}
