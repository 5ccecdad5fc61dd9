package shopifycsv

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// fakeStore records imports; names in present count as already there.
type fakeStore struct {
	canceldesk.OrderStore // methods Import does not use panic
	present               map[string]bool
	batches               []int
	locations             []string // as ImportOrders and EnsureLocation created them
}

func (s *fakeStore) ensure(name string) canceldesk.Location {
	if i := slices.Index(s.locations, name); i >= 0 {
		return canceldesk.Location{ID: int64(i + 1), Name: name}
	}
	s.locations = append(s.locations, name)
	return canceldesk.Location{ID: int64(len(s.locations)), Name: name}
}

func (s *fakeStore) EnsureLocation(_ context.Context, name string) (canceldesk.Location, error) {
	return s.ensure(name), nil
}

func (s *fakeStore) Locations(context.Context) ([]canceldesk.Location, error) {
	var out []canceldesk.Location
	for _, n := range s.locations {
		out = append(out, s.ensure(n))
	}
	return out, nil
}

func (s *fakeStore) ImportOrders(_ context.Context, orders []*canceldesk.Order, actor string) ([]bool, error) {
	if actor != "import" {
		return nil, fmt.Errorf("actor %q", actor)
	}
	s.batches = append(s.batches, len(orders))
	created := make([]bool, len(orders))
	for i, o := range orders {
		created[i] = !s.present[o.Name]
		s.present[o.Name] = true
		if created[i] && o.Location != "" {
			o.LocationID = s.ensure(o.Location).ID
		}
	}
	return created, nil
}

func TestImport(t *testing.T) {
	t.Run("summary counts new, cancelled, present and skipped", func(t *testing.T) {
		st := &fakeStore{present: map[string]bool{"#1003": true}}
		sum, err := Import(context.Background(), st, strings.NewReader(excel(shopifyExport)), Options{}, "import")
		if err != nil {
			t.Fatal(err)
		}
		want := "imported 3 orders (4 line items, 1 cancelled), 1 already present, 2 rows skipped"
		if sum.String() != want || len(sum.Errors) != 1 {
			t.Errorf("summary %q, errors %v; want %q", sum, sum.Errors, want)
		}
		again, _ := Import(context.Background(), st, strings.NewReader(shopifyExport), Options{}, "import")
		if want := "imported 0 orders (0 line items, 0 cancelled), 4 already present, 2 rows skipped"; again.String() != want {
			t.Errorf("second import %q, want %q", again, want)
		}
		sum.Add(again)
		if want := "imported 3 orders (4 line items, 1 cancelled), 5 already present, 4 rows skipped"; sum.String() != want || len(sum.Errors) != 2 {
			t.Errorf("both files %q, want %q", sum, want)
		}
	})
	t.Run("orders go to the store in batches", func(t *testing.T) {
		rows := make([]string, 0, 450)
		for i := range 450 {
			rows = append(rows, fmt.Sprintf("Tea,#%d,1.00,1,2026-03-01 09:00,,,,,,,", i))
		}
		st := &fakeStore{present: map[string]bool{}}
		if _, err := Import(context.Background(), st, strings.NewReader(mini(rows...)), Options{}, "import"); err != nil {
			t.Fatal(err)
		}
		if want := []int{200, 200, 50}; !reflect.DeepEqual(st.batches, want) {
			t.Errorf("batches %v, want %v", st.batches, want)
		}
	})
	t.Run("a file that is not an export imports nothing", func(t *testing.T) {
		st := &fakeStore{present: map[string]bool{}}
		_, err := Import(context.Background(), st, strings.NewReader("a,b\n1,2\n"), Options{}, "import")
		var de *canceldesk.Error
		if !errors.As(err, &de) || de.Code != canceldesk.EINVALID || len(st.batches) != 0 {
			t.Errorf("err %v, batches %v", err, st.batches)
		}
	})
	t.Run("orders that name no location bring a default one into a store without", func(t *testing.T) {
		st := &fakeStore{present: map[string]bool{}}
		if _, err := Import(context.Background(), st, strings.NewReader(mini(good1, good2)), Options{}, "import"); err != nil {
			t.Fatal(err)
		}
		if want := []string{canceldesk.DefaultLocationName}; !reflect.DeepEqual(st.locations, want) {
			t.Errorf("locations %q, want %q", st.locations, want)
		}
	})
	t.Run("a store with a location gets no default one", func(t *testing.T) {
		st := &fakeStore{present: map[string]bool{}, locations: []string{"Back room"}}
		if _, err := Import(context.Background(), st, strings.NewReader(mini(good1)), Options{}, "import"); err != nil {
			t.Fatal(err)
		}
		if want := []string{"Back room"}; !reflect.DeepEqual(st.locations, want) {
			t.Errorf("locations %q, want %q", st.locations, want)
		}
	})
	t.Run("the locations the orders name are the store's, with no default", func(t *testing.T) {
		st := &fakeStore{present: map[string]bool{}}
		if _, err := Import(context.Background(), st, strings.NewReader(shopifyExport), Options{}, "import"); err != nil {
			t.Fatal(err)
		}
		if want := []string{"Tokyo Store"}; !reflect.DeepEqual(st.locations, want) {
			t.Errorf("locations %q, want %q", st.locations, want)
		}
	})
	t.Run("a file with no valid order creates no location", func(t *testing.T) {
		st := &fakeStore{present: map[string]bool{}}
		if _, err := Import(context.Background(), st, strings.NewReader(mini("Tea,#2001,x,1,,,,,,,,")), Options{}, "import"); err != nil {
			t.Fatal(err)
		}
		if len(st.locations) != 0 {
			t.Errorf("locations %q", st.locations)
		}
	})
}
