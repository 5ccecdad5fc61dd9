package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for direct checks
	_ "modernc.org/sqlite"             // "sqlite" driver for direct checks

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

// fixedNow is the store clock in every test; it has microsecond precision,
// which is what the store keeps.
var fixedNow = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// forEachDSN runs fn once per database: "sqlite" on a file in a temporary
// directory and "postgres" in a fresh schema of the test server.
func forEachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, filepath.Join(t.TempDir(), "canceldesk.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, testenv.PostgresSchema(t))
	})
}

// forEachDB runs fn once per database with a freshly opened, migrated store
// whose clock is fixedNow.
func forEachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	forEachDSN(t, func(t *testing.T, dsn string) {
		fn(t, openStore(t, dsn))
	})
}

// forEachDBRaw is forEachDB plus a plain database/sql handle on the same
// database, for checks the store API does not offer.
func forEachDBRaw(t *testing.T, fn func(t *testing.T, db *store.DB, raw *sql.DB)) {
	t.Helper()
	forEachDSN(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		fn(t, db, openRaw(t, dsn))
	})
}

func openStore(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(ctx(t), dsn)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return fixedNow }
	return db
}

func openRaw(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, raw := "pgx", (*sql.DB)(nil)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var err error
		if raw, err = sql.Open(driver, dsn); err != nil {
			t.Fatalf("sql.Open(%s): %v", driver, err)
		}
	} else {
		// opened as the store's reads are, with its SQL functions
		driver, raw = "sqlite", store.OpenSQLiteReader(dsn)
	}
	t.Cleanup(func() { raw.Close() })
	if err := raw.PingContext(ctx(t)); err != nil {
		t.Fatalf("ping %s: %v", driver, err)
	}
	return raw
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// newOrder returns a valid order with one line; mods adjust it.
func newOrder(name string, created time.Time, mods ...func(*canceldesk.Order)) *canceldesk.Order {
	o := &canceldesk.Order{
		Name:              name,
		Currency:          "EUR",
		Subtotal:          1000,
		Total:             1000,
		FinancialStatus:   canceldesk.FinancialPaid,
		FulfillmentStatus: canceldesk.FulfillmentUnfulfilled,
		CreatedAt:         created,
		UpdatedAt:         created,
		LineItems:         []canceldesk.LineItem{{Name: "Item", SKU: "SKU-1", Quantity: 1, Price: 1000}},
	}
	for _, m := range mods {
		m(o)
	}
	return o
}

func importOrders(t *testing.T, db *store.DB, orders ...*canceldesk.Order) {
	t.Helper()
	created, err := db.ImportOrders(ctx(t), orders, "import")
	if err != nil {
		t.Fatalf("ImportOrders: %v", err)
	}
	for i, c := range created {
		if !c {
			t.Fatalf("ImportOrders: order %s was not created", orders[i].Name)
		}
	}
}

func countOrders(t *testing.T, db *store.DB) int64 {
	t.Helper()
	n, err := db.CountOrders(ctx(t))
	if err != nil {
		t.Fatalf("CountOrders: %v", err)
	}
	return n
}

func listOrders(t *testing.T, db *store.DB, f canceldesk.OrderFilter) canceldesk.OrderPage {
	t.Helper()
	page, err := db.ListOrders(ctx(t), f)
	if err != nil {
		t.Fatalf("ListOrders(%+v): %v", f, err)
	}
	return page
}

func names(page canceldesk.OrderPage) []string {
	out := []string{}
	for _, s := range page.Orders {
		out = append(out, s.Name)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func day(d int, clock ...int) time.Time {
	h, m := 0, 0
	if len(clock) > 0 {
		h = clock[0]
	}
	if len(clock) > 1 {
		m = clock[1]
	}
	return time.Date(2025, time.January, d, h, m, 0, 0, time.UTC)
}

// migrationFiles returns the migration versions of the dialect, from the
// files in migrations/<dialect>.
func migrationFiles(t *testing.T, dialect string) []int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", dialect))
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 {
		t.Fatalf("no migrations in migrations/%s", dialect)
	}
	slices.Sort(versions)
	return versions
}

func TestOpen(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		t.Run("applies migrations once across reopens", func(t *testing.T) {
			first, err := store.Open(ctx(t), dsn)
			if err != nil {
				t.Fatalf("first Open: %v", err)
			}
			first.Now = func() time.Time { return fixedNow }
			importOrders(t, first, newOrder("#1", day(1)))
			if err := first.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			second := openStore(t, dsn)
			// A third store opened while the second is still open.
			third := openStore(t, dsn)
			for i, db := range []*store.DB{second, third} {
				if n := countOrders(t, db); n != 1 {
					t.Errorf("store %d after reopening: CountOrders = %d, want 1 (data kept)", i+2, n)
				}
			}

			want := migrationFiles(t, second.Dialect())
			raw := openRaw(t, dsn)
			rows, err := raw.QueryContext(ctx(t), `SELECT version FROM schema_migrations ORDER BY version`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []int
			for rows.Next() {
				var v int
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("schema_migrations versions = %v, want %v (each migration exactly once)", got, want)
			}
		})
	})

	// PostgreSQL only: there the migrations are serialised by an advisory
	// lock, which must cover creating schema_migrations too. (On SQLite the
	// writer's BEGIN IMMEDIATE serialises them; several processes creating
	// a brand-new file at once can still get SQLITE_BUSY from SQLite's
	// switch to WAL, which is outside what this test covers.)
	t.Run("concurrent opens of an empty postgres schema all succeed", func(t *testing.T) {
		want := len(migrationFiles(t, "postgres"))
		for round := range 5 {
			dsn := testenv.PostgresSchema(t)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for i := range errs {
				wg.Go(func() {
					db, err := store.Open(ctx(t), dsn)
					if err == nil {
						err = db.Close()
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d, instance %d: Open: %v", round, i, err)
				}
			}
			var n int
			if err := openRaw(t, dsn).QueryRowContext(ctx(t), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("round %d: %d rows in schema_migrations, want %d", round, n, want)
			}
		}
	})

	t.Run("names its dialect", func(t *testing.T) {
		forEachDSN(t, func(t *testing.T, dsn string) {
			db := openStore(t, dsn)
			want := "sqlite"
			if strings.HasPrefix(dsn, "postgres") {
				want = "postgres"
			}
			if got := db.Dialect(); got != want {
				t.Errorf("Dialect() = %q, want %q", got, want)
			}
			if err := db.Ping(ctx(t)); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	})

	t.Run("sqlite and file prefixes open the same file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "prefixed.db")
		db := openStore(t, "sqlite:"+path)
		importOrders(t, db, newOrder("#1", day(1)))
		for _, dsn := range []string{path, "file:" + path, "file:" + path + "?mode=rwc"} {
			if n := countOrders(t, openStore(t, dsn)); n != 1 {
				t.Errorf("Open(%q): CountOrders = %d, want 1", dsn, n)
			}
		}
	})

	t.Run("empty sqlite path fails", func(t *testing.T) {
		for _, dsn := range []string{"", "sqlite:", "file:?mode=memory"} {
			if db, err := store.Open(ctx(t), dsn); err == nil {
				db.Close()
				t.Errorf("Open(%q) succeeded, want an error", dsn)
			}
		}
	})
}

// fullOrder sets every field of Order, with times in a non-UTC zone and
// nanoseconds the store cannot keep.
func fullOrder(name string) *canceldesk.Order {
	zone := time.FixedZone("UTC+5:30", 5*3600+30*60)
	at := func(d int) *time.Time {
		t := time.Date(2025, 2, d, 10, 11, 12, 123456789, zone)
		return &t
	}
	return &canceldesk.Order{
		ExternalID:     "5550001112223",
		Name:           name,
		Email:          "olivia@example.com",
		Currency:       "USD",
		Subtotal:       12999,
		Shipping:       499,
		Taxes:          1040,
		Discounts:      1300,
		Total:          13238,
		RefundedAmount: 2500,

		FinancialStatus:   canceldesk.FinancialPartiallyRefunded,
		FulfillmentStatus: canceldesk.FulfillmentPartial,
		PaymentMethod:     "Shopify Payments",
		PaidAt:            at(2),
		FulfilledAt:       at(3),
		CancelledAt:       at(4),
		CancelReason:      canceldesk.ReasonInventory,

		BillingAddress: canceldesk.Address{
			Name: "Olivia O'Brien", Company: "O'Brien & Sons", Address1: "1 Main St", Address2: "Apt \"4\"",
			City: "Springfield", Zip: "12345", Province: "IL", Country: "US", Phone: "+1 555 0100",
		},
		ShippingAddress: canceldesk.Address{
			Name: "Ollie O'Brien", Address1: "2 Side St", City: "Shelbyville", Zip: "54321",
			Province: "IL", Country: "US",
		},
		Notes:  "Leave at the door.\nThanks! <b>not bold</b>",
		Tags:   []string{"vip", "wholesale", "gift wrap"},
		Risk:   canceldesk.RiskHigh,
		Source: "web",

		CreatedAt: *at(1),
		UpdatedAt: *at(5),

		LineItems: []canceldesk.LineItem{
			{Name: "Linen Shirt - Red / M", SKU: "LS-RED-M", Quantity: 3, Price: 3999,
				FulfilledQuantity: 2, CancelledQuantity: 1, RefundedQuantity: 1, RestockedQuantity: 1},
			{Name: "Gift card", SKU: "", Quantity: 1, Price: 1002},
		},
	}
}

// checkTime reports whether got is want at microsecond precision, in UTC.
func checkTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", field, got.Location())
	}
	if w := want.Truncate(time.Microsecond); !got.Equal(w) {
		t.Errorf("%s = %v, want %v", field, got, w.UTC())
	}
}

func checkTimePtr(t *testing.T, field string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", field, got, want)
	default:
		checkTime(t, field, *got, *want)
	}
}

// checkOrder compares a stored order with the one imported: times to the
// microsecond and in UTC, everything else exactly.
func checkOrder(t *testing.T, got, want *canceldesk.Order) {
	t.Helper()
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	checkTimePtr(t, "PaidAt", got.PaidAt, want.PaidAt)
	checkTimePtr(t, "FulfilledAt", got.FulfilledAt, want.FulfilledAt)
	checkTimePtr(t, "CancelledAt", got.CancelledAt, want.CancelledAt)
	g, w := *got, *want
	for _, o := range []*canceldesk.Order{&g, &w} {
		o.CreatedAt, o.UpdatedAt = time.Time{}, time.Time{}
		o.PaidAt, o.FulfilledAt, o.CancelledAt = nil, nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("stored order differs from the imported one:\n got %+v\nwant %+v", g, w)
	}
}

func TestImportOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		t.Run("round trip keeps every field", func(t *testing.T) {
			full := fullOrder("#1001")
			bare := newOrder("#1002", time.Time{}, func(o *canceldesk.Order) {
				o.FinancialStatus = canceldesk.FinancialPending
				o.UpdatedAt = time.Time{}
			})
			created, err := db.ImportOrders(ctx(t), []*canceldesk.Order{full, bare}, "alice@example.com")
			if err != nil {
				t.Fatalf("ImportOrders: %v", err)
			}
			if !slices.Equal(created, []bool{true, true}) {
				t.Fatalf("created = %v, want [true true]", created)
			}
			if full.ID <= 0 || bare.ID <= 0 || full.ID == bare.ID {
				t.Fatalf("ids = %d, %d; want two distinct positive ids", full.ID, bare.ID)
			}
			for i, li := range full.LineItems {
				if li.ID <= 0 || li.OrderID != full.ID || li.Position != i+1 {
					t.Errorf("line %d after import: ID %d, OrderID %d, Position %d; want an id, order %d, position %d",
						i, li.ID, li.OrderID, li.Position, full.ID, i+1)
				}
			}
			// Zero times are the store's clock.
			if !bare.CreatedAt.Equal(fixedNow) || !bare.UpdatedAt.Equal(fixedNow) {
				t.Errorf("zero CreatedAt/UpdatedAt became %v/%v, want the clock %v", bare.CreatedAt, bare.UpdatedAt, fixedNow)
			}

			for _, want := range []*canceldesk.Order{full, bare} {
				got, err := db.Order(ctx(t), want.ID)
				if err != nil {
					t.Fatalf("Order(%d): %v", want.ID, err)
				}
				checkOrder(t, got, want)
			}
			if got, _ := db.Order(ctx(t), bare.ID); got.PaidAt != nil || got.FulfilledAt != nil || got.CancelledAt != nil || got.Tags != nil {
				t.Errorf("bare order: PaidAt %v, FulfilledAt %v, CancelledAt %v, Tags %q; want nil", got.PaidAt, got.FulfilledAt, got.CancelledAt, got.Tags)
			}
		})

		t.Run("records an imported event with the actor", func(t *testing.T) {
			o := newOrder("#2001", day(2))
			if _, err := db.ImportOrders(ctx(t), []*canceldesk.Order{o}, "bob@example.com"); err != nil {
				t.Fatal(err)
			}
			events, err := db.Events(ctx(t), o.ID)
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			if len(events) != 1 {
				t.Fatalf("Events = %+v, want one", events)
			}
			e := events[0]
			if e.ID <= 0 || e.OrderID != o.ID || e.Kind != canceldesk.EventImported || e.Actor != "bob@example.com" {
				t.Errorf("event = %+v, want kind %q by bob@example.com on order %d", e, canceldesk.EventImported, o.ID)
			}
			checkTime(t, "event CreatedAt", e.CreatedAt, fixedNow)
		})

		t.Run("existing names are skipped and keep their id", func(t *testing.T) {
			a := newOrder("#3001", day(3), func(o *canceldesk.Order) { o.Email = "first@example.com" })
			b := newOrder("#3002", day(3))
			importOrders(t, db, a, b)
			before := countOrders(t, db)

			a2 := newOrder("#3001", day(4), func(o *canceldesk.Order) { o.Email = "second@example.com" })
			b2 := newOrder("#3002", day(4))
			c := newOrder("#3003", day(4))
			c2 := newOrder("#3003", day(5)) // the same name twice in one batch
			created, err := db.ImportOrders(ctx(t), []*canceldesk.Order{a2, b2, c, c2}, "again")
			if err != nil {
				t.Fatalf("ImportOrders: %v", err)
			}
			if want := []bool{false, false, true, false}; !slices.Equal(created, want) {
				t.Errorf("created = %v, want %v", created, want)
			}
			if a2.ID != a.ID || b2.ID != b.ID || c2.ID != c.ID {
				t.Errorf("ids of skipped orders = %d, %d, %d; want the existing %d, %d, %d", a2.ID, b2.ID, c2.ID, a.ID, b.ID, c.ID)
			}
			if n := countOrders(t, db); n != before+1 {
				t.Errorf("CountOrders = %d, want %d (only #3003 added)", n, before+1)
			}
			got, err := db.Order(ctx(t), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != "first@example.com" || !got.CreatedAt.Equal(day(3)) {
				t.Errorf("existing order changed by the re-import: email %q, created %v", got.Email, got.CreatedAt)
			}
			for _, o := range []*canceldesk.Order{a, b, c} {
				events, err := db.Events(ctx(t), o.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(events) != 1 {
					t.Errorf("order %s has %d events, want 1", o.Name, len(events))
				}
			}
		})

		t.Run("a batch with an invalid order leaves nothing behind", func(t *testing.T) {
			before := countOrders(t, db)
			good := func() *canceldesk.Order {
				return newOrder("#4001", day(6), func(o *canceldesk.Order) {
					o.LineItems[0].Name = "Quokka plush"
				})
			}
			for name, bad := range map[string]*canceldesk.Order{
				"no line items": newOrder("#4002", day(6), func(o *canceldesk.Order) { o.LineItems = nil }),
				"no name":       newOrder("", day(6)),
				"no currency":   newOrder("#4002", day(6), func(o *canceldesk.Order) { o.Currency = "" }),
			} {
				after := newOrder("#4003", day(6))
				_, err := db.ImportOrders(ctx(t), []*canceldesk.Order{good(), bad, after}, "import")
				if code := canceldesk.ErrorCode(err); code != canceldesk.EINVALID {
					t.Errorf("%s: ImportOrders error = %v (code %q), want %s", name, err, code, canceldesk.EINVALID)
				}
			}
			// A line the database rejects (quantity must be positive) also
			// undoes the orders before it.
			zero := newOrder("#4002", day(6), func(o *canceldesk.Order) { o.LineItems[0].Quantity = 0 })
			if _, err := db.ImportOrders(ctx(t), []*canceldesk.Order{good(), zero}, "import"); err == nil {
				t.Errorf("ImportOrders with a zero-quantity line succeeded, want an error")
			}

			if n := countOrders(t, db); n != before {
				t.Errorf("CountOrders = %d after failed batches, want %d", n, before)
			}
			if page := listOrders(t, db, canceldesk.OrderFilter{Query: "quokka"}); len(page.Orders) != 0 {
				t.Errorf("search finds %v from a failed batch, want nothing", names(page))
			}
			if page := listOrders(t, db, canceldesk.OrderFilter{Query: "#4001"}); len(page.Orders) != 0 {
				t.Errorf("search finds %v from a failed batch, want nothing", names(page))
			}
			// The name is free and the new order starts a clean timeline.
			o := good()
			importOrders(t, db, o)
			events, err := db.Events(ctx(t), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 {
				t.Errorf("order imported after failed batches has %d events, want 1: %+v", len(events), events)
			}
			if page := listOrders(t, db, canceldesk.OrderFilter{Query: "quokka"}); !slices.Equal(names(page), []string{"#4001"}) {
				t.Errorf("search for the re-imported order = %v, want [#4001]", names(page))
			}
		})
	})
}

func TestOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		t.Run("unknown id is not found", func(t *testing.T) {
			o := newOrder("#1", day(1))
			importOrders(t, db, o)
			for _, id := range []int64{o.ID + 1000, 0, -1} {
				got, err := db.Order(ctx(t), id)
				if code := canceldesk.ErrorCode(err); code != canceldesk.ENOTFOUND {
					t.Errorf("Order(%d) = %v, %v (code %q); want %s", id, got, err, code, canceldesk.ENOTFOUND)
				}
			}
		})
	})
}

func TestEvents(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		a, b := newOrder("#1", day(1)), newOrder("#2", day(1))
		importOrders(t, db, a, b)
		// The store has no API yet that appends events besides the import;
		// add later ones directly, interleaved with another order's.
		ph := "?, ?, ?, ?, ?"
		if db.Dialect() == "postgres" {
			ph = "$1, $2, $3, $4, $5"
		}
		for i, e := range []struct {
			order int64
			kind  string
		}{{a.ID, "note"}, {b.ID, "note"}, {a.ID, canceldesk.EventCancelled}} {
			_, err := raw.ExecContext(ctx(t), `INSERT INTO events (order_id, kind, actor, message, created_at) VALUES (`+ph+`)`,
				e.order, e.kind, "carol@example.com", fmt.Sprintf("event %d", i), fixedNow.Add(time.Duration(i+1)*time.Minute).UnixMicro())
			if err != nil {
				t.Fatal(err)
			}
		}

		t.Run("oldest first", func(t *testing.T) {
			events, err := db.Events(ctx(t), a.ID)
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			var kinds []string
			for i, e := range events {
				kinds = append(kinds, e.Kind)
				if e.OrderID != a.ID {
					t.Errorf("event %d belongs to order %d, want %d", i, e.OrderID, a.ID)
				}
				if i > 0 && (e.CreatedAt.Before(events[i-1].CreatedAt) || e.ID <= events[i-1].ID) {
					t.Errorf("event %d (%v, id %d) comes after a newer one (%v, id %d)", i, e.CreatedAt, e.ID, events[i-1].CreatedAt, events[i-1].ID)
				}
			}
			if want := []string{canceldesk.EventImported, "note", canceldesk.EventCancelled}; !slices.Equal(kinds, want) {
				t.Errorf("kinds = %v, want %v", kinds, want)
			}
			if len(events) == 3 {
				checkTime(t, "last event CreatedAt", events[2].CreatedAt, fixedNow.Add(3*time.Minute))
				if events[2].Actor != "carol@example.com" || events[2].Message != "event 2" {
					t.Errorf("last event = %+v", events[2])
				}
			}
		})

		t.Run("unknown order has no events", func(t *testing.T) {
			events, err := db.Events(ctx(t), a.ID+b.ID+1000)
			if err != nil || len(events) != 0 {
				t.Errorf("Events(unknown) = %v, %v; want none and no error", events, err)
			}
		})
	})
}

func TestListOrders(t *testing.T) {
	t.Run("newest first by creation then id", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			// Imported out of date order; #B and #C share a time, so the
			// later id (#C, imported after #B) comes first.
			importOrders(t, db,
				newOrder("#B", day(2)), newOrder("#A", day(1)), newOrder("#C", day(2)),
				newOrder("#D", day(3)), newOrder("#E", day(1, 0, 1)))
			page := listOrders(t, db, canceldesk.OrderFilter{})
			if want := []string{"#D", "#C", "#B", "#E", "#A"}; !slices.Equal(names(page), want) {
				t.Errorf("list = %v, want %v", names(page), want)
			}
			if page.Next != nil {
				t.Errorf("Next = %v on the only page, want nil", page.Next)
			}
		})
	})

	t.Run("summary carries the list columns", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			full := fullOrder("#1001")
			shipOnly := newOrder("#1002", day(1), func(o *canceldesk.Order) {
				o.ShippingAddress.Name = "Kenji Watanabe"
				o.LineItems = append(o.LineItems, canceldesk.LineItem{Name: "Mug", Quantity: 4, Price: 500})
			})
			importOrders(t, db, full, shipOnly)
			page := listOrders(t, db, canceldesk.OrderFilter{})
			if len(page.Orders) != 2 {
				t.Fatalf("list = %v, want 2 orders", names(page))
			}
			byName := map[string]canceldesk.OrderSummary{}
			for _, s := range page.Orders {
				byName[s.Name] = s
			}
			s := byName["#1001"]
			checkTime(t, "CreatedAt", s.CreatedAt, full.CreatedAt)
			checkTimePtr(t, "CancelledAt", s.CancelledAt, full.CancelledAt)
			s.CreatedAt, s.CancelledAt = time.Time{}, nil
			want := canceldesk.OrderSummary{
				ID: full.ID, Name: "#1001", Email: full.Email, CustomerName: "Olivia O'Brien", Currency: "USD",
				Total: 13238, FinancialStatus: canceldesk.FinancialPartiallyRefunded,
				FulfillmentStatus: canceldesk.FulfillmentPartial, CancelReason: canceldesk.ReasonInventory, ItemCount: 4,
				RefundOwed: full.Total - full.RefundedAmount, // cancelled with part of the payment not given back
			}
			if s != want {
				t.Errorf("summary = %+v\nwant %+v", s, want)
			}
			if s := byName["#1002"]; s.CustomerName != "Kenji Watanabe" || s.ItemCount != 5 || s.CancelledAt != nil {
				t.Errorf("summary of #1002 = %+v; want customer from the shipping name, 5 items, not cancelled", s)
			}
		})
	})

	t.Run("keyset pages have no duplicates or gaps", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			// Equal times straddle the page boundaries.
			times := []time.Time{day(1), day(2), day(2), day(2), day(3), day(4), day(4)}
			for i, at := range times {
				importOrders(t, db, newOrder(fmt.Sprintf("#%d", 100+i), at))
			}
			all := listOrders(t, db, canceldesk.OrderFilter{})
			if len(all.Orders) != 7 {
				t.Fatalf("full list = %v, want 7 orders", names(all))
			}

			var got []string
			var sizes []int
			f := canceldesk.OrderFilter{Limit: 3}
			for range 10 {
				page := listOrders(t, db, f)
				sizes = append(sizes, len(page.Orders))
				got = append(got, names(page)...)
				if page.Next == nil {
					break
				}
				last := page.Orders[len(page.Orders)-1]
				if page.Next.ID != last.ID || !page.Next.CreatedAt.Equal(last.CreatedAt) {
					t.Errorf("Next = %+v, want the last order of the page (%d, %v)", page.Next, last.ID, last.CreatedAt)
				}
				// The cursor travels through a URL.
				next, err := canceldesk.ParseCursor(page.Next.String())
				if err != nil {
					t.Fatalf("ParseCursor(%q): %v", page.Next.String(), err)
				}
				f.After = next
			}
			if !slices.Equal(sizes, []int{3, 3, 1}) {
				t.Errorf("page sizes = %v, want [3 3 1]", sizes)
			}
			if !slices.Equal(got, names(all)) {
				t.Errorf("paged = %v, want %v", got, names(all))
			}
		})
	})

	t.Run("last full page has no next", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			for i := range 6 {
				importOrders(t, db, newOrder(fmt.Sprintf("#%d", i+1), day(i+1)))
			}
			first := listOrders(t, db, canceldesk.OrderFilter{Limit: 3})
			if first.Next == nil {
				t.Fatal("first page of 3 of 6 has no Next")
			}
			second := listOrders(t, db, canceldesk.OrderFilter{Limit: 3, After: first.Next})
			if !slices.Equal(names(second), []string{"#3", "#2", "#1"}) || second.Next != nil {
				t.Errorf("second page = %v, Next %v; want [#3 #2 #1] and no Next", names(second), second.Next)
			}
			if page := listOrders(t, db, canceldesk.OrderFilter{Limit: 6}); len(page.Orders) != 6 || page.Next != nil {
				t.Errorf("Limit 6 of 6: %d orders, Next %v; want 6 and no Next", len(page.Orders), page.Next)
			}
			past := &canceldesk.Cursor{CreatedAt: day(1), ID: 1}
			if page := listOrders(t, db, canceldesk.OrderFilter{After: past}); len(page.Orders) != 0 || page.Next != nil {
				t.Errorf("after the oldest order = %v, want an empty page", names(page))
			}
		})
	})

	t.Run("limit outside 1 to 500 is a page of 50", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			var orders []*canceldesk.Order
			for i := range canceldesk.PageSize + 1 {
				orders = append(orders, newOrder(fmt.Sprintf("#%d", i+1), day(1).Add(time.Duration(i)*time.Minute)))
			}
			importOrders(t, db, orders...)
			for _, limit := range []int{0, -1, 501} {
				page := listOrders(t, db, canceldesk.OrderFilter{Limit: limit})
				if len(page.Orders) != canceldesk.PageSize || page.Next == nil {
					t.Errorf("Limit %d: %d orders, Next %v; want %d and a Next", limit, len(page.Orders), page.Next, canceldesk.PageSize)
				}
			}
		})
	})

	t.Run("filters", func(t *testing.T) {
		forEachDB(t, func(t *testing.T, db *store.DB) {
			cancelled := func(at time.Time) func(*canceldesk.Order) {
				return func(o *canceldesk.Order) {
					o.CancelledAt, o.CancelReason = ptr(at), canceldesk.ReasonCustomer
				}
			}
			status := func(fin canceldesk.FinancialStatus, ful canceldesk.FulfillmentStatus, product string) func(*canceldesk.Order) {
				return func(o *canceldesk.Order) {
					o.FinancialStatus, o.FulfillmentStatus = fin, ful
					o.LineItems[0].Name = product
				}
			}
			importOrders(t, db,
				newOrder("#A", day(10, 12), status(canceldesk.FinancialPaid, canceldesk.FulfillmentUnfulfilled, "Blue Widget")),
				newOrder("#B", day(11), status(canceldesk.FinancialRefunded, canceldesk.FulfillmentUnfulfilled, "Blue Widget"), cancelled(day(11, 1))),
				newOrder("#C", day(12), status(canceldesk.FinancialPending, canceldesk.FulfillmentFulfilled, "Red Gadget")),
				newOrder("#D", day(13), status(canceldesk.FinancialVoided, canceldesk.FulfillmentPartial, "Blue Widget"), cancelled(day(13, 2))),
				newOrder("#E", day(14, 9, 30), status(canceldesk.FinancialPaid, canceldesk.FulfillmentPartial, "Green Widget")),
			)
			for _, tc := range []struct {
				name string
				f    canceldesk.OrderFilter
				want []string
			}{
				{"zero filter lists all", canceldesk.OrderFilter{}, []string{"#E", "#D", "#C", "#B", "#A"}},
				{"status all lists all", canceldesk.OrderFilter{Status: canceldesk.StatusAll}, []string{"#E", "#D", "#C", "#B", "#A"}},
				{"status open", canceldesk.OrderFilter{Status: canceldesk.StatusOpen}, []string{"#E", "#C", "#A"}},
				{"status cancelled", canceldesk.OrderFilter{Status: canceldesk.StatusCancelled}, []string{"#D", "#B"}},
				{"financial paid", canceldesk.OrderFilter{Financial: canceldesk.FinancialPaid}, []string{"#E", "#A"}},
				{"financial with no orders", canceldesk.OrderFilter{Financial: canceldesk.FinancialAuthorized}, []string{}},
				{"fulfillment partial", canceldesk.OrderFilter{Fulfillment: canceldesk.FulfillmentPartial}, []string{"#E", "#D"}},
				{"fulfillment fulfilled", canceldesk.OrderFilter{Fulfillment: canceldesk.FulfillmentFulfilled}, []string{"#C"}},
				{"from is inclusive", canceldesk.OrderFilter{From: day(12)}, []string{"#E", "#D", "#C"}},
				{"to is exclusive", canceldesk.OrderFilter{To: day(12)}, []string{"#B", "#A"}},
				{"from and to", canceldesk.OrderFilter{From: day(11), To: day(13)}, []string{"#C", "#B"}},
				{"dates in another zone are the same instant", canceldesk.OrderFilter{From: day(11).In(time.FixedZone("", -5*3600)), To: day(13).In(time.FixedZone("", 9*3600))}, []string{"#C", "#B"}},
				{"search and status", canceldesk.OrderFilter{Query: "widget", Status: canceldesk.StatusOpen}, []string{"#E", "#A"}},
				{"search, status and fulfillment", canceldesk.OrderFilter{Query: "WIDGET", Status: canceldesk.StatusCancelled, Fulfillment: canceldesk.FulfillmentPartial}, []string{"#D"}},
				{"search and dates", canceldesk.OrderFilter{Query: "blue widget", From: day(11), To: day(14)}, []string{"#D", "#B"}},
				{"search and financial", canceldesk.OrderFilter{Query: "widget", Financial: canceldesk.FinancialPaid, Fulfillment: canceldesk.FulfillmentUnfulfilled}, []string{"#A"}},
				{"short order number and status", canceldesk.OrderFilter{Query: "#C", Status: canceldesk.StatusOpen}, []string{"#C"}},
				{"short order number excluded by status", canceldesk.OrderFilter{Query: "C", Status: canceldesk.StatusCancelled}, []string{}},
				{"search and filters matching nothing", canceldesk.OrderFilter{Query: "gadget", Status: canceldesk.StatusCancelled}, []string{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					page := listOrders(t, db, tc.f)
					if !slices.Equal(names(page), tc.want) {
						t.Errorf("list = %v, want %v", names(page), tc.want)
					}
					if page.Next != nil {
						t.Errorf("Next = %v, want nil", page.Next)
					}
				})
			}
		})
	})
}

func TestInventory(t *testing.T) {
	forEachDBRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		t.Run("empty location name is invalid", func(t *testing.T) {
			for _, name := range []string{"", "   ", "\t\n"} {
				_, err := db.EnsureLocation(ctx(t), name)
				if code := canceldesk.ErrorCode(err); code != canceldesk.EINVALID {
					t.Errorf("EnsureLocation(%q) error = %v, want %s", name, err, canceldesk.EINVALID)
				}
			}
			locs, err := db.Locations(ctx(t))
			if err != nil || len(locs) != 0 {
				t.Errorf("Locations = %v, %v; want none", locs, err)
			}
		})

		warehouse, err := db.EnsureLocation(ctx(t), "Warehouse")
		if err != nil {
			t.Fatalf("EnsureLocation: %v", err)
		}
		shop, err := db.EnsureLocation(ctx(t), "Shop")
		if err != nil {
			t.Fatalf("EnsureLocation: %v", err)
		}

		t.Run("ensure location is idempotent", func(t *testing.T) {
			if warehouse.ID <= 0 || shop.ID <= 0 || warehouse.ID == shop.ID {
				t.Fatalf("ids = %d, %d; want distinct positive ids", warehouse.ID, shop.ID)
			}
			for _, name := range []string{"Warehouse", "  Warehouse  "} {
				again, err := db.EnsureLocation(ctx(t), name)
				if err != nil {
					t.Fatal(err)
				}
				if again != warehouse {
					t.Errorf("EnsureLocation(%q) = %+v, want %+v", name, again, warehouse)
				}
			}
			locs, err := db.Locations(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if want := []canceldesk.Location{shop, warehouse}; !slices.Equal(locs, want) {
				t.Errorf("Locations = %v, want %v (by name)", locs, want)
			}
		})

		stock := func(t *testing.T, skus ...string) []canceldesk.StockLevel {
			t.Helper()
			levels, err := db.Stock(ctx(t), skus)
			if err != nil {
				t.Fatalf("Stock(%v): %v", skus, err)
			}
			return levels
		}
		// ledger is the sum of the movements of each SKU and location.
		ledger := func(t *testing.T) map[string]int {
			t.Helper()
			rows, err := raw.QueryContext(ctx(t), `SELECT sku, location_id, sum(delta), count(*) FROM inventory_movements GROUP BY sku, location_id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]int{}
			for rows.Next() {
				var sku string
				var loc, sum, n int64
				if err := rows.Scan(&sku, &loc, &sum, &n); err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%s@%d", sku, loc)] = int(sum)
				out[fmt.Sprintf("%s@%d#", sku, loc)] = int(n)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}

		t.Run("stock on hand is the sum of deltas per sku and location", func(t *testing.T) {
			o := newOrder("#1", day(1))
			importOrders(t, db, o)
			ms := []canceldesk.InventoryMovement{
				{SKU: "A", LocationID: warehouse.ID, Delta: 10, Kind: canceldesk.MovementInitialReceipt, Actor: "ops"},
				{SKU: "A", LocationID: warehouse.ID, Delta: -3, Kind: canceldesk.MovementSale, OrderID: o.ID, Actor: "import"},
				{SKU: "A", LocationID: shop.ID, Delta: 5, Kind: canceldesk.MovementInitialReceipt, Actor: "ops"},
				{SKU: "B", LocationID: warehouse.ID, Delta: 2, Kind: canceldesk.MovementManual, Actor: "ops"},
				{SKU: "C", LocationID: shop.ID, Delta: 1, Kind: canceldesk.MovementManual, Actor: "ops"},
			}
			if err := db.AddMovements(ctx(t), ms); err != nil {
				t.Fatalf("AddMovements: %v", err)
			}
			for i, m := range ms {
				if m.ID <= 0 || !m.CreatedAt.Equal(fixedNow) {
					t.Errorf("movement %d after AddMovements: ID %d, CreatedAt %v; want an id and the clock", i, m.ID, m.CreatedAt)
				}
			}
			more := []canceldesk.InventoryMovement{
				{SKU: "B", LocationID: warehouse.ID, Delta: -2, Kind: canceldesk.MovementAdjustment, Actor: "ops"},
				{SKU: "A", LocationID: warehouse.ID, Delta: 1, Kind: canceldesk.MovementCancelRestock, OrderID: o.ID, Actor: "ops"},
			}
			if err := db.AddMovements(ctx(t), more); err != nil {
				t.Fatalf("AddMovements: %v", err)
			}

			want := []canceldesk.StockLevel{
				{SKU: "A", LocationID: shop.ID, Location: "Shop", OnHand: 5},
				{SKU: "A", LocationID: warehouse.ID, Location: "Warehouse", OnHand: 8},
				{SKU: "B", LocationID: warehouse.ID, Location: "Warehouse", OnHand: 0},
			}
			if got := stock(t, "B", "A", "unknown"); !slices.Equal(got, want) {
				t.Errorf("Stock(B, A) = %+v\nwant %+v", got, want)
			}
			if got := stock(t, "C"); len(got) != 1 || got[0].OnHand != 1 || got[0].LocationID != shop.ID {
				t.Errorf("Stock(C) = %+v, want 1 at Shop", got)
			}
			if got := stock(t); len(got) != 0 {
				t.Errorf("Stock() = %+v, want nothing", got)
			}
			sums := ledger(t)
			for _, l := range append(want, stock(t, "C")...) {
				if s := sums[fmt.Sprintf("%s@%d", l.SKU, l.LocationID)]; s != l.OnHand {
					t.Errorf("%s at %s: on hand %d, ledger sum %d", l.SKU, l.Location, l.OnHand, s)
				}
			}
		})

		t.Run("an invalid movement leaves stock unchanged", func(t *testing.T) {
			before, beforeLedger := stock(t, "A", "B", "C", "D"), ledger(t)
			for name, bad := range map[string]canceldesk.InventoryMovement{
				"no sku":           {LocationID: warehouse.ID, Delta: 1, Kind: canceldesk.MovementManual, Actor: "ops"},
				"no location":      {SKU: "A", Delta: 1, Kind: canceldesk.MovementManual, Actor: "ops"},
				"zero delta":       {SKU: "A", LocationID: warehouse.ID, Kind: canceldesk.MovementManual, Actor: "ops"},
				"unknown location": {SKU: "A", LocationID: warehouse.ID + shop.ID + 1000, Delta: 1, Kind: canceldesk.MovementManual, Actor: "ops"},
			} {
				batch := []canceldesk.InventoryMovement{
					{SKU: "A", LocationID: warehouse.ID, Delta: -4, Kind: canceldesk.MovementSale, Actor: "ops"},
					{SKU: "D", LocationID: shop.ID, Delta: 7, Kind: canceldesk.MovementInitialReceipt, Actor: "ops"},
					bad,
				}
				err := db.AddMovements(ctx(t), batch)
				if err == nil {
					t.Errorf("%s: AddMovements succeeded, want an error", name)
				} else if name != "unknown location" && canceldesk.ErrorCode(err) != canceldesk.EINVALID {
					t.Errorf("%s: error = %v, want %s", name, err, canceldesk.EINVALID)
				}
			}
			if after := stock(t, "A", "B", "C", "D"); !slices.Equal(after, before) {
				t.Errorf("stock after failed batches = %+v\nwant unchanged %+v", after, before)
			}
			if after := ledger(t); !reflect.DeepEqual(after, beforeLedger) {
				t.Errorf("ledger after failed batches = %v\nwant unchanged %v", after, beforeLedger)
			}
		})

		// More rows than one statement may carry: the ledger rows go in
		// several inserts and the stock in several upserts (and, on
		// PostgreSQL, in more than one shared statement); none is lost or
		// counted twice, the ids follow the batch, and a SKU moved twice in
		// it is one stock row.
		t.Run("a batch larger than one statement", func(t *testing.T) {
			const n = 12000
			batch := make([]canceldesk.InventoryMovement, 0, n+1)
			for i := range n {
				batch = append(batch, canceldesk.InventoryMovement{SKU: fmt.Sprintf("BULK-%05d", n-i), LocationID: shop.ID,
					Delta: i%7 + 1, Kind: canceldesk.MovementInitialReceipt, Actor: "ops"})
			}
			batch = append(batch, canceldesk.InventoryMovement{SKU: "BULK-00001", LocationID: shop.ID, Delta: 100,
				Kind: canceldesk.MovementManual, Actor: "ops"})
			if err := db.AddMovements(ctx(t), batch); err != nil {
				t.Fatalf("AddMovements: %v", err)
			}
			for i := 1; i < len(batch); i++ {
				if batch[i].ID <= batch[i-1].ID {
					t.Fatalf("ids out of the batch's order at %d: %d after %d", i, batch[i].ID, batch[i-1].ID)
				}
			}
			var levels int
			if err := raw.QueryRowContext(ctx(t), `SELECT count(*) FROM inventory_levels WHERE sku LIKE 'BULK-%'`).Scan(&levels); err != nil || levels != n {
				t.Errorf("stock rows of the batch: %d (%v), want %d", levels, err, n)
			}
			got := stock(t, "BULK-00001", "BULK-06000", "BULK-12000")
			want := []canceldesk.StockLevel{
				{SKU: "BULK-00001", LocationID: shop.ID, Location: "Shop", OnHand: (n-1)%7 + 1 + 100},
				{SKU: "BULK-06000", LocationID: shop.ID, Location: "Shop", OnHand: 6000%7 + 1},
				{SKU: "BULK-12000", LocationID: shop.ID, Location: "Shop", OnHand: 1},
			}
			if !slices.Equal(got, want) {
				t.Errorf("Stock = %+v\nwant %+v", got, want)
			}
			sums := ledger(t)
			for _, l := range got {
				if s := sums[fmt.Sprintf("%s@%d", l.SKU, l.LocationID)]; s != l.OnHand {
					t.Errorf("%s: on hand %d, ledger sum %d", l.SKU, l.OnHand, s)
				}
			}
		})
	})
}
