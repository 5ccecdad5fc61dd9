package store_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// fillEvery sets every field of the struct v points to, recursively, to a
// distinct non-zero value drawn from *n, and fails on a field of a kind it
// does not know how to fill (so a new kind of field is noticed here).
func fillEvery(t *testing.T, v reflect.Value, path string, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		if v.Type() != reflect.TypeFor[*time.Time]() {
			t.Fatalf("%s: fillEvery does not know how to fill a %s", path, v.Type())
		}
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(*n)*time.Hour + time.Duration(*n)*time.Microsecond)
		v.Set(reflect.ValueOf(&at))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(*n)*time.Hour + time.Duration(*n)*time.Microsecond)
			v.Set(reflect.ValueOf(at))
			return
		}
		for i := range v.NumField() {
			fillEvery(t, v.Field(i), path+"."+v.Type().Field(i).Name, n)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillEvery(t, s.Index(i), fmt.Sprintf("%s[%d]", path, i), n)
		}
		v.Set(s)
	default:
		t.Fatalf("%s: fillEvery does not know how to fill a %s", path, v.Type())
	}
}

// sameEvery compares got with want field by field, times with Equal, and
// names each field that differs; a zero field in want fails too (every
// field is meant to be set).
func sameEvery(t *testing.T, got, want reflect.Value, path string) {
	t.Helper()
	if want.IsZero() {
		t.Errorf("%s: the test order leaves it zero", path)
		return
	}
	switch {
	case want.Type() == reflect.TypeFor[time.Time]():
		if g, w := got.Interface().(time.Time), want.Interface().(time.Time); !g.Equal(w) {
			t.Errorf("%s = %v, want %v", path, g, w)
		}
	case want.Kind() == reflect.Pointer:
		if got.IsNil() {
			t.Errorf("%s = nil, want %v", path, want.Elem())
			return
		}
		sameEvery(t, got.Elem(), want.Elem(), path)
	case want.Kind() == reflect.Struct:
		for i := range want.NumField() {
			sameEvery(t, got.Field(i), want.Field(i), path+"."+want.Type().Field(i).Name)
		}
	case want.Kind() == reflect.Slice:
		if got.Len() != want.Len() {
			t.Errorf("%s has %d elements, want %d", path, got.Len(), want.Len())
			return
		}
		for i := range want.Len() {
			sameEvery(t, got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
}

// everyFieldOrder is an order whose every field (and every field of its
// lines and addresses) holds a distinct non-zero value, start making the
// values distinct from another such order's. Fields with a closed set of
// values get a valid one.
func everyFieldOrder(t *testing.T, start int) *canceldesk.Order {
	o := &canceldesk.Order{}
	n := start
	fillEvery(t, reflect.ValueOf(o).Elem(), "Order", &n)
	o.Name = fmt.Sprintf("#%d", start)
	o.Currency = "EUR"
	o.FinancialStatus = canceldesk.FinancialPartiallyRefunded
	o.FulfillmentStatus = canceldesk.FulfillmentPartial
	o.CancelReason = canceldesk.ReasonInventory
	o.Risk = canceldesk.RiskMedium
	return o
}

// TestLoadPathsKeepEveryField loads an order with every field set through
// ImportOrders, through UpsertShopifyOrders (a new order) and through
// BulkLoad and reads each back with Order: every field of the order and of
// its lines comes back, on both databases. A new field of Order or LineItem
// fails here until every path stores it (they share one row mapping,
// store/orderrow.go).
func TestLoadPathsKeepEveryField(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		imported, synced, bulk := everyFieldOrder(t, 1000), everyFieldOrder(t, 3000), everyFieldOrder(t, 2000)
		if created, err := db.ImportOrders(ctx(t), []*canceldesk.Order{imported}, "test"); err != nil || !created[0] {
			t.Fatalf("ImportOrders = %v, %v", created, err)
		}
		if n, err := db.UpsertShopifyOrders(ctx(t), []*canceldesk.Order{synced}); err != nil || n.Created != 1 {
			t.Fatalf("UpsertShopifyOrders = %+v, %v", n, err)
		}
		// ImportOrders and UpsertShopifyOrders find or create the location an
		// order names (with its Shopify id); BulkLoad takes the id of a
		// location that exists.
		bulk.Location, bulk.LocationID, bulk.LocationExternalID = synced.Location, synced.LocationID, synced.LocationExternalID
		if err := db.BulkLoad(ctx(t), []*canceldesk.Order{bulk}); err != nil {
			t.Fatalf("BulkLoad: %v", err)
		}
		for _, c := range []struct {
			path string
			want *canceldesk.Order
		}{{"ImportOrders", imported}, {"UpsertShopifyOrders", synced}, {"BulkLoad", bulk}} {
			t.Run(c.path, func(t *testing.T) {
				got, err := db.Order(ctx(t), c.want.ID)
				if err != nil {
					t.Fatalf("Order(%d): %v", c.want.ID, err)
				}
				sameEvery(t, reflect.ValueOf(got).Elem(), reflect.ValueOf(c.want).Elem(), "Order")
			})
		}
	})
}
