package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Client calls the Admin GraphQL API of one shop. It retries what Shopify
// documents as "try again later" (THROTTLED, HTTP 429, 5xx, the network)
// within the caller's context and a bounded number of attempts, and answers
// *BusyError when it gives up, so the caller can queue the call and send it
// again later with the same keys.
type Client struct {
	shop     string
	token    string
	endpoint string
	http     *http.Client

	// MaxAttempts bounds the tries of one call (default 6).
	MaxAttempts int
	// Sleep waits d or until ctx ends; tests replace it so that nothing
	// waits for real.
	Sleep func(ctx context.Context, d time.Duration) error
}

var shopDomain = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)

// NewClient checks cfg and returns a client for it; httpClient nil means a
// client with a 30-second timeout.
func NewClient(cfg Config, httpClient *http.Client) (*Client, error) {
	shop := strings.ToLower(strings.TrimSpace(cfg.Shop))
	if !shopDomain.MatchString(shop) {
		return nil, fmt.Errorf("shopify: SHOPIFY_SHOP %q is not a shop domain like name.myshopify.com", cfg.Shop)
	}
	if strings.TrimSpace(cfg.AccessToken) == "" {
		return nil, errors.New("shopify: SHOPIFY_ACCESS_TOKEN is empty")
	}
	base, err := apiBase(shop, cfg.APIBase)
	if err != nil {
		return nil, fmt.Errorf("shopify: %w", err)
	}
	version := strings.TrimSpace(cfg.APIVersion)
	if version == "" {
		version = DefaultAPIVersion
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{
		shop:        shop,
		token:       cfg.AccessToken,
		endpoint:    base + "/admin/api/" + url.PathEscape(version) + "/graphql.json",
		http:        httpClient,
		MaxAttempts: 6,
		Sleep:       sleepCtx,
	}, nil
}

// Shop is the shop's domain.
func (c *Client) Shop() string { return c.shop }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Waits between tries.
const (
	minThrottleWait = 250 * time.Millisecond // the floor of a THROTTLED wait
	firstBackoff    = time.Second            // 5xx and network errors, doubled each try
	maxBackoff      = 30 * time.Second
)

// gqlError is one entry of a response's top-level "errors".
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// Cost is the "extensions.cost" of every Admin API answer, documented under
// GraphQL Admin API rate limits.
type Cost struct {
	RequestedQueryCost float64  `json:"requestedQueryCost"`
	ActualQueryCost    *float64 `json:"actualQueryCost"` // null when throttled
	ThrottleStatus     struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     json.RawMessage `json:"errors"` // a list, or a string on 4xx
	Extensions struct {
		Cost *Cost `json:"cost"`
	} `json:"extensions"`
}

// throttleWait is how long the bucket needs to refill enough for the query
// that was throttled: (requested - available) / restoreRate seconds.
func throttleWait(cost *Cost) time.Duration {
	if cost == nil || cost.ThrottleStatus.RestoreRate <= 0 {
		return time.Second
	}
	need := cost.RequestedQueryCost - cost.ThrottleStatus.CurrentlyAvailable
	d := time.Duration(math.Ceil(need / cost.ThrottleStatus.RestoreRate * float64(time.Second)))
	return max(d, minThrottleWait)
}

// errMaxCost is a query Shopify refuses as too expensive for one request
// (MAX_COST_EXCEEDED): Orders asks again for fewer orders.
var errMaxCost = errors.New("shopify: query cost exceeds the single query maximum")

// do posts one GraphQL operation and decodes its data into out, retrying
// as the type comment says.
func (c *Client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("shopify: encoding the request: %w", err)
	}
	attempts := max(c.MaxAttempts, 1)
	backoff := firstBackoff
	var busy *BusyError
	for try := 1; ; try++ {
		busy, err = c.post(ctx, body, out)
		if busy == nil {
			return err
		}
		if busy.RetryAfter == 0 { // 5xx or the network: exponential backoff
			busy.RetryAfter, backoff = backoff, min(2*backoff, maxBackoff)
		}
		if try >= attempts || ctx.Err() != nil || c.Sleep(ctx, busy.RetryAfter) != nil {
			return busy
		}
	}
}

// post makes one try: busy is non-nil when the call may be tried again.
func (c *Client) post(ctx context.Context, body []byte, out any) (busy *BusyError, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("shopify: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Shopify-Access-Token", c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL carries no secret (the token is a header), but say only
		// what failed.
		msg := "the request failed"
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		return &BusyError{Msg: msg}, nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &BusyError{Msg: "reading the answer: " + err.Error()}, nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// HTTP 429: Retry-After is in seconds.
		wait := time.Second
		if s, err := strconv.ParseFloat(strings.TrimSpace(resp.Header.Get("Retry-After")), 64); err == nil && s > 0 {
			wait = time.Duration(s * float64(time.Second))
		}
		return &BusyError{RetryAfter: wait, Msg: "HTTP 429 Too Many Requests"}, nil
	case resp.StatusCode >= 500:
		return &BusyError{Msg: fmt.Sprintf("HTTP %d from %s", resp.StatusCode, c.shop)}, nil
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("shopify: %s refused the access token (HTTP 401): check SHOPIFY_ACCESS_TOKEN and the app's installation", c.shop)
	case resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("shopify: %s refused the call (HTTP 403): the app lacks a scope (read_orders, write_orders, ...)%s", c.shop, errorsText(raw))
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("shopify: %s has no Admin API at this path (HTTP 404): check SHOPIFY_SHOP and SHOPIFY_API_VERSION", c.shop)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("shopify: HTTP %d from %s%s", resp.StatusCode, c.shop, errorsText(raw))
	}
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("shopify: the answer is not GraphQL JSON: %w", err)
	}
	if len(r.Errors) > 0 && string(r.Errors) != "null" {
		var list []gqlError
		if json.Unmarshal(r.Errors, &list) != nil {
			return nil, fmt.Errorf("shopify: %s", errorsText(raw))
		}
		var msgs []string
		for _, e := range list {
			switch e.Extensions.Code {
			case "THROTTLED":
				return &BusyError{RetryAfter: throttleWait(r.Extensions.Cost), Msg: "THROTTLED (query cost limit)"}, nil
			case "MAX_COST_EXCEEDED":
				return nil, fmt.Errorf("%w: %s", errMaxCost, e.Message)
			case "INTERNAL_SERVER_ERROR":
				return &BusyError{Msg: "Shopify internal error: " + e.Message}, nil
			}
			msgs = append(msgs, e.Message)
		}
		if len(msgs) > 0 {
			return nil, fmt.Errorf("shopify: %s", strings.Join(msgs, "; "))
		}
	}
	if out == nil {
		return nil, nil
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return nil, errors.New("shopify: the answer has no data")
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		return nil, fmt.Errorf("shopify: decoding the answer: %w", err)
	}
	return nil, nil
}

// errorsText is the "errors" of a non-GraphQL answer (a 4xx body such as
// {"errors":"Not Found"}), for a message; "" when there is none.
func errorsText(raw []byte) string {
	var r struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(raw, &r) != nil || len(r.Errors) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(r.Errors, &s) == nil {
		return ": " + s
	}
	var list []gqlError
	if json.Unmarshal(r.Errors, &list) == nil && len(list) > 0 {
		var msgs []string
		for _, e := range list {
			msgs = append(msgs, e.Message)
		}
		return ": " + strings.Join(msgs, "; ")
	}
	return ""
}
