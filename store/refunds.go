package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

var _ canceldesk.RefundStore = (*DB)(nil)

// querier is what reads need of a transaction or a pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// refundKeyPrefix marks the idempotency keys of refunds made by the refund
// dialog ("refund:" is a cancel's), so one key can never collide with the
// other's.
const refundKeyPrefix = "partial:"

// refundFinalAtOnce reports whether a refund through gateway is final as
// soon as it is recorded: the manual gateway (money given back outside
// Cancel Desk) and store credit. Any other waits for SettleRefund.
func refundFinalAtOnce(gateway string) bool {
	return gateway == canceldesk.GatewayManual || gateway == canceldesk.GatewayStoreCredit
}

const refundColumns = `id, order_id, cancellation_id, kind, amount, shipping, currency, method, gateway, status,
	idempotency_key, provider_id, error, note, actor, created_at, updated_at`

// refundRow scans refundColumns into a refund.
type refundRow struct {
	r                *canceldesk.Refund
	cancellation     sql.NullInt64
	method           string
	created, updated int64
}

// dest returns the Scan destinations of refundColumns, then extra.
func (x *refundRow) dest(extra ...any) []any {
	r := x.r
	return append([]any{&r.ID, &r.OrderID, &x.cancellation, &r.Kind, &r.Amount, &r.Shipping, &r.Currency, &x.method,
		&r.Gateway, &r.Status, &r.IdempotencyKey, &r.ProviderID, &r.Error, &r.Note, &r.Actor, &x.created, &x.updated}, extra...)
}

// finish converts what was scanned.
func (x *refundRow) finish() {
	x.r.CancellationID, x.r.Method = x.cancellation.Int64, canceldesk.RefundMethod(x.method)
	x.r.CreatedAt, x.r.UpdatedAt = fromMicros(x.created), fromMicros(x.updated)
}

type scanner interface{ Scan(dest ...any) error }

func scanRefund(sc scanner, r *canceldesk.Refund, extra ...any) error {
	x := refundRow{r: r}
	if err := sc.Scan(x.dest(extra...)...); err != nil {
		return err
	}
	x.finish()
	return nil
}

// queryRefunds lists the refunds that match where (with its arguments).
func (db *DB) queryRefunds(ctx context.Context, q querier, where string, args ...any) ([]canceldesk.Refund, error) {
	rows, err := q.QueryContext(ctx, db.bind(`SELECT `+refundColumns+` FROM refunds `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.Refund
	for rows.Next() {
		var r canceldesk.Refund
		if err := scanRefund(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// refund reads one refund; ErrNotFound when there is none. On PostgreSQL
// forUpdate locks its row.
func (db *DB) refund(ctx context.Context, tx *sql.Tx, id int64, forUpdate bool) (*canceldesk.Refund, error) {
	q := `SELECT ` + refundColumns + ` FROM refunds WHERE id = ?`
	if forUpdate && db.dialect == postgres {
		q += ` FOR UPDATE`
	}
	var r canceldesk.Refund
	err := scanRefund(tx.QueryRowContext(ctx, db.bind(q), id), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, canceldesk.ErrNotFound
	}
	return &r, err
}

// insertRefund writes the refund row and sets rf.ID. plan is the JSON of
// the plan carried out ("{}" for a cancel's refund, whose plan is the
// cancellation's). A refund written succeeded owes the daily rollup its
// money: the caller adds it (addRefunded) in the same transaction.
func (db *DB) insertRefund(ctx context.Context, tx *sql.Tx, rf *canceldesk.Refund, plan string) error {
	var cancellation any
	if rf.CancellationID != 0 {
		cancellation = rf.CancellationID
	}
	return tx.QueryRowContext(ctx, db.bind(`INSERT INTO refunds (order_id, cancellation_id, kind, amount, shipping,
		currency, method, gateway, status, idempotency_key, provider_id, error, note, actor, plan, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		rf.OrderID, cancellation, rf.Kind, rf.Amount, rf.Shipping, rf.Currency, string(rf.Method), rf.Gateway,
		rf.Status, rf.IdempotencyKey, rf.ProviderID, rf.Error, rf.Note, rf.Actor, plan,
		rf.CreatedAt.UnixMicro(), rf.UpdatedAt.UnixMicro()).Scan(&rf.ID)
}

// syncFinancialStatus writes the order's financial status and
// refunded_succeeded as financialAfter computes them, in the transaction
// in which a refund of kind succeeded (settled pending→succeeded or
// failed→succeeded, or recorded succeeded after its order row was
// written).
func (db *DB) syncFinancialStatus(ctx context.Context, tx *sql.Tx, orderID int64, kind string, at int64) error {
	fin, confirmed, err := db.financialAfter(ctx, tx, orderID, kind, 0)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, db.bind(`UPDATE orders SET financial_status = ?, refunded_succeeded = ?, updated_at = ?
		WHERE id = ?`), string(fin), confirmed, at, orderID)
	return err
}

// financialAfter is the one rule for orders.refunded_succeeded and the
// financial status a refund moves, once a refund of kind succeeded and the
// order's refunded_amount grew by more than its row holds yet (a cancel
// writes the row once, with both): a void makes an authorized order
// voided; a refund makes refunded_succeeded the refunded amount less the
// refund rows not succeeded (pending and failed ones reserve their amount
// but moved no money), and a paid order becomes refunded when that reaches
// what was paid (Total), else partially refunded.
func (db *DB) financialAfter(ctx context.Context, tx *sql.Tx, orderID int64, kind string, more int64) (canceldesk.FinancialStatus, int64, error) {
	var (
		total, refunded, succeeded, unsettled int64
		fin                                   string
	)
	err := tx.QueryRowContext(ctx, db.bind(`SELECT o.total, o.refunded_amount, o.refunded_succeeded, o.financial_status,
		(SELECT coalesce(sum(r.amount), 0) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund' AND r.status <> 'succeeded')
		FROM orders o WHERE o.id = ?`), orderID).Scan(&total, &refunded, &succeeded, &fin, &unsettled)
	if err != nil {
		return "", 0, err
	}
	next := canceldesk.FinancialStatus(fin)
	if kind == canceldesk.RefundKindVoid {
		if next == canceldesk.FinancialAuthorized {
			next = canceldesk.FinancialVoided
		}
		return next, succeeded, nil
	}
	confirmed := max(refunded+more-unsettled, 0)
	switch next {
	case canceldesk.FinancialPaid, canceldesk.FinancialPartiallyRefunded, canceldesk.FinancialRefunded:
		if confirmed > 0 {
			next = canceldesk.FinancialStatusAfterRefund(total, confirmed)
		}
	}
	return next, confirmed, nil
}

// checkStaffRefund holds actor's new refund of amount on the order to the
// staff refund limit (canceldesk.CheckStaffRefund), counting what actor
// refunded on the order before. The caller holds the order: its row is
// locked on PostgreSQL, and SQLite has one writer, so the refunds read here
// are all there are and parallel refunds by one person cannot each pass on
// the same sum. A refusal is placed beside field.
func (db *DB) checkStaffRefund(ctx context.Context, tx *sql.Tx, orderID int64, actor string, role canceldesk.Role,
	limit, amount int64, field string) error {
	if !canceldesk.StaffLimitApplies(role, limit, amount) {
		return nil // the refunds before cannot change the answer
	}
	refunds, err := db.queryRefunds(ctx, tx, `WHERE order_id = ?`, orderID)
	if err != nil {
		return err
	}
	err = canceldesk.CheckStaffRefund(role, limit, canceldesk.RefundedBy(refunds, actor), amount)
	var de *canceldesk.Error
	if errors.As(err, &de) {
		placed := *de
		placed.Field = field
		return &placed
	}
	return err
}

func staleKeyError() error {
	return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "key", Key: "validation.idempotency_key",
		Message: "This form is out of date. Close it and open it again."}
}

func locationError() error {
	return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "location", Key: "validation.location",
		Message: "Choose where the items go back to stock."}
}

func nothingToRefund() error {
	return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "refund.blocked.nothing",
		Message: "Nothing is left to refund on this order."}
}

// RefundOrder implements canceldesk.RefundStore. One transaction:
//
//  1. a refund with the request's idempotency key already exists: its
//     result comes back with Replayed set, nothing is written;
//  2. on PostgreSQL the order row is locked (and the key looked up again
//     under the lock, so a racing twin replays);
//  3. the order and the settings are read and the refund planned
//     (canceldesk.PlanRefund) on what was read; over the staff limit,
//     counting what the actor refunded on the order before, is
//     EFORBIDDEN;
//  4. the order's refunded amount and shipping refunded grow, guarded so
//     they never pass what was paid;
//  5. the line counters grow, guarded so no invariant of a line breaks;
//  6. the refund row (succeeded for manual and store credit, with the
//     financial status following; pending otherwise), 7. the store credit,
//  8. the stock ledger, 9. the timeline, 10. the customer message owed.
//
// Two requests with one key that still collide on its unique index are
// retried once, after the rollback, and then replay.
func (db *DB) RefundOrder(ctx context.Context, req canceldesk.RefundRequest) (*canceldesk.RefundResult, error) {
	return keyedTx(ctx, db, func(tx *Tx) (*canceldesk.RefundResult, error) {
		res, err := db.refundOrder(ctx, tx.Tx, req)
		if res != nil {
			tx.queuedRefund(&res.Refund)
		}
		return res, err
	})
}

func (db *DB) refundOrder(ctx context.Context, tx *sql.Tx, req canceldesk.RefundRequest) (*canceldesk.RefundResult, error) {
	key := refundKeyPrefix + req.IdempotencyKey
	if res, err := db.refundReplay(ctx, tx, req.OrderID, key); res != nil || err != nil {
		return res, err
	}
	if db.dialect == postgres {
		if err := db.lockOrder(ctx, tx, req.OrderID); err != nil {
			return nil, err
		}
		// A twin request may have committed while this one waited.
		if res, err := db.refundReplay(ctx, tx, req.OrderID, key); res != nil || err != nil {
			return res, err
		}
	}
	o, err := db.order(ctx, tx, req.OrderID)
	if err != nil {
		return nil, err
	}
	settings, err := db.settings(ctx, tx)
	if err != nil {
		return nil, err
	}
	limit := settings.StaffRefundLimit[o.Currency]
	plan, err := canceldesk.PlanRefund(o, req, limit)
	if err != nil {
		return nil, err
	}
	if err := db.checkStaffRefund(ctx, tx, o.ID, req.Actor, req.ActorRole, limit, plan.Total, "total"); err != nil {
		return nil, err
	}
	now := db.Now()
	at := now.UnixMicro()

	// (4) The order: never more refunded than paid, nor more shipping than
	// charged, even if the plan was made on a stale read.
	if err := db.reserveRefund(ctx, tx, o.ID, plan.Total, plan.Shipping, plan.Tax, at); err != nil {
		return nil, err
	}

	// (5) The lines.
	for _, l := range plan.Lines {
		if err := db.updateRefundLine(ctx, tx, o.ID, l); err != nil {
			return nil, err
		}
	}

	// (6) The refund, recorded before any gateway is called.
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return nil, err
	}
	rf := canceldesk.Refund{OrderID: o.ID, Kind: canceldesk.RefundKindRefund, Amount: plan.Total, Shipping: plan.Shipping,
		Currency: o.Currency, Method: plan.Method, Gateway: plan.Gateway, Status: canceldesk.RefundPending,
		IdempotencyKey: key, Note: req.Note, Actor: req.Actor, CreatedAt: now, UpdatedAt: now}
	if refundFinalAtOnce(rf.Gateway) {
		rf.Status = canceldesk.RefundSucceeded
	}
	if err := db.insertRefund(ctx, tx, &rf, string(planJSON)); err != nil {
		return nil, err
	}
	if rf.Status == canceldesk.RefundSucceeded {
		if err := db.syncFinancialStatus(ctx, tx, o.ID, rf.Kind, at); err != nil {
			return nil, err
		}
		if err := db.addRefunded(ctx, tx, &rf); err != nil {
			return nil, err
		}
	}
	res := &canceldesk.RefundResult{Refund: rf, Plan: plan}

	// (7) The store credit.
	if plan.Method == canceldesk.MethodStoreCredit {
		c := canceldesk.StoreCredit{OrderID: o.ID, RefundID: rf.ID, Amount: plan.Total, Currency: o.Currency, CreatedAt: now}
		if req.CreditExpiresAt != nil {
			t := fromMicros(req.CreditExpiresAt.UnixMicro())
			c.ExpiresAt = &t
		}
		if c.Code, err = newCreditCode(); err != nil {
			return nil, err
		}
		err = tx.QueryRowContext(ctx, db.bind(`INSERT INTO store_credits (order_id, refund_id, code, amount, currency,
			expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			c.OrderID, c.RefundID, c.Code, c.Amount, c.Currency, micros(c.ExpiresAt), at).Scan(&c.ID)
		if err != nil {
			return nil, err
		}
		res.Credit = &c
	}

	// (8) The stock ledger, in SKU order like a cancel's (no deadlocks).
	var moves []canceldesk.InventoryMovement
	for _, l := range plan.Lines {
		if l.Restocked > 0 {
			moves = append(moves, canceldesk.InventoryMovement{SKU: l.SKU, LocationID: l.LocationID, Delta: l.Restocked,
				Kind: canceldesk.MovementCancelRestock, OrderID: o.ID, Actor: req.Actor, CreatedAt: now})
		}
		if l.ReturnRestocked > 0 {
			moves = append(moves, canceldesk.InventoryMovement{SKU: l.SKU, LocationID: l.LocationID, Delta: l.ReturnRestocked,
				Kind: canceldesk.MovementReturnRestock, OrderID: o.ID, Actor: req.Actor, CreatedAt: now})
		}
	}
	if err := db.applyMovements(ctx, tx, moves); err != nil {
		return nil, err
	}

	// (9) The timeline.
	events := []canceldesk.Event{{Kind: canceldesk.EventRefund, Data: withCredit(refundEventData(rf), res.Credit)}}
	var returned []canceldesk.EventItem
	for _, l := range plan.Lines {
		if l.Returned > 0 {
			returned = append(returned, canceldesk.EventItem{Label: lineLabel(l.SKU, l.Name), Quantity: l.Returned})
		}
	}
	if len(returned) > 0 {
		events = append(events, canceldesk.Event{Kind: canceldesk.EventReturned, Data: canceldesk.EventData{Items: returned}})
	}
	if err := db.actionEvents(ctx, tx, events, moves, plan.Notify, o, req.Actor, now); err != nil {
		return nil, err
	}

	// (10) The customer message owed, rendered now and sent after commit
	// from this row.
	if plan.Notify {
		lang, err := db.customerLanguage(ctx, tx, o, settings)
		if err != nil {
			return nil, err
		}
		data := canceldesk.RefundMessageData(lang, o, plan, res.Credit, settings, db.zone.Load())
		if err := db.enqueueMessage(ctx, tx, o.ID, canceldesk.MessageRefundIssued, "", o.Email, data,
			refundIssuedMessage(o, plan, res), now, &res.Refund); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// reserveRefund adds a refund to the order's refunded amount and shipping
// refunded, guarded so neither passes what was paid (Total for a paid,
// partially refunded or refunded order, else nothing) or charged:
// ECONFLICT refund.blocked.nothing when it would.
func (db *DB) reserveRefund(ctx context.Context, tx *sql.Tx, orderID, total, shipping, tax, at int64) error {
	r, err := tx.ExecContext(ctx, db.bind(`UPDATE orders SET refunded_amount = refunded_amount + ?,
		shipping_refunded = shipping_refunded + ?, tax_refunded = tax_refunded + ?, updated_at = ?
		WHERE id = ? AND refunded_amount + ? <= CASE WHEN financial_status IN ('paid', 'partially_refunded', 'refunded')
			THEN total ELSE 0 END
		AND (? = 0 OR shipping_refunded + ? <= shipping)`),
		total, shipping, tax, at, orderID, total, shipping, shipping)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return nothingToRefund()
	}
	return nil
}

// updateRefundLine adds a refund plan line to its line's counters
// (updateLine): a plan made on a stale read, or one that would break an
// invariant of the line, changes nothing and is ECONFLICT.
func (db *DB) updateRefundLine(ctx context.Context, tx *sql.Tx, orderID int64, l canceldesk.RefundPlanLine) error {
	err := db.updateLine(ctx, tx, orderID, lineDelta{LineItemID: l.LineItemID, Refunded: l.Quantity, Cancelled: l.Cancel,
		Restocked: l.Restocked, Returned: l.Returned, ReturnRestocked: l.ReturnRestocked, RefundedShipped: l.RefundedShipped})
	if errors.Is(err, errLineConflict) {
		return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "refund.blocked.nothing",
			Message: fmt.Sprintf("%s changed meanwhile: nothing is left to refund this way.", l.Name)}
	}
	return err
}

// actionEvents writes the timeline of a cancel or refund of o: its own
// events, then what it put back in stock, then that the customer is owed a
// message when notify is on.
func (db *DB) actionEvents(ctx context.Context, tx *sql.Tx, events []canceldesk.Event, moves []canceldesk.InventoryMovement,
	notify bool, o *canceldesk.Order, actor string, now time.Time) error {
	restocked, err := db.restockEvents(ctx, tx, moves, o)
	if err != nil {
		return err
	}
	events = append(events, restocked...)
	if notify {
		events = append(events, canceldesk.Event{Kind: canceldesk.EventNotificationOwed, Data: notificationEventData(o.Email, events)})
	}
	return db.insertEvents(ctx, tx, events, o.ID, actor, now)
}

// restockEvents describes the movements, one EventRestocked per location:
// "1 × MUG, 2 × BOWL → Main". The order o, read in this transaction, names
// its own location.
func (db *DB) restockEvents(ctx context.Context, tx *sql.Tx, moves []canceldesk.InventoryMovement, o *canceldesk.Order) ([]canceldesk.Event, error) {
	var (
		locs  []int64
		parts = map[int64][]canceldesk.EventItem{}
	)
	for _, m := range moves {
		if _, ok := parts[m.LocationID]; !ok {
			locs = append(locs, m.LocationID)
		}
		parts[m.LocationID] = append(parts[m.LocationID], canceldesk.EventItem{Label: m.SKU, Quantity: m.Delta})
	}
	sort.Slice(locs, func(i, j int) bool { return locs[i] < locs[j] })
	var out []canceldesk.Event
	for _, loc := range locs {
		name := o.Location
		if loc != o.LocationID || name == "" {
			err := tx.QueryRowContext(ctx, db.bind(`SELECT name FROM locations WHERE id = ?`), loc).Scan(&name)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, locationError()
			} else if err != nil {
				return nil, err
			}
		}
		out = append(out, canceldesk.Event{Kind: canceldesk.EventRestocked, Data: canceldesk.EventData{Items: parts[loc], Location: name}})
	}
	return out, nil
}

func lineLabel(sku, name string) string {
	if sku != "" {
		return sku
	}
	return name
}

// outboxRefundIssued is the payload of a refund_issued message. It never
// holds the staff note.
type outboxRefundIssued struct {
	OrderID         int64        `json:"order_id"`
	OrderName       string       `json:"order_name"`
	RefundID        int64        `json:"refund_id"`
	Amount          int64        `json:"amount"`
	Currency        string       `json:"currency"`
	Method          string       `json:"method"`
	CreditCode      string       `json:"credit_code"`
	CreditExpiresAt *time.Time   `json:"credit_expires_at"`
	Lines           []outboxItem `json:"lines"`
	Shipping        int64        `json:"shipping"`
}

func refundIssuedMessage(o *canceldesk.Order, p canceldesk.RefundPlan, res *canceldesk.RefundResult) outboxRefundIssued {
	m := outboxRefundIssued{OrderID: o.ID, OrderName: o.Name, RefundID: res.Refund.ID, Amount: p.Total,
		Currency: p.Currency, Method: string(p.Method), Lines: []outboxItem{}, Shipping: p.Shipping}
	if c := res.Credit; c != nil {
		m.CreditCode, m.CreditExpiresAt = c.Code, c.ExpiresAt
	}
	for _, l := range p.Lines {
		m.Lines = append(m.Lines, outboxItem{Name: l.Name, SKU: l.SKU, Quantity: l.Quantity})
	}
	return m
}

// creditAlphabet has no characters that read alike: no 0/O, 1/I/L.
const creditAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newCreditCode returns a random store-credit code "CD-XXXX-XXXX-XXXX"
// (12 characters of 31, about 59 bits) from crypto/rand.
func newCreditCode() (string, error) {
	var b strings.Builder
	b.WriteString("CD")
	n := big.NewInt(int64(len(creditAlphabet)))
	for i := range 12 {
		if i%4 == 0 {
			b.WriteByte('-')
		}
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", err
		}
		b.WriteByte(creditAlphabet[k.Int64()])
	}
	return b.String(), nil
}

// refundReplay returns the result of the refund that used key, or nil when
// there is none. A key used for another order is EINVALID.
func (db *DB) refundReplay(ctx context.Context, tx *sql.Tx, orderID int64, key string) (*canceldesk.RefundResult, error) {
	var (
		res      canceldesk.RefundResult
		planJSON string
	)
	row := tx.QueryRowContext(ctx, db.bind(`SELECT `+refundColumns+`, plan FROM refunds WHERE idempotency_key = ?`), key)
	err := scanRefund(row, &res.Refund, &planJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if res.Refund.OrderID != orderID {
		return nil, staleKeyError()
	}
	if err := json.Unmarshal([]byte(planJSON), &res.Plan); err != nil {
		return nil, fmt.Errorf("store: refund %d plan: %w", res.Refund.ID, err)
	}
	credits, err := db.storeCredits(ctx, tx, `WHERE refund_id = ?`, res.Refund.ID)
	if err != nil {
		return nil, err
	}
	if len(credits) > 0 {
		res.Credit = &credits[0]
	}
	res.Replayed = true
	return &res, nil
}

// Refunds implements canceldesk.RefundStore, with the units each refund
// pending or failed covers: a cancel's from its cancellation's plan, any
// other's from its own.
func (db *DB) Refunds(ctx context.Context, orderID int64) ([]canceldesk.Refund, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out, err := db.queryRefunds(ctx, tx, `WHERE order_id = ? ORDER BY id`, orderID)
	if err != nil {
		return nil, err
	}
	i := 0
	err = eachRow(ctx, tx, db.bind(`SELECT r.plan, coalesce(c.plan, '{}') FROM refunds r
		LEFT JOIN cancellations c ON c.id = r.cancellation_id WHERE r.order_id = ? ORDER BY r.id`), []any{orderID},
		func(rows *sql.Rows) error {
			var own, cancel string
			if err := rows.Scan(&own, &cancel); err != nil {
				return err
			}
			if i >= len(out) {
				return nil // a refund written after the first read
			}
			r := &out[i]
			i++
			if r.Status == canceldesk.RefundSucceeded {
				return nil // its units are refunded: the line counters say so
			}
			r.Lines = map[int64]int{}
			add := func(id int64, n int) {
				if n > 0 {
					r.Lines[id] += n
				}
			}
			if r.CancellationID != 0 {
				var p canceldesk.CancelPlan
				if err := json.Unmarshal([]byte(cancel), &p); err != nil {
					return fmt.Errorf("store: cancellation %d plan: %w", r.CancellationID, err)
				}
				for _, l := range p.Lines {
					add(l.LineItemID, l.RefundQty)
				}
				return nil
			}
			var p canceldesk.RefundPlan
			if err := json.Unmarshal([]byte(own), &p); err != nil {
				return fmt.Errorf("store: refund %d plan: %w", r.ID, err)
			}
			for _, l := range p.Lines {
				add(l.LineItemID, l.Quantity)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

// StoreCredits implements canceldesk.RefundStore.
func (db *DB) StoreCredits(ctx context.Context, orderID int64) ([]canceldesk.StoreCredit, error) {
	return db.storeCredits(ctx, db.read, `WHERE order_id = ? ORDER BY id`, orderID)
}

func (db *DB) storeCredits(ctx context.Context, q querier, where string, args ...any) ([]canceldesk.StoreCredit, error) {
	rows, err := q.QueryContext(ctx, db.bind(`SELECT id, order_id, refund_id, code, amount, currency, expires_at,
		created_at FROM store_credits `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.StoreCredit
	for rows.Next() {
		var (
			c       canceldesk.StoreCredit
			expires sql.NullInt64
			created int64
		)
		if err := rows.Scan(&c.ID, &c.OrderID, &c.RefundID, &c.Code, &c.Amount, &c.Currency, &expires, &created); err != nil {
			return nil, err
		}
		c.ExpiresAt, c.CreatedAt = fromNullMicros(expires), fromMicros(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// PendingRefunds implements canceldesk.RefundStore: refunds waiting for
// their gateway, oldest first, with the order's payment reference.
func (db *DB) PendingRefunds(ctx context.Context, limit int) ([]canceldesk.RefundJob, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, db.bind(`SELECT `+qualify(refundColumns, "r")+`, o.payment_reference
		FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.status = 'pending' ORDER BY r.id LIMIT ?`), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.RefundJob
	for rows.Next() {
		var j canceldesk.RefundJob
		if err := scanRefund(rows, &j.Refund, &j.Reference); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i := range out {
		if out[i].Gateway == canceldesk.GatewayShopify {
			if err := db.shopifyRefundJob(ctx, db.read, &out[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// qualify prefixes each column of a comma-separated list with alias.
func qualify(cols, alias string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = alias + "." + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}
