package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// Each kind of term finds the orders it found before: order numbers and
// whole emails through their exact indexes when they name orders (and as
// substrings when they do not), fragments through the trigram index.
func TestSearchKinds(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		searchFixture(t, db)
		importOrders(t, db,
			newOrder("#10031", day(11), func(o *canceldesk.Order) { o.Email = "Mixed.Case@Example.net" }),
			newOrder("#2001", day(12), func(o *canceldesk.Order) { o.Email = "ken@example.org" }),
		)
		for _, tc := range []struct {
			name, query string
			want        []string
		}{
			{"order number names its order, not longer numbers", "#1003", []string{"#1003"}},
			{"order number without hash", "1003", []string{"#1003"}},
			{"digits that name no order are a substring", "100", []string{"#10031", "#1008", "#1007", "#1006", "#1005", "#1004", "#1003", "#1002", "#1001"}},
			{"longer order number", "10031", []string{"#10031"}},
			{"whole email names every order with it", "ken@example.org", []string{"#2001", "#1002"}},
			{"whole email ignores case", "KEN@EXAMPLE.ORG", []string{"#2001", "#1002"}},
			{"whole email stored in capitals, typed as stored", "Mixed.Case@Example.net", []string{"#10031"}},
			{"whole email stored in capitals, typed in small letters", "mixed.case@example.net", []string{"#10031"}},
			{"whole email of no order is a substring", "obrien@example.com", []string{"#1001"}},
			{"email fragment", "olivia.obr", []string{"#1001"}},
			{"name fragment", "watanab", []string{"#1002"}},
			{"nothing", "nobody@example.net", []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page := listOrders(t, db, canceldesk.OrderFilter{Query: tc.query, Count: true})
				if !slices.Equal(names(page), tc.want) {
					t.Errorf("search %q = %v, want %v", tc.query, names(page), tc.want)
				}
				if page.Count != len(tc.want) {
					t.Errorf("search %q: count %d, want %d", tc.query, page.Count, len(tc.want))
				}
			})
		}
	})
}

// On PostgreSQL a search walks the newest orders first and turns to the
// trigram index for the rest: a common term, a rare one past the walk and
// one between read the same orders in the same order, page by page, on
// both databases.
func TestSearchProbeThenIndex(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		store.SetProbeRows(t, 40)
		const n = 300
		var orders []*canceldesk.Order
		var common, tenth, rare []string
		for i := range n {
			name := fmt.Sprintf("#%d", 5000+i)
			orders = append(orders, newOrder(name, fixedNow.Add(-time.Duration(i)*time.Minute), func(o *canceldesk.Order) {
				o.Email = fmt.Sprintf("buyer%d@example.com", i)
				o.LineItems[0].Name = "Stoneware plate"
				if i%10 == 3 {
					o.LineItems[0].Name = "Stoneware teapot"
				}
				if i == 250 || i == 260 {
					o.LineItems[0].Name = "Quartz teapot"
				}
			}))
			if i != 250 && i != 260 {
				common = append(common, name)
			}
			if i%10 == 3 || i == 250 || i == 260 {
				tenth = append(tenth, name)
			}
			if i == 250 || i == 260 {
				rare = append(rare, name)
			}
		}
		importOrders(t, db, orders...)
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"stoneware", common},
			{"teapot", tenth},
			{"quartz", rare},
		} {
			t.Run(tc.query, func(t *testing.T) {
				page := listOrders(t, db, canceldesk.OrderFilter{Query: tc.query, Count: true})
				if want := tc.want[:min(len(tc.want), canceldesk.PageSize)]; !slices.Equal(names(page), want) {
					t.Errorf("first page = %v, want %v", names(page), want)
				}
				if page.Count != len(tc.want) {
					t.Errorf("count = %d, want %d", page.Count, len(tc.want))
				}
				var got []string
				f := canceldesk.OrderFilter{Query: tc.query, Limit: 7}
				for range n {
					page := listOrders(t, db, f)
					got = append(got, names(page)...)
					if page.Next == nil {
						break
					}
					f.After = page.Next
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("paging by 7 read %d orders, want %d: %v", len(got), len(tc.want), got)
				}
			})
		}
	})
}

// A long term is narrowed by its disjoint trigrams, then checked whole:
// an order holding every one of them apart ("abc" in its email, "def" in
// a SKU) does not match "abcdef"; one holding the term does, in any field
// and any case, accents included.
func TestSearchLongTermsWhole(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		importOrders(t, db,
			newOrder("#2001", day(1), func(o *canceldesk.Order) {
				o.Email = "abcxyz@example.com"
				o.LineItems[0].SKU = "DEF-1"
			}),
			newOrder("#2002", day(2), func(o *canceldesk.Order) { o.BillingAddress.Name = "Xabcdefx Person" }),
			newOrder("#2003", day(3), func(o *canceldesk.Order) { o.LineItems[0].Name = "Vase ABCDEF edition" }),
			newOrder("#2004", day(4), func(o *canceldesk.Order) { o.BillingAddress.Name = "Zoé Lefèvre" }),
		)
		for _, tc := range []struct {
			term string
			want []string
		}{
			{"abcdef", []string{"#2003", "#2002"}},
			{"ABCDEFX", []string{"#2002"}},
			{"LEFÈVRE", []string{"#2004"}},
			{"zoé lef", []string{"#2004"}},
			{"abcxyz@exa", []string{"#2001"}},
			{"cxyz@example.comdef", []string{}},
		} {
			got := names(listOrders(t, db, canceldesk.OrderFilter{Query: tc.term}))
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("search %q = %v, want %v", tc.term, got, tc.want)
			}
		}
	})
}
