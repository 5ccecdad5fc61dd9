package shopifycsv

import "testing"

// TestParseCustomerLocale: an export with the customer's locale (as
// "Customer Locale" or "Locale", in any spelling of the tag) gives each
// order the language its customer is written to in; an unknown or absent
// one leaves it to the store's default.
func TestParseCustomerLocale(t *testing.T) {
	for _, header := range []string{"Customer Locale", "locale"} {
		csv := "Name,Created at,Lineitem name,Lineitem price,Lineitem quantity," + header + "\n" +
			"#1,2026-03-01 09:00,Tea,1.00,1,zh_TW\n" +
			"#2,2026-03-01 09:00,Tea,1.00,1,en-US\n" +
			"#3,2026-03-01 09:00,Tea,1.00,1,fr\n" +
			"#4,2026-03-01 09:00,Tea,1.00,1,\n"
		res := parse(t, csv, Options{DefaultCurrency: "USD"})
		if len(res.Errors) > 0 {
			t.Fatalf("%s: errors %q", header, errorStrings(res.Errors))
		}
		want := map[string]string{"#1": "zh-TW", "#2": "en", "#3": "", "#4": ""}
		if len(res.Orders) != len(want) {
			t.Fatalf("%s: %d orders", header, len(res.Orders))
		}
		for _, o := range res.Orders {
			if o.Locale != want[o.Name] {
				t.Errorf("%s: order %s locale %q, want %q", header, o.Name, o.Locale, want[o.Name])
			}
		}
	}
}
