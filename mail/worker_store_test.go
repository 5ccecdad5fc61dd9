package mail

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

// oweMessages cancels n new orders with the customer told, so the store
// owes n messages, and returns their recipients.
func oweMessages(t *testing.T, db *store.DB, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	var to []string
	for i := 0; i < n; i++ {
		o := &canceldesk.Order{Name: fmt.Sprintf("#%s%d", prefix, i), Email: fmt.Sprintf("c%d@%s.example", i, strings.ToLower(prefix)),
			Currency: "USD", Subtotal: 1000, Total: 1000, FinancialStatus: canceldesk.FinancialPaid,
			FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow, CreatedAt: time.Now().UTC(),
			LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 1000}}}
		if _, err := db.ImportOrders(ctx, []*canceldesk.Order{o}, "test"); err != nil {
			t.Fatal(err)
		}
		_, err := db.CancelOrder(ctx, canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonInventory,
			Refund: canceldesk.RefundNow, NotifyCustomer: true, IdempotencyKey: fmt.Sprintf("owe-messages-%s-%04d", prefix, i), Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		to = append(to, o.Email)
	}
	return to
}

// messageIDs counts the Message-IDs the server accepted.
func messageIDs(t *testing.T, ts *testServer) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range ts.Received() {
		m, err := mail.ReadMessage(strings.NewReader(string(r.Data)))
		if err != nil {
			t.Fatal(err)
		}
		ids[m.Header.Get("Message-Id")]++
	}
	return ids
}

// TestTwoWorkersOnPostgres: two app instances (two store handles on one
// PostgreSQL schema), each with its own worker, drain one outbox at once:
// every message reaches the SMTP server exactly once.
func TestTwoWorkersOnPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresSchema(t)
	var dbs []*store.DB
	for i := 0; i < 2; i++ {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	const n = 40
	oweMessages(t, dbs[0], "PG", n)
	ts := startServer(t, serverOptions{})
	sender := newTestSender(t, ts.Port, nil)

	var wg sync.WaitGroup
	for i := range dbs {
		w := &Worker{Outbox: dbs[i], Sender: sender, From: "orders@shop.example", Batch: 3, Log: testLogger()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < 3; {
				sent, err := w.RunOnce(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if sent == 0 {
					idle++
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	ids := messageIDs(t, ts)
	if len(ids) != n {
		t.Fatalf("%d distinct messages arrived, want %d", len(ids), n)
	}
	for id, c := range ids {
		if c != 1 {
			t.Errorf("%s arrived %d times", id, c)
		}
	}
	if pending, _ := dbs[1].Messages(ctx, canceldesk.MessagePending, 100); len(pending) != 0 {
		t.Errorf("%d messages still pending", len(pending))
	}
}

// TestWorkerRestartWithStore: a worker stops after the first message of
// its batch (the process dies); once the lease has passed a new worker
// sends the rest. Nothing is lost, nothing arrives twice.
func TestWorkerRestartWithStore(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir()+"/outbox.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().UTC()
	db.Now = func() time.Time { return now }
	oweMessages(t, db, "SQ", 5)
	ts := startServer(t, serverOptions{})
	sender := newTestSender(t, ts.Port, nil)

	dying, die := context.WithCancel(ctx)
	ts.dataHook = func(received) error { die(); return nil }
	first := &Worker{Outbox: db, Sender: sender, From: "orders@shop.example", Batch: 5, Log: testLogger()}
	if sent, _ := first.RunOnce(dying); sent != 1 {
		t.Fatalf("the dying worker sent %d, want 1", sent)
	}
	ts.dataHook = nil

	second := &Worker{Outbox: db, Sender: sender, From: "orders@shop.example", Batch: 5, Log: testLogger()}
	if sent, _ := second.RunOnce(ctx); sent != 0 {
		t.Fatalf("a new worker sent %d while the first one's lease held", sent)
	}
	now = now.Add(3 * time.Minute) // the lease has passed
	if sent, err := second.RunOnce(ctx); err != nil || sent != 4 {
		t.Fatalf("after the lease the new worker sent %d (%v), want 4", sent, err)
	}
	ids := messageIDs(t, ts)
	if len(ids) != 5 {
		t.Fatalf("%d distinct messages arrived, want 5", len(ids))
	}
	for id, c := range ids {
		if c != 1 {
			t.Errorf("%s arrived %d times", id, c)
		}
	}
}
