package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/canceldesk/canceldesk"
)

// maxRecreations bounds the search for a free "-Rn" name.
const maxRecreations = 1000

// errRecreatedMeanwhile ends a re-create whose recreations row lost a race
// to another re-create of the same order: its transaction rolls back and
// the other's order is returned.
var errRecreatedMeanwhile = errors.New("store: re-created meanwhile")

// RecreateOrder implements canceldesk.OrderStore. One transaction:
//
//  1. the original is locked (PostgreSQL; SQLite's writer holds the write
//     lock from BEGIN) and read: unknown is ENOTFOUND;
//  2. once per order: when a recreations row names it, the order it names
//     is returned and nothing is written;
//  3. not cancelled is ECONFLICT (Key recreate.not_cancelled);
//  4. the new order is inserted under the first free name "-R1", "-R2", …,
//     and the recreations row (its primary key, the original, is the last
//     guard: a re-create that raced past (2) rolls back and returns the
//     order of the one that won);
//  5. where the original's latest cancellation restocked, a "sale"
//     movement of −quantity per line with a SKU at that location, in SKU
//     order (the lock order of CancelOrder);
//  6. the "recreated" and "recreated_from" events.
func (db *DB) RecreateOrder(ctx context.Context, orderID int64, actor string) (*canceldesk.Order, error) {
	var out *canceldesk.Order
	err := db.tx(ctx, func(w *Tx) (err error) {
		tx := w.Tx
		out, err = db.recreate(ctx, tx, orderID, actor)
		if out != nil {
			w.changedOrder(orderID, out.ID)
		}
		return err
	})
	if errors.Is(err, errRecreatedMeanwhile) {
		r, err := db.Recreation(ctx, orderID)
		if err != nil {
			return nil, err
		}
		return db.Order(ctx, r.OrderID)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (db *DB) recreate(ctx context.Context, tx *sql.Tx, orderID int64, actor string) (*canceldesk.Order, error) {
	// (1) Lock, so two re-creates of one order run one after the other and
	// the second sees the first's row.
	if err := db.lockOrder(ctx, tx, orderID); err != nil {
		return nil, err
	}
	orig, err := db.order(ctx, tx, orderID)
	if err != nil {
		return nil, err
	}
	now := db.Now()

	// (2) Once per order.
	if prev, err := db.recreation(ctx, tx, orderID); err == nil {
		return db.order(ctx, tx, prev.OrderID)
	} else if canceldesk.ErrorCode(err) != canceldesk.ENOTFOUND {
		return nil, err
	}

	// (3) Only a cancelled order.
	if !orig.Cancelled() {
		return nil, &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: canceldesk.RecreateNotCancelled,
			Message: "Only a cancelled order can be re-created."}
	}

	// (4) The new order, under the first free name, and the row that makes
	// it the only one.
	base := canceldesk.RecreateBaseName(orig)
	var n *canceldesk.Order
	for i := 1; ; i++ {
		if i > maxRecreations {
			return nil, canceldesk.Errorf(canceldesk.ECONFLICT, "This order has been re-created too many times.")
		}
		name := canceldesk.RecreateName(base, i)
		var taken int
		if err := tx.QueryRowContext(ctx, db.bind(`SELECT count(*) FROM orders WHERE name = ?`), name).Scan(&taken); err != nil {
			return nil, err
		}
		if taken > 0 {
			continue
		}
		n = canceldesk.NewRecreatedOrder(orig, name, now)
		ok, err := db.insertOrder(ctx, tx, n, canceldesk.GatewayManual)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		// Taken meanwhile (an import): try the next name.
	}
	res, err := tx.ExecContext(ctx, db.bind(`INSERT INTO recreations (original_id, order_id, actor, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (original_id) DO NOTHING`), orig.ID, n.ID, actor, now.UnixMicro())
	if err != nil {
		return nil, err
	}
	if k, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if k == 0 {
		return nil, errRecreatedMeanwhile
	}

	// (5) Stock taken again where the cancel put it back.
	loc, err := db.restockLocation(ctx, tx, orig.ID)
	if err != nil {
		return nil, err
	}
	if loc != 0 {
		var moves []canceldesk.InventoryMovement
		for _, li := range n.LineItems {
			if li.SKU != "" && li.Quantity > 0 {
				moves = append(moves, canceldesk.InventoryMovement{SKU: li.SKU, LocationID: loc, Delta: -li.Quantity,
					Kind: canceldesk.MovementSale, OrderID: n.ID, Actor: actor, CreatedAt: now})
			}
		}
		if err := db.applyMovements(ctx, tx, moves); err != nil {
			return nil, err
		}
	}

	// (6) The timelines, linked both ways.
	events := []canceldesk.Event{
		{OrderID: orig.ID, Kind: canceldesk.EventRecreated, Data: canceldesk.EventData{Order: n.Name}},
		{OrderID: n.ID, Kind: canceldesk.EventRecreatedFrom, Data: canceldesk.EventData{Order: orig.Name}},
	}
	if err := db.insertEvents(ctx, tx, events, 0, actor, now); err != nil {
		return nil, err
	}
	// (7) The new order counts as placed in the analytics rollups, last
	// (see addStats); the original stays cancelled.
	if err := db.addStats(ctx, tx, placedStats(n)); err != nil {
		return nil, err
	}
	return db.order(ctx, tx, n.ID)
}

// Recreation implements canceldesk.OrderStore.
func (db *DB) Recreation(ctx context.Context, orderID int64) (*canceldesk.Recreation, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r, err := db.recreation(ctx, tx, orderID)
	if err != nil {
		return nil, err
	}
	return r, tx.Commit()
}

func (db *DB) recreation(ctx context.Context, tx *sql.Tx, orderID int64) (*canceldesk.Recreation, error) {
	r := canceldesk.Recreation{OriginalID: orderID}
	var at int64
	err := tx.QueryRowContext(ctx, db.bind(`SELECT r.order_id, o.name, r.actor, r.created_at
		FROM recreations r JOIN orders o ON o.id = r.order_id WHERE r.original_id = ?`), orderID).
		Scan(&r.OrderID, &r.OrderName, &r.Actor, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, canceldesk.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicros(at)
	return &r, nil
}

// restockLocation is the location the order's latest cancellation
// restocked to, or 0 when it did not restock (or was not cancelled here).
func (db *DB) restockLocation(ctx context.Context, tx *sql.Tx, orderID int64) (int64, error) {
	var (
		restock bool
		loc     sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, db.bind(`SELECT restock, location_id FROM cancellations
		WHERE order_id = ? ORDER BY id DESC LIMIT 1`), orderID).Scan(&restock, &loc)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if !restock || !loc.Valid {
		return 0, nil
	}
	return loc.Int64, nil
}
