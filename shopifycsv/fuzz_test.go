package shopifycsv

import (
	"flag"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
)

// FuzzParse checks that Parse never panics and that what it returns keeps
// its promises, whatever the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		shopifyExport,
		excel(shopifyExport),
		strings.ReplaceAll(shopifyExport, "\n", "\r"),
		mini(good1, first3001, "Saucer,#3001,2.00,two,,,,,,,,", good2),
		mini(good1, first3001, `Saucer 6" wide,#3001,2.00,1,,,,,,,,`, later3001, good2),
		mini(good1, `Saucer,#3001,"2.00,1,,,,,,,,`, "Scone,#2001,1.00,1,,,,,,,,"),
		mini(good1, first3001, "Saucer,,2.00,1,,,,,,,,", good2, ",,,,,,Total,,,,,"),
		mini("\"Tea,\nwith a two-line name\",#2001,4.50,1,2026-03-01 09:00,USD,,,,,,", "", "Pie,#2003,3.00,x,2026-03-01 09:00,JPY,,,,,,"),
		mini(good1, "Scone,#2001,1.25,2,,EUR,,,,,,fulfilled", good2),
		"Name,Created at,Lineitem quantity,Lineitem name,Lineitem price,Notes,Billing Name\n" +
			"\"<b>#1</b>\",2026-03-01 09:00,1,<script>x</script>,1.00,\"=HYPERLINK(\"\"http://x\"\")\",Caf\xe9\x00\n",
		"Name;Lineitem quantity;Lineitem name;Lineitem price\n",
		"",
	} {
		if fuzzing() && len(s) > 1024 {
			continue
		}
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Parse(strings.NewReader(string(data)), Options{})
		if err != nil {
			if canceldesk.ErrorCode(err) != canceldesk.EINVALID || !utf8.ValidString(canceldesk.ErrorMessage(err)) {
				t.Fatalf("whole-file error %v is not a valid EINVALID error", err)
			}
			return
		}
		if res.SkippedRows < 0 || res.SkippedRows > res.Rows {
			t.Fatalf("SkippedRows %d, Rows %d", res.SkippedRows, res.Rows)
		}
		if res.SkippedRows > 0 && len(res.Errors) == 0 {
			t.Fatalf("%d rows skipped without an error", res.SkippedRows)
		}
		// The count of skipped rows and the rows listed agree.
		listed := map[int]bool{}
		for _, e := range res.Errors {
			for _, r := range e.Rows {
				listed[r] = true
			}
		}
		if len(listed) != res.SkippedRows {
			t.Fatalf("%d rows skipped, %d rows listed: %v", res.SkippedRows, len(listed), res.Errors)
		}
		lines := 0
		names := map[string]bool{}
		for _, o := range res.Orders {
			if len(o.LineItems) == 0 || len(o.LineItems) > MaxLineItems {
				t.Fatalf("order %q has %d line items", o.Name, len(o.LineItems))
			}
			if o.Name == "" || names[o.Name] {
				t.Fatalf("order name %q empty or repeated", o.Name)
			}
			names[o.Name] = true
			if len(o.Currency) != 3 || o.Currency != strings.ToUpper(o.Currency) {
				t.Fatalf("order %q currency %q", o.Name, o.Currency)
			}
			if o.CreatedAt.IsZero() || o.CreatedAt.Location().String() != "UTC" {
				t.Fatalf("order %q CreatedAt %v", o.Name, o.CreatedAt)
			}
			if !o.FinancialStatus.Valid() || !o.FulfillmentStatus.Valid() {
				t.Fatalf("order %q statuses %q, %q", o.Name, o.FinancialStatus, o.FulfillmentStatus)
			}
			if o.Subtotal < 0 || o.Shipping < 0 || o.Taxes < 0 || o.Discounts < 0 || o.Total < 0 || o.RefundedAmount < 0 {
				t.Fatalf("order %q has a negative amount", o.Name)
			}
			strs := append([]string{o.ExternalID, o.Name, o.Email, o.Currency, o.PaymentMethod, o.Notes, o.Source, string(o.Risk)},
				append(o.BillingAddress.Lines(), o.ShippingAddress.Lines()...)...)
			strs = append(strs, o.Tags...)
			for i, li := range o.LineItems {
				lines++
				if li.Quantity <= 0 || li.Quantity > MaxQuantity || li.Price < 0 {
					t.Fatalf("order %q line %d: quantity %d, price %d", o.Name, i+1, li.Quantity, li.Price)
				}
				if li.Position != i+1 || li.FulfilledQuantity < 0 || li.FulfilledQuantity > li.Quantity {
					t.Fatalf("order %q line %d: position %d, fulfilled %d of %d", o.Name, i+1, li.Position, li.FulfilledQuantity, li.Quantity)
				}
				strs = append(strs, li.Name, li.SKU)
			}
			for _, s := range strs {
				if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > MaxFieldBytes {
					t.Fatalf("order %q holds %q: invalid UTF-8, NUL or too long", o.Name, s)
				}
			}
		}
		if lines+res.SkippedRows != res.Rows {
			t.Fatalf("%d lines imported + %d skipped != %d rows", lines, res.SkippedRows, res.Rows)
		}
		last := 0
		for _, e := range res.Errors {
			if e.Row < 2 || e.Row < last || e.Reason == "" || !utf8.ValidString(e.Error()) {
				t.Fatalf("bad error %+v after row %d", e, last)
			}
			last = e.Row
		}
	})
}

// fuzzing reports whether the test binary runs with -test.fuzz. The fuzzer
// minimizes every new input it finds for up to a minute, in time quadratic
// in the input's size, so a 30-second run seeded with the 6 KB export would
// do nothing else; while fuzzing only the small seeds are used. Plain go
// test still runs every seed.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}
