package store_test

import (
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// A message keeps the key of the template it was written from: the
// reason's variant when there is one, else the kind's own.
func TestMessageKeepsItsTemplate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		loc := stockedLocation(t, db)
		stock, staff := cancelOrder("#stock"), cancelOrder("#staff")
		importOrders(t, db, stock, staff)
		if _, err := db.CancelOrder(ctx(t), cancelReq(stock, loc, cancelKey(1))); err != nil {
			t.Fatal(err)
		}
		req := cancelReq(staff, loc, cancelKey(2))
		req.Reason = canceldesk.ReasonStaff // no template of its own by default
		if _, err := db.CancelOrder(ctx(t), req); err != nil {
			t.Fatal(err)
		}
		ms, err := db.Messages(ctx(t), "", 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, m := range ms {
			got[m.OrderName] = m.Template
		}
		if got["#stock"] != "order_cancelled.inventory" || got["#staff"] != "order_cancelled" {
			t.Errorf("templates = %v; want the out-of-stock variant and the kind's own", got)
		}
	})
}
