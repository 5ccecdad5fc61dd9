package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// locationExport is a Shopify order export (a subset of its columns, in
// Shopify's order and spelling) whose orders name their Location as a
// point-of-sale export does; locations are the cells, in order.
func locationExport(locations ...string) string {
	var b strings.Builder
	b.WriteString("Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Shipping,Taxes,Total,Created at," +
		"Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem fulfillment status,Billing Name,Payment Method,Location,Id\r\n")
	for i, loc := range locations {
		fmt.Fprintf(&b, "#%d,buyer%d@example.com,paid,2026-03-01 09:05:00 -0500,unfulfilled,USD,24.00,0.00,0.00,24.00,"+
			"2026-03-01 09:00:00 -0500,2,Teapot,12.00,TEA-%d,,Buyer %d,manual,%s,%d\r\n", 3001+i, i, i, i, loc, 57000+i)
	}
	return b.String()
}

// importedOrder finds an imported order by its name.
func importedOrder(t *testing.T, a *testApp, name string) *canceldesk.Order {
	t.Helper()
	page, err := a.db.ListOrders(context.Background(), canceldesk.OrderFilter{Query: name})
	if err != nil || len(page.Orders) != 1 {
		t.Fatalf("order %s: %v, %v", name, page.Orders, err)
	}
	o, err := a.db.Order(context.Background(), page.Orders[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func locationNames(t *testing.T, a *testApp) []string {
	t.Helper()
	locs, err := a.db.Locations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range locs {
		out = append(out, l.Name)
	}
	return out
}

// cancelWithRestock cancels o through its dialog as proposed (refund now,
// restock) and returns the location the dialog proposed.
func cancelWithRestock(t *testing.T, c *client, o *canceldesk.Order) string {
	t.Helper()
	form := cancelFormOf(t, c, o.ID)
	form.Set("restock", "1")
	res, doc := c.post(t, fmt.Sprintf("/orders/%d/cancel", o.ID), form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel %s: status %d, errors %q", o.Name, res.StatusCode, doc.Find(".field-error, .banner-error").Text())
	}
	return form.Get("location")
}

func TestLocationsFromAnImportedExport(t *testing.T) {
	ctx := context.Background()
	t.Run("an export naming no location brings one default location, and a cancel restocks to it", func(t *testing.T) {
		a := newTestApp(t) // an empty store: no orders, no locations, no settings
		if res, doc := a.upload(t, locationExport("", ""), true); res.StatusCode != 200 {
			t.Fatalf("import: %d %s", res.StatusCode, doc.Find("#file-error").Text())
		}
		if got := locationNames(t, a); len(got) != 1 || got[0] != canceldesk.DefaultLocationName {
			t.Fatalf("locations %q, want one: %s", got, canceldesk.DefaultLocationName)
		}
		o := importedOrder(t, a, "#3001")
		staff := a.signedIn(t, canceldesk.RoleStaff)
		loc := cancelWithRestock(t, staff, o)
		got, _ := a.db.Order(ctx, o.ID)
		if !got.Cancelled() || got.LineItems[0].RestockedQuantity != 2 {
			t.Fatalf("cancelled %v, restocked %d", got.Cancelled(), got.LineItems[0].RestockedQuantity)
		}
		levels, _ := a.db.Stock(ctx, []string{"TEA-0"})
		if len(levels) != 1 || levels[0].OnHand != 2 || strconv.FormatInt(levels[0].LocationID, 10) != loc || levels[0].Location != canceldesk.DefaultLocationName {
			t.Errorf("stock %+v, want 2 at the default location %s", levels, loc)
		}
		// Importing again adds no second location.
		a.upload(t, locationExport("", "", ""), true)
		if got := locationNames(t, a); len(got) != 1 {
			t.Errorf("locations after a second import %q", got)
		}
	})

	t.Run("the export's locations are created once and the order's own is proposed first", func(t *testing.T) {
		a := newTestApp(t)
		if res, _ := a.upload(t, locationExport("Taipei Store", "Kaohsiung Store", "Taipei Store"), true); res.StatusCode != 200 {
			t.Fatalf("import: %d", res.StatusCode)
		}
		if got := locationNames(t, a); strings.Join(got, "|") != "Kaohsiung Store|Taipei Store" {
			t.Fatalf("locations %q, want the two named, no default", got)
		}
		staff := a.signedIn(t, canceldesk.RoleStaff)
		for _, c := range []struct{ order, sku, want string }{{"#3001", "TEA-0", "Taipei Store"}, {"#3002", "TEA-1", "Kaohsiung Store"}} {
			o := importedOrder(t, a, c.order)
			_, doc := staff.get(t, fmt.Sprintf("/orders/%d/cancel", o.ID))
			first := doc.Find(`select[name=location] option`).First()
			if _, sel := first.Attr("selected"); first.Text() != c.want || !sel {
				t.Errorf("%s: first option %q (selected %v), want %q selected", c.order, first.Text(), sel, c.want)
			}
			cancelWithRestock(t, staff, o)
			levels, _ := a.db.Stock(ctx, []string{c.sku})
			if len(levels) != 1 || levels[0].Location != c.want || levels[0].OnHand != 2 {
				t.Errorf("%s: stock %+v, want 2 at %s", c.order, levels, c.want)
			}
		}
	})
}

func TestLocationsOnSettings(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	manager := a.signedIn(t, canceldesk.RoleManager)
	manager.get(t, "/settings")

	t.Run("an empty store's card says so and offers to add one", func(t *testing.T) {
		_, doc := manager.get(t, "/settings")
		card := doc.Find("#locations")
		if card.Find("#new_location").Length() != 1 || !strings.Contains(card.Text(), "No stock locations yet") {
			t.Fatalf("card: %s", card.Text())
		}
	})

	var main canceldesk.Location
	t.Run("add", func(t *testing.T) {
		res, _ := manager.post(t, "/settings/locations", url.Values{"name": {"  Main warehouse "}})
		if res.StatusCode != http.StatusSeeOther || location(res) != "/settings?saved=location#locations" {
			t.Fatalf("status %d to %s", res.StatusCode, location(res))
		}
		locs, _ := a.db.Locations(ctx)
		if len(locs) != 1 || locs[0].Name != "Main warehouse" {
			t.Fatalf("locations %+v", locs)
		}
		main = locs[0]
		_, doc := manager.get(t, location(res))
		if doc.Find(".toast").Text() != "Stock location saved." {
			t.Errorf("toast %q", doc.Find(".toast").Text())
		}
		if v, _ := doc.Find(fmt.Sprintf("#location_%d", main.ID)).Attr("value"); v != "Main warehouse" {
			t.Errorf("listed as %q", v)
		}
	})

	t.Run("bad names come back beside the field", func(t *testing.T) {
		for _, c := range []struct{ name, want string }{
			{"   ", "Enter a name for the location."},
			{strings.Repeat("x", 101), "A location name is at most 100 characters."},
			{"MAIN WAREHOUSE", "Another location already has this name."},
		} {
			res, doc := manager.post(t, "/settings/locations", url.Values{"name": {c.name}})
			if res.StatusCode != http.StatusBadRequest || doc.Find("#new_location-error").Text() != c.want {
				t.Errorf("add %q: status %d, error %q", c.name, res.StatusCode, doc.Find("#new_location-error").Text())
			}
			if v, _ := doc.Find("#new_location").Attr("value"); v != c.name {
				t.Errorf("add %q: the field lost what was typed: %q", c.name, v)
			}
			if inv, _ := doc.Find("#new_location").Attr("aria-invalid"); inv != "true" {
				t.Errorf("add %q: the field is not marked invalid", c.name)
			}
		}
		if got := locationNames(t, a); len(got) != 1 {
			t.Errorf("a refused add added: %q", got)
		}
	})

	t.Run("rename keeps the id, so stock follows", func(t *testing.T) {
		err := a.db.AddMovements(ctx, []canceldesk.InventoryMovement{{SKU: "MUG", LocationID: main.ID, Delta: 3,
			Kind: canceldesk.MovementManual, Actor: "t", CreatedAt: base}})
		if err != nil {
			t.Fatal(err)
		}
		a.location(t, "Back room")
		path := fmt.Sprintf("/settings/locations/%d", main.ID)
		res, doc := manager.post(t, path, url.Values{"name": {"back ROOM"}})
		field := fmt.Sprintf("#location_%d", main.ID)
		if res.StatusCode != http.StatusBadRequest || doc.Find(field+"-error").Text() != "Another location already has this name." {
			t.Errorf("rename to another's name: %d %q", res.StatusCode, doc.Find(field+"-error").Text())
		}
		if v, _ := doc.Find(field).Attr("value"); v != "back ROOM" {
			t.Errorf("the field lost what was typed: %q", v)
		}
		res, doc = manager.post(t, path, url.Values{"name": {""}})
		if res.StatusCode != http.StatusBadRequest || doc.Find(field+"-error").Text() != "Enter a name for the location." {
			t.Errorf("rename to nothing: %d %q", res.StatusCode, doc.Find(field+"-error").Text())
		}
		if res, _ := manager.post(t, path, url.Values{"name": {"Taipei DC"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("rename: %d", res.StatusCode)
		}
		levels, _ := a.db.Stock(ctx, []string{"MUG"})
		if len(levels) != 1 || levels[0].LocationID != main.ID || levels[0].Location != "Taipei DC" || levels[0].OnHand != 3 {
			t.Errorf("stock after the rename %+v", levels)
		}
		if res, _ := manager.post(t, "/settings/locations/987654", url.Values{"name": {"Nowhere"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown location: %d", res.StatusCode)
		}
	})

	t.Run("staff get 403 and change nothing", func(t *testing.T) {
		staff := a.signedIn(t, canceldesk.RoleStaff)
		staff.get(t, "/orders")
		for _, p := range []string{"/settings/locations", fmt.Sprintf("/settings/locations/%d", main.ID)} {
			if res, _ := staff.post(t, p, url.Values{"name": {"Staff room"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("staff POST %s: %d", p, res.StatusCode)
			}
		}
		if got := strings.Join(locationNames(t, a), "|"); got != "Back room|Taipei DC" {
			t.Errorf("locations %q", got)
		}
	})

	t.Run("a missing CSRF token is 403 and changes nothing", func(t *testing.T) {
		for _, p := range []string{"/settings/locations", fmt.Sprintf("/settings/locations/%d", main.ID)} {
			if res, _ := manager.post(t, p, url.Values{"name": {"Forged"}, "_csrf": {""}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s without a token: %d", p, res.StatusCode)
			}
		}
		if got := strings.Join(locationNames(t, a), "|"); got != "Back room|Taipei DC" {
			t.Errorf("locations %q", got)
		}
	})
}

func TestCancelDialogWithoutLocations(t *testing.T) {
	a := newTestApp(t)
	o := a.seed(t, 1)[0] // straight into the store: no location
	for _, c := range []struct {
		role canceldesk.Role
		link int
	}{{canceldesk.RoleManager, 1}, {canceldesk.RoleStaff, 0}} {
		_, doc := a.signedIn(t, c.role).get(t, fmt.Sprintf("/orders/%d/cancel", o.ID))
		hint := doc.Find("#location-none")
		if !strings.Contains(hint.Text(), "no stock locations yet") || hint.Find(`a[href="/settings#locations"]`).Length() != c.link {
			t.Errorf("%s: hint %q, %d links to Settings; want %d", c.role, hint.Text(), hint.Find("a").Length(), c.link)
		}
	}
	a.location(t, "Main")
	if _, doc := a.client.get(t, fmt.Sprintf("/orders/%d/cancel", o.ID)); doc.Find("#location-none").Length() != 0 {
		t.Error("the hint stays once there is a location")
	}
}
