package store_test

import (
	"database/sql"
	"fmt"
	"reflect"
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// TestEventDataRoundTrips: a cancel, a re-create and a stripe refund write
// their timeline as data (no English message), read back as written on
// SQLite and PostgreSQL; a row from before the data column shows its
// message as is.
func TestEventDataRoundTrips(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		loc := stockedLocation(t, db)
		// cancel imports the order named name and cancels it, as edit says.
		cancel := func(name string, key int, edit func(*canceldesk.CancelRequest)) *canceldesk.Order {
			o := cancelOrder(name)
			importOrders(t, db, o)
			req := cancelReq(o, loc, cancelKey(key))
			edit(&req)
			if _, err := db.CancelOrder(ctx(t), req); err != nil {
				t.Fatal(err)
			}
			return o
		}
		o := cancel("#4000", 4000, func(r *canceldesk.CancelRequest) { r.ReasonKey = "out_of_stock" })
		n := recreate(t, db, o.ID, recreator)

		events, err := db.Events(ctx(t), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]canceldesk.EventData{}
		for _, e := range events {
			if e.Message != "" {
				t.Errorf("%s event stores English: %q", e.Kind, e.Message)
			}
			got[e.Kind] = e.Data
		}
		refund := got[canceldesk.EventRefund]
		want := map[string]canceldesk.EventData{
			canceldesk.EventImported:  {},
			canceldesk.EventCancelled: {Reason: string(canceldesk.ReasonInventory), ReasonOption: "out_of_stock", Note: "Supplier <b>late</b>"},
			canceldesk.EventRefund: {Amount: 3050, Currency: "USD", RefundID: refund.RefundID, RefundKind: canceldesk.RefundKindRefund,
				Status: canceldesk.RefundSucceeded, Gateway: "manual"},
			canceldesk.EventRestocked: {Items: []canceldesk.EventItem{{Label: "BOWL", Quantity: 1}, {Label: "MUG", Quantity: 2}},
				Location: "Main"},
			canceldesk.EventNotificationOwed: {Recipient: "olivia@example.com"},
			canceldesk.EventRecreated:        {Order: n.Name},
		}
		if refund.RefundID == 0 {
			t.Error("the refund event has no refund id")
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event data:\n got %+v\nwant %+v", got, want)
		}
		from, err := db.Events(ctx(t), n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := from[len(from)-1]; last.Kind != canceldesk.EventRecreatedFrom || last.Data.Order != "#4000" {
			t.Errorf("re-created order's last event = %+v, want recreated_from #4000", last)
		}

		// A pending refund holds the customer message: the entry says so.
		p := cancel("#4001", 4001, func(r *canceldesk.CancelRequest) { r.Gateway = "stripe" })
		pevents, err := db.Events(ctx(t), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var held bool
		for _, e := range pevents {
			if e.Kind == canceldesk.EventNotificationOwed {
				held = e.Data.WaitsForRefund && e.Data.RefundID != 0
			}
		}
		if !held {
			t.Errorf("the notification entry of a cancel with a pending refund does not wait for it: %+v", pevents)
		}

		// A row written before the data column: its message, as is.
		if _, err := raw.Exec(fmt.Sprintf(`INSERT INTO events (order_id, kind, actor, message, created_at)
			VALUES (%d, 'refund', 'old@example.com', 'USD 1.00 · manual · succeeded', 1)`, o.ID)); err != nil {
			t.Fatal(err)
		}
		events, err = db.Events(ctx(t), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		old := events[len(events)-1]
		if old.Message != "USD 1.00 · manual · succeeded" || !old.Data.IsZero() {
			t.Errorf("legacy event = %+v", old)
		}
	})
}

// TestEventDataMigrationLinksEarlierRecreations: a store upgraded to
// timeline data (migration 0015) keeps the re-create entries it wrote in
// English as links by order name; every other old row keeps its message.
func TestEventDataMigrationLinksEarlierRecreations(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		db, raw := openStore(t, dsn), openRaw(t, dsn)
		orig, r1 := cancelOrder("#5005"), cancelOrder("#5005-R1")
		importOrders(t, db, orig, r1)
		// As the store stood before 0015: English messages, no data.
		for _, stmt := range []string{
			`ALTER TABLE events DROP COLUMN data`,
			`DELETE FROM schema_migrations WHERE version = 15`,
			fmt.Sprintf(`INSERT INTO events (order_id, kind, actor, message, created_at) VALUES
				(%d, 'recreated', 'a@example.com', 'Re-created as #5005-R1 (order %d)', 1),
				(%d, 'recreated_from', 'a@example.com', 'Re-created from #5005 (order %d)', 1),
				(%d, 'refund', 'a@example.com', 'USD 1.00 · manual · succeeded', 2)`, orig.ID, r1.ID, r1.ID, orig.ID, orig.ID),
		} {
			if _, err := raw.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		db.Close()
		db = openStore(t, dsn) // applies 0015 again
		got := map[string]canceldesk.Event{}
		for _, id := range []int64{orig.ID, r1.ID} {
			events, err := db.Events(ctx(t), id)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range events {
				got[e.Kind] = e
			}
		}
		if e := got[canceldesk.EventRecreated]; e.Message != "" || e.Data.Order != "#5005-R1" {
			t.Errorf("recreated = %+v", e)
		}
		if e := got[canceldesk.EventRecreatedFrom]; e.Message != "" || e.Data.Order != "#5005" {
			t.Errorf("recreated_from = %+v", e)
		}
		if e := got[canceldesk.EventRefund]; e.Message != "USD 1.00 · manual · succeeded" || !e.Data.IsZero() {
			t.Errorf("refund = %+v", e)
		}
	})
}
