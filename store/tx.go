package store

import (
	"context"
	"database/sql"

	"github.com/canceldesk/canceldesk"
)

// Tx is a write transaction that records what it changes. Every write of
// the store runs in one (see DB.tx) and says, as it writes, which orders,
// refunds and kinds of facts it changed; after a commit, and only then,
// the DB hands those Changes to its after-commit hook (see OnCommit).
type Tx struct {
	*sql.Tx
	changes canceldesk.Changes
}

// changedOrder records that the orders' stored state changed.
func (tx *Tx) changedOrder(ids ...int64) {
	for _, id := range ids {
		tx.changes.Order(id)
	}
}

// changedRefund records that rf (and so its order) changed.
func (tx *Tx) changedRefund(rf *canceldesk.Refund) { tx.changes.Refund(rf, false) }

// queuedRefund records that rf was written; when it is pending, its
// gateway is owed a call after commit.
func (tx *Tx) queuedRefund(rf *canceldesk.Refund) { tx.changes.Refund(rf, true) }

// changed records that facts of kind k changed.
func (tx *Tx) changed(k canceldesk.ChangeKind) { tx.changes.Kinds |= k }

// cancelled records what a cancel wrote: the order and its refund or
// void (owed a gateway call when pending).
func (tx *Tx) cancelled(res *canceldesk.CancelResult) {
	if res != nil {
		tx.changedOrder(res.OrderID)
		tx.queuedRefund(res.Refund)
	}
}

// OnCommit sets the hook every committed write's Changes are handed to,
// once, before the store serves writes: serve hands it a
// canceldesk.AfterCommit. The hook runs in the writer's goroutine after
// the commit, with the writer's context stripped of its cancellation; a
// write that fails or rolls back calls nothing.
func (db *DB) OnCommit(fn func(context.Context, canceldesk.Changes)) { db.onCommit.Store(&fn) }

// tx runs fn in a write transaction, committing when it returns nil; then
// the after-commit hook gets what fn recorded (unless nothing).
func (db *DB) tx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.runTx(ctx, fn)
	if err != nil {
		return err
	}
	if hook := db.onCommit.Load(); hook != nil && !tx.changes.Empty() {
		(*hook)(context.WithoutCancel(ctx), tx.changes)
	}
	return nil
}

// runTx runs fn in a write transaction and commits it when fn returns nil.
// On SQLite writers take turns in the order they came (see DB.writers);
// the after-commit hook runs once the next may go.
func (db *DB) runTx(ctx context.Context, fn func(*Tx) error) (*Tx, error) {
	if db.writers != nil {
		select {
		case db.writers <- struct{}{}:
			defer func() { <-db.writers }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	tx := &Tx{Tx: sqlTx}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return tx, tx.Commit()
}
