package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
)

// TestAnalytics: the dashboard's figures and table equal counts made from
// the orders themselves, for both definitions; HTMX gets the body alone;
// bad choices are refused beside their fields; staff cannot see it.
func TestAnalytics(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	now := a.clock.Now().UTC()
	// Eight orders over the last five days; three cancelled: one on the day
	// it was placed, one placed 4 days ago and cancelled today, one placed
	// 40 days ago (before the 30-day range) and cancelled today.
	var orders []*canceldesk.Order
	for i := 0; i < 8; i++ {
		orders = append(orders, &canceldesk.Order{Name: fmt.Sprintf("#AN%d", i), Email: "a@example.com", Currency: "USD",
			Subtotal: 1000, Total: 1000, FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
			Risk: canceldesk.RiskLow, CreatedAt: now.Add(-time.Duration(i%5) * 24 * time.Hour).Add(-time.Hour),
			LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 1000}}})
	}
	orders = append(orders, &canceldesk.Order{Name: "#AN-old", Email: "a@example.com", Currency: "USD", Subtotal: 1000, Total: 1000,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow,
		CreatedAt: now.AddDate(0, 0, -40), LineItems: []canceldesk.LineItem{{Name: "Mug", Quantity: 1, Price: 1000}}})
	if _, err := a.db.ImportOrders(ctx, orders, "test"); err != nil {
		t.Fatal(err)
	}
	for i, o := range []*canceldesk.Order{orders[0], orders[4], orders[8]} {
		reason := []canceldesk.CancelReason{canceldesk.ReasonCustomer, canceldesk.ReasonInventory, canceldesk.ReasonInventory}[i]
		if _, err := a.db.CancelOrder(ctx, canceldesk.CancelRequest{OrderID: o.ID, Reason: reason, Refund: canceldesk.RefundLater,
			IdempotencyKey: fmt.Sprintf("analytics-cancel-%04d", i), Actor: "staff@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	manager := a.signedIn(t, canceldesk.RoleManager)
	const reasonLabel = "Item out of stock"

	for _, c := range []struct {
		basis                     string
		placed, cancelled, rateBP int64
	}{
		// Placed in range: the 8 recent orders; of those, 2 are cancelled.
		{"placed", 8, 2, 2500},
		// Cancelled in range: all 3 (one of an order placed before it).
		{"cancelled", 8, 3, 3750},
	} {
		res, doc := manager.get(t, "/analytics?range=30&group=day&basis="+c.basis)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", c.basis, res.StatusCode)
		}
		fig := func(name string) string { return strings.TrimSpace(doc.Find(`[data-figure=` + name + `]`).Text()) }
		if fig("placed") != fmt.Sprint(c.placed) || fig("cancelled") != fmt.Sprint(c.cancelled) ||
			fig("rate") != fmt.Sprintf("%d.%d%%", c.rateBP/100, c.rateBP%100/10) {
			t.Errorf("%s: placed %s cancelled %s rate %s; want %d %d %d bp", c.basis, fig("placed"), fig("cancelled"), fig("rate"),
				c.placed, c.cancelled, c.rateBP)
		}
		var placed, cancelled int64
		doc.Find(".chart-table tbody tr").Each(func(_ int, r *goquery.Selection) {
			var p, x int64
			fmt.Sscan(strings.TrimSpace(r.Find("td").Eq(0).Text()), &p)
			fmt.Sscan(strings.TrimSpace(r.Find("td").Eq(1).Text()), &x)
			placed, cancelled = placed+p, cancelled+x
		})
		if placed != c.placed || cancelled != c.cancelled {
			t.Errorf("%s: the table sums to %d placed, %d cancelled", c.basis, placed, cancelled)
		}
		if n := doc.Find(".rate-chart .rate-point").Length(); n != 30 {
			t.Errorf("%s: %d points for 30 days", c.basis, n)
		}
		// Each point's hover text says the numbers of its row of the table.
		rows := doc.Find(".chart-table tbody tr")
		doc.Find(".rate-chart .rate-point title").Each(func(i int, title *goquery.Selection) {
			r := rows.Eq(i)
			cell := func(j int) string { return strings.TrimSpace(r.Find("td").Eq(j).Text()) }
			want := fmt.Sprintf("%s: %s (%s of %s)", strings.TrimSpace(r.Find("th").Text()), cell(2), cell(1), cell(0))
			if title.Text() != want {
				t.Errorf("%s: point %d says %q, its row %q", c.basis, i, title.Text(), want)
			}
		})
		// The three were cancelled with refund later: all three wait in the backlog.
		if b := strings.TrimSpace(doc.Find(`[data-figure=backlog]`).Text()); b != "3" || fig("refunded") != "—" {
			t.Errorf("%s: backlog %q, refunded %q", c.basis, b, fig("refunded"))
		}
		reasons := doc.Find(".breakdown").First().Text()
		wantInventory := map[string]string{"placed": "1", "cancelled": "2"}[c.basis]
		if !strings.Contains(strings.Join(strings.Fields(reasons), " "), reasonLabel+" "+wantInventory) {
			t.Errorf("%s: reasons = %q, want %s %s", c.basis, strings.Join(strings.Fields(reasons), " "), reasonLabel, wantInventory)
		}
	}

	// The alert: last 7 days, 3 cancelled of 8 placed = 37.5%.
	setAlert := func(rate string) {
		t.Helper()
		_, doc := manager.get(t, "/settings")
		form := formOf(doc, "form.settings-form:not(.rule-form)")
		form.Set("alert_rate", rate)
		if res, page := manager.post(t, "/settings", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("alert %q: %d %s", rate, res.StatusCode, page.Find(".field-error").Text())
		}
	}
	setAlert("10")
	_, list := manager.get(t, "/orders")
	if a := list.Find(".rate-alert").Text(); !strings.Contains(a, "37.5%") || !strings.Contains(a, "10.0%") {
		t.Errorf("orders page alert = %q", a)
	}
	setAlert("40")
	if _, list = manager.get(t, "/orders"); list.Find(".rate-alert").Length() != 0 {
		t.Error("a rate under the threshold raised the alert")
	}
	_, doc := manager.get(t, "/settings")
	form := formOf(doc, "form.settings-form:not(.rule-form)")
	form.Set("alert_rate", "120")
	if res, page := manager.post(t, "/settings", form); res.StatusCode != http.StatusBadRequest || strings.TrimSpace(page.Find("#alert_rate-error").Text()) == "" {
		t.Errorf("a rate over 100%%: %d", res.StatusCode)
	}

	_, frag := manager.get(t, "/analytics?range=7&group=week&basis=placed", "HX-Request", "true")
	if frag.Find("nav.sidebar").Length() != 0 || frag.Find("#analytics-body").Length() != 1 {
		t.Error("htmx must get the dashboard body alone")
	}
	res, bad := manager.get(t, "/analytics?range=custom&from=2026-02-30&to=2026-03-01")
	if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(bad.Find("#from-error").Text()) == "" {
		t.Errorf("a bad date: %d", res.StatusCode)
	}
	if res, _ := a.signedIn(t, canceldesk.RoleStaff).get(t, "/analytics"); res.StatusCode != http.StatusForbidden {
		t.Errorf("staff reached analytics: %d", res.StatusCode)
	}
}
