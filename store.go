package canceldesk

import "context"

// OrderStore is the system of record for orders. Every method is one
// transaction. Implementations: store.SQLite and store.Postgres.
type OrderStore interface {
	// ImportOrders inserts the orders with their line items and an
	// "imported" event each, all in one transaction. An order whose Name
	// already exists is left as it is and created[i] is false; o.ID is set
	// for every order. The location each new order names (o.Location) is
	// created once, when no location has that name, and o.LocationID set.
	// Stock is not moved: an import records history.
	ImportOrders(ctx context.Context, orders []*Order, actor string) (created []bool, err error)
	// Order returns the order with its line items, or ErrNotFound.
	Order(ctx context.Context, id int64) (*Order, error)
	// ListOrders returns one page of orders matching f, newest first.
	ListOrders(ctx context.Context, f OrderFilter) (OrderPage, error)
	// Events returns the order's timeline, oldest first.
	Events(ctx context.Context, orderID int64) ([]Event, error)
	// CountOrders returns how many orders exist.
	CountOrders(ctx context.Context) (int64, error)

	// EnsureLocation returns the location with that name, creating it.
	EnsureLocation(ctx context.Context, name string) (Location, error)
	// Locations lists every location by name.
	Locations(ctx context.Context) ([]Location, error)
	// AddLocation creates a location named name (see CheckLocationName).
	// A name another location has, in any letter case, is ECONFLICT beside
	// the field "name".
	AddLocation(ctx context.Context, name string) (Location, error)
	// RenameLocation renames location id, keeping its id, so the orders
	// and the stock ledger that name it follow. The name is checked as
	// AddLocation checks it; an unknown id is ENOTFOUND.
	RenameLocation(ctx context.Context, id int64, name string) (Location, error)
	// AddMovements appends stock ledger rows and updates stock on hand.
	AddMovements(ctx context.Context, ms []InventoryMovement) error
	// Stock returns stock on hand of the SKUs at every location.
	Stock(ctx context.Context, skus []string) ([]StockLevel, error)

	// CancelOrder cancels an order as req asks, in one transaction: the
	// guarded status change, the cancellation, the refund or void, the
	// line quantities, the stock ledger, the timeline and the customer
	// message owed (see PlanCancel for the rules). A request whose
	// IdempotencyKey already cancelled the order returns that result with
	// Replayed set and writes nothing. An invalid request is EINVALID
	// (see CancelRequest.Validate); an order that cannot be cancelled is
	// ECONFLICT with Key the first blocker; an unknown order ENOTFOUND; a
	// refund now over the staff limit (CheckStaffRefund) EFORBIDDEN beside
	// the field "refund". Nothing is written unless everything is.
	CancelOrder(ctx context.Context, req CancelRequest) (*CancelResult, error)
	// Cancellation returns how the order was cancelled, with its refunds,
	// or ENOTFOUND when it was not cancelled here.
	Cancellation(ctx context.Context, orderID int64) (*Cancellation, error)

	// RecreateOrder re-creates the cancelled order orderID as a new open
	// order (see NewRecreatedOrder) named RecreateName(RecreateBaseName(o),
	// n) with the first n ≥ 1 not taken, in one transaction. Where the
	// original's cancellation restocked, each line with a SKU takes its
	// quantity from that location again (a "sale" movement); else stock is
	// not moved. The timelines link both ways: EventRecreated on the
	// original, EventRecreatedFrom on the new order. An order that is not
	// cancelled is ECONFLICT with Key RecreateNotCancelled and nothing is
	// written; an unknown order ENOTFOUND. An order is re-created once,
	// enforced by the database: re-creating it again (a double click, a
	// second staff member, many requests at once) returns the order made
	// the first time and writes nothing, so there is never an "-R2" of the
	// same order.
	RecreateOrder(ctx context.Context, orderID int64, actor string) (*Order, error)
	// Recreation returns the order re-created from orderID, or ENOTFOUND
	// when it has not been re-created.
	Recreation(ctx context.Context, orderID int64) (*Recreation, error)
}
