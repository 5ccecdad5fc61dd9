package payments

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

// cardOrder stores a paid card order of 50.00 USD (one line of 2 × 25.00)
// whose payment is the Stripe charge ref, and returns it.
func cardOrder(t *testing.T, db *store.DB, name, ref string) *canceldesk.Order {
	t.Helper()
	o := &canceldesk.Order{Name: name, Email: "kai@example.com", Currency: "USD", Subtotal: 5000, Total: 5000,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		PaymentMethod: "Shopify Payments", PaymentReference: ref, Risk: canceldesk.RiskLow,
		LineItems: []canceldesk.LineItem{{Name: "Lamp", SKU: "LAMP", Quantity: 2, Price: 2500}}}
	if _, err := db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
		t.Fatal(err)
	}
	got, err := db.Order(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// refundOne refunds one lamp of o through Stripe and returns the refund,
// which the store records as pending.
func refundOne(t *testing.T, db *store.DB, o *canceldesk.Order, key string) canceldesk.Refund {
	t.Helper()
	res, err := db.RefundOrder(context.Background(), canceldesk.RefundRequest{OrderID: o.ID, Method: canceldesk.MethodOriginal,
		Gateway: NameStripe, IdempotencyKey: key, Actor: "staff@example.com", ActorRole: canceldesk.RoleStaff,
		Lines: []canceldesk.RefundLineRequest{{LineItemID: o.LineItems[0].ID, Quantity: 1, Restock: canceldesk.RestockNone}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Refund.Status != canceldesk.RefundPending {
		t.Fatalf("a Stripe refund is %s before Stripe answers, want pending", res.Refund.Status)
	}
	return res.Refund
}

func refundByID(t *testing.T, db *store.DB, orderID, id int64) canceldesk.Refund {
	t.Helper()
	rs, err := db.Refunds(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("refund %d not found", id)
	return canceldesk.Refund{}
}

func newProcessor(db *store.DB, s *Stripe) *Processor {
	return &Processor{Store: db, Registry: NewRegistry(s), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir()+"/payments.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestProcessorSettlesThroughStripe: a refund recorded as pending goes to
// stripe-mock with its own idempotency key and the charge, and comes back
// succeeded; only then does the order's payment status move.
func TestProcessorSettlesThroughStripe(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	o := cardOrder(t, db, "#P1", "ch_3Qx1")
	rf := refundOne(t, db, o, "proc-key-settle-0001")
	if got, _ := db.Order(ctx, o.ID); got.FinancialStatus != canceldesk.FinancialPaid {
		t.Fatalf("status before Stripe answered = %s, want paid", got.FinancialStatus)
	}
	rec := newRecorder()
	newProcessor(db, mockStripe(t, rec)).Settle(ctx, rf.ID)

	got := refundByID(t, db, o.ID, rf.ID)
	if got.Status != canceldesk.RefundSucceeded || !strings.HasPrefix(got.ProviderID, "re_") {
		t.Fatalf("refund after Stripe = %s %q", got.Status, got.ProviderID)
	}
	ex := rec.exchanges()
	if len(ex) != 1 || ex[0].IdempotencyKey != rf.IdempotencyKey || ex[0].Form.Get("charge") != "ch_3Qx1" || ex[0].Form.Get("amount") != "2500" {
		t.Fatalf("sent %+v, want one refund of 2500 on ch_3Qx1 with key %q", ex, rf.IdempotencyKey)
	}
	if o2, _ := db.Order(ctx, o.ID); o2.FinancialStatus != canceldesk.FinancialPartiallyRefunded {
		t.Fatalf("status after Stripe = %s, want partially_refunded", o2.FinancialStatus)
	}
}

// TestProcessorFailedThenRetriedWithTheSameKey: Stripe cannot be reached,
// the refund is failed with a message and holds its amount; Retry sends it
// again with the very same idempotency key and it succeeds.
func TestProcessorFailedThenRetriedWithTheSameKey(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	o := cardOrder(t, db, "#P2", "pi_3Qx2")
	rf := refundOne(t, db, o, "proc-key-retry-00001")

	down := newRecorder()
	offline, err := newStripe(StripeConfig{SecretKey: testenv.StripeMockKey, APIBase: "http://" + closedPort(t)}, down)
	if err != nil {
		t.Fatal(err)
	}
	newProcessor(db, offline).Settle(ctx, rf.ID)
	failed := refundByID(t, db, o.ID, rf.ID)
	if failed.Status != canceldesk.RefundFailed || !strings.Contains(failed.Error, "Stripe could not be reached") {
		t.Fatalf("refund with Stripe down = %s %q", failed.Status, failed.Error)
	}
	if got, _ := db.Order(ctx, o.ID); got.RefundedAmount != 2500 || got.FinancialStatus != canceldesk.FinancialPaid {
		t.Fatalf("order with a failed refund: refunded %d %s; the amount stays held, the status paid", got.RefundedAmount, got.FinancialStatus)
	}
	if _, err := db.RetryRefund(ctx, rf.ID, "staff@example.com", canceldesk.RoleStaff); err != nil {
		t.Fatal(err)
	}
	up := newRecorder()
	n, err := newProcessor(db, mockStripe(t, up)).RunOnce(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RunOnce settled %d (%v), want 1", n, err)
	}
	if got := refundByID(t, db, o.ID, rf.ID); got.Status != canceldesk.RefundSucceeded || got.Error != "" {
		t.Fatalf("retried refund = %s %q", got.Status, got.Error)
	}
	first, second := down.exchanges(), up.exchanges()
	if len(first) != 1 || len(second) != 1 || first[0].IdempotencyKey == "" || first[0].IdempotencyKey != second[0].IdempotencyKey {
		t.Fatalf("keys sent: %+v then %+v; a retry must reuse the key", first, second)
	}
	if second[0].Form.Get("payment_intent") != "pi_3Qx2" {
		t.Fatalf("retry form = %v", second[0].Form)
	}
}

// TestProcessorPicksUpWhatACrashLeftPending: refunds recorded but never
// sent (the process died after commit) are sent by the next pass; a
// second pass sends nothing again.
func TestProcessorPicksUpWhatACrashLeftPending(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	a := refundOne(t, db, cardOrder(t, db, "#P3", "ch_a"), "proc-key-crash-00001")
	b := refundOne(t, db, cardOrder(t, db, "#P4", "ch_b"), "proc-key-crash-00002")
	rec := newRecorder()
	p := newProcessor(db, mockStripe(t, rec))
	if n, err := p.RunOnce(ctx); err != nil || n != 2 {
		t.Fatalf("first pass settled %d (%v), want 2", n, err)
	}
	if n, err := p.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("second pass settled %d (%v), want 0", n, err)
	}
	if len(rec.exchanges()) != 2 {
		t.Fatalf("%d requests to Stripe, want 2", len(rec.exchanges()))
	}
	for _, rf := range []canceldesk.Refund{a, b} {
		if got := refundByID(t, db, rf.OrderID, rf.ID); got.Status != canceldesk.RefundSucceeded {
			t.Errorf("refund %d = %s", rf.ID, got.Status)
		}
	}
}

// TestProcessorRefusesAnOrderWithoutAStripePayment: a card order with no
// payment reference fails with a message a merchant can act on, and
// nothing is sent.
func TestProcessorRefusesAnOrderWithoutAStripePayment(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	o := cardOrder(t, db, "#P5", "")
	rf := refundOne(t, db, o, "proc-key-noref-00001")
	rec := newRecorder()
	newProcessor(db, mockStripe(t, rec)).Settle(ctx, rf.ID)
	got := refundByID(t, db, o.ID, rf.ID)
	if got.Status != canceldesk.RefundFailed || !strings.Contains(got.Error, "no Stripe payment") || len(rec.exchanges()) != 0 {
		t.Fatalf("refund = %s %q after %d requests", got.Status, got.Error, len(rec.exchanges()))
	}
}
