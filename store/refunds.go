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
// cancellation's).
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

// syncFinancialStatus is the one writer of orders.refunded_succeeded and
// of the financial status a refund moves, called in the transaction in
// which a refund of kind succeeded (recorded succeeded, or settled
// pending→succeeded or failed→succeeded): a void makes an authorized order
// voided; a refund sets refunded_succeeded to the refunded amount less the
// refund rows not succeeded (pending and failed ones reserve their amount
// but moved no money), and a paid order becomes refunded when that reaches
// what was paid (Total), else partially refunded.
func (db *DB) syncFinancialStatus(ctx context.Context, tx *sql.Tx, orderID int64, kind string, at int64) error {
	if kind == canceldesk.RefundKindVoid {
		_, err := tx.ExecContext(ctx, db.bind(`UPDATE orders SET financial_status = 'voided', updated_at = ?
			WHERE id = ? AND financial_status = 'authorized'`), at, orderID)
		return err
	}
	var (
		total, refunded, unsettled int64
		fin                        string
	)
	err := tx.QueryRowContext(ctx, db.bind(`SELECT o.total, o.refunded_amount, o.financial_status,
		(SELECT coalesce(sum(r.amount), 0) FROM refunds r WHERE r.order_id = o.id AND r.kind = 'refund' AND r.status <> 'succeeded')
		FROM orders o WHERE o.id = ?`), orderID).Scan(&total, &refunded, &fin, &unsettled)
	if err != nil {
		return err
	}
	confirmed := max(refunded-unsettled, 0)
	next := canceldesk.FinancialStatus(fin)
	switch next {
	case canceldesk.FinancialPaid, canceldesk.FinancialPartiallyRefunded, canceldesk.FinancialRefunded:
		switch {
		case confirmed <= 0:
		case confirmed >= total:
			next = canceldesk.FinancialRefunded
		default:
			next = canceldesk.FinancialPartiallyRefunded
		}
	}
	_, err = tx.ExecContext(ctx, db.bind(`UPDATE orders SET financial_status = ?, refunded_succeeded = ?, updated_at = ?
		WHERE id = ?`), string(next), confirmed, at, orderID)
	return err
}

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

// checkStaffRefund holds actor's new refund of amount on the order to the
// staff refund limit (canceldesk.CheckStaffRefund), counting what actor
// refunded on the order before. The caller holds the order: its row is
// locked on PostgreSQL, and SQLite has one writer, so the refunds read here
// are all there are and parallel refunds by one person cannot each pass on
// the same sum. A refusal is placed beside field.
func (db *DB) checkStaffRefund(ctx context.Context, tx *sql.Tx, orderID int64, actor string, role canceldesk.Role,
	limit, amount int64, field string) error {
	if amount <= 0 {
		return nil // no money moves
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
	msg := refundMessage(rf)
	if res.Credit != nil {
		msg += " · store credit " + res.Credit.Code
	}
	events := []canceldesk.Event{{Kind: canceldesk.EventRefund, Message: msg}}
	var returned []string
	for _, l := range plan.Lines {
		if l.Returned > 0 {
			returned = append(returned, fmt.Sprintf("%d × %s", l.Returned, lineLabel(l.SKU, l.Name)))
		}
	}
	if len(returned) > 0 {
		events = append(events, canceldesk.Event{Kind: canceldesk.EventReturned, Message: strings.Join(returned, ", ")})
	}
	if err := db.actionEvents(ctx, tx, events, moves, plan.Notify, o, req.Actor, now); err != nil {
		return nil, err
	}

	// (10) The customer message owed, rendered now and sent after commit
	// from this row.
	if plan.Notify {
		data := canceldesk.RefundMessageData(o, plan, res.Credit, settings, db.zone.Load())
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

// updateRefundLine adds a refund plan line to its line's counters. The
// WHERE clause checks every invariant a counter of this line could break,
// so a plan made on a stale read changes nothing (ECONFLICT):
//
//	refunded ≤ quantity; refunded − refunded shipped ≤ quantity − fulfilled
//	fulfilled + cancelled ≤ quantity; restocked ≤ cancelled
//	return restocked ≤ returned ≤ fulfilled; refunded shipped ≤ fulfilled
//
// Only the invariants of the counters that grow are checked, so a line
// imported with odd counters can still be refunded in other ways.
func (db *DB) updateRefundLine(ctx context.Context, tx *sql.Tx, orderID int64, l canceldesk.RefundPlanLine) error {
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
	add("refunded_quantity", l.Quantity)
	add("cancelled_quantity", l.Cancel)
	add("restocked_quantity", l.Restocked)
	add("returned_quantity", l.Returned)
	add("return_restocked_quantity", l.ReturnRestocked)
	add("refunded_shipped_quantity", l.RefundedShipped)
	guard(l.Quantity > 0, "refunded_quantity + ? <= quantity", l.Quantity)
	guard(l.Quantity > l.RefundedShipped,
		"refunded_quantity + ? - refunded_shipped_quantity <= quantity - fulfilled_quantity", l.Quantity-l.RefundedShipped)
	guard(l.Cancel > 0, "fulfilled_quantity + cancelled_quantity + ? <= quantity", l.Cancel)
	guard(l.Restocked > 0, "restocked_quantity + ? <= cancelled_quantity + ?", l.Restocked, l.Cancel)
	guard(l.Returned > 0, "returned_quantity + ? <= fulfilled_quantity", l.Returned)
	guard(l.ReturnRestocked > 0, "return_restocked_quantity + ? <= returned_quantity + ?", l.ReturnRestocked, l.Returned)
	guard(l.RefundedShipped > 0, "refunded_shipped_quantity + ? <= fulfilled_quantity", l.RefundedShipped)
	if len(sets) == 0 {
		return nothingToRefund()
	}
	q := `UPDATE line_items SET ` + strings.Join(sets, ", ") + ` WHERE id = ? AND order_id = ?`
	for _, g := range guards {
		q += " AND " + g
	}
	args := append(append(setArgs, l.LineItemID, orderID), guardArgs...)
	r, err := tx.ExecContext(ctx, db.bind(q), args...)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "refund.blocked.nothing",
			Message: fmt.Sprintf("%s changed meanwhile: nothing is left to refund this way.", l.Name)}
	}
	return nil
}

// applyMovements writes ledger rows sorted by SKU (then location), the
// same order in every transaction, so two writers restocking the same SKUs
// never deadlock on PostgreSQL.
func (db *DB) applyMovements(ctx context.Context, tx *sql.Tx, moves []canceldesk.InventoryMovement) error {
	sort.SliceStable(moves, func(i, j int) bool {
		if moves[i].SKU != moves[j].SKU {
			return moves[i].SKU < moves[j].SKU
		}
		return moves[i].LocationID < moves[j].LocationID
	})
	for i := range moves {
		if err := db.addMovement(ctx, tx, &moves[i]); err != nil {
			return err
		}
	}
	return nil
}

// actionEvents writes the timeline of a cancel or refund of o: its own
// events, then what it put back in stock, then that the customer is owed a
// message when notify is on.
func (db *DB) actionEvents(ctx context.Context, tx *sql.Tx, events []canceldesk.Event, moves []canceldesk.InventoryMovement,
	notify bool, o *canceldesk.Order, actor string, now time.Time) error {
	restocked, err := db.restockEvents(ctx, tx, moves)
	if err != nil {
		return err
	}
	events = append(events, restocked...)
	if notify {
		events = append(events, canceldesk.Event{Kind: canceldesk.EventNotificationOwed, Message: o.Email})
	}
	return db.insertEvents(ctx, tx, events, o.ID, actor, now)
}

// restockEvents describes the movements, one EventRestocked per location:
// "1 × MUG, 2 × BOWL → Main".
func (db *DB) restockEvents(ctx context.Context, tx *sql.Tx, moves []canceldesk.InventoryMovement) ([]canceldesk.Event, error) {
	var (
		locs  []int64
		parts = map[int64][]string{}
	)
	for _, m := range moves {
		if _, ok := parts[m.LocationID]; !ok {
			locs = append(locs, m.LocationID)
		}
		parts[m.LocationID] = append(parts[m.LocationID], fmt.Sprintf("%d × %s", m.Delta, m.SKU))
	}
	sort.Slice(locs, func(i, j int) bool { return locs[i] < locs[j] })
	var out []canceldesk.Event
	for _, loc := range locs {
		var name string
		err := tx.QueryRowContext(ctx, db.bind(`SELECT name FROM locations WHERE id = ?`), loc).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, locationError()
		} else if err != nil {
			return nil, err
		}
		out = append(out, canceldesk.Event{Kind: canceldesk.EventRestocked, Message: strings.Join(parts[loc], ", ") + " → " + name})
	}
	return out, nil
}

func lineLabel(sku, name string) string {
	if sku != "" {
		return sku
	}
	return name
}

// refundMessage is the timeline's line for a refund: "USD 12.50 · manual ·
// succeeded".
func refundMessage(rf canceldesk.Refund) string {
	money := canceldesk.Money{Amount: rf.Amount, Currency: rf.Currency}
	return fmt.Sprintf("%s %s · %s · %s", rf.Currency, money.Decimal(), rf.Gateway, rf.Status)
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
	return out, rows.Err()
}

// qualify prefixes each column of a comma-separated list with alias.
func qualify(cols, alias string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = alias + "." + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

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
			if err := db.releaseMessages(ctx, tx, rf.ID, at); err != nil {
				return err
			}
			e = canceldesk.Event{Kind: canceldesk.EventRefund, Message: refundMessage(*rf)}
			if rf.Kind == canceldesk.RefundKindVoid {
				e.Kind = canceldesk.EventVoid
			}
		case canceldesk.RefundFailed:
			e = canceldesk.Event{Kind: canceldesk.EventRefundFailed, Message: refundMessage(*rf)}
			if errMsg != "" {
				e.Message += ": " + errMsg
			}
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
	if db.dialect == postgres {
		var orderID int64
		err := tx.QueryRowContext(ctx, `SELECT order_id FROM refunds WHERE id = $1`, refundID).Scan(&orderID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, canceldesk.ErrNotFound
		} else if err != nil {
			return nil, err
		}
		if err := db.lockOrder(ctx, tx, orderID); err != nil {
			return nil, err
		}
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
		money := canceldesk.Money{Amount: rf.Amount, Currency: rf.Currency}
		e := canceldesk.Event{OrderID: rf.OrderID, Kind: canceldesk.EventRefundRetry, Actor: actor, CreatedAt: now,
			Message: fmt.Sprintf("%s %s · %s", rf.Currency, money.Decimal(), rf.Gateway)}
		if err := db.insertEvent(ctx, tx, &e); err != nil {
			return err
		}
		out = rf
		return nil
	})
	return out, err
}

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
	o, err := db.order(ctx, tx, req.OrderID)
	if err != nil {
		return err
	}
	restockable := 0
	for _, li := range o.LineItems {
		restockable += canceldesk.ManualRestockable(li)
	}
	if restockable == 0 {
		return nothingToRestock()
	}
	lines, err := canceldesk.PlanRestock(o, req)
	if err != nil {
		return err
	}
	now := db.Now()
	at := now.UnixMicro()
	var moves []canceldesk.InventoryMovement
	for _, l := range lines {
		var (
			sets   []string
			guards []string
			args   []any
			gargs  []any
		)
		if l.Restocked > 0 {
			sets, args = append(sets, "restocked_quantity = restocked_quantity + ?"), append(args, l.Restocked)
			guards, gargs = append(guards, "restocked_quantity + ? <= cancelled_quantity"), append(gargs, l.Restocked)
		}
		if l.ReturnRestocked > 0 {
			sets, args = append(sets, "return_restocked_quantity = return_restocked_quantity + ?"), append(args, l.ReturnRestocked)
			guards, gargs = append(guards, "return_restocked_quantity + ? <= returned_quantity"), append(gargs, l.ReturnRestocked)
		}
		if len(sets) == 0 {
			continue
		}
		q := `UPDATE line_items SET ` + strings.Join(sets, ", ") + ` WHERE id = ? AND order_id = ? AND ` + strings.Join(guards, " AND ")
		r, err := tx.ExecContext(ctx, db.bind(q), append(append(args, l.LineItemID, o.ID), gargs...)...)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return nothingToRestock()
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
	events, err := db.restockEvents(ctx, tx, moves)
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

// backlogOwed is the condition of the partial index orders_refund_backlog
// (migration 0014), word for word: cancelled orders with paid money not
// given back for certain, so a pending or failed refund still owes.
const backlogOwed = `cancelled_at IS NOT NULL AND total > refunded_succeeded AND financial_status IN ('paid', 'partially_refunded')`

// backlogIDs are the backlog's orders, as (cancelled_at, id): those the
// partial index holds, plus cancelled orders with a failed void (found
// from the partial index refunds_failed). UNION removes orders in both.
// Without statistics SQLite prefers orders_financial (every paid order,
// then a sort), so there the partial index is named; SQLite fails the
// query rather than ignore it.
func (db *DB) backlogIDs() string {
	orders := "orders"
	if db.dialect == sqlite {
		orders = "orders INDEXED BY orders_refund_backlog"
	}
	return `SELECT cancelled_at, id FROM ` + orders + ` WHERE ` + backlogOwed + `
	UNION
	SELECT o.cancelled_at, o.id FROM refunds f JOIN orders o ON o.id = f.order_id
	WHERE f.status = 'failed' AND f.kind = 'void' AND o.cancelled_at IS NOT NULL`
}

// backlogCountQuery counts the backlog.
func (db *DB) backlogCountQuery() string {
	return `SELECT count(*) FROM (` + db.backlogIDs() + `) b`
}

// backlogPageQuery reads the first page of the backlog (one placeholder:
// the limit), oldest cancel first: what is owed is what was paid and not
// refunded for certain, plus what failed voids still have to release.
func (db *DB) backlogPageQuery() string {
	return db.bind(`SELECT o.id, o.name, o.email, o.customer_name, o.cancelled_at, o.cancel_reason, o.currency,
	` + backlogOwedExpr + `,
	coalesce((SELECT c.reason_label FROM cancellations c WHERE c.order_id = o.id ORDER BY c.id DESC LIMIT 1), ''),
	EXISTS (SELECT 1 FROM refunds f WHERE f.order_id = o.id AND f.kind = 'refund' AND f.status = 'failed')
	FROM (` + db.backlogIDs() + ` ORDER BY 1, 2 LIMIT ?) b
	JOIN orders o ON o.id = b.id
	ORDER BY b.cancelled_at, b.id`)
}

// backlogOwedExpr is what a backlog order o is owed: what was paid and not
// refunded for certain, plus what its failed voids still have to release.
const backlogOwedExpr = `CASE WHEN o.financial_status IN ('paid', 'partially_refunded') AND o.total > o.refunded_succeeded
		THEN o.total - o.refunded_succeeded ELSE 0 END
	+ (SELECT coalesce(sum(f.amount), 0) FROM refunds f WHERE f.order_id = o.id AND f.status = 'failed' AND f.kind = 'void')`

// BacklogSummary implements canceldesk.RefundStore in one read
// transaction of two sums: the orders still owed what was paid, from the
// covering partial index alone; then the cancelled orders with failed
// voids, which add what those still have to release (and themselves,
// when the first sum did not count them).
func (db *DB) BacklogSummary(ctx context.Context) (canceldesk.BacklogSummary, error) {
	out := canceldesk.BacklogSummary{Value: map[string]int64{}}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return out, err
	}
	defer tx.Rollback()
	add := func(cur string, n int, owed, since int64) {
		out.Count += n
		out.Value[cur] += owed
		if t := fromMicros(since); n > 0 && (out.Oldest.IsZero() || t.Before(out.Oldest)) {
			out.Oldest = t
		}
	}
	orders := "orders"
	if db.dialect == sqlite {
		orders = "orders INDEXED BY orders_refund_backlog"
	}
	err = eachRow(ctx, tx, `SELECT currency, count(*), CAST(sum(total - refunded_succeeded) AS BIGINT), min(cancelled_at)
		FROM `+orders+` WHERE `+backlogOwed+` GROUP BY currency`, nil, func(rows *sql.Rows) error {
		var (
			cur         string
			n           int
			owed, since int64
		)
		if err := rows.Scan(&cur, &n, &owed, &since); err != nil {
			return err
		}
		add(cur, n, owed, since)
		return nil
	})
	if err != nil {
		return out, err
	}
	err = eachRow(ctx, tx, `SELECT o.currency, o.cancelled_at, CASE WHEN `+backlogOwed+` THEN 1 ELSE 0 END,
		CAST(sum(f.amount) AS BIGINT)
		FROM refunds f JOIN orders o ON o.id = f.order_id
		WHERE f.status = 'failed' AND f.kind = 'void' AND o.cancelled_at IS NOT NULL
		GROUP BY o.id, o.currency, o.cancelled_at, o.total, o.refunded_succeeded, o.financial_status`, nil,
		func(rows *sql.Rows) error {
			var (
				cur           string
				since, failed int64
				counted       int
			)
			if err := rows.Scan(&cur, &since, &counted, &failed); err != nil {
				return err
			}
			add(cur, 1-counted, failed, since)
			return nil
		})
	if err != nil {
		return out, err
	}
	return out, tx.Commit()
}

// RefundBacklog implements canceldesk.RefundStore. limit ≤ 0 only counts
// (the navigation shows the count on every page).
func (db *DB) RefundBacklog(ctx context.Context, limit int) ([]canceldesk.BacklogEntry, int, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, db.backlogCountQuery()).Scan(&total); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || total == 0 {
		return nil, total, tx.Commit()
	}
	rows, err := tx.QueryContext(ctx, db.backlogPageQuery(), limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []canceldesk.BacklogEntry
	for rows.Next() {
		var (
			e         canceldesk.BacklogEntry
			cancelled sql.NullInt64
			reason    string
		)
		if err := rows.Scan(&e.OrderID, &e.Name, &e.Email, &e.Customer, &cancelled, &reason, &e.Refundable.Currency,
			&e.Refundable.Amount, &e.ReasonLabel, &e.RefundFailed); err != nil {
			return nil, 0, err
		}
		e.CancelledAt, e.Reason = fromMicros(cancelled.Int64), canceldesk.CancelReason(reason)
		if e.ReasonLabel == "" {
			e.ReasonLabel = reason
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return out, total, tx.Commit()
}
