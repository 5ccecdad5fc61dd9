package demo_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/demo"
	"github.com/canceldesk/canceldesk/store"
)

// TestBulkLoadMatchesImport checks store.DB.BulkLoad, the benchmark's fast
// loader, against ImportOrders: the same orders give the same rows, ids,
// events and search results. (It lives here because the demo data is the
// input; it belongs in store/bulk_test.go when the store has tests of its
// own.)
func TestBulkLoadMatchesImport(t *testing.T) {
	ctx := context.Background()
	const n = 1234
	clock := func() time.Time { return now.Add(time.Minute) }
	open := func(name string) *store.DB {
		db, err := store.Open(ctx, filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.Now = clock
		return db
	}

	imported := open("import.db")
	orders := demo.Orders(n, now, 5)
	for i := 0; i < n; i += demo.BatchSize {
		if _, err := imported.ImportOrders(ctx, orders[i:min(i+demo.BatchSize, n)], store.BulkActor); err != nil {
			t.Fatal(err)
		}
	}
	bulk := open("bulk.db")
	orders = demo.Orders(n, now, 5)
	// Two calls: a full chunk and a remainder in the first, ids continuing
	// in the second.
	if err := bulk.BulkLoad(ctx, orders[:734]); err != nil {
		t.Fatal(err)
	}
	if err := bulk.BulkLoad(ctx, orders[734:]); err != nil {
		t.Fatal(err)
	}
	for i, o := range orders {
		if o.ID != int64(i+1) || o.LineItems[0].OrderID != o.ID || o.LineItems[0].ID == 0 || o.LineItems[0].Position != 1 {
			t.Fatalf("order %d: ids not set: %+v", i, o)
		}
	}

	for id := int64(1); id <= n; id++ {
		a, err := imported.Order(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bulk.Order(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("order %d differs:\nimport %+v\nbulk   %+v", id, a, b)
		}
		ea, err := imported.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := bulk.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ea, eb) || len(eb) != 1 {
			t.Fatalf("events of order %d differ:\nimport %+v\nbulk   %+v", id, ea, eb)
		}
	}
	o := orders[n/2]
	local, _, _ := strings.Cut(o.Email, "@")
	for _, q := range []string{"", o.LineItems[0].SKU, local, o.Name, strings.TrimPrefix(o.Name, "#"), "陳", "Chen"} {
		f := canceldesk.OrderFilter{Query: q, Limit: 500}
		a, err := imported.ListOrders(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bulk.ListOrders(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("search %q differs: import %d orders, bulk %d", q, len(a.Orders), len(b.Orders))
		}
	}

	// An order that exists fails the whole call and changes nothing.
	again := demo.Orders(n+3, now, 5)[n-1:]
	if err := bulk.BulkLoad(ctx, again); err == nil {
		t.Fatal("BulkLoad of an existing order succeeded")
	}
	if count, err := bulk.CountOrders(ctx); err != nil || count != n {
		t.Fatalf("after a failed BulkLoad CountOrders = %d, %v; want %d", count, err, n)
	}
}
