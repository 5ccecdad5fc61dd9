package shopify_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
)

func TestOrdersPagesThroughThousandsOfOrders(t *testing.T) {
	srv := shopifytest.New(t)
	ids := srv.AddOrders(2000)
	c, _ := newClient(t, srv)
	ctx := context.Background()

	seen := map[string]int{}
	var order []string
	after, pages := "", 0
	var last time.Time
	for {
		page, err := c.Orders(ctx, "", after, 250)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		for _, o := range page.Orders {
			seen[o.ExternalID]++
			order = append(order, o.ExternalID)
			if o.ShopifyUpdatedAt.Before(last) {
				t.Fatalf("order %s updated %v before the one before it (%v)", o.ExternalID, o.ShopifyUpdatedAt, last)
			}
			last = *o.ShopifyUpdatedAt
			want := len(srv.Order(o.ExternalID).LineItems.Nodes)
			if len(o.LineItems) != want {
				t.Fatalf("order %s has %d line items, want %d", o.ExternalID, len(o.LineItems), want)
			}
		}
		if !page.HasNext {
			break
		}
		if page.EndCursor == "" {
			t.Fatal("a page with more after it has no cursor")
		}
		after = page.EndCursor
	}
	if len(seen) != len(ids) {
		t.Fatalf("synced %d orders, want %d", len(seen), len(ids))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("order %s came %d times", id, n)
		}
	}
	if !reflect.DeepEqual(order, ids) { // added in updatedAt order
		t.Error("orders did not come oldest updated first")
	}
	// Each page asked for as many orders as one query's cost allows, sorted
	// by UPDATED_AT; orders with more lines than a page carries were read
	// again whole.
	reqs := srv.Requests("orders")
	// 16 orders a page fit in 1,000 points; the bucket refilled between
	// pages (throttled pages were asked again).
	if pages != (2000+15)/16 || len(reqs) < pages {
		t.Errorf("%d pages in %d requests, want %d pages", pages, len(reqs), (2000+15)/16)
	}
	for _, r := range reqs {
		first, _ := r.Variables["first"].(float64)
		if first < 1 || first > 250 || 2+first*(28+2+3*10) > 1000 {
			t.Fatalf("first = %v: over Shopify's single-query cost", r.Variables["first"])
		}
		if !strings.Contains(r.Query, "sortKey: UPDATED_AT") {
			t.Fatal("orders are not asked sorted by UPDATED_AT")
		}
	}
	if n := len(srv.Requests("order")); n != 2000/25 {
		t.Errorf("%d orders read again for their lines, want %d", n, 2000/25)
	}
}

func TestOrdersSearchQueryAndEmptyShop(t *testing.T) {
	srv := shopifytest.New(t)
	c, _ := newClient(t, srv)
	ctx := context.Background()
	page, err := c.Orders(ctx, "", "", 50)
	if err != nil || len(page.Orders) != 0 || page.HasNext {
		t.Fatalf("an empty shop: %+v, %v", page, err)
	}
	ids := srv.AddOrders(30)
	since := srv.Order(ids[20]).UpdatedAt.UTC()
	q := "updated_at:>='" + since.Format(time.RFC3339) + "'"
	page, err = c.Orders(ctx, q, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range page.Orders {
		got = append(got, o.ExternalID)
	}
	if !reflect.DeepEqual(got, ids[20:]) {
		t.Errorf("orders updated since %v = %v, want %v", since, got, ids[20:])
	}
	if reqs := srv.Requests("orders"); reqs[len(reqs)-1].Variables["query"] != q {
		t.Errorf("query sent = %v, want %q", reqs[len(reqs)-1].Variables["query"], q)
	}
}

func TestOrderUnknownIsNil(t *testing.T) {
	srv := shopifytest.New(t)
	c, _ := newClient(t, srv)
	o, err := c.Order(context.Background(), "424242")
	if err != nil || o != nil {
		t.Fatalf("an unknown order: %+v, %v", o, err)
	}
	if v := srv.Requests("order")[0].Variables["id"]; v != "gid://shopify/Order/424242" {
		t.Errorf("id sent = %v", v)
	}
}

func TestOrderCancelSendsTheDialogsChoices(t *testing.T) {
	srv := shopifytest.New(t)
	ctx := context.Background()
	c, _ := newClient(t, srv)
	for _, tc := range []struct {
		method string
		want   map[string]any
	}{
		{shopify.RefundOriginal, map[string]any{"originalPaymentMethodsRefund": true}},
		{shopify.RefundStoreCredit, map[string]any{"storeCreditRefund": map[string]any{}}},
		{shopify.RefundNone, map[string]any{"originalPaymentMethodsRefund": false}},
	} {
		id := srv.AddOrder(shopifytest.OrderSpec{})
		res, err := c.OrderCancel(ctx, shopify.CancelInput{
			OrderID: id, Reason: canceldesk.ReasonInventory, RefundMethod: tc.method,
			Restock: true, StaffNote: "Out of stock at the warehouse", NotifyCustomer: false,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.JobID == "" || res.JobDone || len(res.UserErrors) != 0 {
			t.Fatalf("%s: payload %+v", tc.method, res)
		}
		reqs := srv.Requests("orderCancel")
		v := reqs[len(reqs)-1].Variables
		want := map[string]any{
			"orderId": "gid://shopify/Order/" + id, "reason": "INVENTORY", "refundMethod": tc.want,
			"restock": true, "staffNote": "Out of stock at the warehouse", "notifyCustomer": false,
		}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("%s: variables\n got %v\nwant %v", tc.method, v, want)
		}
		cx := srv.Cancellation(id)
		if cx == nil || cx.JobID != res.JobID || !cx.Restock || cx.Reason != "INVENTORY" || cx.NotifyCustomer {
			t.Errorf("%s: the stand-in recorded %+v", tc.method, cx)
		}
	}
}

func TestOrderCancelJobPolledUntilDone(t *testing.T) {
	srv := shopifytest.New(t, shopifytest.WithJobPolls(3))
	id := srv.AddOrder(shopifytest.OrderSpec{Lines: []shopifytest.LineSpec{{Name: "Mug", SKU: "MUG", Quantity: 2, Price: "12.50"}}})
	ctx := context.Background()
	c, _ := newClient(t, srv)
	res, err := c.OrderCancel(ctx, shopify.CancelInput{OrderID: id, Reason: canceldesk.ReasonCustomer,
		RefundMethod: shopify.RefundOriginal, Restock: true, NotifyCustomer: true})
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.Order(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if before.Cancelled() {
		t.Fatal("the order reads cancelled before its job is done")
	}
	polls := 0
	for done := false; !done; polls++ {
		if polls > 5 {
			t.Fatal("the job never finished")
		}
		if done, err = c.Job(ctx, res.JobID); err != nil {
			t.Fatal(err)
		}
	}
	if polls != 3 {
		t.Errorf("done after %d polls, want 3", polls)
	}
	after, err := c.Order(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Cancelled() || after.CancelReason != canceldesk.ReasonCustomer {
		t.Errorf("after the job: cancelled %v, reason %q", after.CancelledAt, after.CancelReason)
	}
	// 2 × 12.50 + 5.00 shipping, all refunded to the original payment.
	if after.Total != 3000 || after.RefundedAmount != 3000 || after.RefundedSucceeded != 3000 ||
		after.FinancialStatus != canceldesk.FinancialRefunded {
		t.Errorf("after the job: total %d refunded %d/%d status %s", after.Total, after.RefundedAmount, after.RefundedSucceeded, after.FinancialStatus)
	}
	if !after.ShopifyUpdatedAt.After(*before.ShopifyUpdatedAt) {
		t.Errorf("updatedAt %v did not move past %v", after.ShopifyUpdatedAt, before.ShopifyUpdatedAt)
	}
}

func TestOrderCancelRefusalsAreUserErrors(t *testing.T) {
	srv := shopifytest.New(t)
	ctx := context.Background()
	c, _ := newClient(t, srv)
	pending := srv.AddOrder(shopifytest.OrderSpec{PendingAuthorization: true})
	cancelled := srv.AddOrder(shopifytest.OrderSpec{})
	srv.SetOrder(cancelled, func(o *shopify.OrderNode) { at := o.CreatedAt; o.CancelledAt, o.CancelReason = &at, "OTHER" })
	for id, wantMsg := range map[string]string{
		pending:   "pending payment authorization",
		cancelled: "already been cancelled",
		"999":     "does not exist",
	} {
		res, err := c.OrderCancel(ctx, shopify.CancelInput{OrderID: id, Reason: canceldesk.ReasonStaff, RefundMethod: shopify.RefundOriginal})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if res.JobID != "" || len(res.UserErrors) != 1 || !strings.Contains(res.UserErrors[0].Message, wantMsg) ||
			!reflect.DeepEqual(res.UserErrors[0].Field, []string{"orderId"}) || res.UserErrors[0].Code == "" {
			t.Errorf("%s: payload %+v, want a user error saying %q", id, res, wantMsg)
		}
	}
	if srv.Order(pending).CancelledAt != nil {
		t.Error("a refused cancel cancelled the order")
	}
	// A reason outside Shopify's enum is a GraphQL error, not retried.
	if _, err := c.OrderCancel(ctx, shopify.CancelInput{OrderID: pending, Reason: "bored", RefundMethod: shopify.RefundNone}); err == nil {
		t.Error("an invalid reason: no error")
	}
	if _, err := c.OrderCancel(ctx, shopify.CancelInput{OrderID: pending, Reason: "staff", RefundMethod: "cash"}); err == nil {
		t.Error("an unknown refund method: no error")
	}
}

func TestRefundCreateIsIdempotent(t *testing.T) {
	srv := shopifytest.New(t)
	id := srv.AddOrder(shopifytest.OrderSpec{Lines: []shopifytest.LineSpec{
		{Name: "Scarf", SKU: "SCARF", Quantity: 3, Price: "20.00"},
		{Name: "Hat", SKU: "HAT", Quantity: 1, Price: "15.00", Fulfilled: 1},
	}})
	node := srv.Order(id)
	ctx := context.Background()
	c, _ := newClient(t, srv)
	in := shopify.RefundInput{
		OrderID: id, Note: "Two scarves cancelled", Notify: false,
		Lines: []shopify.RefundLine{
			{LineItemID: node.LineItems.Nodes[0].ID, Quantity: 2, RestockType: "CANCEL", LocationID: "70014"},
			{LineItemID: node.LineItems.Nodes[1].ID, Quantity: 1, RestockType: "NO_RESTOCK"},
		},
		Amount: 4050, Currency: "USD", ParentTransaction: node.Transactions[0].ID, Gateway: "shopify_payments",
	}
	const key = "8b0f7a64-3c1e-4d55-9a7e-2f6c1d9e0b11"
	first, err := c.RefundCreate(ctx, in, key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.RefundID, "gid://shopify/Refund/") || len(first.UserErrors) != 0 {
		t.Fatalf("payload %+v", first)
	}
	// The answer was lost: the retry carries the same key.
	again, err := c.RefundCreate(ctx, in, key)
	if err != nil {
		t.Fatal(err)
	}
	if again.RefundID != first.RefundID {
		t.Errorf("the retry made refund %s, want the first %s", again.RefundID, first.RefundID)
	}
	if rs := srv.Refunds(id); len(rs) != 1 || rs[0].Amount != 4050 {
		t.Fatalf("refunds %+v, want one of 40.50", rs)
	}
	if got := srv.Order(id).TotalRefundedSet.ShopMoney.Amount; got != "40.50" {
		t.Errorf("refunded %s, want 40.50 once", got)
	}

	reqs := srv.Requests("refundCreate")
	if len(reqs) != 2 {
		t.Fatalf("%d refundCreate requests", len(reqs))
	}
	r := reqs[0]
	if !strings.Contains(r.Query, "refundCreate(input: $input) @idempotent(key: $idempotencyKey)") {
		t.Errorf("the mutation lacks the @idempotent directive on refundCreate:\n%s", r.Query)
	}
	if r.Variables["idempotencyKey"] != key || reqs[1].Variables["idempotencyKey"] != key {
		t.Errorf("keys sent %v, %v", r.Variables["idempotencyKey"], reqs[1].Variables["idempotencyKey"])
	}
	want := map[string]any{
		"orderId": "gid://shopify/Order/" + id, "note": "Two scarves cancelled", "notify": false,
		"refundLineItems": []any{
			map[string]any{"lineItemId": node.LineItems.Nodes[0].ID, "quantity": 2.0, "restockType": "CANCEL", "locationId": "gid://shopify/Location/70014"},
			map[string]any{"lineItemId": node.LineItems.Nodes[1].ID, "quantity": 1.0, "restockType": "NO_RESTOCK"},
		},
		"transactions": []any{map[string]any{
			"orderId": "gid://shopify/Order/" + id, "parentId": node.Transactions[0].ID,
			"amount": "40.50", "gateway": "shopify_payments", "kind": "REFUND",
		}},
	}
	if !reflect.DeepEqual(r.Variables["input"], want) {
		t.Errorf("input\n got %v\nwant %v", r.Variables["input"], want)
	}
}

func TestRefundCreateRestockOnlyAndErrors(t *testing.T) {
	srv := shopifytest.New(t)
	id := srv.AddOrder(shopifytest.OrderSpec{Currency: "JPY", Lines: []shopifytest.LineSpec{{Name: "Tea", SKU: "TEA", Quantity: 2, Price: "1500"}}})
	node := srv.Order(id)
	ctx := context.Background()
	c, _ := newClient(t, srv)
	res, err := c.RefundCreate(ctx, shopify.RefundInput{OrderID: id, Lines: []shopify.RefundLine{
		{LineItemID: node.LineItems.Nodes[0].ID, Quantity: 1, RestockType: "CANCEL", LocationID: "gid://shopify/Location/1"},
	}}, "restock-1")
	if err != nil || res.RefundID == "" {
		t.Fatalf("a restock: %+v, %v", res, err)
	}
	input := srv.Requests("refundCreate")[0].Variables["input"].(map[string]any)
	if _, ok := input["transactions"]; ok {
		t.Errorf("a restock without money sent transactions: %v", input)
	}
	// More units than are left is Shopify's user error.
	res, err = c.RefundCreate(ctx, shopify.RefundInput{OrderID: id, Lines: []shopify.RefundLine{
		{LineItemID: node.LineItems.Nodes[0].ID, Quantity: 2, RestockType: "NO_RESTOCK"},
	}}, "restock-2")
	if err != nil || res.RefundID != "" || len(res.UserErrors) != 1 ||
		!reflect.DeepEqual(res.UserErrors[0].Field, []string{"refundLineItems", "0", "quantity"}) {
		t.Errorf("too many units: %+v, %v", res, err)
	}
	// A zero-decimal currency sends whole units.
	res, err = c.RefundCreate(ctx, shopify.RefundInput{OrderID: id, Amount: 1500, Currency: "JPY",
		ParentTransaction: node.Transactions[0].ID, Gateway: "shopify_payments"}, "money-1")
	if err != nil || res.RefundID == "" {
		t.Fatalf("a JPY refund: %+v, %v", res, err)
	}
	tx := srv.Requests("refundCreate")[2].Variables["input"].(map[string]any)["transactions"].([]any)[0].(map[string]any)
	if tx["amount"] != "1500" {
		t.Errorf("JPY amount sent %v, want 1500", tx["amount"])
	}
	if _, err := c.RefundCreate(ctx, shopify.RefundInput{OrderID: id}, " "); err == nil {
		t.Error("no key: no error")
	}
	if _, err := c.RefundCreate(ctx, shopify.RefundInput{OrderID: id, Amount: 100, Currency: "JPY"}, "k"); err == nil {
		t.Error("money without a parent transaction: no error")
	}
	var busy *shopify.BusyError
	if errors.As(err, &busy) {
		t.Error("a bad input is not busy")
	}
}
