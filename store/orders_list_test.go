package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// The list counts its matches exactly up to the bound and stops there.
func TestListOrdersCount(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		var orders []*canceldesk.Order
		for i := range canceldesk.CountBound + 3 {
			orders = append(orders, newOrder(fmt.Sprintf("#%d", i+1), day(1).Add(time.Duration(i)*time.Second), func(o *canceldesk.Order) {
				if i%1000 == 0 {
					o.CancelledAt, o.CancelReason = ptr(o.CreatedAt.Add(time.Hour)), canceldesk.ReasonCustomer
				}
			}))
		}
		importOrders(t, db, orders...)
		for _, tc := range []struct {
			name string
			f    canceldesk.OrderFilter
			want int
		}{
			{"everything stops one past the bound", canceldesk.OrderFilter{Count: true}, canceldesk.CountBound + 1},
			{"a filter is exact", canceldesk.OrderFilter{Count: true, Status: canceldesk.StatusCancelled}, 11},
			{"a search is exact", canceldesk.OrderFilter{Count: true, Query: "#10002"}, 1},
			{"the cursor does not change the count", canceldesk.OrderFilter{Count: true, Status: canceldesk.StatusCancelled,
				After: &canceldesk.Cursor{CreatedAt: day(1).Add(5000 * time.Second), ID: 1 << 40}}, 11},
			{"a substring search stops one past its bound", canceldesk.OrderFilter{Count: true, Query: "SKU-1"}, canceldesk.SearchCountBound + 1},
			{"a substring search within dates is exact", canceldesk.OrderFilter{Count: true, Query: "sku-1",
				From: day(1), To: day(1).Add(100 * time.Second)}, 100},
			{"a substring search with a filter is exact", canceldesk.OrderFilter{Count: true, Query: "SKU-1",
				Status: canceldesk.StatusCancelled}, 11},
			{"a substring search with a payment filter is exact", canceldesk.OrderFilter{Count: true, Query: "SKU-1",
				Financial: canceldesk.FinancialRefunded}, 0},
			{"not asked, not counted", canceldesk.OrderFilter{Status: canceldesk.StatusCancelled}, 0},
		} {
			if got := listOrders(t, db, tc.f).Count; got != tc.want {
				t.Errorf("%s: Count = %d, want %d", tc.name, got, tc.want)
			}
		}
	})
}

// Going back with Prev gives the same pages as going forward, in the same
// order, with Next and Prev where there is a page to go to.
func TestListOrdersPrevious(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		// Equal times straddle the page boundaries.
		times := []time.Time{day(1), day(2), day(2), day(2), day(3), day(4), day(4), day(5)}
		for i, at := range times {
			importOrders(t, db, newOrder(fmt.Sprintf("#%d", 100+i), at, func(o *canceldesk.Order) { o.LineItems[0].Name = "Widget" }))
		}
		for _, q := range []string{"", "widget"} { // the plain walk and the search's (FTS on SQLite)
			var forward []canceldesk.OrderPage
			f := canceldesk.OrderFilter{Limit: 3, Query: q}
			for {
				page := listOrders(t, db, f)
				forward = append(forward, page)
				if page.Next == nil {
					break
				}
				f.After, f.Before = page.Next, nil
			}
			if len(forward) != 3 || forward[0].Prev != nil {
				t.Fatalf("q=%q: %d pages forward, first Prev %v; want 3 and none", q, len(forward), forward[0].Prev)
			}
			for i := len(forward) - 1; i > 0; i-- {
				if forward[i].Prev == nil {
					t.Fatalf("q=%q: page %d has no Prev", q, i+1)
				}
				back := listOrders(t, db, canceldesk.OrderFilter{Limit: 3, Query: q, Before: forward[i].Prev})
				if !slices.Equal(names(back), names(forward[i-1])) {
					t.Errorf("q=%q: back from page %d = %v, want %v", q, i+1, names(back), names(forward[i-1]))
				}
				if back.Next == nil || (i-1 > 0) != (back.Prev != nil) {
					t.Errorf("q=%q: back to page %d: Next %v, Prev %v", q, i, back.Next, back.Prev)
				}
			}
		}
	})
}

// A cancelled order still owed money says how much; one refunded in full,
// or open, owes nothing.
func TestListOrdersRefundOwed(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		cancelled := func(refunded int64, fin canceldesk.FinancialStatus) func(*canceldesk.Order) {
			return func(o *canceldesk.Order) {
				o.CancelledAt, o.CancelReason = ptr(o.CreatedAt.Add(time.Hour)), canceldesk.ReasonCustomer
				o.RefundedAmount, o.FinancialStatus = refunded, fin
			}
		}
		importOrders(t, db,
			newOrder("#later", day(1), cancelled(0, canceldesk.FinancialPaid)),
			newOrder("#part", day(2), cancelled(300, canceldesk.FinancialPartiallyRefunded)),
			newOrder("#done", day(3), cancelled(1000, canceldesk.FinancialRefunded)),
			newOrder("#open", day(4)),
		)
		owed := map[string]int64{}
		for _, s := range listOrders(t, db, canceldesk.OrderFilter{}).Orders {
			owed[s.Name] = s.RefundOwed
		}
		want := map[string]int64{"#later": 1000, "#part": 700, "#done": 0, "#open": 0}
		for name, w := range want {
			if owed[name] != w {
				t.Errorf("%s: RefundOwed = %d, want %d", name, owed[name], w)
			}
		}
	})
}
