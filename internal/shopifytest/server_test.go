package shopifytest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk/shopify"
)

// post sends a raw GraphQL request, as any client would.
func post(t *testing.T, s *Server, token, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/admin/api/"+shopify.DefaultAPIVersion+"/graphql.json", bytes.NewReader(body))
	req.Header.Set("X-Shopify-Access-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errorCode(out map[string]any) string {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	ext, _ := e["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	if code == "" {
		code, _ = e["message"].(string)
	}
	return code
}

func TestRootField(t *testing.T) {
	for q, want := range map[string]string{
		"query Orders($first: Int!) {\n  orders(first: $first) { nodes { id } } }":                                   "orders",
		"query { order(id: \"x\") { id } }":                                                                          "order",
		"mutation M($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: \"k\") { refund { id } } }": "refundCreate",
		"{ a: job(id: \"1\") { id } }":                                                                               "job",
		"no braces":                                                                                                  "",
	} {
		if got := rootField(q); got != want {
			t.Errorf("rootField(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestAuthAndPath(t *testing.T) {
	s := New(t)
	if code, out := post(t, s, "wrong", "{ job(id: \"1\") { id } }", nil); code != http.StatusUnauthorized || !strings.Contains(out["errors"].(string), "Invalid API key or access token") {
		t.Errorf("a wrong token: %d %v", code, out)
	}
	resp, err := http.Post(s.URL()+"/admin/api/2001-01/graphql.json", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown version: %d", resp.StatusCode)
	}
	if n := len(s.Requests("")); n != 0 {
		t.Errorf("refused requests recorded: %d", n)
	}
}

func TestRefundCreateRequiresTheIdempotentDirective(t *testing.T) {
	s := New(t)
	id := s.AddOrder(OrderSpec{})
	vars := map[string]any{"input": map[string]any{"orderId": shopify.OrderGID(id), "refundLineItems": []any{}}}
	code, out := post(t, s, s.Token(), "mutation R($input: RefundInput!) { refundCreate(input: $input) { refund { id } } }", vars)
	if code != http.StatusOK || errorCode(out) != "BAD_REQUEST" || out["data"] != nil {
		t.Errorf("without @idempotent: %d %v", code, out)
	}
	_, out = post(t, s, s.Token(), `mutation R($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: "abc") { refund { id } } }`, vars)
	if errorCode(out) != "" || len(s.Refunds(id)) != 1 || s.Refunds(id)[0].IdempotencyKey != "abc" {
		t.Errorf("with a literal key: %v, refunds %+v", out, s.Refunds(id))
	}
}

func TestCostBucketAndLimits(t *testing.T) {
	s := New(t, WithBucket(100, 10))
	s.AddOrders(3)
	q := "query O($first: Int!) { orders(first: $first) { nodes { id lineItems(first: 10) { nodes { id } } } } }"
	// 2 + 1 × (28 + 2 + 30) = 62 points asked, 1 order with 1 line costs 35.
	_, out := post(t, s, s.Token(), q, map[string]any{"first": 1})
	cost := out["extensions"].(map[string]any)["cost"].(map[string]any)
	ts := cost["throttleStatus"].(map[string]any)
	if cost["requestedQueryCost"].(float64) != 62 || cost["actualQueryCost"].(float64) != 35 ||
		ts["maximumAvailable"].(float64) != 100 || ts["restoreRate"].(float64) != 10 || ts["currentlyAvailable"].(float64) > 66 {
		t.Errorf("cost %v", cost)
	}
	// 65 left, 62 asked: runs; then 3 left: throttled, actualQueryCost null.
	post(t, s, s.Token(), q, map[string]any{"first": 1})
	_, out = post(t, s, s.Token(), q, map[string]any{"first": 1})
	if errorCode(out) != "THROTTLED" || out["extensions"].(map[string]any)["cost"].(map[string]any)["actualQueryCost"] != nil {
		t.Errorf("an empty bucket: %v", out)
	}
	s.Advance(10 * time.Second) // +100, capped at 100
	if _, out = post(t, s, s.Token(), q, map[string]any{"first": 1}); errorCode(out) != "" {
		t.Errorf("after refilling: %v", out)
	}
	if _, out = post(t, s, s.Token(), q, map[string]any{"first": 20}); errorCode(out) != "MAX_COST_EXCEEDED" {
		t.Errorf("20 orders × 60 points: %v", out)
	}
}

func TestJobFinishesTheCancel(t *testing.T) {
	s := New(t, WithJobPolls(1))
	id := s.AddOrder(OrderSpec{Financial: "AUTHORIZED"})
	m := "mutation C($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!, $restock: Boolean!) { orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock) { job { id done } orderCancelUserErrors { code } } }"
	_, out := post(t, s, s.Token(), m, map[string]any{"orderId": shopify.OrderGID(id), "reason": "FRAUD",
		"refundMethod": map[string]any{"originalPaymentMethodsRefund": false}, "restock": false})
	jobID := out["data"].(map[string]any)["orderCancel"].(map[string]any)["job"].(map[string]any)["id"].(string)
	if s.Order(id).CancelledAt != nil {
		t.Fatal("cancelled before the job ran")
	}
	_, out = post(t, s, s.Token(), "query J($id: ID!) { job(id: $id) { id done } }", map[string]any{"id": jobID})
	if out["data"].(map[string]any)["job"].(map[string]any)["done"] != true {
		t.Fatalf("job %v", out)
	}
	o := s.Order(id)
	if o.CancelledAt == nil || o.CancelReason != "FRAUD" || o.DisplayFinancialStatus != "VOIDED" || o.TotalRefundedSet.ShopMoney.Amount != "0.00" {
		t.Errorf("after the job: %+v", o)
	}
}

func TestTouchMovesUpdatedAtAndTheWebhookSaysSo(t *testing.T) {
	s := New(t)
	id := s.AddOrder(OrderSpec{})
	before := s.Order(id).UpdatedAt
	at := s.Touch(id)
	if !at.After(before) || !s.Order(id).UpdatedAt.Equal(at) {
		t.Fatalf("Touch: %v after %v", at, before)
	}
	body, h := s.Webhook("orders/updated", id)
	var p struct {
		UpdatedAt time.Time `json:"updated_at"`
	}
	if err := json.Unmarshal(body, &p); err != nil || !p.UpdatedAt.Equal(at.Truncate(time.Second)) {
		t.Errorf("payload updated_at %v, want %v (%v)", p.UpdatedAt, at, err)
	}
	if !shopify.Verify(s.Secret(), body, h.Get("X-Shopify-Hmac-Sha256")) {
		t.Error("the delivery does not verify")
	}
}
