package store

// The steps every write of an order shares, in the order a write takes
// them: lock the order (lockOrder), change its lines' counters in one
// guarded UPDATE (updateLine), move stock (applyMovements), write the
// timeline (actionEvents, insertEvents) and owe the customer a message
// (enqueueMessage). Cancel, bulk cancel, refund, restock, re-create and
// request approval all go through them, inside one DB.tx.

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"

	"github.com/canceldesk/canceldesk"
)

// lockOrder locks the order's row on PostgreSQL (SQLite's single writer
// connection already serializes write transactions). ErrNotFound when the
// order does not exist.
func (db *DB) lockOrder(ctx context.Context, tx *sql.Tx, orderID int64) error {
	if db.dialect != postgres {
		return nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM orders WHERE id = $1 FOR UPDATE`, orderID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return canceldesk.ErrNotFound
	}
	return err
}

// lockOrderOf locks, on PostgreSQL, the order of row id of table (a table
// with an order_id column: refunds, shopify_calls), so a write of that row
// takes its turn with every other writer of the order. ErrNotFound when
// there is no such row.
func (db *DB) lockOrderOf(ctx context.Context, tx *sql.Tx, table string, id int64) error {
	if db.dialect != postgres {
		return nil
	}
	var orderID int64
	err := tx.QueryRowContext(ctx, `SELECT order_id FROM `+table+` WHERE id = $1`, id).Scan(&orderID)
	if errors.Is(err, sql.ErrNoRows) {
		return canceldesk.ErrNotFound
	} else if err != nil {
		return err
	}
	return db.lockOrder(ctx, tx, orderID)
}

// lineDelta is what one write adds to a line item's counters. Every
// counter only grows.
type lineDelta struct {
	LineItemID      int64
	Refunded        int // refunded_quantity
	Cancelled       int // cancelled_quantity
	Restocked       int // restocked_quantity (cancelled units back in stock)
	Returned        int // returned_quantity
	ReturnRestocked int // return_restocked_quantity
	RefundedShipped int // refunded_shipped_quantity
}

// errLineConflict is updateLine's answer when its guard refused the
// change: the line changed since it was read, or the change would break
// one of its invariants. Callers say it in their own words.
var errLineConflict = errors.New("store: line counters refused the change")

// updateLine adds d to its line's counters in one UPDATE whose WHERE
// clause carries every invariant a growing counter could break:
//
//	refunded ≤ quantity; refunded − refunded shipped ≤ quantity − fulfilled
//	fulfilled + cancelled ≤ quantity; restocked ≤ cancelled
//	return restocked ≤ returned ≤ fulfilled; refunded shipped ≤ fulfilled
//
// so a plan made on a stale read changes nothing: 0 rows is
// errLineConflict. Only the invariants of the counters that grow are
// checked, so a line imported with odd counters can still change in other
// ways. A delta that grows nothing is errLineConflict too.
func (db *DB) updateLine(ctx context.Context, tx *sql.Tx, orderID int64, d lineDelta) error {
	var (
		sets, guards []string
		setArgs      []any
		guardArgs    []any
	)
	add := func(col string, n int) {
		if n != 0 {
			sets, setArgs = append(sets, col+" = "+col+" + ?"), append(setArgs, n)
		}
	}
	guard := func(when bool, cond string, args ...any) {
		if when {
			guards, guardArgs = append(guards, cond), append(guardArgs, args...)
		}
	}
	add("cancelled_quantity", d.Cancelled)
	add("restocked_quantity", d.Restocked)
	add("refunded_quantity", d.Refunded)
	add("returned_quantity", d.Returned)
	add("return_restocked_quantity", d.ReturnRestocked)
	add("refunded_shipped_quantity", d.RefundedShipped)
	guard(d.Cancelled > 0, "fulfilled_quantity + cancelled_quantity + ? <= quantity", d.Cancelled)
	guard(d.Refunded > 0, "refunded_quantity + ? <= quantity", d.Refunded)
	guard(d.Restocked > 0, "restocked_quantity + ? <= cancelled_quantity + ?", d.Restocked, d.Cancelled)
	guard(d.Refunded > d.RefundedShipped,
		"refunded_quantity + ? - refunded_shipped_quantity <= quantity - fulfilled_quantity", d.Refunded-d.RefundedShipped)
	guard(d.Returned > 0, "returned_quantity + ? <= fulfilled_quantity", d.Returned)
	guard(d.ReturnRestocked > 0, "return_restocked_quantity + ? <= returned_quantity + ?", d.ReturnRestocked, d.Returned)
	guard(d.RefundedShipped > 0, "refunded_shipped_quantity + ? <= fulfilled_quantity", d.RefundedShipped)
	if len(sets) == 0 {
		return errLineConflict
	}
	q := `UPDATE line_items SET ` + strings.Join(sets, ", ") + ` WHERE id = ? AND order_id = ?`
	for _, g := range guards {
		q += " AND " + g
	}
	args := append(append(setArgs, d.LineItemID, orderID), guardArgs...)
	r, err := tx.ExecContext(ctx, db.bind(q), args...)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return errLineConflict
	}
	return nil
}

// sortMovements sorts moves by SKU, then location: the order of the
// ledger's writes and of the timeline's restock entries.
func sortMovements(moves []canceldesk.InventoryMovement) {
	sort.SliceStable(moves, func(i, j int) bool {
		if moves[i].SKU != moves[j].SKU {
			return moves[i].SKU < moves[j].SKU
		}
		return moves[i].LocationID < moves[j].LocationID
	})
}

// applyMovements writes ledger rows sorted by SKU (then location), then
// moves stock on hand through execShared: the same order in every
// transaction, so two writers restocking the same SKUs never deadlock on
// PostgreSQL.
func (db *DB) applyMovements(ctx context.Context, tx *sql.Tx, moves []canceldesk.InventoryMovement) error {
	levels, err := db.insertMovements(ctx, tx, moves)
	if err != nil {
		return err
	}
	return db.execShared(ctx, tx, levels)
}

// insertMovements sorts moves (sortMovements), writes their ledger rows and
// returns the upserts of stock on hand they owe (levelStmts), for a write
// that sends them with its other shared rows.
func (db *DB) insertMovements(ctx context.Context, tx *sql.Tx, moves []canceldesk.InventoryMovement) ([]stmt, error) {
	sortMovements(moves)
	if err := db.addLedgerRows(ctx, tx, moves); err != nil {
		return nil, err
	}
	return levelStmts(moves), nil
}
