package handlers_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/store"
)

// TestImportAmountBound: an order above the domain's bound is refused by
// its row and leaves nothing behind; orders at the bound import and the
// analytics of their day add them up.
func TestImportAmountBound(t *testing.T) {
	a := newTestApp(t)
	head := "Name,Created at,Cancelled at,Currency,Total,Lineitem quantity,Lineitem name,Lineitem price\n"
	res, doc := a.upload(t, head+
		"#9001,2026-03-01 09:00,2026-03-01 10:00,USD,\"50,000,000,000,000,000.00\",1,Cup,\"50,000,000,000,000,000.00\"\n", true)
	want := "Row 2: Total 50000000000000000.00 USD is more than 10000000000.00 USD, the most one order may hold (#9001)"
	if got := doc.Find(".row-errors li").Text(); res.StatusCode != 200 || got != want {
		t.Errorf("status %d, row errors:\n got %q\nwant %q", res.StatusCode, got, want)
	}
	if n, _ := a.db.CountOrders(context.Background()); n != 0 {
		t.Errorf("%d orders imported", n)
	}

	at := "2026-03-01 09:00,2026-03-01 10:00,USD,\"10,000,000,000.00\",4,Cup,\"2,500,000,000.00\"\n"
	if res, doc := a.upload(t, head+"#9002,"+at+"#9003,"+at, true); res.StatusCode != 200 || doc.Find(".row-errors li").Length() != 0 {
		t.Fatalf("status %d, row errors %q", res.StatusCode, doc.Find(".row-errors li").Text())
	}
	res, doc = a.get(t, "/analytics?range=custom&from=2026-03-01&to=2026-03-01&basis=cancelled")
	if res.StatusCode != 200 {
		t.Fatalf("analytics: status %d", res.StatusCode)
	}
	for figure, want := range map[string]string{"cancelled": "2", "cancelled-value": "US$20,000,000,000.00"} {
		if got := strings.TrimSpace(doc.Find(`[data-figure=` + figure + `]`).Text()); got != want {
			t.Errorf("%s: %q, want %q", figure, got, want)
		}
	}
}

// TestAnalyticsRollupOutOfRange: a daily rollup left a float by an old
// overflow makes the ranges holding its day say so in place of their
// figures, in full pages and HTMX bodies alike; other ranges are shown.
func TestAnalyticsRollupOutOfRange(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/stats.db"
	stats, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stats.Close() })
	if err := stats.SetStatsZone(ctx, time.UTC); err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, func(c *handlers.Config) { c.Stats = stats })
	today := a.clock.Now().UTC().Truncate(24 * time.Hour)
	poisoned := today.AddDate(0, 0, -20) // in 30 days, not in 7 (nor the 7 before them)
	var orders []*canceldesk.Order
	for i, placed := range []time.Time{poisoned.Add(time.Hour), today.AddDate(0, 0, -3).Add(time.Hour)} {
		orders = append(orders, &canceldesk.Order{Name: "#P" + string(rune('1'+i)), Currency: "USD", Total: 1000, Subtotal: 1000,
			FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, CreatedAt: placed,
			LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 1000}}})
	}
	if _, err := stats.ImportOrders(ctx, orders, "test"); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// What SQLite keeps of a sum past int64: a float.
	if _, err := raw.Exec(`UPDATE order_stats_daily SET placed_value = placed_value + 9223372036854775807 WHERE day = ?`, poisoned.Unix()); err != nil {
		t.Fatal(err)
	}

	m := a.signedIn(t, canceldesk.RoleManager)
	msg := "The figures of this range cannot be shown: a stored total is out of range. Choose another range; the details are in the server log."
	for _, target := range []string{"/analytics?range=30", "/analytics?range=custom&from=" + poisoned.Format("2006-01-02") + "&to=" + poisoned.Format("2006-01-02")} {
		for _, htmx := range []string{"", "true"} {
			res, doc := m.get(t, target, "HX-Request", htmx)
			if res.StatusCode != 200 {
				t.Fatalf("%s (htmx %q): status %d", target, htmx, res.StatusCode)
			}
			if got := strings.TrimSpace(doc.Find("#analytics-body #analytics-unavailable").Text()); got != msg {
				t.Errorf("%s (htmx %q): notice %q", target, htmx, got)
			}
			if doc.Find("[data-figure]").Length() != 0 {
				t.Errorf("%s (htmx %q): figures shown", target, htmx)
			}
		}
	}
	res, doc := m.get(t, "/analytics?range=7")
	if res.StatusCode != 200 || doc.Find("#analytics-unavailable").Length() != 0 {
		t.Fatalf("a range without the day: status %d, notice %q", res.StatusCode, doc.Find("#analytics-unavailable").Text())
	}
	if got := strings.TrimSpace(doc.Find(`[data-figure=placed]`).Text()); got != "1" {
		t.Errorf("a range without the day: placed %q, want 1", got)
	}
}
