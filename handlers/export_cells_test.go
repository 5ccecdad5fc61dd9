package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

// TestExportCellsAreNeutralised downloads the cancellations CSV of orders
// whose names and notes are formulas hidden behind white space, and checks
// every one comes out as text while amounts stay numbers.
func TestExportCellsAreNeutralised(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	now := a.clock.Now().UTC()
	placed := now.Add(-72 * time.Hour).Truncate(time.Second)
	cancelled := now.Add(-48 * time.Hour).Truncate(time.Second)
	want := map[string]string{ // order name → as exported
		" =1+1":                          "' =1+1",
		"\u00a0=HYPERLINK(\"http://x\")": "'\u00a0=HYPERLINK(\"http://x\")",
		"\t@SUM(A1)":                     "'\t@SUM(A1)",
		"\r\n+cmd|' /C calc'!A0":         "'\n+cmd|' /C calc'!A0", // CSV keeps line ends as LF
		"\u200b-2+3":                     "'\u200b-2+3",
		"＝1+1":                           "'＝1+1",
		"-12.50":                         "-12.50",
		"#5001":                          "#5001",
	}
	var orders []*canceldesk.Order
	for name := range want {
		o := &canceldesk.Order{Name: name, Currency: "USD", Subtotal: 1250, Total: 1250, FinancialStatus: canceldesk.FinancialPaid,
			FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, CreatedAt: placed,
			LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 1250}}}
		if name != "#5001" {
			o.CancelledAt, o.CancelReason = &cancelled, canceldesk.ReasonOther
		}
		orders = append(orders, o)
	}
	if _, err := a.db.ImportOrders(ctx, orders, "test"); err != nil {
		t.Fatal(err)
	}
	staff := orders[0]
	for _, o := range orders {
		if o.Name == "#5001" {
			staff = o
		}
	}
	if _, err := a.db.CancelOrder(ctx, canceldesk.CancelRequest{OrderID: staff.ID, Reason: canceldesk.ReasonCustomer,
		Refund: canceldesk.RefundNow, StaffNote: "\u3000\n -2+3", ReasonLabel: " @reason",
		IdempotencyKey: "export-cells-0001", Actor: testEmails[canceldesk.RoleManager]}); err != nil {
		t.Fatal(err)
	}

	res, body := a.signedIn(t, canceldesk.RoleManager).getRaw(t, "/analytics/export?range=30")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	if len(records) != len(want)+1 {
		t.Fatalf("%d records, want %d:\n%s", len(records), len(want)+1, body)
	}
	seen := map[string]bool{}
	for _, r := range records[1:] {
		name, reason, note, refunded := r[0], r[4], r[5], r[8]
		seen[name] = true
		if name == "#5001" {
			if reason != "' @reason" || note != "'\u3000\n -2+3" || refunded != "12.50" {
				t.Errorf("staff cancel: reason %q, note %q, refunded %q", reason, note, refunded)
			}
		}
		if refunded != "0.00" && name != "#5001" {
			t.Errorf("%q: refunded %q", name, refunded)
		}
	}
	for name, cell := range want {
		if !seen[cell] {
			t.Errorf("order %q is not exported as %q; names: %v", name, cell, seen)
		}
	}
}
