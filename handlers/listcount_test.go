package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
)

// The orders list's count and the navigation's refund backlog are kept
// between pages: a write committed here shows at once (the after-commit
// hook forgets them), one the hook does not see (another instance's)
// shows once the kept figures expire.
func TestListCountsForgottenOnCommit(t *testing.T) {
	var hook *canceldesk.AfterCommit
	a := newTestApp(t, func(c *handlers.Config) { hook = c.AfterCommit })
	a.seed(t, 60)
	figures := func(t *testing.T) (count, backlog string) {
		t.Helper()
		_, doc := a.get(t, "/orders")
		return strings.TrimSpace(doc.Find("#results-count").Text()),
			strings.TrimSpace(doc.Find(`a[href="/refunds"] .nav-count`).Text())
	}
	add := func(t *testing.T, name string, cancelled bool) {
		t.Helper()
		o := &canceldesk.Order{Name: name, Email: "late@example.com", Currency: "USD", Total: 500, Subtotal: 500,
			FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
			CreatedAt: base.Add(100 * time.Hour), LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 500}}}
		if cancelled {
			at := o.CreatedAt.Add(time.Hour)
			o.CancelledAt, o.CancelReason = &at, canceldesk.ReasonCustomer
		}
		if _, err := a.db.ImportOrders(context.Background(), []*canceldesk.Order{o}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	count, backlog := figures(t)
	if count != "60 orders" || backlog != "12" {
		t.Fatalf("before: count %q, backlog %q; want 60 orders and 12", count, backlog)
	}

	add(t, "#2001", true)
	if count, backlog := figures(t); count != "61 orders" || backlog != "13" {
		t.Errorf("after a committed import: count %q, backlog %q; want 61 orders and 13", count, backlog)
	}

	// A write the hook does not hear of: the kept figures stay until they
	// expire.
	a.db.OnCommit(func(context.Context, canceldesk.Changes) {})
	add(t, "#2002", true)
	if count, backlog := figures(t); count != "61 orders" || backlog != "13" {
		t.Errorf("unheard write, at once: count %q, backlog %q; want the kept 61 orders and 13", count, backlog)
	}
	a.clock.Advance(time.Minute)
	if count, backlog := figures(t); count != "62 orders" || backlog != "14" {
		t.Errorf("unheard write, a minute later: count %q, backlog %q; want 62 orders and 14", count, backlog)
	}
	a.db.OnCommit(hook.Run)

	// Each filter keeps its own count.
	_, doc := a.get(t, "/orders?status=open")
	open := strings.TrimSpace(doc.Find("#results-count").Text())
	add(t, "#2003", false)
	for path, want := range map[string]string{"/orders?status=open": nextCount(t, open), "/orders": "63 orders"} {
		_, doc := a.get(t, path)
		if got := strings.TrimSpace(doc.Find("#results-count").Text()); got != want {
			t.Errorf("%s after an open order was imported: %q, want %q", path, got, want)
		}
	}
}

// nextCount is "n orders" with n one more.
func nextCount(t *testing.T, s string) string {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d orders", &n); err != nil {
		t.Fatalf("count %q: %v", s, err)
	}
	return fmt.Sprintf("%d orders", n+1)
}
