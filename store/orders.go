package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

var _ canceldesk.OrderStore = (*DB)(nil)

// ImportOrders implements canceldesk.OrderStore.
func (db *DB) ImportOrders(ctx context.Context, orders []*canceldesk.Order, actor string) ([]bool, error) {
	created := make([]bool, len(orders))
	err := db.tx(ctx, func(w *Tx) error {
		in := newOrderImport(fromCSV)
		for i, o := range orders {
			ok, err := db.importOrder(ctx, w, in, o, actor)
			if err != nil {
				return err
			}
			created[i] = ok
		}
		return db.addRollups(ctx, w.Tx, in)
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// importSource is where orders that come in whole are from: the source
// their cancellations count under in the analytics, and the gateway of the
// refund row of what they had refunded (see importedRefund).
type importSource struct{ stats, gateway string }

var (
	// fromCSV: a shop export; money refunded before was given back outside
	// Cancel Desk.
	fromCSV = importSource{StatsSourceImport, canceldesk.GatewayManual}
	// fromShopify: the shop's Admin API. An order that arrives cancelled
	// was cancelled in Shopify's admin, so it counts as SourceShopify (not
	// as an import) and its refunds went through Shopify.
	fromShopify = importSource{canceldesk.SourceShopify, canceldesk.GatewayShopify}
)

// orderImport is what one transaction storing new orders gathers: the
// locations named so far, by name, and the analytics rollups to add last.
type orderImport struct {
	from  importSource
	locs  map[string]int64
	stats []statsDelta
	facts []cancelFact
}

func newOrderImport(from importSource) *orderImport {
	return &orderImport{from: from, locs: map[string]int64{}}
}

// importOrder stores o unless an order of its name exists (false): its
// location, rows, rollups and EventImported entry by actor.
func (db *DB) importOrder(ctx context.Context, w *Tx, in *orderImport, o *canceldesk.Order, actor string) (bool, error) {
	if err := db.orderLocation(ctx, w.Tx, o, in.locs); err != nil {
		return false, err
	}
	ok, err := db.insertOrder(ctx, w.Tx, o, in.from.gateway)
	if err != nil || !ok {
		return false, err
	}
	w.changedOrder(o.ID)
	in.stats = append(in.stats, orderStats(o, in.from.stats)...)
	in.facts = append(in.facts, orderFacts(o)...)
	e := canceldesk.Event{OrderID: o.ID, Kind: canceldesk.EventImported, Actor: actor, CreatedAt: db.Now()}
	return true, db.insertEvent(ctx, w.Tx, &e)
}

// addRollups adds what in gathered to the analytics rollups, last (see
// addStats).
func (db *DB) addRollups(ctx context.Context, tx *sql.Tx, in *orderImport) error {
	if err := db.addStats(ctx, tx, in.stats...); err != nil {
		return err
	}
	return db.addFacts(ctx, tx, db.zone.Load(), in.facts...)
}

// orderLocation sets o.LocationID to the location o names, creating it
// the first time; seen caches the ids by name for one transaction.
func (db *DB) orderLocation(ctx context.Context, tx *sql.Tx, o *canceldesk.Order, seen map[string]int64) error {
	name := strings.TrimSpace(o.Location)
	if name == "" {
		return nil
	}
	if id, ok := seen[name]; ok {
		o.LocationID = id
		return nil
	}
	loc, err := db.ensureLocation(ctx, tx, name)
	if err != nil {
		return err
	}
	seen[name], o.LocationID, o.Location = loc.ID, loc.ID, loc.Name
	if o.LocationExternalID == "" {
		return nil
	}
	// Shopify's id of the location, kept the first time an order names it
	// (a location made here or by a CSV import has none); an id another
	// location holds already stays there.
	_, err = tx.ExecContext(ctx, db.bind(`UPDATE locations SET external_id = ? WHERE id = ? AND external_id = ''
		AND NOT EXISTS (SELECT 1 FROM locations l WHERE l.external_id = ?)`), o.LocationExternalID, loc.ID, o.LocationExternalID)
	return err
}

// insertOrder writes o, its lines and its search document unless an order
// of the same name exists; either way o.ID is set. What o had refunded is
// a refund row through gateway (see importedRefund).
func (db *DB) insertOrder(ctx context.Context, tx *sql.Tx, o *canceldesk.Order, gateway string) (bool, error) {
	if err := checkOrder(o); err != nil {
		return false, err
	}
	canceldesk.SettleImported(o)
	now := db.Now()
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = now
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	ids, err := db.reserveIDs(ctx, tx, "orders", 1)
	if err != nil {
		return false, err
	}
	vals, key, doc := orderRow(o, ids[0])
	q := `INSERT INTO orders (` + orderRowColumns + `) VALUES (` + placeholders(len(vals)) +
		`) ON CONFLICT (name) DO NOTHING RETURNING id`
	err = tx.QueryRowContext(ctx, db.bind(q), vals...).Scan(&o.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, tx.QueryRowContext(ctx, db.bind(`SELECT id FROM orders WHERE name = ?`), o.Name).Scan(&o.ID)
	} else if err != nil {
		return false, err
	}
	lineQ := db.bind(`INSERT INTO line_items (` + lineRowColumns + `) VALUES (` +
		placeholders(strings.Count(lineRowColumns, ",")+1) + `) RETURNING id`)
	for i := range o.LineItems {
		li := &o.LineItems[i]
		li.OrderID, li.Position = o.ID, i+1
		if err := tx.QueryRowContext(ctx, lineQ, lineRow(li)...).Scan(&li.ID); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, db.bind(`INSERT INTO order_search (rowid, doc) VALUES (?, ?)`), key, doc); err != nil {
		return false, err
	}
	if rf := importedRefund(o, gateway); rf != nil {
		if err := db.insertRefund(ctx, tx, rf, "{}"); err != nil {
			return false, err
		}
		if err := db.addRefunded(ctx, tx, rf); err != nil {
			return false, err
		}
	}
	return true, nil
}

// importedRefund is the refund row of what o had refunded when it came in
// (Shopify's "Refunded Amount"), so the analytics and the export count it
// as they count refunds made here: succeeded, through gateway (manual for
// a CSV import: given back outside Cancel Desk), at the cancel's time or
// else the order's; nil when nothing was refunded. Migration 0014 wrote the
// same for the orders stored before.
func importedRefund(o *canceldesk.Order, gateway string) *canceldesk.Refund {
	if o.RefundedAmount <= 0 {
		return nil
	}
	at := o.CreatedAt
	if o.CancelledAt != nil {
		at = *o.CancelledAt
	}
	return &canceldesk.Refund{OrderID: o.ID, Kind: canceldesk.RefundKindRefund, Amount: o.RefundedAmount,
		Currency: o.Currency, Method: canceldesk.MethodOriginal, Gateway: gateway,
		Status: canceldesk.RefundSucceeded, IdempotencyKey: canceldesk.ImportedRefundKey(o.ID),
		Actor: BulkActor, CreatedAt: at, UpdatedAt: at}
}

// customerName is the name the list shows: billing, else shipping name.
func customerName(o *canceldesk.Order) string {
	if o.BillingAddress.Name != "" {
		return o.BillingAddress.Name
	}
	return o.ShippingAddress.Name
}

const orderColumns = `o.id, o.external_id, o.name, o.email, o.currency, o.subtotal, o.shipping, o.taxes,
	o.discounts, o.total, o.refunded_amount, o.refunded_succeeded, o.shipping_refunded, o.tax_refunded, o.financial_status, o.fulfillment_status,
	o.payment_method, o.payment_reference, o.paid_at, o.fulfilled_at, o.cancelled_at, o.cancel_reason, o.billing_address, o.shipping_address,
	o.notes, o.tags, o.risk, o.source, o.created_at, o.updated_at, o.shopify_updated_at`

// Order implements canceldesk.OrderStore.
func (db *DB) Order(ctx context.Context, id int64) (*canceldesk.Order, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	o, err := db.order(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	return o, tx.Commit()
}

// order reads the order and its lines in tx; ErrNotFound when there is
// no such order.
func (db *DB) order(ctx context.Context, tx *sql.Tx, id int64) (*canceldesk.Order, error) {
	return db.readOrder(ctx, tx, id, "")
}

// lockedOrder is order with, on PostgreSQL, the order's row locked for the
// rest of tx, in the same read (see lockOrder).
func (db *DB) lockedOrder(ctx context.Context, tx *sql.Tx, id int64) (*canceldesk.Order, error) {
	if db.dialect == postgres {
		return db.readOrder(ctx, tx, id, " FOR UPDATE OF o")
	}
	return db.readOrder(ctx, tx, id, "")
}

func (db *DB) readOrder(ctx context.Context, tx *sql.Tx, id int64, lock string) (*canceldesk.Order, error) {
	var (
		o                                     canceldesk.Order
		fin, ful, reason, billing, ship, tags string
		risk                                  string
		paid, fulfilled, cancelled, location  sql.NullInt64
		shopifyUpdated                        sql.NullInt64
		locationName, locationExternal        sql.NullString
		created, updated                      int64
	)
	err := tx.QueryRowContext(ctx, db.bind(`SELECT `+orderColumns+`, o.location_id, loc.name, loc.external_id, o.locale FROM orders o
		LEFT JOIN locations loc ON loc.id = o.location_id WHERE o.id = ?`+lock), id).Scan(
		&o.ID, &o.ExternalID, &o.Name, &o.Email, &o.Currency, &o.Subtotal, &o.Shipping, &o.Taxes,
		&o.Discounts, &o.Total, &o.RefundedAmount, &o.RefundedSucceeded, &o.ShippingRefunded, &o.TaxRefunded, &fin, &ful, &o.PaymentMethod,
		&o.PaymentReference, &paid, &fulfilled,
		&cancelled, &reason, &billing, &ship, &o.Notes, &tags, &risk, &o.Source, &created, &updated, &shopifyUpdated,
		&location, &locationName, &locationExternal, &o.Locale)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, canceldesk.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	o.FinancialStatus, o.FulfillmentStatus = canceldesk.FinancialStatus(fin), canceldesk.FulfillmentStatus(ful)
	o.CancelReason, o.Risk = canceldesk.CancelReason(reason), canceldesk.RiskLevel(risk)
	o.PaidAt, o.FulfilledAt, o.CancelledAt = fromNullMicros(paid), fromNullMicros(fulfilled), fromNullMicros(cancelled)
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	o.LocationID, o.Location, o.LocationExternalID = location.Int64, locationName.String, locationExternal.String
	o.ShopifyUpdatedAt = fromNullMicros(shopifyUpdated)
	_ = json.Unmarshal([]byte(billing), &o.BillingAddress)
	_ = json.Unmarshal([]byte(ship), &o.ShippingAddress)
	for _, t := range strings.Split(tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			o.Tags = append(o.Tags, t)
		}
	}
	rows, err := tx.QueryContext(ctx, db.bind(`SELECT id, order_id, position, name, sku, quantity, price,
		fulfilled_quantity, cancelled_quantity, refunded_quantity, restocked_quantity,
		returned_quantity, return_restocked_quantity, refunded_shipped_quantity, external_id
		FROM line_items WHERE order_id = ? ORDER BY position`), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var li canceldesk.LineItem
		if err := rows.Scan(&li.ID, &li.OrderID, &li.Position, &li.Name, &li.SKU, &li.Quantity, &li.Price,
			&li.FulfilledQuantity, &li.CancelledQuantity, &li.RefundedQuantity, &li.RestockedQuantity,
			&li.ReturnedQuantity, &li.ReturnRestockedQuantity, &li.RefundedShippedQuantity, &li.ExternalID); err != nil {
			return nil, err
		}
		o.LineItems = append(o.LineItems, li)
	}
	return &o, rows.Err()
}

// listWhere is the list's FROM clause, sort key and conditions (in the
// dialect-neutral ? placeholders) for f's search, filters and dates; the
// keyset cursors are the caller's. Every bound (keyset cursor, dates) is a
// range of the sort key, so one index walk in sort-key order answers it.
// A search drives the query from the search table, whose rowid is the
// sort key: on SQLite the FTS matches come out in order and the walk stops
// after the page; PostgreSQL walks first (see probeSearch).
func (db *DB) listWhere(f canceldesk.OrderFilter, mode searchMode, counting bool) (from, key string, where []string, args []any) {
	from, key = "orders o", "o.sort_key"
	if cond, a, ok := exactCondition(f.Query); ok && mode == searchExact {
		where, args = append(where, cond), append(args, a...)
	} else if f.Query != "" {
		cond, a, fts := db.searchCondition(f.Query, counting)
		if fts {
			from, key = ftsJoin, "order_search.rowid"
		}
		where, args = append(where, cond), append(args, a...)
	}
	switch f.Status {
	case canceldesk.StatusOpen:
		where = append(where, "o.cancelled_at IS NULL")
	case canceldesk.StatusCancelled:
		where = append(where, "o.cancelled_at IS NOT NULL")
	}
	if f.Financial != "" {
		where, args = append(where, "o.financial_status = ?"), append(args, string(f.Financial))
	}
	if f.Fulfillment != "" {
		where, args = append(where, "o.fulfillment_status = ?"), append(args, string(f.Fulfillment))
	}
	where, args = dateBounds(f, key, where, args)
	return from, key, where, args
}

// dateBounds appends f's dates, as a range of the sort key key, to where
// and args.
func dateBounds(f canceldesk.OrderFilter, key string, where []string, args []any) ([]string, []any) {
	if !f.From.IsZero() {
		where, args = append(where, key+" >= ?"), append(args, sortKey(f.From, 0))
	}
	if !f.To.IsZero() {
		where, args = append(where, key+" < ?"), append(args, sortKey(f.To, 0))
	}
	return where, args
}

// ftsJoin drives a search from the search table, whose rowid is the sort
// key.
const ftsJoin = "order_search JOIN orders o ON o.sort_key = order_search.rowid"

// filtersOrderColumns reports whether f narrows by a column of orders
// (status, payment, fulfilment) rather than by search and dates alone.
func filtersOrderColumns(f canceldesk.OrderFilter) bool {
	return f.Status == canceldesk.StatusOpen || f.Status == canceldesk.StatusCancelled || f.Financial != "" || f.Fulfillment != ""
}

// orderListColumns are the columns of a row of the list.
const orderListColumns = `o.id, o.name, o.email, o.customer_name, o.currency, o.total, o.financial_status,
		o.fulfillment_status, o.cancelled_at, o.cancel_reason, o.item_count, o.created_at`

// listQuery builds the list's SQL in the dialect's placeholders, with its
// arguments and the page size; it reads one row more than the page, newest
// first, or, going back (f.Before), oldest first from the cursor.
func (db *DB) listQuery(f canceldesk.OrderFilter, mode searchMode) (q string, args []any, limit int) {
	limit = pageLimit(f)
	from, key, where, args := db.listWhere(f, mode, false)
	order := " DESC"
	if f.After != nil {
		where, args = append(where, key+" < ?"), append(args, sortKey(f.After.CreatedAt, f.After.ID))
	} else if f.Before != nil {
		where, args = append(where, key+" > ?"), append(args, sortKey(f.Before.CreatedAt, f.Before.ID))
		order = " ASC"
	}
	q = `SELECT ` + orderListColumns + ` FROM ` + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + key + order + " LIMIT ?"
	args = append(args, limit+1)
	return db.bind(q), args, limit
}

// countQuery counts the orders f matches, up to f.CountLimit()+1: the inner
// LIMIT stops the walk there, so a broad filter on a million orders costs
// as much as ten thousand index entries.
func (db *DB) countQuery(f canceldesk.OrderFilter, mode searchMode) (string, []any) {
	from, _, where, args := db.listWhere(f, mode, true)
	if from == ftsJoin && !filtersOrderColumns(f) {
		// The search and the dates are conditions on the index alone (one
		// row per order, rowid the sort key): counting there skips ten
		// thousand lookups into orders, most of a common term's count.
		from = "order_search"
	}
	q := `SELECT 1 FROM ` + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return db.bind(`SELECT count(*) FROM (` + q + ` LIMIT ?) c`), append(args, f.CountLimit()+1)
}

// ListOrders implements canceldesk.OrderStore. It reads one row more than
// the page to know whether a further page exists (keyset pagination, in
// both directions).
func (db *DB) ListOrders(ctx context.Context, f canceldesk.OrderFilter) (canceldesk.OrderPage, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return canceldesk.OrderPage{}, err
	}
	defer tx.Rollback()
	mode, err := db.modeOf(ctx, tx, f)
	if err != nil {
		return canceldesk.OrderPage{}, err
	}
	var page canceldesk.OrderPage
	scan := func(rows *sql.Rows) error {
		var (
			s           canceldesk.OrderSummary
			fin, ful, r string
			cancelled   sql.NullInt64
			created     int64
		)
		if err := rows.Scan(&s.ID, &s.Name, &s.Email, &s.CustomerName, &s.Currency, &s.Total, &fin, &ful,
			&cancelled, &r, &s.ItemCount, &created); err != nil {
			return err
		}
		s.FinancialStatus, s.FulfillmentStatus = canceldesk.FinancialStatus(fin), canceldesk.FulfillmentStatus(ful)
		s.CancelledAt, s.CancelReason, s.CreatedAt = fromNullMicros(cancelled), canceldesk.CancelReason(r), fromMicros(created)
		page.Orders = append(page.Orders, s)
		return nil
	}
	var limit int
	if db.dialect == postgres && mode == searchIndex && len([]rune(f.Query)) >= minSearchLen && f.Before == nil {
		limit, err = db.probeSearch(ctx, tx, f, scan, &page)
	} else {
		var q string
		var args []any
		q, args, limit = db.listQuery(f, mode)
		err = eachRow(ctx, tx, q, args, scan)
	}
	if err != nil {
		return page, err
	}
	more := len(page.Orders) > limit
	if more {
		page.Orders = page.Orders[:limit]
	}
	if f.Before != nil {
		slices.Reverse(page.Orders)
	}
	if n := len(page.Orders); n > 0 {
		first, last := page.Orders[0], page.Orders[n-1]
		// Going forward there is a page before this one (the cursor's);
		// going back, one after it.
		if more || f.Before != nil {
			page.Next = &canceldesk.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if f.After != nil || (more && f.Before != nil) {
			page.Prev = &canceldesk.Cursor{CreatedAt: first.CreatedAt, ID: first.ID}
		}
	}
	if err := db.refundsOwed(ctx, tx, page.Orders); err != nil {
		return page, err
	}
	if f.Count && f.After == nil && f.Before == nil && !more {
		// The first page holds every match: it is the count.
		page.Count = len(page.Orders)
	} else if f.Count {
		cq, cargs := db.countQuery(f, mode)
		if err := tx.QueryRowContext(ctx, cq, cargs...).Scan(&page.Count); err != nil {
			return page, err
		}
	}
	return page, tx.Commit()
}

// refundsOwed sets RefundOwed on the cancelled orders of a page that were
// paid, from their refund balance (canceldesk.BalanceOf, the one owner of
// that figure): the amount given back for certain and their pending and
// failed refunds, in two reads for the whole page.
func (db *DB) refundsOwed(ctx context.Context, tx *sql.Tx, orders []canceldesk.OrderSummary) error {
	byID := map[int64]*canceldesk.Order{}
	var ids []any
	for _, s := range orders {
		if s.CancelledAt != nil && (s.FinancialStatus == canceldesk.FinancialPaid || s.FinancialStatus == canceldesk.FinancialPartiallyRefunded) {
			byID[s.ID] = &canceldesk.Order{ID: s.ID, Currency: s.Currency, Total: s.Total, FinancialStatus: s.FinancialStatus}
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	in := "(" + placeholders(len(ids)) + ")"
	err := eachRow(ctx, tx, db.bind(`SELECT id, refunded_succeeded FROM orders WHERE id IN `+in), ids, func(rows *sql.Rows) error {
		var id, refunded int64
		if err := rows.Scan(&id, &refunded); err != nil {
			return err
		}
		byID[id].RefundedSucceeded = refunded
		return nil
	})
	if err != nil {
		return err
	}
	refunds, err := db.queryRefunds(ctx, tx, `WHERE order_id IN `+in+` AND status IN ('pending', 'failed') ORDER BY id`, ids...)
	if err != nil {
		return err
	}
	byOrder := map[int64][]canceldesk.Refund{}
	for _, r := range refunds {
		byOrder[r.OrderID] = append(byOrder[r.OrderID], r)
	}
	for i := range orders {
		o := byID[orders[i].ID]
		if o == nil {
			continue
		}
		b := canceldesk.BalanceOf(o, byOrder[o.ID])
		if st := b.State(); st == canceldesk.RefundStateNone || st == canceldesk.RefundStatePartial {
			orders[i].RefundOwed = b.Owed()
		}
	}
	return nil
}

// Events implements canceldesk.OrderStore.
func (db *DB) Events(ctx context.Context, orderID int64) ([]canceldesk.Event, error) {
	rows, err := db.read.QueryContext(ctx, db.bind(`SELECT id, order_id, kind, actor, message, data, created_at
		FROM events WHERE order_id = ? ORDER BY id`), orderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []canceldesk.Event
	for rows.Next() {
		var e canceldesk.Event
		var at int64
		var data string
		if err := rows.Scan(&e.ID, &e.OrderID, &e.Kind, &e.Actor, &e.Message, &data, &at); err != nil {
			return nil, err
		}
		if data != "" {
			if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
				return nil, fmt.Errorf("store: event %d data: %w", e.ID, err)
			}
		}
		e.CreatedAt = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (db *DB) insertEvent(ctx context.Context, tx *sql.Tx, e *canceldesk.Event) error {
	data, err := eventDataJSON(e.Data)
	if err != nil {
		return err
	}
	return tx.QueryRowContext(ctx, db.bind(`INSERT INTO events (order_id, kind, actor, message, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), e.OrderID, e.Kind, e.Actor, e.Message, data, e.CreatedAt.UnixMicro()).Scan(&e.ID)
}

// insertEvents writes an action's timeline entries on order orderID (0
// keeps each event's own order), by actor, at now, in one statement.
func (db *DB) insertEvents(ctx context.Context, tx *sql.Tx, events []canceldesk.Event, orderID int64, actor string, now time.Time) error {
	rows := make([][]any, len(events))
	for i := range events {
		e := &events[i]
		if orderID != 0 {
			e.OrderID = orderID
		}
		e.Actor, e.CreatedAt = actor, now
		data, err := eventDataJSON(e.Data)
		if err != nil {
			return err
		}
		rows[i] = []any{e.OrderID, e.Kind, e.Actor, e.Message, data, e.CreatedAt.UnixMicro()}
	}
	ids, err := db.insertRows(ctx, tx, `INSERT INTO events (order_id, kind, actor, message, data, created_at)`, rows)
	for i, id := range ids {
		events[i].ID = id
	}
	return err
}

// CountOrders implements canceldesk.OrderStore.
func (db *DB) CountOrders(ctx context.Context) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM orders`).Scan(&n)
	return n, err
}
