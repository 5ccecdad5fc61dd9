package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/canceldesk/canceldesk"
)

// SettleRefund implements canceldesk.RefundStore. Only a pending refund
// changes, or a failed one that succeeded after all (a retry answered
// late); a refund already final stays as it is and nothing is written. A
// success moves the order's financial status (see syncFinancialStatus); a
// success or a failure is written to the timeline.
func (db *DB) SettleRefund(ctx context.Context, refundID int64, status, providerID, errMsg string) error {
	switch status {
	case canceldesk.RefundPending, canceldesk.RefundSucceeded, canceldesk.RefundFailed:
	default:
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "status", Key: "validation.refund_status",
			Message: "A refund is pending, succeeded or failed."}
	}
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		rf, err := db.lockRefund(ctx, tx, refundID)
		if err != nil {
			return err
		}
		switch {
		case rf.Status == canceldesk.RefundPending:
		case rf.Status == canceldesk.RefundFailed && status == canceldesk.RefundSucceeded:
		default:
			return nil // final: settling again changes nothing
		}
		now := db.Now()
		at := now.UnixMicro()
		if providerID == "" {
			providerID = rf.ProviderID
		}
		if status != canceldesk.RefundFailed {
			errMsg = ""
		}
		if status == rf.Status && providerID == rf.ProviderID && errMsg == rf.Error {
			return nil
		}
		r, err := tx.ExecContext(ctx, db.bind(`UPDATE refunds SET status = ?, provider_id = ?, error = ?, updated_at = ?
			WHERE id = ? AND status = ?`), status, providerID, errMsg, at, rf.ID, rf.Status)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, fmt.Errorf("store: refund %d changed while it was settled", rf.ID))
		}
		rf.Status, rf.ProviderID, rf.Error = status, providerID, errMsg
		w.changedRefund(rf)
		var e canceldesk.Event
		switch status {
		case canceldesk.RefundSucceeded:
			if err := db.syncFinancialStatus(ctx, tx, rf.OrderID, rf.Kind, at); err != nil {
				return err
			}
			if err := db.addRefunded(ctx, tx, rf); err != nil {
				return err
			}
			if err := db.releaseMessages(ctx, tx, rf.ID, at); err != nil {
				return err
			}
			e = canceldesk.Event{Kind: canceldesk.EventRefund, Data: refundEventData(*rf)}
			if rf.Kind == canceldesk.RefundKindVoid {
				e.Kind = canceldesk.EventVoid
			}
		case canceldesk.RefundFailed:
			e = canceldesk.Event{Kind: canceldesk.EventRefundFailed, Data: withError(refundEventData(*rf), errMsg)}
		default:
			return nil // still pending: the provider's id is kept, the timeline waits
		}
		e.OrderID, e.Actor, e.CreatedAt = rf.OrderID, "system", now
		return db.insertEvent(ctx, tx, &e)
	})
}

// lockRefund reads a refund for a change: on PostgreSQL its order's row is
// locked first (the order every writer of an order locks in), then the
// refund's.
func (db *DB) lockRefund(ctx context.Context, tx *sql.Tx, refundID int64) (*canceldesk.Refund, error) {
	if err := db.lockOrderOf(ctx, tx, "refunds", refundID); err != nil {
		return nil, err
	}
	return db.refund(ctx, tx, refundID, true)
}

// RetryRefund implements canceldesk.RefundStore: a failed refund is
// pending again, with the same idempotency key so the gateway can never pay
// twice, and its error cleared. A refund that has not failed is ECONFLICT.
// A failed refund moved no money and the staff limit does not count it, so
// sending it again is held to the limit as a new refund by actor would be
// (EFORBIDDEN).
func (db *DB) RetryRefund(ctx context.Context, refundID int64, actor string, role canceldesk.Role) (*canceldesk.Refund, error) {
	var out *canceldesk.Refund
	err := db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		rf, err := db.lockRefund(ctx, tx, refundID)
		if err != nil {
			return err
		}
		if rf.Status != canceldesk.RefundFailed {
			return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "refund.not_failed",
				Message: "Only a failed refund can be tried again."}
		}
		if rf.Kind == canceldesk.RefundKindRefund {
			settings, err := db.settings(ctx, tx)
			if err != nil {
				return err
			}
			if err := db.checkStaffRefund(ctx, tx, rf.OrderID, actor, role, settings.StaffRefundLimit[rf.Currency],
				rf.Amount, ""); err != nil {
				return err
			}
		}
		now := db.Now()
		r, err := tx.ExecContext(ctx, db.bind(`UPDATE refunds SET status = 'pending', error = '', updated_at = ?
			WHERE id = ? AND status = 'failed'`), now.UnixMicro(), rf.ID)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, fmt.Errorf("store: refund %d changed while it was retried", rf.ID))
		}
		rf.Status, rf.Error, rf.UpdatedAt = canceldesk.RefundPending, "", fromMicros(now.UnixMicro())
		w.queuedRefund(rf)
		e := canceldesk.Event{OrderID: rf.OrderID, Kind: canceldesk.EventRefundRetry, Actor: actor, CreatedAt: now,
			Data: refundEventData(*rf)}
		if err := db.insertEvent(ctx, tx, &e); err != nil {
			return err
		}
		out = rf
		return nil
	})
	return out, err
}
