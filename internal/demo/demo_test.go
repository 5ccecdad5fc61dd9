package demo_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/demo"
	"github.com/canceldesk/canceldesk/store"
)

var now = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

func TestOrdersDeterministic(t *testing.T) {
	a := demo.Orders(2000, now, 42)
	b := demo.Orders(2000, now, 42)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	c := demo.Orders(2000, now, 43)
	if reflect.DeepEqual(a, c) {
		t.Fatal("another seed gives the same orders")
	}
	if got := demo.Orders(0, now, 42); len(got) != 0 {
		t.Fatalf("Orders(0) = %d orders", len(got))
	}
}

func TestOrdersAreConsistent(t *testing.T) {
	const n = 6000
	orders := demo.Orders(n, now, 1)
	if len(orders) != n {
		t.Fatalf("got %d orders, want %d", len(orders), n)
	}
	skus := map[string]int64{}
	for _, p := range demo.Products() {
		skus[p.SKU] = p.Price
	}
	sources := map[string]bool{"web": true, "pos": true, "shopify_draft_order": true}
	payments := map[string]bool{"Shopify Payments": true, "PayPal": true, "manual": true}
	tags := map[string]bool{"VIP": true, "wholesale": true, "gift": true, "rush": true}
	names := map[string]bool{}
	var (
		cancelled, highRisk, taiwanese, recent, oldest int
		financial                                      = map[canceldesk.FinancialStatus]int{}
		reasons                                        = map[canceldesk.CancelReason]int{}
		oldFulfilled, oldTotal, newUnfulfilled, newAll int
	)
	earliest := now.Add(-demo.Window)
	for i, o := range orders {
		where := o.Name
		if want := "#" + strconv.Itoa(1001+i); o.Name != want {
			t.Fatalf("order %d is named %q, want %q", i, o.Name, want)
		}
		if names[o.Name] {
			t.Fatalf("%s: name used twice", where)
		}
		names[o.Name] = true
		if i > 0 && o.CreatedAt.Before(orders[i-1].CreatedAt) {
			t.Errorf("%s: placed before the order it follows", where)
		}
		if !o.CreatedAt.Before(now) || o.CreatedAt.Before(earliest) {
			t.Errorf("%s: placed %v, outside the 120 days before %v", where, o.CreatedAt, now)
		}
		if o.Currency != "USD" || o.ExternalID == "" {
			t.Errorf("%s: currency %q, external id %q", where, o.Currency, o.ExternalID)
		}
		if o.Total != o.Subtotal+o.Shipping+o.Taxes-o.Discounts {
			t.Errorf("%s: total %d != %d + %d + %d - %d", where, o.Total, o.Subtotal, o.Shipping, o.Taxes, o.Discounts)
		}
		if o.Total <= 0 || o.Discounts < 0 || o.Discounts > o.Subtotal || o.Shipping < 0 {
			t.Errorf("%s: implausible money %+v", where, o)
		}
		if want := ((o.Subtotal-o.Discounts)*demo.TaxRate + 50) / 100; o.Taxes != want {
			t.Errorf("%s: taxes %d, want %d", where, o.Taxes, want)
		}
		if len(o.LineItems) < 1 || len(o.LineItems) > 4 {
			t.Errorf("%s: %d lines", where, len(o.LineItems))
		}
		var sub int64
		for _, li := range o.LineItems {
			sub += li.Total()
			if price, ok := skus[li.SKU]; !ok || price != li.Price || li.Name == "" {
				t.Errorf("%s: line %+v is not from the catalogue", where, li)
			}
			if li.Quantity <= 0 || li.FulfilledQuantity < 0 || li.FulfilledQuantity+li.CancelledQuantity > li.Quantity ||
				li.RefundedQuantity > li.Quantity || li.RestockedQuantity > li.Quantity {
				t.Errorf("%s: line quantities %+v", where, li)
			}
		}
		if sub != o.Subtotal {
			t.Errorf("%s: subtotal %d, lines sum to %d", where, o.Subtotal, sub)
		}
		if !o.FinancialStatus.Valid() || !o.FulfillmentStatus.Valid() {
			t.Errorf("%s: statuses %q / %q", where, o.FinancialStatus, o.FulfillmentStatus)
		}
		if got := canceldesk.DeriveFulfillment(o.LineItems); o.FulfillmentStatus != got {
			t.Errorf("%s: fulfillment %q, lines say %q", where, o.FulfillmentStatus, got)
		}
		if o.Risk != canceldesk.RiskLow && o.Risk != canceldesk.RiskMedium && o.Risk != canceldesk.RiskHigh {
			t.Errorf("%s: risk %q", where, o.Risk)
		}
		if !sources[o.Source] || !payments[o.PaymentMethod] {
			t.Errorf("%s: source %q, payment %q", where, o.Source, o.PaymentMethod)
		}
		for _, tag := range o.Tags {
			if !tags[tag] {
				t.Errorf("%s: tag %q", where, tag)
			}
		}
		if o.Email != "" && (!strings.Contains(o.Email, "@") || strings.ContainsFunc(o.Email, func(r rune) bool { return r > unicode.MaxASCII })) {
			t.Errorf("%s: email %q", where, o.Email)
		}
		if (o.Email == "") != (o.BillingAddress.Name == "") {
			t.Errorf("%s: email %q but billing name %q", where, o.Email, o.BillingAddress.Name)
		}
		for _, at := range []*time.Time{o.PaidAt, o.FulfilledAt, o.CancelledAt, &o.UpdatedAt} {
			if at != nil && (at.Before(o.CreatedAt) || at.After(now)) {
				t.Errorf("%s: a time %v outside [placed %v, now]", where, *at, o.CreatedAt)
			}
		}
		if o.RefundedAmount < 0 || o.RefundedAmount > o.Total {
			t.Errorf("%s: refunded %d of %d", where, o.RefundedAmount, o.Total)
		}
		switch o.FinancialStatus {
		case canceldesk.FinancialRefunded:
			if o.RefundedAmount != o.Total {
				t.Errorf("%s: refunded but only %d of %d", where, o.RefundedAmount, o.Total)
			}
		case canceldesk.FinancialPartiallyRefunded:
			if o.RefundedAmount <= 0 || o.RefundedAmount >= o.Total {
				t.Errorf("%s: partially refunded %d of %d", where, o.RefundedAmount, o.Total)
			}
		default:
			if o.RefundedAmount != 0 {
				t.Errorf("%s: %s with %d refunded", where, o.FinancialStatus, o.RefundedAmount)
			}
		}
		if (o.PaidAt != nil) != (o.FinancialStatus == canceldesk.FinancialPaid || o.FinancialStatus == canceldesk.FinancialRefunded || o.FinancialStatus == canceldesk.FinancialPartiallyRefunded) {
			t.Errorf("%s: %s with paid at %v", where, o.FinancialStatus, o.PaidAt)
		}
		if (o.FulfilledAt != nil) != (o.FulfillmentStatus == canceldesk.FulfillmentFulfilled) {
			t.Errorf("%s: %s with fulfilled at %v", where, o.FulfillmentStatus, o.FulfilledAt)
		}
		if o.Cancelled() {
			cancelled++
			reasons[o.CancelReason]++
			if !o.CancelledAt.After(o.CreatedAt) {
				t.Errorf("%s: cancelled %v, not after it was placed %v", where, o.CancelledAt, o.CreatedAt)
			}
			if !slices.Contains(canceldesk.CancelReasons, o.CancelReason) {
				t.Errorf("%s: cancel reason %q", where, o.CancelReason)
			}
			if o.FinancialStatus != canceldesk.FinancialRefunded && o.FinancialStatus != canceldesk.FinancialVoided {
				t.Errorf("%s: cancelled but %s", where, o.FinancialStatus)
			}
			for _, li := range o.LineItems {
				if li.CancelledQuantity != li.Quantity || li.FulfilledQuantity != 0 {
					t.Errorf("%s: cancelled order with line %+v", where, li)
				}
			}
		} else if o.CancelReason != "" {
			t.Errorf("%s: not cancelled but reason %q", where, o.CancelReason)
		}
		financial[o.FinancialStatus]++
		if o.Risk == canceldesk.RiskHigh {
			highRisk++
		}
		if isTaiwanese(o.BillingAddress.Name) {
			taiwanese++
		}
		age := now.Sub(o.CreatedAt)
		switch {
		case age < 30*24*time.Hour:
			recent++
		case age > demo.Window-30*24*time.Hour:
			oldest++
		}
		if !o.Cancelled() && age > 14*24*time.Hour {
			oldTotal++
			if o.FulfillmentStatus == canceldesk.FulfillmentFulfilled {
				oldFulfilled++
			}
		}
		if !o.Cancelled() && age < 24*time.Hour {
			newAll++
			if o.FulfillmentStatus == canceldesk.FulfillmentUnfulfilled {
				newUnfulfilled++
			}
		}
	}

	share := func(k int) float64 { return float64(k) / n }
	if s := share(cancelled); s < 0.045 || s > 0.075 {
		t.Errorf("cancelled share %.3f, want about 0.06", s)
	}
	for _, r := range canceldesk.CancelReasons {
		if reasons[r] == 0 {
			t.Errorf("no order cancelled for %q", r)
		}
		if r != canceldesk.ReasonCustomer && reasons[r] >= reasons[canceldesk.ReasonCustomer] {
			t.Errorf("reason %q (%d) as common as customer (%d)", r, reasons[r], reasons[canceldesk.ReasonCustomer])
		}
	}
	if reasons[canceldesk.ReasonInventory] <= reasons[canceldesk.ReasonStaff] {
		t.Errorf("inventory (%d) should be more common than staff (%d)", reasons[canceldesk.ReasonInventory], reasons[canceldesk.ReasonStaff])
	}
	if s := share(financial[canceldesk.FinancialPaid]); s < 0.7 {
		t.Errorf("paid share %.3f, want most orders paid", s)
	}
	for _, st := range []canceldesk.FinancialStatus{canceldesk.FinancialAuthorized, canceldesk.FinancialPending,
		canceldesk.FinancialPartiallyRefunded, canceldesk.FinancialRefunded, canceldesk.FinancialVoided} {
		if financial[st] == 0 {
			t.Errorf("no %s order", st)
		}
	}
	if s := share(highRisk); s < 0.01 || s > 0.035 {
		t.Errorf("high-risk share %.3f, want about 0.02", s)
	}
	if s := share(taiwanese); s < 0.15 || s > 0.5 {
		t.Errorf("Taiwanese customers %.3f of orders", s)
	}
	if recent <= oldest {
		t.Errorf("last 30 days have %d orders, the oldest 30 days %d: recent days should be busier", recent, oldest)
	}
	if f := float64(oldFulfilled) / float64(oldTotal); f < 0.85 {
		t.Errorf("only %.2f of orders older than two weeks are fulfilled", f)
	}
	if f := float64(newUnfulfilled) / float64(newAll); newAll > 0 && f < 0.5 {
		t.Errorf("only %.2f of the last day's orders are unfulfilled", f)
	}
}

// isTaiwanese reports whether a customer name is written in Han characters
// or carries a romanised Taiwanese surname.
func isTaiwanese(name string) bool {
	for _, r := range name {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	fields := strings.Fields(name)
	if len(fields) < 2 {
		return false
	}
	switch fields[len(fields)-1] {
	case "Chen", "Lin", "Huang", "Chang", "Wang", "Wu", "Liu", "Tsai", "Yang", "Hsu", "Cheng", "Hsieh", "Kuo",
		"Hung", "Tseng", "Chiu", "Liao", "Lai", "Chou", "Su", "Yeh", "Chuang", "Lu", "Chiang", "Ho", "Hsiao", "Lo", "Kao":
		return true
	}
	return false
}

func TestStockMovements(t *testing.T) {
	locs := []canceldesk.Location{{ID: 1, Name: "Taipei Warehouse"}, {ID: 2, Name: "Brooklyn Studio"}}
	at := now.Add(-demo.Window)
	ms := demo.StockMovements(locs, at)
	if want := len(locs) * len(demo.SKUs()); len(ms) != want {
		t.Fatalf("%d movements, want %d", len(ms), want)
	}
	seen := map[string]bool{}
	for _, m := range ms {
		key := m.SKU + "@" + strconv.FormatInt(m.LocationID, 10)
		if seen[key] {
			t.Errorf("%s received twice", key)
		}
		seen[key] = true
		if m.Delta <= 0 || m.Kind != canceldesk.MovementInitialReceipt || !m.CreatedAt.Equal(at) || m.Actor == "" {
			t.Errorf("movement %+v", m)
		}
	}
	if len(demo.Locations()) != 2 {
		t.Errorf("locations %v", demo.Locations())
	}
}

func TestSeedSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 1234 // three batches, the last one partial
	if err := demo.Seed(ctx, db, n, now); err != nil {
		t.Fatal(err)
	}
	count, err := db.CountOrders(ctx)
	if err != nil || count != n {
		t.Fatalf("CountOrders = %d, %v; want %d", count, err, n)
	}
	locs, err := db.Locations(ctx)
	if err != nil || len(locs) != len(demo.Locations()) {
		t.Fatalf("Locations = %v, %v", locs, err)
	}
	stock, err := db.Stock(ctx, demo.SKUs())
	if err != nil || len(stock) != len(locs)*len(demo.SKUs()) {
		t.Fatalf("Stock = %d levels, %v", len(stock), err)
	}
	page, err := db.ListOrders(ctx, canceldesk.OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != canceldesk.PageSize || page.Orders[0].Name != "#"+strconv.Itoa(1000+n) {
		t.Fatalf("first page starts with %+v (%d orders)", page.Orders[0], len(page.Orders))
	}
	o, err := db.Order(ctx, page.Orders[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := demo.Orders(n, now, demo.DefaultSeed)[n-1]
	if o.Name != want.Name || o.Total != want.Total || o.Email != want.Email || len(o.LineItems) != len(want.LineItems) ||
		!o.CreatedAt.Equal(want.CreatedAt) || o.FinancialStatus != want.FinancialStatus {
		t.Errorf("stored %+v, generated %+v", o, want)
	}
	events, err := db.Events(ctx, o.ID)
	if err != nil || len(events) != 1 || events[0].Kind != canceldesk.EventImported || events[0].Actor != demo.Actor {
		t.Errorf("Events = %+v, %v", events, err)
	}

	// A second Seed finds orders and changes nothing.
	if err := demo.Seed(ctx, db, n, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if count, err := db.CountOrders(ctx); err != nil || count != n {
		t.Fatalf("after a second Seed CountOrders = %d, %v; want %d", count, err, n)
	}
	again, err := db.Stock(ctx, demo.SKUs())
	if err != nil || !reflect.DeepEqual(again, stock) {
		t.Errorf("a second Seed changed stock: %v, %v", again, err)
	}
}

// Addresses are well formed: Taiwanese postal codes are three digits,
// and no format verb is left in any field.
func TestAddressesWellFormed(t *testing.T) {
	for _, o := range demo.Orders(2000, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), 7) {
		for _, a := range []canceldesk.Address{o.BillingAddress, o.ShippingAddress} {
			for _, f := range []string{a.Name, a.Address1, a.Address2, a.City, a.Zip, a.Province, a.Country, a.Phone} {
				if strings.Contains(f, "%") {
					t.Fatalf("%s: format verb left in %q", o.Name, f)
				}
			}
			if a.Country == "Taiwan" && (len(a.Zip) != 3 || strings.Trim(a.Zip, "0123456789") != "") {
				t.Fatalf("%s: Taiwanese postal code %q", o.Name, a.Zip)
			}
		}
	}
}
