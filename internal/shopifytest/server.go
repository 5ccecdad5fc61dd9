// Package shopifytest is a stand-in for a shop's Admin GraphQL API, for
// tests: an httptest.Server that answers the operations Cancel Desk sends
// (orders, order, orderCancel, job, refundCreate) the way shopify.dev
// documents them, keeps orders, jobs and refunds in memory, prices every
// query against a cost bucket, and records every request so that a test can
// check what was sent, field by field. It recognises an operation by its
// root field and reads its variables; it does not parse GraphQL in general.
package shopifytest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk/shopify"
)

// Request is one request the stand-in received.
type Request struct {
	Op        string         // the root field: "orders", "order", "orderCancel", "job", "refundCreate"
	Query     string         // the query text as sent
	Variables map[string]any // as decoded from JSON (numbers are float64)
	Header    http.Header
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	token    string
	secret   string
	version  string
	requests []Request

	// The cost bucket of "GraphQL Admin API rate limits".
	maxAvailable float64
	available    float64
	restoreRate  float64
	restoredAt   time.Time
	offset       time.Duration // Advance moves the clock by this much

	throttleNext int    // answer THROTTLED to this many requests
	tooManyNext  int    // answer HTTP 429 to this many requests
	retryAfter   string // their Retry-After
	failNext     int    // answer failStatus to this many requests
	failStatus   int

	jobPolls int // polls of a job before it is done

	state // orders, jobs, refunds (orders.go)
}

// Option configures New.
type Option func(*Server)

// WithBucket sets the cost bucket's size and restore rate per second
// (default 1000 and 50, a standard plan's figures).
func WithBucket(maximum, restorePerSecond float64) Option {
	return func(s *Server) { s.maxAvailable, s.available, s.restoreRate = maximum, maximum, restorePerSecond }
}

// WithJobPolls sets how many times a job is polled before it reads done
// (default 2: the first poll says not done, the second done).
func WithJobPolls(n int) Option { return func(s *Server) { s.jobPolls = max(n, 1) } }

// WithVersion sets the API version served (default shopify.DefaultAPIVersion);
// any other version answers 404.
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// New starts a stand-in, closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		t:            t,
		token:        "shpat_test_0123456789abcdef",
		secret:       "test-webhook-secret",
		version:      shopify.DefaultAPIVersion,
		maxAvailable: 1000,
		available:    1000,
		restoreRate:  50,
		jobPolls:     2,
	}
	s.state.init()
	for _, o := range opts {
		o(s)
	}
	s.restoredAt = time.Now()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the stand-in's base URL (SHOPIFY_API_BASE).
func (s *Server) URL() string { return s.srv.URL }

// Shop is the shop's domain.
func (s *Server) Shop() string { return "test-shop.myshopify.com" }

// Token is the access token the stand-in accepts.
func (s *Server) Token() string { return s.token }

// Secret is the secret webhooks are signed with.
func (s *Server) Secret() string { return s.secret }

// Config is a connection to the stand-in.
func (s *Server) Config() shopify.Config {
	return shopify.Config{Shop: s.Shop(), AccessToken: s.token, WebhookSecret: s.secret,
		APIBase: s.URL(), APIVersion: s.version}
}

// Requests lists the requests received for op ("" for every one), oldest
// first.
func (s *Server) Requests(op string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(s.requests), func(r Request) bool { return op != "" && r.Op != op })
}

// ThrottleNext makes the next k requests answer THROTTLED, whatever the
// bucket holds.
func (s *Server) ThrottleNext(k int) { s.mu.Lock(); s.throttleNext = k; s.mu.Unlock() }

// TooManyRequests makes the next k requests answer HTTP 429 with
// Retry-After: retryAfter (seconds, as Shopify writes it).
func (s *Server) TooManyRequests(k int, retryAfter string) {
	s.mu.Lock()
	s.tooManyNext, s.retryAfter = k, retryAfter
	s.mu.Unlock()
}

// FailNext makes the next k requests answer HTTP status (a 5xx).
func (s *Server) FailNext(k, status int) {
	s.mu.Lock()
	s.failNext, s.failStatus = k, status
	s.mu.Unlock()
}

// SetAvailable sets the points the bucket holds now.
func (s *Server) SetAvailable(points float64) {
	s.mu.Lock()
	s.restore()
	s.available = points
	s.mu.Unlock()
}

// Advance moves the stand-in's clock: the bucket refills as if d had
// passed, and times it writes (updatedAt, cancelledAt) move on. A client's
// Sleep can call it so that a test waits for nothing.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// now is the stand-in's clock; s.mu held.
func (s *Server) now() time.Time { return time.Now().Add(s.offset).UTC() }

// restore refills the bucket for the time since it was last refilled, at
// restoreRate points a second up to maxAvailable; s.mu held.
func (s *Server) restore() {
	now := time.Now().Add(s.offset)
	if el := now.Sub(s.restoredAt).Seconds(); el > 0 {
		s.available = math.Min(s.maxAvailable, s.available+el*s.restoreRate)
	}
	s.restoredAt = now
}

// gqlError is an entry of a response's top-level "errors".
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	// Unknown path or version: 404 like Shopify's {"errors":"Not Found"}.
	if r.URL.Path != "/admin/api/"+s.version+"/graphql.json" {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"errors": "Method Not Allowed"})
		return
	}
	// A missing or wrong X-Shopify-Access-Token: 401 with Shopify's text.
	if r.Header.Get("X-Shopify-Access-Token") != s.token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{
			"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err != nil || json.Unmarshal(raw, &body) != nil || body.Query == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "Bad Request"})
		return
	}
	if body.Variables == nil {
		body.Variables = map[string]any{}
	}
	op := rootField(body.Query)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Op: op, Query: body.Query, Variables: body.Variables, Header: r.Header.Clone()})
	switch {
	case s.failNext > 0:
		s.failNext--
		writeJSON(w, s.failStatus, map[string]any{"errors": "Internal Server Error"})
		return
	case s.tooManyNext > 0:
		// HTTP 429 Too Many Requests with Retry-After (seconds).
		s.tooManyNext--
		w.Header().Set("Retry-After", s.retryAfter)
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"errors": "Exceeded rate limit"})
		return
	}

	// Cost-based limits: the bucket must hold the requested cost before the
	// query runs; it is then charged the actual cost.
	s.restore()
	requested := s.requestedCost(op, body.Query, body.Variables)
	if requested > 1000 {
		// A single query may not ask for more than 1,000 points.
		s.writeGraphQL(w, nil, []gqlError{{
			Message:    fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (1000).", requested),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": 1000},
		}}, requested, nil)
		return
	}
	if s.throttleNext > 0 || s.available < float64(requested) {
		if s.throttleNext > 0 {
			s.throttleNext--
		}
		s.writeGraphQL(w, nil, []gqlError{{
			Message:    "Throttled",
			Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
		}}, requested, nil)
		return
	}

	data, actual, errs := s.dispatch(op, body.Query, body.Variables)
	if errs != nil {
		s.writeGraphQL(w, nil, errs, requested, nil)
		return
	}
	s.available -= float64(actual)
	s.writeGraphQL(w, data, nil, requested, &actual)
}

// dispatch runs one operation: data, its actual cost, or top-level errors.
func (s *Server) dispatch(op, query string, vars map[string]any) (data any, actual int, errs []gqlError) {
	switch op {
	case "orders":
		return s.opOrders(query, vars)
	case "order":
		return s.opOrder(query, vars)
	case "orderCancel":
		d, e := s.opOrderCancel(vars)
		return d, mutationCost, e
	case "job":
		return s.opJob(vars), 1, nil
	case "refundCreate":
		d, e := s.opRefundCreate(query, vars)
		return d, mutationCost, e
	}
	return nil, 0, []gqlError{{Message: fmt.Sprintf("Field '%s' doesn't exist on type 'QueryRoot'", op),
		Extensions: map[string]any{"code": "undefinedField"}}}
}

// Query cost, as "GraphQL Admin API rate limits" prices it: an object 1, a
// connection 2 + first × a node's cost, a mutation 10. One order node as
// Cancel Desk selects it (money sets, addresses, risk, five transactions,
// one fulfilment order) is priced orderNodeCost plus lineItemCost a line.
const (
	mutationCost  = 10
	orderNodeCost = 28
	lineItemCost  = 3
)

var lineItemsFirst = regexp.MustCompile(`lineItems\(\s*first:\s*(\d+)`)

// lineItemsAsked is the first: of the query's lineItems connection.
func lineItemsAsked(query string) int {
	m := lineItemsFirst.FindStringSubmatch(query)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (s *Server) requestedCost(op, query string, vars map[string]any) int {
	perOrder := orderNodeCost + 2 + lineItemCost*lineItemsAsked(query)
	switch op {
	case "orders":
		return 2 + intVar(vars, "first")*perOrder
	case "order":
		return perOrder
	case "job":
		return 1
	}
	return mutationCost
}

// actualOrderCost prices an order node as returned, with n line items.
func actualOrderCost(n int) int { return orderNodeCost + 2 + lineItemCost*n }

func (s *Server) writeGraphQL(w http.ResponseWriter, data any, errs []gqlError, requested int, actual *int) {
	out := map[string]any{}
	if data != nil {
		out["data"] = data
	}
	if errs != nil {
		out["errors"] = errs
	}
	var act any
	if actual != nil {
		act = *actual
	}
	out["extensions"] = map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested,
		"actualQueryCost":    act,
		"throttleStatus": map[string]any{
			"maximumAvailable":   s.maxAvailable,
			"currentlyAvailable": math.Floor(s.available),
			"restoreRate":        s.restoreRate,
		},
	}}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// rootField is the first field of the operation's selection set: the
// identifier after the first "{" (variable definitions hold none).
func rootField(query string) string {
	i := strings.IndexByte(query, '{')
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(query[i+1:], " \t\r\n")
	end := strings.IndexFunc(rest, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if end < 0 {
		return rest
	}
	name := rest[:end]
	// An alias ("x: orders(...)"): the field follows the colon.
	if after := strings.TrimLeft(rest[end:], " \t\r\n"); strings.HasPrefix(after, ":") {
		return rootField("{" + strings.TrimPrefix(after, ":"))
	}
	return name
}

func intVar(vars map[string]any, name string) int {
	switch v := vars[name].(type) {
	case float64:
		return int(v)
	case int:
		return v
	}
	return 0
}

func stringVar(vars map[string]any, name string) string {
	v, _ := vars[name].(string)
	return v
}
