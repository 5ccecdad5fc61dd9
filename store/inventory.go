package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/canceldesk/canceldesk"
)

// EnsureLocation implements canceldesk.OrderStore.
func (db *DB) EnsureLocation(ctx context.Context, name string) (canceldesk.Location, error) {
	var loc canceldesk.Location
	err := db.tx(ctx, func(tx *Tx) error {
		tx.changed(canceldesk.ChangedSettings) // the locations Settings lists
		var err error
		loc, err = db.ensureLocation(ctx, tx.Tx, name)
		return err
	})
	return loc, err
}

// ensureLocation returns the location with that name in tx, creating it.
func (db *DB) ensureLocation(ctx context.Context, tx *sql.Tx, name string) (canceldesk.Location, error) {
	loc := canceldesk.Location{Name: strings.TrimSpace(name)}
	if loc.Name == "" {
		return loc, canceldesk.Errorf(canceldesk.EINVALID, "A location needs a name.")
	}
	err := tx.QueryRowContext(ctx, db.bind(`INSERT INTO locations (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING id`), loc.Name).Scan(&loc.ID)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, db.bind(`SELECT id FROM locations WHERE name = ?`), loc.Name).Scan(&loc.ID)
	}
	return loc, err
}

// AddLocation implements canceldesk.OrderStore.
func (db *DB) AddLocation(ctx context.Context, name string) (canceldesk.Location, error) {
	return db.saveLocation(ctx, 0, name)
}

// RenameLocation implements canceldesk.OrderStore.
func (db *DB) RenameLocation(ctx context.Context, id int64, name string) (canceldesk.Location, error) {
	if id <= 0 {
		return canceldesk.Location{}, canceldesk.ErrNotFound
	}
	return db.saveLocation(ctx, id, name)
}

// saveLocation creates a location (id 0) or renames location id, after
// checking the name and that no other location has it in any letter case.
func (db *DB) saveLocation(ctx context.Context, id int64, name string) (canceldesk.Location, error) {
	name, err := canceldesk.CheckLocationName(name)
	if err != nil {
		return canceldesk.Location{}, err
	}
	loc := canceldesk.Location{ID: id, Name: name}
	err = db.tx(ctx, func(tx *Tx) error {
		tx.changed(canceldesk.ChangedSettings)
		var n int
		err := tx.QueryRowContext(ctx, db.bind(`SELECT count(*) FROM locations WHERE lower(name) = lower(?) AND id <> ?`), name, id).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return locationTaken()
		}
		if id == 0 {
			return tx.QueryRowContext(ctx, db.bind(`INSERT INTO locations (name) VALUES (?) RETURNING id`), name).Scan(&loc.ID)
		}
		return oneRow(tx.ExecContext(ctx, db.bind(`UPDATE locations SET name = ? WHERE id = ?`), name, id))
	})
	if isUniqueViolation(err) { // another one took the name meanwhile
		err = locationTaken()
	}
	return loc, err
}

// oneRow is the error of a statement meant to change one row: its own,
// or ErrNotFound when it changed none.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return canceldesk.ErrNotFound
	}
	return nil
}

// locationTaken is the error of a name another location has.
func locationTaken() error {
	return &canceldesk.Error{Code: canceldesk.ECONFLICT, Message: "Another location has that name.",
		Field: "name", Key: "validation.location_name_taken"}
}

// Locations implements canceldesk.OrderStore, with Shopify's id of each
// location an order synced from the shop named.
func (db *DB) Locations(ctx context.Context) ([]canceldesk.Location, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, external_id FROM locations ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.Location
	for rows.Next() {
		var l canceldesk.Location
		if err := rows.Scan(&l.ID, &l.Name, &l.ExternalID); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// AddMovements implements canceldesk.OrderStore.
func (db *DB) AddMovements(ctx context.Context, ms []canceldesk.InventoryMovement) error {
	return db.tx(ctx, func(w *Tx) error {
		if err := db.addLedgerRows(ctx, w.Tx, ms); err != nil {
			return err
		}
		for _, m := range ms {
			w.changedOrder(m.OrderID)
		}
		sorted := slices.Clone(ms)
		sortMovements(sorted)
		return db.execShared(ctx, w.Tx, levelStmts(sorted))
	})
}

// addLedgerRows appends the movements to the ledger, in their order; the
// stock on hand they move is levelStmts'.
func (db *DB) addLedgerRows(ctx context.Context, tx *sql.Tx, ms []canceldesk.InventoryMovement) error {
	rows := make([][]any, len(ms))
	for i := range ms {
		m := &ms[i]
		if m.SKU == "" || m.LocationID == 0 || m.Delta == 0 {
			return canceldesk.Errorf(canceldesk.EINVALID, "A stock movement needs a SKU, a location and a quantity.")
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = db.Now()
		}
		var orderID any
		if m.OrderID != 0 {
			orderID = m.OrderID
		}
		rows[i] = []any{m.SKU, m.LocationID, m.Delta, string(m.Kind), orderID, m.Actor, m.CreatedAt.UnixMicro()}
	}
	ids, err := db.insertRows(ctx, tx, `INSERT INTO inventory_movements (sku, location_id, delta, kind, order_id, actor, created_at)`, rows)
	for i, id := range ids {
		ms[i].ID = id
	}
	return err
}

// levelStmts are the upserts that move stock on hand by moves (sorted by
// sortMovements), one row per SKU and location, in that order.
func levelStmts(moves []canceldesk.InventoryMovement) []stmt {
	var stmts []stmt
	for start := 0; start < len(moves); {
		var (
			q    strings.Builder
			args []any
			rows int
		)
		q.WriteString(`INSERT INTO inventory_levels (sku, location_id, on_hand) VALUES `)
		for ; start < len(moves) && rows < statsChunk; rows++ {
			m := moves[start]
			delta := 0
			for ; start < len(moves) && moves[start].SKU == m.SKU && moves[start].LocationID == m.LocationID; start++ {
				delta += moves[start].Delta
			}
			if rows > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, m.SKU, m.LocationID, delta)
		}
		q.WriteString(` ON CONFLICT (sku, location_id) DO UPDATE SET on_hand = inventory_levels.on_hand + excluded.on_hand`)
		stmts = append(stmts, stmt{q.String(), args})
	}
	return stmts
}

// Stock implements canceldesk.OrderStore.
func (db *DB) Stock(ctx context.Context, skus []string) ([]canceldesk.StockLevel, error) {
	if len(skus) == 0 {
		return nil, nil
	}
	args := make([]any, len(skus))
	for i, s := range skus {
		args[i] = s
	}
	return db.stockLevels(ctx, `WHERE l.sku IN (?`+strings.Repeat(", ?", len(skus)-1)+`)`, args...)
}

// stockLevels lists stock on hand joined with location names, by SKU then
// location name, narrowed by where.
func (db *DB) stockLevels(ctx context.Context, where string, args ...any) ([]canceldesk.StockLevel, error) {
	q := `SELECT l.sku, l.location_id, loc.name, l.on_hand FROM inventory_levels l
		JOIN locations loc ON loc.id = l.location_id ` + where + ` ORDER BY l.sku, loc.name`
	rows, err := db.read.QueryContext(ctx, db.bind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.StockLevel
	for rows.Next() {
		var s canceldesk.StockLevel
		if err := rows.Scan(&s.SKU, &s.LocationID, &s.Location, &s.OnHand); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Movements implements canceldesk.RefundStore: the SKU's ledger, newest
// first.
func (db *DB) Movements(ctx context.Context, sku string, limit int) ([]canceldesk.InventoryMovement, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, db.bind(`SELECT m.id, m.sku, m.location_id, m.delta, m.kind, m.order_id,
		coalesce(o.name, ''), m.actor, m.created_at
		FROM inventory_movements m LEFT JOIN orders o ON o.id = m.order_id
		WHERE m.sku = ? ORDER BY m.id DESC LIMIT ?`), sku, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.InventoryMovement
	for rows.Next() {
		var (
			m       canceldesk.InventoryMovement
			kind    string
			orderID sql.NullInt64
			at      int64
		)
		if err := rows.Scan(&m.ID, &m.SKU, &m.LocationID, &m.Delta, &kind, &orderID, &m.OrderName, &m.Actor, &at); err != nil {
			return nil, err
		}
		m.Kind, m.OrderID, m.CreatedAt = canceldesk.MovementKind(kind), orderID.Int64, fromMicros(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// StockLevels implements canceldesk.RefundStore: every SKU at every
// location, by SKU then location name.
func (db *DB) StockLevels(ctx context.Context) ([]canceldesk.StockLevel, error) {
	return db.stockLevels(ctx, "")
}
