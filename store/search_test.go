package store_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// searchFixture imports orders whose data holds the characters search must
// treat as plain text, plus decoys that would match if they were not.
func searchFixture(t *testing.T, db *store.DB) {
	t.Helper()
	type line struct{ name, sku string }
	mk := func(name string, d int, email, billing, shipping string, lines ...line) *canceldesk.Order {
		return newOrder(name, day(d), func(o *canceldesk.Order) {
			o.Email = email
			o.BillingAddress.Name = billing
			o.ShippingAddress.Name = shipping
			o.LineItems = nil
			for _, l := range lines {
				o.LineItems = append(o.LineItems, canceldesk.LineItem{Name: l.name, SKU: l.sku, Quantity: 1, Price: 100})
			}
		})
	}
	importOrders(t, db,
		mk("#1001", 1, "olivia.obrien@example.com", "Olivia O'Brien", "Someone Else", line{"Linen Shirt", "LS-RED-M"}),
		mk("#1002", 2, "ken@example.org", "", "Kenji Watanabe", line{"Coffee Mug", "MUG-01"}, line{"Sale 50%_off voucher", "VOUCH-50"}),
		mk("#1003", 3, "pat@example.net", "Pat Smith", "", line{`Cable a\b adapter`, "CBL-AB"}),
		mk("#1004", 4, "sam@example.net", "Sam Jones", "", line{`Card: say "hi"`, "CARD-HI"}),
		mk("#1005", 5, "lee@example.net", "Lee Park", "", line{"<b>Bold</b> Tee", "TEE-B"}),
		mk("#1006", 6, "liam@example.com", "Liam OBrien", "", line{"Wool Socks", "WS-1"}),
		// Decoys: "50%Xoff" matches 50%_off if % or _ are wildcards; "Fab
		// Lab" has "ab", which a\b matches if \ escapes; "say hi" and
		// "b Bold" lack the quotes and the tag.
		mk("#1007", 7, "decoy@example.com", "Dee Coy", "", line{"Promo 50%Xoff", "50-OFF"}, line{"Fab Lab kit", "FAB"},
			line{"Mug that says hi", "SAY-HI"}, line{"b Bold b", "BB"}),
		mk("#1008", 8, "creme@example.fr", "Zoé Lefèvre", "", line{"Crème Brûlée Éclair", "CBE-1"}),
		mk("#7", 9, "seven@example.com", "Sven Sevensen", "", line{"Plain Tee", "TEE-P"}),
		mk("#77", 10, "x@example.com", "Xavier", "", line{"Plain Tee", "TEE-P"}),
	)
}

func TestSearch(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		searchFixture(t, db)
		all := []string{"#77", "#7", "#1008", "#1007", "#1006", "#1005", "#1004", "#1003", "#1002", "#1001"}
		if page := listOrders(t, db, canceldesk.OrderFilter{}); !slices.Equal(names(page), all) {
			t.Fatalf("fixture = %v, want %v", names(page), all)
		}
		before := countOrders(t, db)

		for _, tc := range []struct {
			name, query string
			want        []string
		}{
			{"email substring", "obrien@exa", []string{"#1001"}},
			{"email ignores case", "OLIVIA.OBRIEN@EXAMPLE.COM", []string{"#1001"}},
			{"email domain", "example.org", []string{"#1002"}},
			{"billing name", "olivia o'brien", []string{"#1001"}},
			{"shipping name when there is no billing name", "WATANABE", []string{"#1002"}},
			{"product name", "linen sh", []string{"#1001"}},
			{"product name of a second line", "coffee", []string{"#1002"}},
			{"sku", "ls-red", []string{"#1001"}},
			{"sku ignores case", "Mug-01", []string{"#1002"}},
			{"substring across several orders", "obrien", []string{"#1006", "#1001"}},
			{"non-ascii ignores case", "BRÛLÉE ÉCLAIR", []string{"#1008"}},
			{"non-ascii name", "zoé", []string{"#1008"}},
			{"order number with hash", "#1003", []string{"#1003"}},
			{"order number without hash", "1003", []string{"#1003"}},
			{"part of order numbers", "100", []string{"#1008", "#1007", "#1006", "#1005", "#1004", "#1003", "#1002", "#1001"}},
			{"one digit is an exact order number", "7", []string{"#7"}},
			{"hash and one digit is an exact order number", "#7", []string{"#7"}},
			{"two digits are an exact order number", "77", []string{"#77"}},
			{"three characters are a substring", "#77", []string{"#77"}},
			{"short query with no such order number", "1", []string{}},
			{"short text is not a substring search", "ob", []string{}},
			{"apostrophe", "O'Brien", []string{"#1001"}},
			{"percent and underscore", "50%_off", []string{"#1002"}},
			{"percent alone", "%%%", []string{}},
			{"underscores alone", "___", []string{}},
			{"backslash", `a\b`, []string{"#1003"}},
			{"backslashes alone", `\\\`, []string{}},
			{"double quotes", `say "hi"`, []string{"#1004"}},
			{"a lone double quote", `"`, []string{}},
			{"unbalanced double quote", `"hi`, []string{"#1004"}},
			{"double quotes alone", `"""`, []string{}},
			{"html", "<b>", []string{"#1005"}},
			{"html closing tag", "</b> tee", []string{"#1005"}},
			{"sql injection", "' OR 1=1 --", []string{}},
			{"sql injection with a statement", "'; DROP TABLE orders; --", []string{}},
			{"sql injection with quotes", `" OR ""="`, []string{}},
			{"fts syntax", "linen OR socks", []string{}},
			{"fts column filter", "doc: linen", []string{}},
			{"fts prefix star", "line*", []string{}},
			{"like wildcards around text", "%linen%", []string{}},
			{"nothing matches", "zzzzzz", []string{}},
			{"longest query", strings.Repeat("x", canceldesk.MaxQueryLen), []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := db.ListOrders(ctx(t), canceldesk.OrderFilter{Query: tc.query})
				if err != nil {
					t.Fatalf("ListOrders(%q): %v", tc.query, err)
				}
				if !slices.Equal(names(page), tc.want) {
					t.Errorf("search %q = %v, want %v", tc.query, names(page), tc.want)
				}
				if page.Next != nil {
					t.Errorf("search %q: Next = %v, want nil", tc.query, page.Next)
				}
			})
		}

		t.Run("injection changes nothing", func(t *testing.T) {
			if n := countOrders(t, db); n != before {
				t.Errorf("CountOrders = %d after the searches, want %d", n, before)
			}
		})

		t.Run("search results page by keyset", func(t *testing.T) {
			want := []string{"#1008", "#1007", "#1006", "#1005", "#1004", "#1003", "#1002", "#1001"}
			var got []string
			var sizes []int
			f := canceldesk.OrderFilter{Query: "100", Limit: 3}
			for range 10 {
				page := listOrders(t, db, f)
				sizes = append(sizes, len(page.Orders))
				got = append(got, names(page)...)
				if page.Next == nil {
					break
				}
				f.After = page.Next
			}
			if !slices.Equal(sizes, []int{3, 3, 2}) || !slices.Equal(got, want) {
				t.Errorf("page sizes %v = %v; want sizes [3 3 2] and %v", sizes, got, want)
			}
		})
	})
}

// explain returns the plan of the list query for f, one line per step.
func explain(t *testing.T, db *store.DB, raw *sql.DB, f canceldesk.OrderFilter) string {
	t.Helper()
	q, args := db.ListQuery(f)
	return explainQuery(t, db, raw, q, args)
}

func explainQuery(t *testing.T, db *store.DB, raw *sql.DB, q string, args []any) string {
	t.Helper()
	prefix, detailCol := "EXPLAIN ", 0
	if db.Dialect() == "sqlite" {
		// Columns: id, parent, notused, detail.
		prefix, detailCol = "EXPLAIN QUERY PLAN ", 3
	}
	rows, err := raw.QueryContext(ctx(t), prefix+q, args...)
	if err != nil {
		t.Fatalf("%s%s: %v", prefix, q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, fmt.Sprint(vals[detailCol]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

func TestSearchUsesIndex(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		// Enough orders that PostgreSQL's planner prefers an index to a
		// scan; one of them holds a rare product.
		const n = 2000
		orders := make([]*canceldesk.Order, 0, n)
		for i := range n {
			orders = append(orders, newOrder(fmt.Sprintf("#%d", 10000+i), fixedNow.Add(-time.Duration(i)*time.Minute), func(o *canceldesk.Order) {
				o.Email = fmt.Sprintf("customer%d@example.com", i)
				o.BillingAddress.Name = fmt.Sprintf("Customer %d", i)
				o.LineItems[0].Name = fmt.Sprintf("Widget model %d", i%50)
				o.LineItems[0].SKU = fmt.Sprintf("W-%d", i%50)
				if i == 1234 {
					o.LineItems[0].Name = "Xylophone Quartzite Edition"
				}
			}))
		}
		if _, err := db.ImportOrders(ctx(t), orders, "import"); err != nil {
			t.Fatalf("ImportOrders: %v", err)
		}
		// On PostgreSQL the inserts sit in the GIN index's pending list,
		// which the planner prices as a scan of all of it, until a vacuum
		// (autovacuum in production) merges them; VACUUM does that here.
		stats := "ANALYZE"
		if db.Dialect() == "postgres" {
			stats = "VACUUM ANALYZE orders"
		}
		if _, err := raw.ExecContext(ctx(t), stats); err != nil {
			t.Fatalf("%s: %v", stats, err)
		}

		rare := canceldesk.OrderFilter{Query: "quartzite", Limit: canceldesk.PageSize}
		t.Run("rare term finds its order", func(t *testing.T) {
			if page := listOrders(t, db, rare); !slices.Equal(names(page), []string{"#11234"}) {
				t.Errorf("search %q = %v, want [#11234]", rare.Query, names(page))
			}
		})

		t.Run("plan uses the search index", func(t *testing.T) {
			plan := explain(t, db, raw, rare)
			switch db.Dialect() {
			case "sqlite":
				if !strings.Contains(plan, "order_search") || !strings.Contains(plan, "VIRTUAL TABLE") {
					t.Errorf("plan does not use the FTS table order_search:\n%s", plan)
				}
				if slices.Contains(strings.Split(plan, "\n"), "SCAN o") {
					t.Errorf("plan scans every order:\n%s", plan)
				}
			case "postgres":
				if !strings.Contains(plan, "Index Scan on order_search_doc") {
					t.Errorf("plan does not use the trigram index order_search_doc:\n%s", plan)
				}
			default:
				t.Fatalf("unknown dialect %q", db.Dialect())
			}
		})

		t.Run("a search's count reads the index alone", func(t *testing.T) {
			if db.Dialect() != "sqlite" {
				return // PostgreSQL's count walks orders' own trigram index
			}
			q, args := db.CountQuery(canceldesk.OrderFilter{Query: "widget", From: fixedNow.Add(-time.Hour)})
			plan := explainQuery(t, db, raw, q, args)
			if !strings.Contains(plan, "order_search") || strings.Contains(plan, " o ") || strings.HasSuffix(plan, " o") {
				t.Errorf("the count of a search within dates reads orders:\n%s", plan)
			}
			q, args = db.CountQuery(canceldesk.OrderFilter{Query: "widget", Status: canceldesk.StatusOpen})
			if plan := explainQuery(t, db, raw, q, args); !strings.Contains(plan, "SEARCH o") {
				t.Errorf("the count of a search of open orders does not read their status:\n%s", plan)
			}
		})

		t.Run("plan with filters and cursor still uses the search index", func(t *testing.T) {
			f := rare
			f.Status, f.Financial = canceldesk.StatusOpen, canceldesk.FinancialPaid
			f.After = &canceldesk.Cursor{CreatedAt: fixedNow, ID: 1 << 40}
			plan := explain(t, db, raw, f)
			if want := map[string]string{"sqlite": "order_search", "postgres": "order_search_doc"}[db.Dialect()]; !strings.Contains(plan, want) {
				t.Errorf("plan does not use %s:\n%s", want, plan)
			}
			if page := listOrders(t, db, f); !slices.Equal(names(page), []string{"#11234"}) {
				t.Errorf("search = %v, want [#11234]", names(page))
			}
		})
	})
}
