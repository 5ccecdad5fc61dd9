package store_test

import (
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

func TestImportCreatesTheOrdersLocations(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		named := func(loc string) func(*canceldesk.Order) {
			return func(o *canceldesk.Order) { o.Location = loc }
		}
		a := newOrder("#1", day(1), named("Taipei Warehouse"))
		b := newOrder("#2", day(1), named(" Taipei Warehouse "))
		c := newOrder("#3", day(1))
		importOrders(t, db, a, b, c)
		locs, err := db.Locations(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(locs) != 1 || locs[0].Name != "Taipei Warehouse" {
			t.Fatalf("locations %+v, want one: Taipei Warehouse", locs)
		}
		for _, o := range []*canceldesk.Order{a, b} {
			got, err := db.Order(ctx(t), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LocationID != locs[0].ID || got.Location != "Taipei Warehouse" || o.LocationID != locs[0].ID {
				t.Errorf("%s: location %d %q (set %d), want %d", o.Name, got.LocationID, got.Location, o.LocationID, locs[0].ID)
			}
		}
		if got, _ := db.Order(ctx(t), c.ID); got.LocationID != 0 || got.Location != "" {
			t.Errorf("#3 names no location, got %d %q", got.LocationID, got.Location)
		}

		// A later import naming it again reuses it.
		d := newOrder("#4", day(2), named("Taipei Warehouse"))
		importOrders(t, db, d)
		if locs2, _ := db.Locations(ctx(t)); len(locs2) != 1 || d.LocationID != locs[0].ID {
			t.Errorf("locations %+v, #4 at %d; want the same one", locs2, d.LocationID)
		}
	})
}

func TestAddAndRenameLocations(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		main, err := db.AddLocation(ctx(t), "  Main  ")
		if err != nil || main.ID == 0 || main.Name != "Main" {
			t.Fatalf("AddLocation: %+v, %v", main, err)
		}
		long := strings.Repeat("倉", canceldesk.MaxLocationName)
		if l, err := db.AddLocation(ctx(t), long); err != nil || l.Name != long {
			t.Errorf("100 characters: %+v, %v", l, err)
		}
		for _, bad := range []struct {
			name, code, key string
		}{
			{"", canceldesk.EINVALID, "validation.location_name_empty"},
			{"   ", canceldesk.EINVALID, "validation.location_name_empty"},
			{long + "x", canceldesk.EINVALID, "validation.location_name_long"},
			{"Main", canceldesk.ECONFLICT, "validation.location_name_taken"},
			{" mAIN ", canceldesk.ECONFLICT, "validation.location_name_taken"},
		} {
			_, err := db.AddLocation(ctx(t), bad.name)
			checkError(t, "AddLocation("+bad.name+")", err, bad.code, bad.key)
		}

		// An order and stock at the location follow it through a rename.
		o := newOrder("#1", day(1), func(o *canceldesk.Order) { o.Location = "Main" })
		importOrders(t, db, o)
		if o.LocationID != main.ID {
			t.Fatalf("order at %d, want %d", o.LocationID, main.ID)
		}
		err = db.AddMovements(ctx(t), []canceldesk.InventoryMovement{{SKU: "SKU-1", LocationID: main.ID, Delta: 5,
			Kind: canceldesk.MovementManual, Actor: "t", CreatedAt: day(1)}})
		if err != nil {
			t.Fatal(err)
		}
		renamed, err := db.RenameLocation(ctx(t), main.ID, " Taipei DC ")
		if err != nil || renamed.ID != main.ID || renamed.Name != "Taipei DC" {
			t.Fatalf("RenameLocation: %+v, %v", renamed, err)
		}
		if got, _ := db.Order(ctx(t), o.ID); got.LocationID != main.ID || got.Location != "Taipei DC" {
			t.Errorf("order location %d %q after the rename", got.LocationID, got.Location)
		}
		stock, err := db.Stock(ctx(t), []string{"SKU-1"})
		if err != nil || len(stock) != 1 || stock[0].LocationID != main.ID || stock[0].Location != "Taipei DC" || stock[0].OnHand != 5 {
			t.Errorf("stock %+v, %v", stock, err)
		}
		// Its own name in another case is no clash; another's name is.
		if _, err := db.RenameLocation(ctx(t), main.ID, "TAIPEI DC"); err != nil {
			t.Errorf("rename to its own name in capitals: %v", err)
		}
		_, err = db.RenameLocation(ctx(t), main.ID, long)
		checkError(t, "rename to another's name", err, canceldesk.ECONFLICT, "validation.location_name_taken")
		_, err = db.RenameLocation(ctx(t), main.ID, "")
		checkError(t, "rename to nothing", err, canceldesk.EINVALID, "validation.location_name_empty")
		if _, err := db.RenameLocation(ctx(t), 9999, "Nowhere"); err != canceldesk.ErrNotFound {
			t.Errorf("unknown id: %v", err)
		}
		locs, _ := db.Locations(ctx(t))
		if len(locs) != 2 || locs[0].Name != "TAIPEI DC" {
			t.Errorf("locations %+v", locs)
		}
	})
}
