package shopify_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/shopifytest"
	"github.com/canceldesk/canceldesk/shopify"
)

func TestMapOrderFieldByField(t *testing.T) {
	srv := shopifytest.New(t)
	id := srv.AddOrder(shopifytest.OrderSpec{
		Currency: "JPY", TaxRate: 10, Discount: "1000", Shipping: "800",
		Lines: []shopifytest.LineSpec{
			{Name: "Matcha tin", SKU: "MATCHA", Quantity: 3, Price: "2400", Fulfilled: 1},
			{Name: "Whisk", SKU: "WHISK", Quantity: 1, Price: "3200"},
		},
		Email: "hana@example.jp", Risk: "HIGH", Location: "Osaka store",
		Tags: []string{"vip", "gift"}, Note: "Gift wrap", SourceName: "pos",
	})
	node := srv.Order(id)
	c, _ := newClient(t, srv)
	o, err := c.Order(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	// Subtotal 3×2400 + 3200 = 10400, less 1000 discount = 9400; tax 10%
	// of that 940; total 9400 + 800 + 940 = 11140. Yen have no decimals:
	// Shopify writes "11140.0", which is 11140 minor units.
	if node.TotalPriceSet.ShopMoney.Amount != "11140.0" {
		t.Fatalf("the stand-in wrote %q", node.TotalPriceSet.ShopMoney.Amount)
	}
	created := node.CreatedAt.UTC()
	want := &canceldesk.Order{
		ExternalID: id, Name: node.Name, Email: "hana@example.jp", Currency: "JPY",
		Subtotal: 9400, Shipping: 800, Taxes: 940, Discounts: 1000, Total: 11140,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentPartial,
		PaymentMethod: "shopify_payments", PaymentReference: node.Transactions[0].ID, PaidAt: &created,
		BillingAddress: canceldesk.Address{Name: "Ada Lovelace", Address1: "12 Market Street", City: "Springfield",
			Zip: "12345", Province: "IL", Country: "United States", Phone: "+1 555 0100"},
		Notes: "Gift wrap", Tags: []string{"vip", "gift"}, Risk: canceldesk.RiskHigh, Source: "pos",
		Location: "Osaka store", LocationExternalID: node.FulfillmentOrders.Nodes[0].AssignedLocation.Location.ID, ShopifyUpdatedAt: &created, CreatedAt: created, UpdatedAt: created,
		LineItems: []canceldesk.LineItem{
			{Position: 1, Name: "Matcha tin", SKU: "MATCHA", Quantity: 3, Price: 2400, FulfilledQuantity: 1, ExternalID: node.LineItems.Nodes[0].ID},
			{Position: 2, Name: "Whisk", SKU: "WHISK", Quantity: 1, Price: 3200, FulfilledQuantity: 0, ExternalID: node.LineItems.Nodes[1].ID},
		},
	}
	want.ShippingAddress = want.BillingAddress
	if !reflect.DeepEqual(o, want) {
		g, _ := json.MarshalIndent(o, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("mapped\n%s\nwant\n%s", g, w)
	}
}

// node is an order as the API returns it, for the table tests.
func node(mod func(n *shopify.OrderNode)) *shopify.OrderNode {
	usd := func(s string) shopify.MoneyBag {
		return shopify.MoneyBag{ShopMoney: shopify.MoneyV2{Amount: s, CurrencyCode: "USD"}}
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("EST", -5*3600))
	n := &shopify.OrderNode{
		ID: "gid://shopify/Order/77", LegacyResourceID: "77", Name: "#1077", CurrencyCode: "USD",
		SubtotalPriceSet: usd("100.5"), TotalPriceSet: usd("100.50"), TotalRefundedSet: usd("0.00"),
		DisplayFinancialStatus: "PAID", DisplayFulfillmentStatus: "UNFULFILLED",
		ProcessedAt: at, CreatedAt: at, UpdatedAt: at,
	}
	if mod != nil {
		mod(n)
	}
	return n
}

func TestMapOrderStatusesAndMoney(t *testing.T) {
	o, err := shopify.MapOrder(node(nil))
	if err != nil {
		t.Fatal(err)
	}
	if o.Subtotal != 10050 || o.Total != 10050 || o.Currency != "USD" {
		t.Errorf("money: subtotal %d total %d %s", o.Subtotal, o.Total, o.Currency)
	}
	if o.CreatedAt.Location() != time.UTC || o.ShopifyUpdatedAt.Location() != time.UTC || o.CreatedAt.Hour() != 15 {
		t.Errorf("times not in UTC: %v", o.CreatedAt)
	}
	if o.PaidAt == nil || !o.PaidAt.Equal(o.CreatedAt) {
		t.Errorf("a paid order without a sale is paid when processed: %v", o.PaidAt)
	}
	for display, want := range map[string]canceldesk.FinancialStatus{
		"PAID": canceldesk.FinancialPaid, "AUTHORIZED": canceldesk.FinancialAuthorized,
		"PARTIALLY_PAID": canceldesk.FinancialPartiallyPaid, "PARTIALLY_REFUNDED": canceldesk.FinancialPartiallyRefunded,
		"REFUNDED": canceldesk.FinancialRefunded, "VOIDED": canceldesk.FinancialVoided,
		"PENDING": canceldesk.FinancialPending, "EXPIRED": canceldesk.FinancialPending, "SOMETHING_NEW": canceldesk.FinancialPending,
	} {
		o, err := shopify.MapOrder(node(func(n *shopify.OrderNode) { n.DisplayFinancialStatus = display }))
		if err != nil || o.FinancialStatus != want {
			t.Errorf("%s → %q, %v; want %q", display, o.FinancialStatus, err, want)
		}
	}
	for display, want := range map[string]canceldesk.FulfillmentStatus{
		"FULFILLED": canceldesk.FulfillmentFulfilled, "PARTIALLY_FULFILLED": canceldesk.FulfillmentPartial,
		"UNFULFILLED": canceldesk.FulfillmentUnfulfilled, "ON_HOLD": canceldesk.FulfillmentUnfulfilled,
	} {
		o, _ := shopify.MapOrder(node(func(n *shopify.OrderNode) { n.DisplayFulfillmentStatus = display }))
		if o.FulfillmentStatus != want {
			t.Errorf("%s → %q, want %q", display, o.FulfillmentStatus, want)
		}
	}
	for reason, want := range map[string]canceldesk.CancelReason{
		"CUSTOMER": canceldesk.ReasonCustomer, "FRAUD": canceldesk.ReasonFraud, "DECLINED": canceldesk.ReasonDeclined,
		"INVENTORY": canceldesk.ReasonInventory, "STAFF": canceldesk.ReasonStaff, "OTHER": canceldesk.ReasonOther, "": canceldesk.ReasonOther,
	} {
		at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		o, _ := shopify.MapOrder(node(func(n *shopify.OrderNode) { n.CancelledAt, n.CancelReason = &at, reason }))
		if !o.Cancelled() || o.CancelReason != want {
			t.Errorf("cancel reason %q → %q, want %q", reason, o.CancelReason, want)
		}
	}
}

func TestMapOrderPaymentAndLines(t *testing.T) {
	sale := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	o, err := shopify.MapOrder(node(func(n *shopify.OrderNode) {
		n.DisplayFulfillmentStatus = "PARTIALLY_FULFILLED"
		n.PaymentGatewayNames = []string{"paypal", "gift_card"}
		n.Transactions = []shopify.TransactionNode{
			{ID: "gid://shopify/OrderTransaction/1", Kind: "AUTHORIZATION", Status: "SUCCESS"},
			{ID: "gid://shopify/OrderTransaction/2", Kind: "CAPTURE", Status: "FAILURE"},
			{ID: "gid://shopify/OrderTransaction/3", Kind: "CAPTURE", Status: "SUCCESS", ProcessedAt: &sale},
		}
		n.TotalRefundedSet.ShopMoney.Amount = "20.25"
		n.LineItems.Nodes = []shopify.LineItemNode{
			{ID: "gid://shopify/LineItem/1", Quantity: 4, UnfulfilledQuantity: 1,
				OriginalUnitPriceSet: shopify.MoneyBag{ShopMoney: shopify.MoneyV2{Amount: "9.99", CurrencyCode: "USD"}}},
			{ID: "gid://shopify/LineItem/2", Quantity: 2, UnfulfilledQuantity: 5}, // more than ordered: none shipped
		}
		n.Risk = &shopify.RiskSummary{Recommendation: "INVESTIGATE"}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if o.PaymentMethod != "paypal" || o.PaymentReference != "gid://shopify/OrderTransaction/3" || !o.PaidAt.Equal(sale) {
		t.Errorf("payment %q %q %v", o.PaymentMethod, o.PaymentReference, o.PaidAt)
	}
	if o.RefundedAmount != 2025 || o.RefundedSucceeded != 2025 {
		t.Errorf("refunded %d/%d, want 2025", o.RefundedAmount, o.RefundedSucceeded)
	}
	if o.LineItems[0].Price != 999 || o.LineItems[0].FulfilledQuantity != 3 || o.LineItems[1].FulfilledQuantity != 0 {
		t.Errorf("lines %+v", o.LineItems)
	}
	if o.Risk != canceldesk.RiskMedium {
		t.Errorf("risk %q, want medium from INVESTIGATE", o.Risk)
	}

	// A cancelled order whose unshipped units were restocked: nothing
	// shipped, whatever unfulfilledQuantity says of the removed units.
	restocked, err := shopify.MapOrder(node(func(n *shopify.OrderNode) {
		n.DisplayFulfillmentStatus = "RESTOCKED"
		n.LineItems.Nodes = []shopify.LineItemNode{{ID: "gid://shopify/LineItem/9", Quantity: 3, UnfulfilledQuantity: 0}}
	}))
	if err != nil || restocked.LineItems[0].FulfilledQuantity != 0 {
		t.Errorf("a restocked order ships %d units, %v", restocked.LineItems[0].FulfilledQuantity, err)
	}

	for name, mod := range map[string]func(n *shopify.OrderNode){
		"no id":             func(n *shopify.OrderNode) { n.ID, n.LegacyResourceID = "", "" },
		"float-like amount": func(n *shopify.OrderNode) { n.TotalPriceSet.ShopMoney.Amount = "1e3" },
		"too many decimals": func(n *shopify.OrderNode) { n.TotalPriceSet.ShopMoney.Amount = "1.005" },
		"another currency":  func(n *shopify.OrderNode) { n.TotalPriceSet.ShopMoney.CurrencyCode = "EUR" },
		"yen with decimals": func(n *shopify.OrderNode) {
			n.CurrencyCode = "JPY"
			n.TotalPriceSet = shopify.MoneyBag{ShopMoney: shopify.MoneyV2{Amount: "10.5"}}
		},
		"bad line price": func(n *shopify.OrderNode) {
			n.LineItems.Nodes = []shopify.LineItemNode{{OriginalUnitPriceSet: shopify.MoneyBag{ShopMoney: shopify.MoneyV2{Amount: "x"}}}}
		},
	} {
		if _, err := shopify.MapOrder(node(mod)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestGIDs(t *testing.T) {
	if got := shopify.OrderGID("42"); got != "gid://shopify/Order/42" {
		t.Error(got)
	}
	if got := shopify.OrderGID("gid://shopify/Order/42"); got != "gid://shopify/Order/42" {
		t.Error(got)
	}
	if got := shopify.LocationGID("7"); got != "gid://shopify/Location/7" {
		t.Error(got)
	}
	if got := shopify.LegacyID("gid://shopify/Order/42"); got != "42" {
		t.Error(got)
	}
	if got := shopify.LegacyID("gid://shopify/Order/"); got != "" {
		t.Error(got)
	}
}

// FuzzMapOrder: whatever JSON an order arrives as, mapping it never panics,
// and a mapped order's lines ship between none and all of their units.
func FuzzMapOrder(f *testing.F) {
	seed, _ := json.Marshal(node(func(n *shopify.OrderNode) {
		n.LineItems.Nodes = []shopify.LineItemNode{{ID: "gid://shopify/LineItem/1", Quantity: 2, UnfulfilledQuantity: 1,
			OriginalUnitPriceSet: shopify.MoneyBag{ShopMoney: shopify.MoneyV2{Amount: "3.50", CurrencyCode: "USD"}}}}
	}))
	f.Add(seed)
	f.Add([]byte(`{"legacyResourceId":"1","currencyCode":"JPY","totalPriceSet":{"shopMoney":{"amount":"1500.0","currencyCode":"JPY"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n shopify.OrderNode
		if json.Unmarshal(data, &n) != nil {
			return
		}
		o, err := shopify.MapOrder(&n)
		if err != nil {
			return
		}
		if o.ExternalID == "" || o.ShopifyUpdatedAt == nil {
			t.Fatalf("mapped without an id or updatedAt: %+v", o)
		}
		for _, li := range o.LineItems {
			if li.FulfilledQuantity < 0 || (li.Quantity >= 0 && li.FulfilledQuantity > li.Quantity) {
				t.Fatalf("line %+v ships %d of %d", li, li.FulfilledQuantity, li.Quantity)
			}
		}
	})
}

// TestMapOrderCustomerLocale: Shopify's customerLocale becomes the order's
// language as a CSV's "Customer Locale" does: one the app speaks, else none.
func TestMapOrderCustomerLocale(t *testing.T) {
	srv := shopifytest.New(t)
	c, _ := newClient(t, srv)
	for locale, want := range map[string]string{"zh-TW": "zh-TW", "zh-Hant-TW": "zh-TW", "EN-gb": "en", "en": "en",
		"fr-FR": "", "": ""} {
		id := srv.AddOrder(shopifytest.OrderSpec{CustomerLocale: locale})
		o, err := c.Order(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if o.Locale != want {
			t.Errorf("customerLocale %q: Locale %q, want %q", locale, o.Locale, want)
		}
	}
	if q := srv.Requests("order"); len(q) == 0 || !strings.Contains(q[0].Query, "customerLocale") {
		t.Error("the order query does not ask for customerLocale")
	}
}
