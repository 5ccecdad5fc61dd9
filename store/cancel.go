package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canceldesk/canceldesk"
)

// CancelOrder implements canceldesk.OrderStore. One transaction:
//
//  1. the order is read (on PostgreSQL its row locked in the same read, so
//     a racing twin with the same key waits, then replays);
//  2. a cancellation with the request's idempotency key already exists:
//     its result comes back with Replayed set, nothing is written;
//  3. it is planned (canceldesk.PlanCancel); a blocker is ECONFLICT; a
//     refund now over the staff limit, counting what the actor refunded
//     on the order before, is EFORBIDDEN (see staffLimited);
//  4. the order's status changes, guarded by cancelled_at IS NULL; a
//     refund's amount and shipping are reserved at once, and when the
//     refund is final at once (manual) the financial status follows in the
//     same write;
//  5. the cancellation row, 6. the refund or void row through req.Gateway
//     ("" is manual): manual succeeds at once, any other gateway stays
//     pending and the status waits for SettleRefund; 7. the line
//     quantities (guarded so none exceeds the quantity ordered, nor
//     restocked units the cancelled ones), 9. the timeline, 10. the
//     customer message owed, then 8. the stock ledger and 11. the
//     analytics rollups, the rows other cancels wait for.
//
// Two requests with one key that still collide on its unique index are
// retried once, after the rollback, and then replay.
func (db *DB) CancelOrder(ctx context.Context, req canceldesk.CancelRequest) (*canceldesk.CancelResult, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return keyedTx(ctx, db, func(tx *Tx) (*canceldesk.CancelResult, error) {
		res, err := db.cancel(ctx, tx.Tx, req, staffLimited)
		tx.cancelled(res)
		return res, err
	})
}

// limitPolicy says whether a cancel's refund is held to the staff refund
// limit: every cancel a person makes (the dialog, a bulk cancel, an
// approved request) is; the store's own auto-approval rule, with no staff
// actor, is not, and its timeline says so. A cancel Shopify has done
// (shopifyDone) was held to it when it was queued, and its refund is
// recorded succeeded: Shopify has given the money back.
type limitPolicy int

const (
	staffLimited limitPolicy = iota
	ruleApproved
	shopifyDone
)

// keyedTx runs fn in one transaction for a write carrying an idempotency
// key. Two requests with one key that still collide on its unique index
// (both passed the replay check before either committed) are retried once,
// after the rollback, and the second then replays. A missing location
// (deleted meanwhile, or never there) comes back beside its field.
func keyedTx[T any](ctx context.Context, db *DB, fn func(*Tx) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		var res T
		err := db.tx(ctx, func(tx *Tx) (err error) {
			res, err = fn(tx)
			return err
		})
		switch {
		case err == nil:
			return res, nil
		case isUniqueViolation(err) && attempt == 0:
			continue
		case isForeignKeyViolation(err):
			var zero T
			return zero, locationError()
		}
		return res, err
	}
}

func (db *DB) cancel(ctx context.Context, tx *sql.Tx, req canceldesk.CancelRequest, policy limitPolicy) (*canceldesk.CancelResult, error) {
	// The order is read first, its row locked on PostgreSQL: a twin
	// request with the same key waits for this one and then replays.
	o, err := db.lockedOrder(ctx, tx, req.OrderID)
	if err != nil {
		return nil, err
	}
	if res, err := db.replay(ctx, tx, req); res != nil || err != nil {
		return res, err
	}
	settings, err := db.settings(ctx, tx)
	if err != nil {
		return nil, err
	}
	plan, err := db.planOrder(ctx, tx, o, req, policy, settings)
	if err != nil {
		return nil, err
	}
	now := db.Now()
	at := now.UnixMicro()

	// (4) The guarded status change: only one cancel can pass it. A refund
	// reserves its amount (and its shipping) at once, whatever the gateway
	// answers; the financial status follows only what the gateway confirmed:
	// here, in the same write, when the refund is final at once (see
	// financialAfter), else when SettleRefund hears of it.
	var shippingRefunded, taxRefunded int64
	if plan.RefundKind == canceldesk.RefundKindRefund {
		shippingRefunded, taxRefunded = plan.RefundShipping, plan.RefundTax
	}
	gateway := req.Gateway
	if gateway == "" {
		gateway = canceldesk.GatewayManual
	}
	refunds := plan.RefundKind != "" && plan.RefundTotal > 0
	final := refunds && (refundFinalAtOnce(gateway) || policy == shopifyDone)
	refundedMore := canceldesk.RefundedAmountAfter(o, plan) - o.RefundedAmount
	fin, succeeded := o.FinancialStatus, o.RefundedSucceeded
	if final {
		if fin, succeeded, err = db.financialAfter(ctx, tx, o.ID, plan.RefundKind, refundedMore); err != nil {
			return nil, err
		}
	}
	r, err := tx.ExecContext(ctx, db.bind(`UPDATE orders SET cancelled_at = ?, cancel_reason = ?,
		refunded_amount = refunded_amount + ?, shipping_refunded = shipping_refunded + ?,
		tax_refunded = tax_refunded + ?, fulfillment_status = ?, financial_status = ?, refunded_succeeded = ?,
		updated_at = ? WHERE id = ? AND cancelled_at IS NULL`),
		at, string(req.Reason), refundedMore, shippingRefunded, taxRefunded,
		string(canceldesk.DeriveFulfillment(o.LineItems)), string(fin), succeeded, at, o.ID)
	if err != nil {
		return nil, err
	}
	if n, err := r.RowsAffected(); err != nil {
		return nil, err
	} else if n == 0 {
		return nil, blocked(canceldesk.BlockedAlreadyCancelled)
	}

	// (5) The cancellation.
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return nil, err
	}
	var location any
	if plan.Restock && plan.LocationID != 0 {
		location = plan.LocationID
	}
	res := &canceldesk.CancelResult{OrderID: o.ID, Plan: plan}
	err = tx.QueryRowContext(ctx, db.bind(`INSERT INTO cancellations (order_id, reason, reason_label, staff_note,
		refund_choice, restock, location_id, notify, idempotency_key, actor, source, plan, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		o.ID, string(req.Reason), req.ReasonLabel, req.StaffNote, string(req.Refund), plan.Restock, location,
		plan.Notify, req.IdempotencyKey, req.Actor, canceldesk.CancelSource(req), string(planJSON), at).Scan(&res.CancellationID)
	if err != nil {
		return nil, err
	}

	// (6) The refund or void, recorded before any gateway is called. The
	// manual gateway succeeds at once (the order's row already says so);
	// any other waits for SettleRefund.
	if refunds {
		rf := canceldesk.Refund{OrderID: o.ID, CancellationID: res.CancellationID, Kind: plan.RefundKind,
			Amount: plan.RefundTotal, Shipping: shippingRefunded, Currency: o.Currency, Method: canceldesk.MethodOriginal,
			Gateway: gateway, Status: canceldesk.RefundPending, IdempotencyKey: "refund:" + req.IdempotencyKey,
			Actor: req.Actor, CreatedAt: now, UpdatedAt: now}
		if final {
			rf.Status = canceldesk.RefundSucceeded
		}
		if err := db.insertRefund(ctx, tx, &rf, "{}"); err != nil {
			return nil, err
		}
		res.Refund = &rf
	}

	// (7) Line quantities, never past what was ordered; the ledger's
	// movements are written at (8), late.
	var moves []canceldesk.InventoryMovement
	for _, l := range plan.Lines {
		err := db.updateLine(ctx, tx, o.ID, lineDelta{LineItemID: l.LineItemID, Cancelled: l.CancelQty,
			Restocked: l.RestockQty, Refunded: l.RefundQty})
		if errors.Is(err, errLineConflict) {
			return nil, blocked(canceldesk.BlockedNothingToCancel)
		} else if err != nil {
			return nil, err
		}
		if l.RestockQty > 0 {
			moves = append(moves, canceldesk.InventoryMovement{SKU: l.SKU, LocationID: plan.LocationID, Delta: l.RestockQty,
				Kind: canceldesk.MovementCancelRestock, OrderID: o.ID, Actor: req.Actor, CreatedAt: now})
		}
	}
	sortMovements(moves)

	// (9) The timeline.
	events := []canceldesk.Event{{Kind: canceldesk.EventCancelled, Data: canceldesk.EventData{Reason: string(req.Reason), ReasonOption: req.ReasonKey, Note: req.StaffNote}}}
	if rf := res.Refund; rf != nil {
		kind := canceldesk.EventRefund
		if rf.Kind == canceldesk.RefundKindVoid {
			kind = canceldesk.EventVoid
		}
		events = append(events, canceldesk.Event{Kind: kind, Data: refundEventData(*rf)})
	}
	if err := db.actionEvents(ctx, tx, events, moves, plan.Notify, o, req.Actor, now); err != nil {
		return nil, err
	}

	// (10) The customer message owed, rendered now with the reason's
	// template and sent after commit from this row.
	if plan.Notify {
		lang, err := db.customerLanguage(ctx, tx, o, settings)
		if err != nil {
			return nil, err
		}
		data := canceldesk.CancelMessageData(lang, o, plan, req.Reason, req.Offer, settings)
		if err := db.enqueueMessage(ctx, tx, o.ID, canceldesk.MessageOrderCancelled, string(req.Reason), o.Email, data,
			cancelMessage(o, req, plan, res), now, res.Refund); err != nil {
			return nil, err
		}
	}

	// (8) The ledger and (11) the analytics rollups, last: their rows
	// (a SKU's stock at a location, the day's figures) are the ones every
	// cancel writes, and on PostgreSQL each stays locked from its write to
	// the commit, so they go together in one statement (execShared) and
	// the other cancels wait for as short a time as can be.
	shared, err := db.insertMovements(ctx, tx, moves)
	if err != nil {
		return nil, err
	}
	stats, err := db.statsStmts(cancelStats(o, at, req.Reason, canceldesk.CancelSource(req)))
	if err != nil {
		return nil, err
	}
	cancelledNow := make(map[int64]int, len(plan.Lines))
	for _, l := range plan.Lines {
		cancelledNow[l.LineItemID] += l.CancelQty
	}
	refunded, err := refundedStmts(db.zone.Load(), []*canceldesk.Refund{res.Refund})
	if err != nil {
		return nil, err
	}
	shared = append(shared, stats...)
	shared = append(shared, factsStmts(db.zone.Load(), []cancelFact{cancelledFact(o, at, cancelledNow)})...)
	shared = append(shared, refunded...)
	if err := db.execShared(ctx, tx, shared); err != nil {
		return nil, err
	}
	return res, nil
}

// planCancel reads the order and plans req on it (canceldesk.PlanCancel):
// a blocker is ECONFLICT; under staffLimited, a refund now over the staff
// limit, counting what the actor refunded on the order before, is
// EFORBIDDEN (see checkStaffRefund). It writes nothing.
func (db *DB) planCancel(ctx context.Context, tx *sql.Tx, req canceldesk.CancelRequest, policy limitPolicy) (*canceldesk.Order, canceldesk.CancelPlan, error) {
	settings, err := db.settings(ctx, tx)
	if err != nil {
		return nil, canceldesk.CancelPlan{}, err
	}
	o, err := db.order(ctx, tx, req.OrderID)
	if err != nil {
		return nil, canceldesk.CancelPlan{}, err
	}
	plan, err := db.planOrder(ctx, tx, o, req, policy, settings)
	return o, plan, err
}

// planOrder is planCancel on the order o the caller has read, under its
// settings.
func (db *DB) planOrder(ctx context.Context, tx *sql.Tx, o *canceldesk.Order, req canceldesk.CancelRequest, policy limitPolicy,
	settings canceldesk.Settings) (canceldesk.CancelPlan, error) {
	plan := canceldesk.PlanCancel(o, req)
	if !plan.OK() {
		return plan, blocked(plan.Blockers[0])
	}
	if policy == staffLimited && plan.RefundKind == canceldesk.RefundKindRefund {
		if err := db.checkStaffRefund(ctx, tx, o.ID, req.Actor, req.ActorRole, settings.StaffRefundLimit[o.Currency],
			plan.RefundTotal, "refund"); err != nil {
			return plan, err
		}
	}
	return plan, nil
}

// outboxCancelled is the payload of an order_cancelled message. It never
// holds the staff note.
type outboxCancelled struct {
	OrderID        int64        `json:"order_id"`
	OrderName      string       `json:"order_name"`
	CancellationID int64        `json:"cancellation_id"`
	Reason         string       `json:"reason"`
	ReasonLabel    string       `json:"reason_label"`
	Refund         outboxRefund `json:"refund"`
	Cancelled      []outboxItem `json:"cancelled"`
	Restocked      []outboxItem `json:"restocked"`
	OfferKind      string       `json:"offer_kind"` // "", "discount" or "product"
	OfferText      string       `json:"offer_text"`
}

type outboxRefund struct {
	Kind     string `json:"kind"` // "refund", "void" or "" (nothing now)
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type outboxItem struct {
	Name     string `json:"name"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

func cancelMessage(o *canceldesk.Order, req canceldesk.CancelRequest, p canceldesk.CancelPlan, res *canceldesk.CancelResult) outboxCancelled {
	m := outboxCancelled{OrderID: o.ID, OrderName: o.Name, CancellationID: res.CancellationID,
		Reason: string(req.Reason), ReasonLabel: req.ReasonLabel,
		Refund:    outboxRefund{Kind: p.RefundKind, Amount: p.RefundTotal, Currency: o.Currency},
		Cancelled: []outboxItem{}, Restocked: []outboxItem{}, OfferKind: req.Offer.Kind}
	if req.Offer.Kind != canceldesk.OfferNone {
		m.OfferText = strings.Join(strings.Fields(req.Offer.Text), " ")
	}
	for _, l := range p.Lines {
		m.Cancelled = append(m.Cancelled, outboxItem{Name: l.Name, SKU: l.SKU, Quantity: l.CancelQty})
		if l.RestockQty > 0 {
			m.Restocked = append(m.Restocked, outboxItem{Name: l.Name, SKU: l.SKU, Quantity: l.RestockQty})
		}
	}
	return m
}

// replay returns the result of the cancellation that used the request's
// idempotency key, or nil when there is none. A key used for another order
// means a stale or forged form: EINVALID.
func (db *DB) replay(ctx context.Context, tx *sql.Tx, req canceldesk.CancelRequest) (*canceldesk.CancelResult, error) {
	var (
		res      canceldesk.CancelResult
		planJSON string
	)
	err := tx.QueryRowContext(ctx, db.bind(`SELECT id, order_id, plan FROM cancellations WHERE idempotency_key = ?`),
		req.IdempotencyKey).Scan(&res.CancellationID, &res.OrderID, &planJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if res.OrderID != req.OrderID {
		return nil, &canceldesk.Error{Code: canceldesk.EINVALID, Field: "key", Key: "validation.idempotency_key",
			Message: "This form is out of date. Close it and open it again."}
	}
	if err := json.Unmarshal([]byte(planJSON), &res.Plan); err != nil {
		return nil, fmt.Errorf("store: cancellation %d plan: %w", res.CancellationID, err)
	}
	refunds, err := db.refunds(ctx, tx, res.CancellationID)
	if err != nil {
		return nil, err
	}
	if len(refunds) > 0 {
		res.Refund = &refunds[0]
	}
	res.Replayed = true
	return &res, nil
}

// Cancellation implements canceldesk.OrderStore: the order's latest
// cancellation with its refunds.
func (db *DB) Cancellation(ctx context.Context, orderID int64) (*canceldesk.Cancellation, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var (
		c               canceldesk.Cancellation
		reason, choice  string
		location        sql.NullInt64
		created         int64
		restock, notify bool
	)
	err = tx.QueryRowContext(ctx, db.bind(`SELECT id, order_id, reason, reason_label, staff_note, refund_choice,
		restock, location_id, notify, actor, created_at FROM cancellations WHERE order_id = ? ORDER BY id DESC LIMIT 1`),
		orderID).Scan(&c.ID, &c.OrderID, &reason, &c.ReasonLabel, &c.StaffNote, &choice, &restock, &location,
		&notify, &c.Actor, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, canceldesk.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	c.Reason, c.Refund, c.Restock, c.Notify = canceldesk.CancelReason(reason), canceldesk.RefundChoice(choice), restock, notify
	c.LocationID, c.CreatedAt = location.Int64, fromMicros(created)
	if c.Refunds, err = db.refunds(ctx, tx, c.ID); err != nil {
		return nil, err
	}
	return &c, tx.Commit()
}

// refunds lists a cancellation's refunds, oldest first.
func (db *DB) refunds(ctx context.Context, tx *sql.Tx, cancellationID int64) ([]canceldesk.Refund, error) {
	return db.queryRefunds(ctx, tx, `WHERE cancellation_id = ? ORDER BY id`, cancellationID)
}

// blocked is the conflict of a cancel that cannot go ahead.
func blocked(key string) error {
	msg := map[string]string{
		canceldesk.BlockedAlreadyCancelled: "This order is already cancelled.",
		canceldesk.BlockedFulfilled:        "Every item of this order has shipped, so it cannot be cancelled. Use a return and refund instead.",
		canceldesk.BlockedNothingToCancel:  "Nothing is left to cancel on this order.",
	}[key]
	return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: key, Message: msg}
}

// isForeignKeyViolation reports whether err is a foreign-key violation of
// either database.
func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	return strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}
