package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

var _ canceldesk.ShopifyStore = (*DB)(nil)

// ShopifyActor signs what the connection writes on its own: orders synced
// from the shop, cancellations and refunds made in Shopify's admin,
// refusals.
const ShopifyActor = "shopify"

// UpsertShopifyOrders implements canceldesk.ShopifyStore. One transaction:
// each order is matched by ExternalID (or, for an order imported from a CSV
// without one, by name) and inserted as ImportOrders would when new, or
// updated when Shopify changed it since we last saw it (shopifyUpdate).
func (db *DB) UpsertShopifyOrders(ctx context.Context, orders []*canceldesk.Order) (canceldesk.ShopifySyncCount, error) {
	var count canceldesk.ShopifySyncCount
	err := db.tx(ctx, func(w *Tx) error {
		count = canceldesk.ShopifySyncCount{}
		in := newOrderImport(fromShopify)
		var newest *time.Time
		// In the order of Shopify's ids, so that two batches lock the rows
		// of the orders they share in the same order on PostgreSQL.
		sorted := slices.Clone(orders)
		slices.SortStableFunc(sorted, func(a, b *canceldesk.Order) int { return strings.Compare(a.ExternalID, b.ExternalID) })
		for _, o := range sorted {
			if o.ExternalID == "" || o.ShopifyUpdatedAt == nil {
				return fmt.Errorf("store: Shopify order %q without its id or updated_at", o.Name)
			}
			count.Orders++
			count.LineItems += len(o.LineItems)
			if o.CancelledAt != nil {
				count.Cancelled++
			}
			id, err := db.shopifyOrderID(ctx, w.Tx, o)
			if err != nil {
				return err
			}
			applied := false
			if id == 0 {
				if applied, err = db.importOrder(ctx, w, in, o, ShopifyActor); err != nil {
					return err
				}
				if applied {
					count.Created++
				}
			} else {
				if applied, err = db.shopifyUpdate(ctx, w, in, id, o); err != nil {
					return err
				}
				if applied {
					count.Updated++
				}
			}
			if applied && (newest == nil || o.ShopifyUpdatedAt.After(*newest)) {
				newest = o.ShopifyUpdatedAt
			}
		}
		if _, err := w.ExecContext(ctx, db.bind(`UPDATE shopify_state SET orders_synced = orders_synced + ? WHERE id = 1`),
			count.Created+count.Updated); err != nil {
			return err
		}
		if newest != nil {
			at := newest.UnixMicro()
			if _, err := w.ExecContext(ctx, db.bind(`UPDATE shopify_state SET last_seen_updated_at = CASE
				WHEN last_seen_updated_at IS NULL OR last_seen_updated_at < ? THEN ? ELSE last_seen_updated_at END
				WHERE id = 1`), at, at); err != nil {
				return err
			}
		}
		return db.addRollups(ctx, w.Tx, in)
	})
	return count, err
}

// shopifyOrderID is the id of the order o is here: the one with its
// external id, else an order of its name that has none (imported from a
// CSV without the Id column); 0 when there is none. On PostgreSQL the
// order's row is locked.
func (db *DB) shopifyOrderID(ctx context.Context, tx *sql.Tx, o *canceldesk.Order) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, db.bind(`SELECT id FROM orders WHERE external_id = ? ORDER BY id LIMIT 1`), o.ExternalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, db.bind(`SELECT id FROM orders WHERE name = ? AND external_id = ''`), o.Name).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	return id, db.lockOrder(ctx, tx, id)
}

// shopifyUpdate applies to order id what Shopify says of it now (o), when
// o is newer than what was stored (false otherwise, nothing written):
// statuses, fulfilled quantities, risk, contact and notes; a cancellation
// made at Shopify; refunds made at Shopify. A cancel call of ours open on
// the order leaves both of those to CompleteShopifyCall, which writes them
// when Shopify's job is done. A cancellation made here is never touched.
func (db *DB) shopifyUpdate(ctx context.Context, w *Tx, in *orderImport, id int64, o *canceldesk.Order) (bool, error) {
	tx := w.Tx
	cur, err := db.order(ctx, tx, id)
	if err != nil {
		return false, err
	}
	if cur.ShopifyUpdatedAt != nil && !o.ShopifyUpdatedAt.After(*cur.ShopifyUpdatedAt) {
		return false, nil
	}
	w.changedOrder(id)
	now := db.Now()
	at := now.UnixMicro()
	if err := db.shopifyLines(ctx, tx, cur, o); err != nil {
		return false, err
	}
	var open bool
	err = tx.QueryRowContext(ctx, db.bind(`SELECT count(*) > 0 FROM shopify_calls
		WHERE order_id = ? AND kind = 'cancel' AND state IN ('queued', 'running')`), id).Scan(&open)
	if err != nil {
		return false, err
	}
	if !open && o.CancelledAt != nil && cur.CancelledAt == nil {
		if err := db.shopifyCancelled(ctx, tx, in, id, o, now); err != nil {
			return false, err
		}
	}
	if !open {
		if err := db.shopifyRefunded(ctx, tx, cur, o.RefundedAmount, now); err != nil {
			return false, err
		}
	}
	// The order's own fields, last: Shopify's financial status is the
	// truth even after a refund recorded above moved ours, but while a
	// cancel call is open ours stays until its refund is recorded.
	fin := o.FinancialStatus
	if open {
		fin = cur.FinancialStatus
	}
	cur.Email, cur.BillingAddress, cur.ShippingAddress = o.Email, o.BillingAddress, o.ShippingAddress
	billing, _ := json.Marshal(o.BillingAddress)
	shipping, _ := json.Marshal(o.ShippingAddress)
	// Shopify's customerLocale, when it gives one the app speaks, replaces
	// the language a CSV gave.
	locale := cur.Locale
	if o.Locale != "" {
		locale = o.Locale
	}
	_, err = tx.ExecContext(ctx, db.bind(`UPDATE orders SET external_id = ?, email = ?, customer_name = ?,
		billing_address = ?, shipping_address = ?, notes = ?, tags = ?, risk = ?, financial_status = ?,
		fulfillment_status = ?, shopify_updated_at = ?, updated_at = ?, locale = ? WHERE id = ?`),
		o.ExternalID, o.Email, customerName(cur), string(billing), string(shipping), o.Notes, strings.Join(o.Tags, ", "),
		string(o.Risk), string(fin), string(o.FulfillmentStatus), o.ShopifyUpdatedAt.UnixMicro(), at, locale, id)
	if err != nil {
		return false, err
	}
	_, key, doc := orderRow(cur, id)
	return true, db.updateSearchDoc(ctx, tx, key, doc)
}

// updateSearchDoc replaces the order's search document, the row of
// order_search keyed by its sort key (a contentless FTS5 table on SQLite
// cannot be updated in place).
func (db *DB) updateSearchDoc(ctx context.Context, tx *sql.Tx, key int64, doc string) error {
	if _, err := tx.ExecContext(ctx, db.bind(`DELETE FROM order_search WHERE rowid = ?`), key); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, db.bind(`INSERT INTO order_search (rowid, doc) VALUES (?, ?)`), key, doc)
	return err
}

// shopifyLines matches o's lines to cur's, by Shopify's line id, else (a
// line imported from a CSV, which has none) by position and then by SKU,
// and stores each match's Shopify id and fulfilled quantity. The fulfilled
// quantity is kept within what the line's other counters allow.
func (db *DB) shopifyLines(ctx context.Context, tx *sql.Tx, cur, o *canceldesk.Order) error {
	used := make([]bool, len(cur.LineItems))
	match := func(i int, in canceldesk.LineItem) int {
		for j, li := range cur.LineItems {
			if !used[j] && in.ExternalID != "" && li.ExternalID == in.ExternalID {
				return j
			}
		}
		same := func(li canceldesk.LineItem) bool {
			return li.ExternalID == "" && li.SKU == in.SKU && (in.SKU != "" || li.Name == in.Name)
		}
		if i < len(cur.LineItems) && !used[i] && same(cur.LineItems[i]) {
			return i
		}
		for j, li := range cur.LineItems {
			if !used[j] && same(li) {
				return j
			}
		}
		return -1
	}
	for i, in := range o.LineItems {
		j := match(i, in)
		if j < 0 {
			continue
		}
		used[j] = true
		li := &cur.LineItems[j]
		fulfilled := min(in.FulfilledQuantity, li.Quantity-li.CancelledQuantity,
			li.Quantity-(li.RefundedQuantity-li.RefundedShippedQuantity))
		fulfilled = max(fulfilled, li.ReturnedQuantity, li.RefundedShippedQuantity, 0)
		if fulfilled == li.FulfilledQuantity && in.ExternalID == li.ExternalID {
			continue
		}
		li.FulfilledQuantity, li.ExternalID = fulfilled, in.ExternalID
		if _, err := tx.ExecContext(ctx, db.bind(`UPDATE line_items SET fulfilled_quantity = ?, external_id = ? WHERE id = ?`),
			fulfilled, in.ExternalID, li.ID); err != nil {
			return err
		}
	}
	return nil
}

// shopifyCancelled records the cancellation of order id made in Shopify's
// admin: the order cancelled when Shopify says, its unshipped units
// cancelled, an EventShopifyCancelled entry, and the rollups (source
// shopify). No cancellations row is written: no one cancelled it here, so
// there is no dialog's choice, plan or key to keep (as for an order
// imported cancelled).
func (db *DB) shopifyCancelled(ctx context.Context, tx *sql.Tx, in *orderImport, id int64, o *canceldesk.Order, now time.Time) error {
	cur, err := db.order(ctx, tx, id)
	if err != nil {
		return err
	}
	reason := o.CancelReason
	if reason == "" {
		reason = canceldesk.ReasonOther
	}
	at := o.CancelledAt.UnixMicro()
	r, err := tx.ExecContext(ctx, db.bind(`UPDATE orders SET cancelled_at = ?, cancel_reason = ?
		WHERE id = ? AND cancelled_at IS NULL`), at, string(reason), id)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return err
	}
	cancelledNow := map[int64]int{}
	for _, li := range cur.LineItems {
		n := li.Quantity - li.FulfilledQuantity - li.CancelledQuantity
		if n <= 0 {
			continue
		}
		if err := db.updateLine(ctx, tx, id, lineDelta{LineItemID: li.ID, Cancelled: n}); err != nil {
			return err
		}
		cancelledNow[li.ID] = n
	}
	e := canceldesk.Event{OrderID: id, Kind: canceldesk.EventShopifyCancelled, Actor: ShopifyActor, CreatedAt: now,
		Data: canceldesk.EventData{Reason: string(reason)}}
	if err := db.insertEvent(ctx, tx, &e); err != nil {
		return err
	}
	cur.CancelReason = reason
	in.stats = append(in.stats, cancelStats(cur, at, reason, canceldesk.SourceShopify)...)
	in.facts = append(in.facts, cancelledFact(cur, at, cancelledNow))
	return nil
}

// shopifyRefunded records, as one succeeded refund through Shopify, what
// Shopify has refunded on the order (refunded, its total) beyond what we
// know was given back: the refunds succeeded here, and the Shopify refunds
// still pending here (sent, Shopify may have done them already; their
// settlement confirms them). Recording it moves refunded_succeeded and the
// balance through syncFinancialStatus, as any succeeded refund does.
func (db *DB) shopifyRefunded(ctx context.Context, tx *sql.Tx, cur *canceldesk.Order, refunded int64, now time.Time) error {
	var pending int64
	err := tx.QueryRowContext(ctx, db.bind(`SELECT coalesce(sum(amount), 0) FROM refunds
		WHERE order_id = ? AND kind = 'refund' AND status = 'pending' AND gateway = ?`), cur.ID, canceldesk.GatewayShopify).Scan(&pending)
	if err != nil {
		return err
	}
	diff := refunded - cur.RefundedSucceeded - pending
	if diff <= 0 {
		return nil
	}
	at := now.UnixMicro()
	if _, err := tx.ExecContext(ctx, db.bind(`UPDATE orders SET refunded_amount = refunded_amount + ?, updated_at = ? WHERE id = ?`),
		diff, at, cur.ID); err != nil {
		return err
	}
	rf := canceldesk.Refund{OrderID: cur.ID, Kind: canceldesk.RefundKindRefund, Amount: diff, Currency: cur.Currency,
		Method: canceldesk.MethodOriginal, Gateway: canceldesk.GatewayShopify, Status: canceldesk.RefundSucceeded,
		IdempotencyKey: "shopify-refunded:" + strconv.FormatInt(cur.ID, 10) + ":" + strconv.FormatInt(refunded, 10),
		Actor:          ShopifyActor, CreatedAt: now, UpdatedAt: now}
	if err := db.insertRefund(ctx, tx, &rf, "{}"); err != nil {
		return err
	}
	if err := db.syncFinancialStatus(ctx, tx, cur.ID, rf.Kind, at); err != nil {
		return err
	}
	if err := db.addRefunded(ctx, tx, &rf); err != nil {
		return err
	}
	e := canceldesk.Event{OrderID: cur.ID, Kind: canceldesk.EventRefund, Actor: ShopifyActor, CreatedAt: now, Data: refundEventData(rf)}
	return db.insertEvent(ctx, tx, &e)
}

// ShopifyOrderUpdatedAt implements canceldesk.ShopifyStore.
func (db *DB) ShopifyOrderUpdatedAt(ctx context.Context, externalID string) (*time.Time, error) {
	var at sql.NullInt64
	err := db.read.QueryRowContext(ctx, db.bind(`SELECT shopify_updated_at FROM orders WHERE external_id = ?
		ORDER BY id LIMIT 1`), externalID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) || externalID == "" {
		return nil, nil
	}
	return fromNullMicros(at), err
}

// EnqueueWebhook implements canceldesk.ShopifyStore. The unique webhook id
// makes a repeated delivery, even one arriving at the same moment, a
// conflict that inserts nothing.
func (db *DB) EnqueueWebhook(ctx context.Context, wh canceldesk.ShopifyWebhook) (bool, error) {
	if wh.WebhookID == "" {
		return false, canceldesk.Errorf(canceldesk.EINVALID, "A webhook delivery needs its id.")
	}
	var duplicate bool
	err := db.tx(ctx, func(tx *Tx) error {
		received := wh.ReceivedAt
		if received.IsZero() {
			received = db.Now()
		}
		var id int64
		err := tx.QueryRowContext(ctx, db.bind(`INSERT INTO shopify_webhooks (webhook_id, topic, order_external_id,
			payload_updated_at, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (webhook_id) DO NOTHING RETURNING id`),
			wh.WebhookID, wh.Topic, wh.OrderID, micros(wh.UpdatedAt), received.UnixMicro()).Scan(&id)
		duplicate = errors.Is(err, sql.ErrNoRows)
		if err != nil && !duplicate {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE shopify_state SET webhooks_received = webhooks_received + 1 WHERE id = 1`)
		return err
	})
	return duplicate, err
}

// ClaimWebhooks implements canceldesk.ShopifyStore. The rows are chosen and
// leased in one transaction: on PostgreSQL rows another claimer holds are
// skipped (SKIP LOCKED); SQLite has one writer.
func (db *DB) ClaimWebhooks(ctx context.Context, limit int, lease time.Duration) ([]canceldesk.ShopifyWebhook, error) {
	if limit <= 0 {
		limit = 1
	}
	var out []canceldesk.ShopifyWebhook
	err := db.tx(ctx, func(tx *Tx) error {
		out = nil
		now := db.Now().UnixMicro()
		q := `SELECT id, webhook_id, topic, order_external_id, payload_updated_at, received_at, attempts, error
			FROM shopify_webhooks WHERE processed_at IS NULL AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY received_at, id LIMIT ?`
		if db.dialect == postgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		err := eachRow(ctx, tx.Tx, db.bind(q), []any{now, limit}, func(rows *sql.Rows) error {
			var (
				wh       canceldesk.ShopifyWebhook
				updated  sql.NullInt64
				received int64
			)
			if err := rows.Scan(&wh.ID, &wh.WebhookID, &wh.Topic, &wh.OrderID, &updated, &received, &wh.Attempts, &wh.Error); err != nil {
				return err
			}
			wh.UpdatedAt, wh.ReceivedAt = fromNullMicros(updated), fromMicros(received)
			out = append(out, wh)
			return nil
		})
		if err != nil {
			return err
		}
		until := now + lease.Microseconds()
		for i := range out {
			out[i].Attempts++
			if _, err := tx.ExecContext(ctx, db.bind(`UPDATE shopify_webhooks SET lease_until = ?, attempts = attempts + 1
				WHERE id = ?`), until, out[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// FinishWebhook implements canceldesk.ShopifyStore. A failed delivery
// keeps its lease, so it is claimed again once the lease ends.
func (db *DB) FinishWebhook(ctx context.Context, id int64, errMsg string) error {
	return db.tx(ctx, func(tx *Tx) error {
		now := db.Now()
		q := `UPDATE shopify_webhooks SET processed_at = ?, error = ? WHERE id = ?`
		args := []any{now.UnixMicro(), errMsg, id}
		if errMsg != "" {
			q, args = `UPDATE shopify_webhooks SET error = ? WHERE id = ?`, []any{errMsg, id}
		}
		if err := oneRow(tx.ExecContext(ctx, db.bind(q), args...)); err != nil || errMsg == "" {
			return err
		}
		var wh canceldesk.ShopifyWebhook
		if err := tx.QueryRowContext(ctx, db.bind(`SELECT topic, order_external_id FROM shopify_webhooks WHERE id = ?`),
			id).Scan(&wh.Topic, &wh.OrderID); err != nil {
			return err
		}
		return db.lastError(ctx, tx.Tx, now, wh.About()+": "+errMsg)
	})
}

// lastError makes msg the connection's last error, at at, unless a later
// one is recorded.
func (db *DB) lastError(ctx context.Context, tx *sql.Tx, at time.Time, msg string) error {
	_, err := tx.ExecContext(ctx, db.bind(`UPDATE shopify_state SET last_error = ?, last_error_at = ?
		WHERE id = 1 AND (last_error_at IS NULL OR last_error_at <= ?)`), msg, at.UnixMicro(), at.UnixMicro())
	return err
}

// RecordShopifyError implements canceldesk.ShopifyStore.
func (db *DB) RecordShopifyError(ctx context.Context, at time.Time, msg string) error {
	return db.tx(ctx, func(tx *Tx) error { return db.lastError(ctx, tx.Tx, at, msg) })
}

// QueueShopifyCancel implements canceldesk.ShopifyStore: req is checked
// with the code CancelOrder runs (Validate, planCancel under the staff
// limit), so a refusal carries the same code, field and message.
func (db *DB) QueueShopifyCancel(ctx context.Context, req canceldesk.CancelRequest, shopifyNotifies bool) (*canceldesk.ShopifyCall, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	req.Gateway = canceldesk.GatewayShopify
	call := canceldesk.ShopifyCall{OrderID: req.OrderID, Kind: canceldesk.ShopifyCallCancel,
		IdempotencyKey: req.IdempotencyKey, Cancel: &req, ShopifyNotifies: shopifyNotifies}
	return db.queueCall(ctx, call, req.Actor, canceldesk.EventShopifyCancelSent, func(tx *sql.Tx) error {
		if err := db.checkRequestOpen(ctx, tx, req); err != nil {
			return err
		}
		_, _, err := db.planCancel(ctx, tx, req, staffLimited)
		return err
	})
}

// checkRequestOpen refuses a cancel that approves a request no longer
// pending (request.decided) or of another order (a stale form).
func (db *DB) checkRequestOpen(ctx context.Context, tx *sql.Tx, req canceldesk.CancelRequest) error {
	if req.RequestID == 0 {
		return nil
	}
	r, err := db.request(ctx, tx, `id = ?`, true, req.RequestID)
	if err != nil {
		return err
	}
	if r.Status != canceldesk.RequestPending {
		return requestDecided()
	}
	if r.OrderID != req.OrderID {
		return staleKeyError()
	}
	return nil
}

// QueueShopifyRestock implements canceldesk.ShopifyStore: req is checked
// with the code RestockOrder runs (planRestock).
func (db *DB) QueueShopifyRestock(ctx context.Context, req canceldesk.RestockRequest) (*canceldesk.ShopifyCall, error) {
	call := canceldesk.ShopifyCall{OrderID: req.OrderID, Kind: canceldesk.ShopifyCallRestock,
		IdempotencyKey: req.IdempotencyKey, Restock: &req}
	return db.queueCall(ctx, call, req.Actor, canceldesk.EventShopifyRestockSent, func(tx *sql.Tx) error {
		_, _, err := db.planRestock(ctx, tx, req)
		return err
	})
}

// queueCall records call (queued, due now) and its timeline entry of kind
// by actor once check passes, in one transaction. A key used before
// returns its call (EINVALID when it was for another order); an open call
// on the order already is ECONFLICT.
func (db *DB) queueCall(ctx context.Context, call canceldesk.ShopifyCall, actor, kind string, check func(*sql.Tx) error) (*canceldesk.ShopifyCall, error) {
	if call.IdempotencyKey == "" {
		return nil, staleKeyError()
	}
	return keyedTx(ctx, db, func(tx *Tx) (*canceldesk.ShopifyCall, error) {
		if c, err := db.callByKey(ctx, tx.Tx, call); c != nil || err != nil {
			return c, err
		}
		if err := db.lockOrder(ctx, tx.Tx, call.OrderID); err != nil {
			return nil, err
		}
		// Again under the order's lock: the same form sent twice at once
		// may have queued it while we waited.
		if c, err := db.callByKey(ctx, tx.Tx, call); c != nil || err != nil {
			return c, err
		}
		if _, err := db.openCall(ctx, tx.Tx, call.OrderID); err == nil {
			return nil, &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "shopify.call_open",
				Message: "Shopify is still working on this order. Wait for it to finish, then try again."}
		} else if !errors.Is(err, canceldesk.ErrNotFound) {
			return nil, err
		}
		if err := check(tx.Tx); err != nil {
			return nil, err
		}
		return db.insertCall(ctx, tx, call, actor, kind)
	})
}

// insertCall writes call (queued, due now) and its timeline entry of kind
// by actor in w, once the caller has checked it.
func (db *DB) insertCall(ctx context.Context, w *Tx, call canceldesk.ShopifyCall, actor, kind string) (*canceldesk.ShopifyCall, error) {
	request, err := callRequest(&call)
	if err != nil {
		return nil, err
	}
	now := db.Now()
	at := now.UnixMicro()
	err = w.QueryRowContext(ctx, db.bind(`INSERT INTO shopify_calls (order_id, kind, state, idempotency_key, request,
		shopify_notifies, next_at, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?) RETURNING id`),
		call.OrderID, call.Kind, call.IdempotencyKey, request, call.ShopifyNotifies, at, at, at).Scan(&call.ID)
	if err != nil {
		return nil, err
	}
	e := canceldesk.Event{OrderID: call.OrderID, Kind: kind, Actor: actor, CreatedAt: now}
	if err := db.insertEvent(ctx, w.Tx, &e); err != nil {
		return nil, err
	}
	w.changedOrder(call.OrderID)
	w.changed(canceldesk.ChangedShopifyCalls)
	return db.callWhere(ctx, w.Tx, `c.id = ?`, call.ID)
}

// callRequest is the JSON of the call's request.
func callRequest(c *canceldesk.ShopifyCall) (string, error) {
	var v any = c.Restock
	if c.Kind == canceldesk.ShopifyCallCancel {
		v = c.Cancel
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// callByKey is the call recorded with call's idempotency key, or nil; one
// for another order or of another kind means a stale form: EINVALID.
func (db *DB) callByKey(ctx context.Context, tx *sql.Tx, call canceldesk.ShopifyCall) (*canceldesk.ShopifyCall, error) {
	c, err := db.callWhere(ctx, tx, `c.idempotency_key = ?`, call.IdempotencyKey)
	switch {
	case errors.Is(err, canceldesk.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case c.OrderID != call.OrderID || c.Kind != call.Kind:
		return nil, staleKeyError()
	}
	return c, nil
}

// openCall is the order's call queued or running, or ErrNotFound.
func (db *DB) openCall(ctx context.Context, q querier, orderID int64) (*canceldesk.ShopifyCall, error) {
	return db.callWhere(ctx, q, `c.order_id = ? AND c.state IN ('queued', 'running')`, orderID)
}

const callColumns = `c.id, c.order_id, o.external_id, o.name, c.kind, c.state, c.idempotency_key, c.request, c.shopify_notifies,
	c.job_id, c.attempts, c.next_at, c.error, c.created_at, c.updated_at`

// callWhere reads the first call that matches where, or ErrNotFound.
func (db *DB) callWhere(ctx context.Context, q querier, where string, args ...any) (*canceldesk.ShopifyCall, error) {
	calls, err := db.queryCalls(ctx, q, `WHERE `+where+` ORDER BY c.id LIMIT 1`, args...)
	if err != nil {
		return nil, err
	}
	if len(calls) == 0 {
		return nil, canceldesk.ErrNotFound
	}
	return &calls[0], nil
}

// queryCalls lists the calls that match rest (WHERE … ORDER BY …).
func (db *DB) queryCalls(ctx context.Context, q querier, rest string, args ...any) ([]canceldesk.ShopifyCall, error) {
	rows, err := q.QueryContext(ctx, db.bind(`SELECT `+callColumns+` FROM shopify_calls c
		JOIN orders o ON o.id = c.order_id `+rest), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.ShopifyCall
	for rows.Next() {
		var (
			c                      canceldesk.ShopifyCall
			request                string
			next, created, updated int64
		)
		if err := rows.Scan(&c.ID, &c.OrderID, &c.ExternalID, &c.OrderName, &c.Kind, &c.State, &c.IdempotencyKey, &request,
			&c.ShopifyNotifies, &c.JobID, &c.Attempts, &next, &c.Error, &created, &updated); err != nil {
			return nil, err
		}
		c.NextAt, c.CreatedAt, c.UpdatedAt = fromMicros(next), fromMicros(created), fromMicros(updated)
		var v any = &c.Restock
		if c.Kind == canceldesk.ShopifyCallCancel {
			v = &c.Cancel
		}
		if err := json.Unmarshal([]byte(request), v); err != nil {
			return nil, fmt.Errorf("store: Shopify call %d request: %w", c.ID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DueShopifyCalls implements canceldesk.ShopifyStore.
func (db *DB) DueShopifyCalls(ctx context.Context, now time.Time, limit int) ([]canceldesk.ShopifyCall, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.queryCalls(ctx, db.read, `WHERE (c.state = 'queued' AND c.next_at <= ?) OR c.state = 'running'
		ORDER BY c.id LIMIT ?`, now.UnixMicro(), limit)
}

// OpenShopifyCall implements canceldesk.ShopifyStore.
func (db *DB) OpenShopifyCall(ctx context.Context, orderID int64) (*canceldesk.ShopifyCall, error) {
	return db.openCall(ctx, db.read, orderID)
}

// ShopifyCall implements canceldesk.ShopifyStore.
func (db *DB) ShopifyCall(ctx context.Context, id int64) (*canceldesk.ShopifyCall, error) {
	return db.callWhere(ctx, db.read, `c.id = ?`, id)
}

// ShopifyCallAccepted implements canceldesk.ShopifyStore. A call no longer
// open (done or failed meanwhile) stays as it is.
func (db *DB) ShopifyCallAccepted(ctx context.Context, id int64, jobID string) error {
	return db.updateOpenCall(ctx, id, `state = 'running', job_id = ?, error = ''`, jobID)
}

// ShopifyCallBusy implements canceldesk.ShopifyStore: a running call stays
// running (its job is polled again at next).
func (db *DB) ShopifyCallBusy(ctx context.Context, id int64, next time.Time, msg string) error {
	return db.updateOpenCall(ctx, id, `attempts = attempts + 1, next_at = ?, error = ?`, next.UnixMicro(), msg)
}

// updateOpenCall sets set (with args) on call id if it is open; ErrNotFound
// when there is no such call.
func (db *DB) updateOpenCall(ctx context.Context, id int64, set string, args ...any) error {
	return db.tx(ctx, func(tx *Tx) error {
		c, err := db.callWhere(ctx, tx.Tx, `c.id = ?`, id)
		if err != nil {
			return err
		}
		if c.State != canceldesk.CallQueued && c.State != canceldesk.CallRunning {
			return nil
		}
		_, err = tx.ExecContext(ctx, db.bind(`UPDATE shopify_calls SET `+set+`, updated_at = ?
			WHERE id = ? AND state IN ('queued', 'running')`), append(args, db.Now().UnixMicro(), id)...)
		return err
	})
}

// ShopifyCallRefused implements canceldesk.ShopifyStore.
func (db *DB) ShopifyCallRefused(ctx context.Context, id int64, msg string) error {
	return db.tx(ctx, func(tx *Tx) error {
		c, err := db.lockCall(ctx, tx.Tx, id)
		if err != nil || (c.State != canceldesk.CallQueued && c.State != canceldesk.CallRunning) {
			return err
		}
		now := db.Now()
		if _, err := tx.ExecContext(ctx, db.bind(`UPDATE shopify_calls SET state = 'failed', error = ?, updated_at = ?
			WHERE id = ?`), msg, now.UnixMicro(), id); err != nil {
			return err
		}
		e := canceldesk.Event{OrderID: c.OrderID, Kind: canceldesk.EventShopifyRefused, Actor: ShopifyActor, CreatedAt: now,
			Data: canceldesk.EventData{Note: msg}}
		tx.changedOrder(c.OrderID)
		if err := db.insertEvent(ctx, tx.Tx, &e); err != nil {
			return err
		}
		return db.lastError(ctx, tx.Tx, now, c.About()+": "+msg)
	})
}

// lockCall reads call id, its order's row locked first on PostgreSQL so
// that completing, refusing and syncing the order take turns.
func (db *DB) lockCall(ctx context.Context, tx *sql.Tx, id int64) (*canceldesk.ShopifyCall, error) {
	if err := db.lockOrderOf(ctx, tx, "shopify_calls", id); err != nil {
		return nil, err
	}
	return db.callWhere(ctx, tx, `c.id = ?`, id)
}

// CompleteShopifyCall implements canceldesk.ShopifyStore: a cancel runs
// the write CancelOrder runs (db.cancel) with its refund through Shopify
// recorded succeeded, and no customer message when Shopify sent one; a
// restock runs RestockOrder's (db.restockOrder). A done call does nothing;
// a failed one is ECONFLICT.
func (db *DB) CompleteShopifyCall(ctx context.Context, id int64) error {
	_, err := keyedTx(ctx, db, func(tx *Tx) (struct{}, error) {
		c, err := db.lockCall(ctx, tx.Tx, id)
		if err != nil || c.State == canceldesk.CallDone {
			return struct{}{}, err
		}
		if c.State == canceldesk.CallFailed {
			return struct{}{}, &canceldesk.Error{Code: canceldesk.ECONFLICT, Key: "shopify.call_failed",
				Message: "Shopify refused this change, so it was not made."}
		}
		switch c.Kind {
		case canceldesk.ShopifyCallCancel:
			req := *c.Cancel
			req.Gateway = canceldesk.GatewayShopify
			if c.ShopifyNotifies {
				req.NotifyCustomer = false
			}
			r, o, err := db.requestToApprove(ctx, tx.Tx, req)
			if err != nil {
				return struct{}{}, err
			}
			res, err := db.cancel(ctx, tx.Tx, req, shopifyDone)
			if err != nil {
				return struct{}{}, err
			}
			tx.cancelled(res)
			if r != nil {
				if err := db.approved(ctx, tx, r, o, req, res); err != nil {
					return struct{}{}, err
				}
			}
		case canceldesk.ShopifyCallRestock:
			if err := db.restockOrder(ctx, tx.Tx, *c.Restock); err != nil {
				return struct{}{}, err
			}
			tx.changedOrder(c.OrderID)
		}
		_, err = tx.ExecContext(ctx, db.bind(`UPDATE shopify_calls SET state = 'done', error = '', updated_at = ? WHERE id = ?`),
			db.Now().UnixMicro(), id)
		return struct{}{}, err
	})
	return err
}

// requestToApprove is the customer's request a cancel call approves
// (locked) and its order as it was before the cancel, or nil when the call
// approves none or the request was decided meanwhile.
func (db *DB) requestToApprove(ctx context.Context, tx *sql.Tx, req canceldesk.CancelRequest) (*canceldesk.CancellationRequest, *canceldesk.Order, error) {
	if req.RequestID == 0 {
		return nil, nil, nil
	}
	r, err := db.request(ctx, tx, `id = ?`, true, req.RequestID)
	if errors.Is(err, canceldesk.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if r.Status != canceldesk.RequestPending || r.OrderID != req.OrderID {
		return nil, nil, nil
	}
	o, err := db.order(ctx, tx, r.OrderID)
	return r, o, err
}

// ShopifyState implements canceldesk.ShopifyStore.
func (db *DB) ShopifyState(ctx context.Context) (canceldesk.ShopifyState, error) {
	var (
		s                             canceldesk.ShopifyState
		lastSync, lastSeen, lastErrAt sql.NullInt64
	)
	err := db.read.QueryRowContext(ctx, `SELECT last_sync_at, last_seen_updated_at, sync_cursor, orders_synced,
		webhooks_received, last_error, last_error_at,
		(SELECT count(*) FROM shopify_webhooks WHERE processed_at IS NULL),
		(SELECT count(*) FROM shopify_calls WHERE state IN ('queued', 'running'))
		FROM shopify_state WHERE id = 1`).Scan(&lastSync, &lastSeen, &s.SyncCursor, &s.OrdersSynced, &s.WebhooksReceived,
		&s.LastError, &lastErrAt, &s.WebhooksPending, &s.CallsPending)
	s.LastSyncAt, s.LastSeenUpdatedAt, s.LastErrorAt = fromNullMicros(lastSync), fromNullMicros(lastSeen), fromNullMicros(lastErrAt)
	return s, err
}

// SaveSyncProgress implements canceldesk.ShopifyStore.
func (db *DB) SaveSyncProgress(ctx context.Context, cursor string) error {
	return db.tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, db.bind(`UPDATE shopify_state SET sync_cursor = ? WHERE id = 1`), cursor)
		return err
	})
}

// SyncFinished implements canceldesk.ShopifyStore. A failed pass records
// its error at the pass's end, the time last_sync_at gets too: that is how
// an error is known as a pass's, which a pass that succeeds clears; a
// webhook's or a call's error stays until a later one replaces it.
func (db *DB) SyncFinished(ctx context.Context, at time.Time, errMsg string) error {
	return db.tx(ctx, func(tx *Tx) error {
		if errMsg != "" {
			if _, err := tx.ExecContext(ctx, db.bind(`UPDATE shopify_state SET last_error = ?, last_error_at = ?
				WHERE id = 1`), errMsg, at.UnixMicro()); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE shopify_state SET last_error = '', last_error_at = NULL
			WHERE id = 1 AND last_error_at = last_sync_at`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.bind(`UPDATE shopify_state SET last_sync_at = ? WHERE id = 1`), at.UnixMicro())
		return err
	})
}

// shopifyRefundJob fills what refundCreate needs of j: the order's id at
// Shopify and the lines the refund covers, named by Shopify's ids, from the
// plan it carries out (its own, or its cancellation's), with the location
// restocked units go to.
func (db *DB) shopifyRefundJob(ctx context.Context, q querier, j *canceldesk.RefundJob) error {
	var own, cancel string
	err := q.QueryRowContext(ctx, db.bind(`SELECT o.external_id, r.plan, coalesce(c.plan, '{}') FROM refunds r
		JOIN orders o ON o.id = r.order_id LEFT JOIN cancellations c ON c.id = r.cancellation_id WHERE r.id = ?`),
		j.ID).Scan(&j.ExternalID, &own, &cancel)
	if err != nil {
		return err
	}
	type line struct {
		id, location int64
		qty          int
		restock      bool
	}
	var lines []line
	if j.CancellationID != 0 {
		var p canceldesk.CancelPlan
		if err := json.Unmarshal([]byte(cancel), &p); err != nil {
			return fmt.Errorf("store: cancellation %d plan: %w", j.CancellationID, err)
		}
		for _, l := range p.Lines {
			lines = append(lines, line{id: l.LineItemID, qty: l.RefundQty, restock: l.RestockQty > 0, location: p.LocationID})
		}
	} else {
		var p canceldesk.RefundPlan
		if err := json.Unmarshal([]byte(own), &p); err != nil {
			return fmt.Errorf("store: refund %d plan: %w", j.ID, err)
		}
		for _, l := range p.Lines {
			lines = append(lines, line{id: l.LineItemID, qty: l.Quantity, restock: l.Restock.Restocks(), location: l.LocationID})
		}
	}
	j.Lines = nil
	for _, l := range lines {
		if l.qty <= 0 {
			continue
		}
		jl := canceldesk.RefundJobLine{Quantity: l.qty, Restock: l.restock}
		if err := q.QueryRowContext(ctx, db.bind(`SELECT external_id FROM line_items WHERE id = ?`), l.id).Scan(&jl.ExternalID); err != nil {
			return err
		}
		if l.restock && l.location != 0 {
			err := q.QueryRowContext(ctx, db.bind(`SELECT external_id FROM locations WHERE id = ?`), l.location).Scan(&jl.LocationExternalID)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		j.Lines = append(j.Lines, jl)
	}
	return nil
}
