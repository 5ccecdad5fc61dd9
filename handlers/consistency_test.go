package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

// onPostgres puts the orders, refunds, figures and messages of a test app
// on a fresh PostgreSQL schema, with the app's after-commit hook.
func onPostgres(t *testing.T) (func(*handlers.Config), *store.DB) {
	ctx := context.Background()
	pg, err := store.Open(ctx, testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	if err := pg.SetStatsZone(ctx, time.UTC); err != nil {
		t.Fatal(err)
	}
	return func(c *handlers.Config) {
		c.Store, c.Refunds, c.Stats, c.Analytics, c.Export, c.Requests, c.Messages = pg, pg, pg, pg, pg, pg, pg
		pg.OnCommit(c.AfterCommit.Run)
	}, pg
}

var moneyDigits = regexp.MustCompile(`[0-9][0-9,]*\.[0-9]{2}`)

// cents reads an amount as a page shows it ("−US$1,234.50"), unsigned.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	m := moneyDigits.FindString(s)
	if m == "" {
		t.Fatalf("not an amount: %q", s)
	}
	n, err := strconv.ParseInt(strings.NewReplacer(",", "", ".", "").Replace(m), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pageRefund is one refund as the order page lists it.
type pageRefund struct {
	amount int64
	kind   string // the kind's label: "Refund", "Void"
	status string // the badge's class suffix: succeeded, pending, failed
	at     time.Time
}

// pageFigures are an order's figures as its page shows them.
type pageFigures struct {
	id                        int64
	name                      string
	total                     int64
	refunded, pending, failed int64
	net                       int64  // the net payment, shown once something was refunded
	financial                 string // badge-fin-X
	cancelled                 bool
	refunds                   []pageRefund
	retry                     string // the Retry form's action, when a refund failed
}

// state is the refund state the page's figures mean (RefundBalance.State).
func (p pageFigures) state() string {
	switch {
	case p.financial == string(canceldesk.FinancialVoided):
		return canceldesk.RefundStateVoided
	case p.pending > 0:
		return canceldesk.RefundStatePending
	case p.failed > 0:
		return canceldesk.RefundStateFailed
	case p.refunded == 0:
		return canceldesk.RefundStateNone
	case p.refunded >= p.total:
		return canceldesk.RefundStateSucceeded
	}
	return canceldesk.RefundStatePartial
}

func readOrderPage(t *testing.T, c *client, id int64) pageFigures {
	t.Helper()
	res, doc := c.get(t, fmt.Sprintf("/orders/%d", id))
	if res.StatusCode != 200 {
		t.Fatalf("order %d: status %d", id, res.StatusCode)
	}
	p := pageFigures{id: id, name: strings.TrimSpace(doc.Find("h1").First().Text())}
	card := doc.Find("#pay-h").Parent()
	p.total = cents(t, card.Find(".totals .total dd").First().Text())
	card.Find(".totals > div").Each(func(_ int, s *goquery.Selection) {
		switch {
		case s.HasClass("refund-pending"):
			p.pending = cents(t, s.Find("dd").Text())
		case s.HasClass("refund-failed"):
			p.failed = cents(t, s.Find("dd").Text())
		case strings.TrimSpace(s.Find("dt").Text()) == "Refunded":
			p.refunded = cents(t, s.Find("dd").Text())
		case strings.TrimSpace(s.Find("dt").Text()) == "Net payment":
			p.net = cents(t, s.Find("dd").Text())
		}
	})
	if p.refunded > 0 && p.net != p.total-p.refunded {
		t.Errorf("%s: net payment %d; total %d − refunded %d", p.name, p.net, p.total, p.refunded)
	}
	head := doc.Find(".page-head")
	head.Find(".badge").Each(func(_ int, s *goquery.Selection) {
		for _, cl := range strings.Fields(s.AttrOr("class", "")) {
			if f, ok := strings.CutPrefix(cl, "badge-fin-"); ok {
				p.financial = f
			}
		}
	})
	p.cancelled = head.Find(".badge-cancelled").Length() == 1
	doc.Find(".refund-row").Each(func(_ int, s *goquery.Selection) {
		r := pageRefund{amount: cents(t, s.Find(".money").First().Text())}
		r.kind, _, _ = strings.Cut(strings.TrimSpace(s.Find(".muted").First().Text()), " ·")
		for _, cl := range strings.Fields(s.Find(".refund-state .badge").AttrOr("class", "")) {
			if st, ok := strings.CutPrefix(cl, "badge-refund-"); ok {
				r.status = st
			}
		}
		at, err := time.Parse(time.RFC3339, s.Find("time").AttrOr("datetime", ""))
		if err != nil {
			t.Fatalf("order %s: refund time: %v", p.name, err)
		}
		r.at = at
		p.refunds = append(p.refunds, r)
	})
	p.retry = doc.Find("#refund-failed form[action$='/retry']").AttrOr("action", "")
	return p
}

// exportRow is one row of the cancellations CSV.
type exportRow struct {
	placed, cancelled time.Time
	status            string
	refunded          int64
}

func readExport(t *testing.T, c *client, query string) map[string]exportRow {
	t.Helper()
	res, body := c.getRaw(t, "/analytics/export?"+query)
	if res.StatusCode != 200 {
		t.Fatalf("export %s: status %d", query, res.StatusCode)
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("export %s: %v", query, err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	rows := map[string]exportRow{}
	for _, r := range recs[1:] {
		placed, err1 := time.Parse(time.RFC3339, r[col["placed_at"]])
		cancelled, err2 := time.Parse(time.RFC3339, r[col["cancelled_at"]])
		if err1 != nil || err2 != nil {
			t.Fatalf("export row %v: %v %v", r, err1, err2)
		}
		rows[strings.TrimPrefix(r[col["order"]], "'")] = exportRow{placed: placed, cancelled: cancelled,
			status: r[col["refund_status"]], refunded: cents(t, r[col["refunded"]])}
	}
	return rows
}

// consistencyCSV is a Shopify export of six orders placed days before
// now: open, imported refunded and cancelled, imported cancelled, and one
// authorized, unpaid.
func consistencyCSV(now time.Time) string {
	at := func(days int) string { return now.AddDate(0, 0, -days).Format("2006-01-02 15:04:05 -0700") }
	head := "Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Cancelled at,Refunded Amount,Billing Name,Location\n"
	row := func(name, fin string, placed int, cancelled, refunded string) string {
		return fmt.Sprintf("%s,%s@example.com,%s,USD,40.00,0,0,40.00,%s,2,Teapot,20.00,TEA-1,%s,%s,Buyer %s,Main\n",
			name, strings.TrimPrefix(name, "#"), fin, at(placed), cancelled, refunded, name)
	}
	return head +
		row("#C1", "paid", 2, "", "") + // refund now
		row("#C2", "paid", 5, "", "") + // refund later, then a partial refund
		row("#C3", "paid", 20, "", "") + // partial refunds, not cancelled
		row("#C4", "paid", 60, "", "") + // store credit
		row("#C5", "refunded", 45, at(44), "40.00") + // imported refunded and cancelled
		row("#C6", "paid", 200, at(199), "") + // imported cancelled, re-created
		row("#C7", "authorized", 3, "", "") + // voided
		row("#C8", "partially_refunded", 10, "", "15.00") + // imported partial refund
		row("#C10", "paid", 1, "", "") // cancelled on the customer's request
}

// TestFiguresAgree: over a store seeded by an import and by every kind of
// cancel and refund through the dashboard, on SQLite and PostgreSQL, every
// order's figures agree between its page, its list row, the refund-later
// backlog, the cancellations export and the analytics headline of every
// range, grouping and basis.
func TestFiguresAgree(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { figuresAgree(t, nil, nil) })
	t.Run("postgres", func(t *testing.T) {
		opt, pg := onPostgres(t)
		figuresAgree(t, opt, pg)
	})
}

// figuresAgree seeds a store (the app's own when opt is nil, else db,
// which opt puts in the app) and compares the figures.
func figuresAgree(t *testing.T, opt func(*handlers.Config), db *store.DB) {
	var opts []func(*handlers.Config)
	if opt != nil {
		opts = append(opts, opt)
	}
	a, up := stripeApp(t, opts...)
	if db == nil {
		db = a.db
	}
	now := a.clock.Now()
	manager := a.signedIn(t, canceldesk.RoleManager)
	staff := a.signedIn(t, canceldesk.RoleStaff)
	if res, doc := manager.upload(t, consistencyCSV(now), true); res.StatusCode != 200 || doc.Find(".row-errors li").Length() != 0 {
		t.Fatalf("import: %d %q", res.StatusCode, doc.Find(".row-errors li").Text())
	}
	card := cardOrder(t, &testApp{db: db}, "#C9") // a card order, refunded while Stripe is down
	ids := map[string]int64{"#C9": card.ID}
	_, list := staff.get(t, "/orders")
	list.Find("#results tbody tr .order-link").Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(strings.TrimPrefix(s.AttrOr("href", ""), "/orders/"), 10, 64)
		ids[strings.TrimSpace(s.Text())] = id
	})
	if len(ids) != 10 {
		t.Fatalf("orders = %v", ids)
	}
	redirected := func(what string, res *http.Response) {
		t.Helper()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: status %d", what, res.StatusCode)
		}
	}
	cancel := func(c *client, name, refund string) {
		t.Helper()
		form := cancelFormOf(t, c, ids[name])
		if refund != "" {
			form.Set("refund", refund)
		}
		res, _ := c.post(t, fmt.Sprintf("/orders/%d/cancel", ids[name]), form)
		redirected("cancel "+name, res)
	}
	refund := func(c *client, name string, units int, method string) {
		t.Helper()
		_, doc := c.get(t, fmt.Sprintf("/orders/%d/refund", ids[name]))
		form := formOf(doc, "form.refund-form")
		first := true
		for k := range form {
			if strings.HasPrefix(k, "qty_") {
				if first {
					form.Set(k, strconv.Itoa(units))
					first = false
				} else {
					form.Set(k, "0")
				}
			}
		}
		if method != "" {
			form.Set("method", method)
		}
		res, _ := c.post(t, fmt.Sprintf("/orders/%d/refund", ids[name]), form)
		redirected("refund "+name, res)
	}

	cancel(staff, "#C1", "now")
	cancel(staff, "#C2", "later")
	refund(staff, "#C2", 1, "")
	refund(staff, "#C3", 1, "")
	refund(manager, "#C3", 1, "")
	refund(manager, "#C4", 2, "store_credit")
	cancel(staff, "#C7", "")
	cancel(staff, "#C9", "now") // Stripe is unreachable: the refund fails
	if p := readOrderPage(t, staff, ids["#C9"]); p.retry == "" || p.failed == 0 {
		t.Fatalf("#C9 with Stripe down: %+v", p)
	}
	res, _ := staff.post(t, fmt.Sprintf("/orders/%d/recreate", ids["#C6"]), url.Values{})
	redirected("re-create #C6", res)
	// The customer asks to cancel #C10; staff approve with the dialog's defaults.
	if res, _ := fileRequest(t, a, "10.9.0.1", requestForm("#C10", "C10@example.com")); res.StatusCode >= 400 {
		t.Fatalf("request: %d", res.StatusCode)
	}
	_, queue := staff.get(t, "/requests")
	approve := queue.Find(".queue-row").First().Find("a.btn-primary").AttrOr("href", "")
	_, dialog := staff.get(t, approve)
	res, _ = staff.post(t, dialog.Find("form.cancel-form").AttrOr("action", ""), formOf(dialog, "form.cancel-form"))
	redirected("approve #C10", res)
	if p := readOrderPage(t, staff, ids["#C10"]); !p.cancelled {
		t.Fatalf("#C10 after the approval: %+v", p)
	}
	// The figures with a failed refund in place.
	checkFiguresAgree(t, a, manager, now)
	if t.Failed() {
		return
	}

	up(nil)
	p := readOrderPage(t, staff, ids["#C9"])
	res, _ = staff.post(t, p.retry, url.Values{})
	redirected("retry #C9", res)
	if p := readOrderPage(t, staff, ids["#C9"]); p.failed != 0 || p.refunded != p.total {
		t.Fatalf("#C9 after the retry: %+v", p)
	}
	checkFiguresAgree(t, a, manager, now)
}

// checkFiguresAgree compares every order's figures across the pages.
func checkFiguresAgree(t *testing.T, a *testApp, c *client, now time.Time) {
	t.Helper()
	_, list := c.get(t, "/orders")
	pages := map[string]pageFigures{}
	list.Find("#results tbody tr").Each(func(_ int, row *goquery.Selection) {
		link := row.Find(".order-link")
		id, _ := strconv.ParseInt(strings.TrimPrefix(link.AttrOr("href", ""), "/orders/"), 10, 64)
		p := readOrderPage(t, c, id)
		pages[p.name] = p
		// The list row's badges.
		fin := ""
		for _, cl := range strings.Fields(row.Find("[class*=badge-fin-]").AttrOr("class", "")) {
			if f, ok := strings.CutPrefix(cl, "badge-fin-"); ok {
				fin = f
			}
		}
		if fin != p.financial {
			t.Errorf("%s: list badge %q, order page %q", p.name, fin, p.financial)
		}
		if cancelled := row.Find(".badge-cancelled").Length() == 1; cancelled != p.cancelled {
			t.Errorf("%s: list says cancelled=%v, order page %v", p.name, cancelled, p.cancelled)
		}
		// The page's own figures: refunds that succeeded are what it says refunded.
		var ok, pending, failed int64
		for _, r := range p.refunds {
			switch {
			case r.kind == "Void":
			case r.status == "succeeded":
				ok += r.amount
			case r.status == "pending":
				pending += r.amount
			case r.status == "failed":
				failed += r.amount
			}
		}
		if len(p.refunds) > 0 && (ok != p.refunded || pending != p.pending) {
			t.Errorf("%s: refunds listed %d succeeded, %d pending; Paid card %d refunded, %d pending", p.name, ok, pending, p.refunded, p.pending)
		}
	})

	// The backlog: a cancelled order that still owes, with what it owes.
	_, backlog := c.get(t, "/refunds")
	owed := map[string]int64{}
	backlog.Find("table.backlog tbody tr").Each(func(_ int, row *goquery.Selection) {
		name := strings.TrimSpace(row.Find("td a.strong").Text())
		owed[name] = cents(t, row.Find("td.money").Text())
		p := pages[name]
		if !p.cancelled {
			t.Errorf("backlog lists %s, which its page shows not cancelled", name)
		}
		if want := p.total - p.refunded; owed[name] != want {
			t.Errorf("%s: backlog owes %d; order page: total %d − refunded %d = %d", name, owed[name], p.total, p.refunded, want)
		}
		if p.failed > 0 {
			if href := row.Find("td a.btn").AttrOr("href", ""); href != fmt.Sprintf("/orders/%d#refund-failed", p.id) {
				t.Errorf("%s: the backlog's action for a failed refund goes to %q, not the order page's Retry", name, href)
			}
		}
	})
	// Every cancelled order its page shows owing (paid, not all given
	// back, not voided) is in the backlog, and no other.
	for name, p := range pages {
		_, listed := owed[name]
		if owes := p.cancelled && p.state() != canceldesk.RefundStateVoided && p.total > p.refunded; owes != listed {
			t.Errorf("%s: in the backlog %v; its page shows it owing %v (%+v)", name, listed, owes, p)
		}
	}
	if _, ok := owed["#C2"]; !ok {
		t.Error("the refund-later order #C2 is not in the backlog")
	}

	// The export of everything: one row per cancelled order, its refund as the page says.
	from := now.AddDate(0, 0, -364).Format("2006-01-02")
	all := "range=custom&from=" + from + "&to=" + now.Format("2006-01-02")
	rows := readExport(t, c, all+"&basis=cancelled")
	for name, p := range pages {
		r, ok := rows[name]
		if ok != p.cancelled {
			t.Errorf("%s: in the export %v, cancelled on its page %v", name, ok, p.cancelled)
			continue
		}
		if !ok {
			continue
		}
		if r.status != p.state() || r.refunded != p.refunded {
			t.Errorf("%s: export %s %d; order page %s %d", name, r.status, r.refunded, p.state(), p.refunded)
		}
	}

	// Analytics: the headline of every range, grouping and basis.
	ranges := []string{"range=7", "range=30", "range=90", "range=365", all}
	for _, rg := range ranges {
		for _, group := range []string{"day", "week", "month"} {
			for _, basis := range []string{"placed", "cancelled"} {
				q := rg + "&group=" + group + "&basis=" + basis
				res, doc := c.get(t, "/analytics?"+q)
				if res.StatusCode != 200 {
					t.Errorf("%s: status %d", q, res.StatusCode)
					continue
				}
				lo, hi := shownRange(t, doc)
				in := func(at time.Time) bool { return !at.Before(lo) && at.Before(hi) }
				var cancelled, value, refunded int64
				for name, p := range pages {
					for _, r := range p.refunds {
						if r.kind == "Refund" && r.status == "succeeded" && in(r.at) {
							refunded += r.amount
						}
					}
					r, ok := rows[name]
					if !ok {
						continue
					}
					at := r.cancelled
					if basis == "placed" {
						at = r.placed
					}
					if in(at) {
						cancelled++
						value += p.total
					}
				}
				if got := count(t, doc.Find("[data-figure=cancelled]").Text()); got != cancelled {
					t.Errorf("%s: cancelled %d; order pages %d", q, got, cancelled)
				}
				gotValue := int64(0)
				if s := doc.Find("[data-figure=cancelled-value]"); s.Length() > 0 {
					gotValue = cents(t, s.Text())
				}
				if basis == "placed" {
					value = 0 // counted by cancel date only: the page says so
				}
				if gotValue != value {
					t.Errorf("%s: cancelled value %d; order pages %d", q, gotValue, value)
				}
				gotRefunded := int64(0)
				if s := doc.Find("[data-figure=refunded]"); strings.TrimSpace(s.Text()) != "—" {
					gotRefunded = cents(t, s.Text())
				}
				if gotRefunded != refunded {
					t.Errorf("%s: refunded %d; order pages %d", q, gotRefunded, refunded)
				}
			}
		}
	}
}
