package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

// analyticsRanges are the dashboard's ranges as links ask for them; the
// custom one ends 45 days ago, in the middle of a week and a month.
func analyticsRanges(now time.Time) []string {
	day := func(n int) string { return now.AddDate(0, 0, -n).Format("2006-01-02") }
	return []string{"range=7", "range=30", "range=90", "range=365",
		"range=custom&from=" + day(200) + "&to=" + day(45)}
}

// seedHistory imports orders placed every 13 hours over the last 800 days;
// every third is cancelled (imported) up to four days after it was placed,
// never after now.
func seedHistory(t *testing.T, db *store.DB, now time.Time) {
	t.Helper()
	var orders []*canceldesk.Order
	start := now.AddDate(0, 0, -800)
	reasons := []canceldesk.CancelReason{canceldesk.ReasonCustomer, canceldesk.ReasonInventory, canceldesk.ReasonFraud}
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * 13 * time.Hour)
		if at.After(now.Add(-time.Hour)) {
			break
		}
		o := &canceldesk.Order{Name: fmt.Sprintf("#H%d", i), Email: "h@example.com", Currency: "USD", Subtotal: 1000, Total: 1000,
			FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled, Risk: canceldesk.RiskLow,
			CreatedAt: at, LineItems: []canceldesk.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: 1000}}}
		if i%3 == 0 {
			c := at.Add(time.Duration(i%97) * time.Hour)
			if c.After(now) {
				c = now
			}
			o.CancelledAt, o.CancelReason = &c, reasons[i%len(reasons)]
		}
		orders = append(orders, o)
	}
	if _, err := db.ImportOrders(context.Background(), orders, "test"); err != nil {
		t.Fatal(err)
	}
}

// forEachAnalyticsDB runs fn with an app whose orders and figures are on
// SQLite, then on PostgreSQL (accounts and sessions stay on SQLite).
func forEachAnalyticsDB(t *testing.T, fn func(t *testing.T, a *testApp, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		a := newTestApp(t)
		fn(t, a, a.db)
	})
	t.Run("postgres", func(t *testing.T) {
		ctx := context.Background()
		pg, err := store.Open(ctx, testenv.PostgresSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		if err := pg.SetStatsZone(ctx, time.UTC); err != nil {
			t.Fatal(err)
		}
		a := newTestApp(t, func(c *handlers.Config) {
			c.Store, c.Refunds, c.Stats, c.Analytics, c.Export, c.Requests = pg, pg, pg, pg, pg, pg
		})
		fn(t, a, pg)
	})
}

// shownRange reads the range the page says it shows: [from, to).
func shownRange(t *testing.T, doc *goquery.Document) (from, to time.Time) {
	t.Helper()
	el := doc.Find(".range-shown")
	from, err1 := time.Parse("2006-01-02", el.AttrOr("data-from", ""))
	last, err2 := time.Parse("2006-01-02", el.AttrOr("data-to", ""))
	if err1 != nil || err2 != nil {
		t.Fatalf("the page does not say its range: %v %v", err1, err2)
	}
	return from, last.AddDate(0, 0, 1)
}

func count(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), &n); err != nil {
		t.Fatalf("not a count: %q", s)
	}
	return n
}

// TestAnalyticsPeriodsAddUp: for every range, grouping and basis, on
// SQLite and PostgreSQL, the table adds up to the headline figures, and
// its first and last periods are marked partial exactly when the range
// cuts them (in the table and on the chart).
func TestAnalyticsPeriodsAddUp(t *testing.T) {
	forEachAnalyticsDB(t, func(t *testing.T, a *testApp, db *store.DB) {
		now := a.clock.Now().UTC()
		seedHistory(t, db, now)
		manager := a.signedIn(t, canceldesk.RoleManager)
		for _, rng := range analyticsRanges(now) {
			for _, g := range canceldesk.Groupings {
				for _, basis := range []string{"placed", "cancelled"} {
					target := fmt.Sprintf("/analytics?%s&group=%s&basis=%s&lang=en", rng, g, basis)
					res, doc := manager.get(t, target)
					if res.StatusCode != http.StatusOK {
						t.Fatalf("%s: %d", target, res.StatusCode)
					}
					from, to := shownRange(t, doc)
					var placed, cancelled int64
					rows := doc.Find(".chart-table tbody tr")
					rows.Each(func(_ int, r *goquery.Selection) {
						placed += count(t, r.Find("td").Eq(0).Text())
						cancelled += count(t, r.Find("td").Eq(1).Text())
					})
					headPlaced, headCancelled := count(t, doc.Find("[data-figure=placed]").Text()), count(t, doc.Find("[data-figure=cancelled]").Text())
					if placed != headPlaced || cancelled != headCancelled || headCancelled == 0 {
						t.Errorf("%s: the table adds up to %d placed, %d cancelled; the headline says %d, %d", target, placed, cancelled,
							headPlaced, headCancelled)
					}
					first := canceldesk.PeriodStart(from, time.UTC, g)
					last := canceldesk.PeriodStart(to.AddDate(0, 0, -1), time.UTC, g)
					wantPartial := map[int]bool{0: !first.Equal(from), rows.Length() - 1: !canceldesk.NextPeriod(last, g).Equal(to)}
					points := doc.Find(".rate-chart .rate-point title")
					if points.Length() != rows.Length() {
						t.Fatalf("%s: %d points, %d rows", target, points.Length(), rows.Length())
					}
					rows.Each(func(i int, r *goquery.Selection) {
						partial := r.HasClass("partial") && r.Find(".badge-partial").Text() == "partial"
						onChart := strings.Contains(points.Eq(i).Text(), "(partial)")
						if partial != wantPartial[i] || onChart != wantPartial[i] {
							t.Errorf("%s: row %d (%s) partial %v, on the chart %v; want %v", target, i,
								r.Find(".period").Text(), partial, onChart, wantPartial[i])
						}
					})
					if g == canceldesk.GroupDay && rows.Length() != int(to.Sub(from).Hours()/24) {
						t.Errorf("%s: %d days shown for %s–%s", target, rows.Length(), from, to)
					}
				}
			}
		}
	})
}

// TestAnalyticsExportLink: for every range the page's export link
// downloads exactly the cancellations the page counts, over the days it
// shows.
func TestAnalyticsExportLink(t *testing.T) {
	a := newTestApp(t)
	now := a.clock.Now().UTC()
	seedHistory(t, a.db, now)
	manager := a.signedIn(t, canceldesk.RoleManager)
	for _, rng := range analyticsRanges(now) {
		target := "/analytics?" + rng + "&group=week&basis=cancelled"
		_, doc := manager.get(t, target)
		from, to := shownRange(t, doc)
		href, ok := doc.Find(".export-link a").Attr("href")
		if !ok {
			t.Fatalf("%s: no export link", target)
		}
		res, body := manager.getRaw(t, href)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: export %s: %d", target, href, res.StatusCode)
		}
		want := fmt.Sprintf(`filename="cancellations-%s-%s.csv"`, from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02"))
		if got := res.Header.Get("Content-Disposition"); !strings.Contains(got, want) {
			t.Errorf("%s: export %s is %s, want %s", target, href, got, want)
		}
		records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		rows := records[1:]
		if n := count(t, doc.Find("[data-figure=cancelled]").Text()); int64(len(rows)) != n || n == 0 {
			t.Errorf("%s: export %s has %d rows, the page counts %d", target, href, len(rows), n)
		}
		for _, r := range rows {
			at, err := time.Parse(time.RFC3339, r[2])
			if err != nil || at.Before(from) || !at.Before(to) {
				t.Errorf("%s: cancelled at %q, outside %s–%s", target, r[2], from, to)
			}
		}
	}
}

// TestAnalyticsCustomRangeErrors: a wrong custom range is refused beside
// its field while the page keeps the last good chart: the default range in
// a full page, the range shown before in an htmx swap (which also updates
// the form's field errors out of band and leaves the address alone).
func TestAnalyticsCustomRangeErrors(t *testing.T) {
	a := newTestApp(t)
	now := a.clock.Now().UTC()
	seedHistory(t, a.db, now)
	manager := a.signedIn(t, canceldesk.RoleManager)
	day := func(n int) string { return now.AddDate(0, 0, n).Format("2006-01-02") }
	today := canceldesk.PeriodStart(now, time.UTC, canceldesk.GroupDay)
	for _, c := range []struct {
		name, from, to string
		errs           map[string]string
	}{
		{"both missing", "", "", map[string]string{"from": "Enter a date.", "to": "Enter a date."}},
		{"to missing", day(-10), "", map[string]string{"to": "Enter a date."}},
		{"malformed", "2026-02-30", day(-1), map[string]string{"from": "Dates are written as YYYY-MM-DD."}},
		{"from after to", day(-3), day(-10), map[string]string{"to": "The end date is before the start date."}},
		{"too long", day(-800), day(-1), map[string]string{"to": "Choose at most two years."}},
		{"in the future", day(-3), day(2), map[string]string{"to": "Choose a day up to today."}},
	} {
		target := fmt.Sprintf("/analytics?range=custom&from=%s&to=%s&group=week&basis=placed&lang=en", c.from, c.to)
		check := func(doc *goquery.Document, wantFrom time.Time, how string) {
			t.Helper()
			for _, f := range []string{"range", "from", "to", "group", "basis"} {
				if got := strings.TrimSpace(doc.Find("#" + f + "-error").Text()); got != c.errs[f] {
					t.Errorf("%s (%s): %s error %q, want %q", c.name, how, f, got, c.errs[f])
				}
			}
			if doc.Find(".rate-chart").Length() != 1 || doc.Find("#analytics-kept").Length() != 1 {
				t.Errorf("%s (%s): the last good chart and its notice are not shown", c.name, how)
			}
			if from, _ := shownRange(t, doc); !from.Equal(wantFrom) {
				t.Errorf("%s (%s): shows from %s, want %s", c.name, how, from, wantFrom)
			}
			// Grouping is valid: the kept range is shown by week.
			if n := doc.Find(".chart-table tbody tr").Length(); n > 14 {
				t.Errorf("%s (%s): %d rows, not weeks", c.name, how, n)
			}
		}
		res, doc := manager.get(t, target)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", c.name, res.StatusCode)
		}
		check(doc, today.AddDate(0, 0, -29), "page")
		if v, _ := doc.Find("#from").Attr("value"); v != c.from {
			t.Errorf("%s: the form shows from %q, typed %q", c.name, v, c.from)
		}
		if _, invalid := doc.Find("#to").Attr("aria-invalid"); invalid != (c.errs["to"] != "") {
			t.Errorf("%s: to aria-invalid %v", c.name, invalid)
		}

		res, frag := manager.get(t, target, "HX-Request", "true", "HX-Current-URL", "http://example.com/analytics?range=90&group=day&basis=placed")
		if frag.Find("nav.sidebar").Length() != 0 || frag.Find("#analytics-body").Length() != 1 {
			t.Errorf("%s: htmx must get the body alone", c.name)
		}
		if frag.Find(`.field-error[hx-swap-oob]`).Length() != 5 || res.Header.Get("HX-Push-Url") != "false" {
			t.Errorf("%s: htmx answer without its field errors out of band, or pushes the address (%q)", c.name, res.Header.Get("HX-Push-Url"))
		}
		check(frag, today.AddDate(0, 0, -89), "htmx")
	}
	// A good choice after a wrong one clears the errors and is pushed.
	res, frag := manager.get(t, "/analytics?range=custom&from="+day(-20)+"&to="+day(-1)+"&group=week&basis=placed", "HX-Request", "true")
	if res.StatusCode != http.StatusOK || strings.TrimSpace(frag.Find(".field-error").Text()) != "" || res.Header.Get("HX-Push-Url") != "" ||
		frag.Find("#analytics-kept").Length() != 0 {
		t.Errorf("a good range: %d, errors %q, push %q", res.StatusCode, frag.Find(".field-error").Text(), res.Header.Get("HX-Push-Url"))
	}
	if from, to := shownRange(t, frag); !from.Equal(today.AddDate(0, 0, -20)) || !to.Equal(today) {
		t.Errorf("a good range shows %s–%s", from, to)
	}
	// zh-TW has its own words for the errors and the partial periods.
	_, doc := manager.get(t, "/analytics?range=custom&from=&to="+day(-1)+"&group=week&lang=zh-TW")
	if got := strings.TrimSpace(doc.Find("#from-error").Text()); got != "請輸入日期。" {
		t.Errorf("zh-TW from error %q", got)
	}
	if got := doc.Find(".badge-partial").First().Text(); got != "不完整" {
		t.Errorf("zh-TW partial badge %q", got)
	}
}
