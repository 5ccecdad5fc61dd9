package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/canceldesk/canceldesk"
)

func nothingToRestock() error {
	return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "restock.nothing",
		Message: "Nothing on this order is waiting to go back to stock."}
}

// RestockOrder implements canceldesk.RefundStore: units cancelled or
// returned and never restocked go back to stock by hand (see
// canceldesk.PlanRestock), in one transaction: the guarded line counters,
// "manual" ledger rows, the timeline and the restock row that makes a
// second submission of the same key write nothing.
func (db *DB) RestockOrder(ctx context.Context, req canceldesk.RestockRequest) error {
	_, err := keyedTx(ctx, db, func(tx *Tx) (struct{}, error) {
		tx.changedOrder(req.OrderID)
		return struct{}{}, db.restockOrder(ctx, tx.Tx, req)
	})
	return err
}

// restockReplayed reports whether key restocked the order already; a key
// used for another order is EINVALID.
func (db *DB) restockReplayed(ctx context.Context, tx *sql.Tx, orderID int64, key string) (bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, db.bind(`SELECT order_id FROM restocks WHERE idempotency_key = ?`), key).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	case id != orderID:
		return false, staleKeyError()
	}
	return true, nil
}

func (db *DB) restockOrder(ctx context.Context, tx *sql.Tx, req canceldesk.RestockRequest) error {
	if done, err := db.restockReplayed(ctx, tx, req.OrderID, req.IdempotencyKey); done || err != nil {
		return err
	}
	if db.dialect == postgres {
		if err := db.lockOrder(ctx, tx, req.OrderID); err != nil {
			return err
		}
		if done, err := db.restockReplayed(ctx, tx, req.OrderID, req.IdempotencyKey); done || err != nil {
			return err
		}
	}
	o, lines, err := db.planRestock(ctx, tx, req)
	if err != nil {
		return err
	}
	now := db.Now()
	at := now.UnixMicro()
	var moves []canceldesk.InventoryMovement
	for _, l := range lines {
		if l.Restocked == 0 && l.ReturnRestocked == 0 {
			continue
		}
		err := db.updateLine(ctx, tx, o.ID, lineDelta{LineItemID: l.LineItemID, Restocked: l.Restocked,
			ReturnRestocked: l.ReturnRestocked})
		if errors.Is(err, errLineConflict) {
			return nothingToRestock()
		} else if err != nil {
			return err
		}
		moves = append(moves, canceldesk.InventoryMovement{SKU: l.SKU, LocationID: l.LocationID,
			Delta: l.Restocked + l.ReturnRestocked, Kind: canceldesk.MovementManual, OrderID: o.ID, Actor: req.Actor, CreatedAt: now})
	}
	if len(moves) == 0 {
		return nothingToRestock()
	}
	if _, err := tx.ExecContext(ctx, db.bind(`UPDATE orders SET updated_at = ? WHERE id = ?`), at, o.ID); err != nil {
		return err
	}
	if err := db.applyMovements(ctx, tx, moves); err != nil {
		return err
	}
	events, err := db.restockEvents(ctx, tx, moves, o)
	if err != nil {
		return err
	}
	if err := db.insertEvents(ctx, tx, events, o.ID, req.Actor, now); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, db.bind(`INSERT INTO restocks (order_id, idempotency_key, actor, created_at) VALUES (?, ?, ?, ?)`),
		o.ID, req.IdempotencyKey, req.Actor, at)
	return err
}

// planRestock reads the order and plans req on it (canceldesk.PlanRestock);
// an order with nothing waiting to go back to stock is ECONFLICT. It writes
// nothing.
func (db *DB) planRestock(ctx context.Context, tx *sql.Tx, req canceldesk.RestockRequest) (*canceldesk.Order, []canceldesk.RefundPlanLine, error) {
	o, err := db.order(ctx, tx, req.OrderID)
	if err != nil {
		return nil, nil, err
	}
	restockable := 0
	for _, li := range o.LineItems {
		restockable += canceldesk.ManualRestockable(li)
	}
	if restockable == 0 {
		return nil, nil, nothingToRestock()
	}
	lines, err := canceldesk.PlanRestock(o, req)
	return o, lines, err
}
