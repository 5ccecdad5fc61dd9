package store

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"

	"github.com/canceldesk/canceldesk"
)

// maxRecreations bounds the search for a free "-Rn" name.
const maxRecreations = 1000

// RecreateOrder implements canceldesk.OrderStore. One transaction:
//
//  1. the original is locked (PostgreSQL; SQLite's writer holds the write
//     lock from BEGIN) and read: unknown is ENOTFOUND;
//  2. the double-click guard: a "recreated" event on it by the same actor
//     at or after db.Now() − RecreateGuardWindow returns the order named
//     in that event, writing nothing;
//  3. not cancelled is ECONFLICT (Key recreate.not_cancelled);
//  4. the new order is inserted under the first free name "-R1", "-R2", …;
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
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (db *DB) recreate(ctx context.Context, tx *sql.Tx, orderID int64, actor string) (*canceldesk.Order, error) {
	// (1) Lock, so two re-creates of one order run one after the other and
	// the second sees the first's event.
	if db.dialect == postgres {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM orders WHERE id = $1 FOR UPDATE`, orderID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, canceldesk.ErrNotFound
		} else if err != nil {
			return nil, err
		}
	}
	orig, err := db.order(ctx, tx, orderID)
	if err != nil {
		return nil, err
	}
	now := db.Now()

	// (2) The double-click guard.
	if prev, err := db.recentRecreation(ctx, tx, orderID, actor, now); prev != nil || err != nil {
		return prev, err
	}

	// (3) Only a cancelled order.
	if !orig.Cancelled() {
		return nil, &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: canceldesk.RecreateNotCancelled,
			Message: "Only a cancelled order can be re-created."}
	}

	// (4) The new order, under the first free name.
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
		ok, err := db.insertOrder(ctx, tx, n)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		// Taken meanwhile (an import): try the next name.
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
		sort.SliceStable(moves, func(i, j int) bool { return moves[i].SKU < moves[j].SKU })
		for i := range moves {
			if err := db.addMovement(ctx, tx, &moves[i]); err != nil {
				return nil, err
			}
		}
	}

	// (6) The timelines, linked both ways.
	events := []canceldesk.Event{
		{OrderID: orig.ID, Kind: canceldesk.EventRecreated, Message: canceldesk.RecreatedMessage(n.Name, n.ID)},
		{OrderID: n.ID, Kind: canceldesk.EventRecreatedFrom, Message: canceldesk.RecreatedFromMessage(orig.Name, orig.ID)},
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

// recentRecreation returns the order that actor re-created from orderID
// within the guard window before now, or nil.
func (db *DB) recentRecreation(ctx context.Context, tx *sql.Tx, orderID int64, actor string, now time.Time) (*canceldesk.Order, error) {
	since := now.UnixMicro() - canceldesk.RecreateGuardWindow.Microseconds()
	rows, err := tx.QueryContext(ctx, db.bind(`SELECT message FROM events
		WHERE order_id = ? AND kind = ? AND actor = ? AND created_at >= ? ORDER BY id DESC`),
		orderID, canceldesk.EventRecreated, actor, since)
	if err != nil {
		return nil, err
	}
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return nil, err
		}
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if _, id, ok := canceldesk.ParseRecreateLink(m); ok {
			o, err := db.order(ctx, tx, id)
			if canceldesk.ErrorCode(err) == canceldesk.ENOTFOUND {
				continue // deleted since
			}
			return o, err
		}
	}
	return nil, nil
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
