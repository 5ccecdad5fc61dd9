package payments

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/shopify"
	"github.com/canceldesk/canceldesk/store"
)

// shopOrder brings the stand-in's order id in as the sync does and returns
// it as stored.
func shopOrder(t *testing.T, db *store.DB, api shopify.API, id string) *canceldesk.Order {
	t.Helper()
	ctx := context.Background()
	o, err := api.Order(ctx, id)
	if err != nil || o == nil {
		t.Fatalf("order %s: %v", id, err)
	}
	if _, err := db.UpsertShopifyOrders(ctx, []*canceldesk.Order{o}); err != nil {
		t.Fatal(err)
	}
	page, err := db.ListOrders(ctx, canceldesk.OrderFilter{Query: o.Name})
	if err != nil || len(page.Orders) != 1 {
		t.Fatalf("stored order %s: %v %v", o.Name, page.Orders, err)
	}
	got, err := db.Order(ctx, page.Orders[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestShopifyGatewayRefundsOnce: a refund of a Shopify order goes to
// refundCreate with the refund's own key, the sale as parent transaction
// and the restocked line; Shopify busy keeps it pending; sent again, with
// the same key, Shopify refunds once.
func TestShopifyGatewayRefundsOnce(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := t.TempDir() + "/payments.db"
			if dialect == "postgres" {
				dsn = testenv.PostgresSchema(t)
			}
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			sv := shopifytest.New(t)
			client, err := shopify.NewClient(sv.Config(), nil)
			if err != nil {
				t.Fatal(err)
			}
			client.Sleep = func(ctx context.Context, d time.Duration) error { sv.Advance(d); return ctx.Err() }
			client.MaxAttempts = 1
			id := sv.AddOrder(shopifytest.OrderSpec{Email: "ann@example.com"}) // 2 × 45.00 shirt, 20.00 tote, 5.00 shipping
			o := shopOrder(t, db, client, id)

			proc := &Processor{Store: db, Registry: NewRegistry(nil).WithShopify(&Shopify{API: client}),
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			gw := canceldesk.OrderRefundGateway(o, proc.GatewayFor)
			if gw != canceldesk.GatewayShopify {
				t.Fatalf("the shop's order refunds through %q, want shopify", gw)
			}
			shirt := o.LineItems[0]
			res, err := db.RefundOrder(ctx, canceldesk.RefundRequest{OrderID: o.ID, Method: canceldesk.MethodOriginal, Gateway: gw,
				IdempotencyKey: "shopify-refund-0001", Actor: "manager@example.com", ActorRole: canceldesk.RoleManager,
				Lines: []canceldesk.RefundLineRequest{{LineItemID: shirt.ID, Quantity: 1, Restock: canceldesk.RestockCancel, LocationID: o.LocationID}}})
			if err != nil {
				t.Fatal(err)
			}
			rf := res.Refund
			if rf.Status != canceldesk.RefundPending || rf.Amount != 4500 {
				t.Fatalf("refund recorded %s %d, want pending 4500", rf.Status, rf.Amount)
			}

			sv.FailNext(1, 503)
			proc.Settle(ctx, rf.ID)
			if got := refundByID(t, db, o.ID, rf.ID); got.Status != canceldesk.RefundPending {
				t.Fatalf("Shopify busy: refund %s %q, want still pending", got.Status, got.Error)
			}
			if n := len(sv.Refunds(id)); n != 0 {
				t.Fatalf("refunds at the stand-in while busy: %d", n)
			}

			proc.Settle(ctx, rf.ID)
			got := refundByID(t, db, o.ID, rf.ID)
			if got.Status != canceldesk.RefundSucceeded || !strings.HasPrefix(got.ProviderID, "gid://shopify/Refund/") {
				t.Fatalf("refund after Shopify answered: %s %q %q", got.Status, got.ProviderID, got.Error)
			}
			// The answer lost and the call made again: the same key, one refund.
			again := (&Shopify{API: client}).Process(ctx, Call{Kind: KindRefund, Amount: rf.Amount, Currency: rf.Currency,
				IdempotencyKey: rf.IdempotencyKey, ExternalID: id, Lines: []canceldesk.RefundJobLine{{ExternalID: shirt.ExternalID, Quantity: 1}}})
			if again.Status != StatusSucceeded || again.ProviderID != got.ProviderID {
				t.Errorf("retried with the same key: %+v, want the first refund %s", again, got.ProviderID)
			}
			refunds := sv.Refunds(id)
			if len(refunds) != 1 || refunds[0].Amount != 4500 || refunds[0].IdempotencyKey != rf.IdempotencyKey {
				t.Fatalf("refunds at the stand-in: %+v, want one of 45.00 under the refund's key", refunds)
			}
			in := refunds[0].Input
			txs, _ := in["transactions"].([]any)
			lines, _ := in["refundLineItems"].([]any)
			if len(txs) != 1 || len(lines) != 1 {
				t.Fatalf("refundCreate input: %v", in)
			}
			tx, line := txs[0].(map[string]any), lines[0].(map[string]any)
			node := sv.Order(id)
			for _, f := range []struct {
				name      string
				got, want any
			}{
				{"orderId", in["orderId"], "gid://shopify/Order/" + id},
				{"transactions.parentId", tx["parentId"], o.PaymentReference},
				{"transactions.gateway", tx["gateway"], node.PaymentGatewayNames[0]},
				{"transactions.amount", tx["amount"], "45.00"},
				{"transactions.kind", tx["kind"], "REFUND"},
				{"refundLineItems.lineItemId", line["lineItemId"], shirt.ExternalID},
				{"refundLineItems.quantity", line["quantity"], float64(1)},
				{"refundLineItems.restockType", line["restockType"], "CANCEL"},
				{"refundLineItems.locationId", line["locationId"] != nil && line["locationId"] != "", true},
			} {
				if f.got != f.want {
					t.Errorf("refundCreate %s = %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

// TestShopifyGatewayRefusals: a void, an order Shopify does not know and
// Shopify's own refusal fail the refund with a message and no retry.
func TestShopifyGatewayRefusals(t *testing.T) {
	ctx := context.Background()
	sv := shopifytest.New(t)
	client, err := shopify.NewClient(sv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := sv.AddOrder(shopifytest.OrderSpec{})
	g := &Shopify{API: client}
	for _, tc := range []struct {
		name string
		c    Call
		says string
	}{
		{"void", Call{Kind: KindVoid, Amount: 100, Currency: "USD", IdempotencyKey: "k-void-000000001", ExternalID: id}, "cancelling"},
		{"unknown order", Call{Kind: KindRefund, Amount: 100, Currency: "USD", IdempotencyKey: "k-unknown-000001", ExternalID: "999"}, "not known to Shopify"},
		{"more than paid", Call{Kind: KindRefund, Amount: 99_999_00, Currency: "USD", IdempotencyKey: "k-toomuch-000001", ExternalID: id}, "refundable amount"},
		{"no key", Call{Kind: KindRefund, Amount: 100, Currency: "USD", ExternalID: id}, "idempotency key"},
	} {
		res := g.Process(ctx, tc.c)
		if res.Status != StatusFailed || res.Retryable || !strings.Contains(res.Error, tc.says) {
			t.Errorf("%s: %+v, want failed for good saying %q", tc.name, res, tc.says)
		}
	}
	if n := len(sv.Refunds(id)); n != 0 {
		t.Errorf("refunds made: %d", n)
	}
}
