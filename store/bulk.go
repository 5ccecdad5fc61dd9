package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/canceldesk/canceldesk"
)

// bulkRows is how many rows one multi-row INSERT carries. The widest
// statement (orders, 31-32 columns) then binds about 16,000 parameters,
// under SQLite's limit of 32,766 and PostgreSQL's of 65,535.
const bulkRows = 500

// BulkActor is the actor of the "imported" event BulkLoad writes per order.
const BulkActor = "import"

// BulkLoad inserts new orders with their line items, search documents and
// one "imported" event each, in one transaction, many rows per statement.
// It is the fast path for loading a large store (benchmarks, big demo
// stores): on SQLite it is several times faster than ImportOrders.
//
// Unlike ImportOrders it does not skip orders that exist: a name already in
// the store fails the whole call with a uniqueness error, so use it on a
// store known not to hold these orders. On success o.ID, and the ID,
// OrderID and Position of each line, are set as ImportOrders sets them.
func (db *DB) BulkLoad(ctx context.Context, orders []*canceldesk.Order) error {
	if len(orders) == 0 {
		return nil
	}
	now := db.Now()
	nLines := 0
	for _, o := range orders {
		if err := checkOrder(o); err != nil {
			return err
		}
		canceldesk.SettleImported(o)
		if o.UpdatedAt.IsZero() {
			o.UpdatedAt = now
		}
		if o.CreatedAt.IsZero() {
			o.CreatedAt = now
		}
		nLines += len(o.LineItems)
	}
	return db.tx(ctx, func(w *Tx) error {
		tx := w.Tx
		w.changed(canceldesk.ChangedOrders) // new orders: none is cached
		orderIDs, err := db.reserveIDs(ctx, tx, "orders", len(orders))
		if err != nil {
			return err
		}
		lineIDs, err := db.reserveIDs(ctx, tx, "line_items", nLines)
		if err != nil {
			return err
		}
		eventIDs, err := db.reserveIDs(ctx, tx, "events", len(orders))
		if err != nil {
			return err
		}

		ins := []*bulkInsert{
			db.newBulkInsert(ctx, tx, "orders", orderRowColumns),
			db.newBulkInsert(ctx, tx, "line_items", "id, "+lineRowColumns),
			db.newBulkInsert(ctx, tx, "events", `id, order_id, kind, actor, message, data, created_at`),
			db.newBulkInsert(ctx, tx, "order_search", `rowid, doc`),
		}
		defer func() {
			for _, b := range ins {
				b.close()
			}
		}()
		ordersIns, linesIns, eventsIns, searchIns := ins[0], ins[1], ins[2], ins[3]

		// Orders go in chunks of bulkRows; each chunk's rows are sent
		// before its children are queued, so every line and event finds its
		// order already inserted (the foreign keys are checked per statement).
		nextLine := 0
		docs := make([]string, 0, bulkRows)
		for start := 0; start < len(orders); start += bulkRows {
			chunk := orders[start:min(start+bulkRows, len(orders))]
			docs = docs[:0]
			for i, o := range chunk {
				o.ID = orderIDs[start+i]
				args, _, doc := orderRow(o, o.ID)
				docs = append(docs, doc)
				if err := ordersIns.add(args...); err != nil {
					return err
				}
			}
			if err := ordersIns.flush(); err != nil {
				return err
			}
			for i, o := range chunk {
				for j := range o.LineItems {
					li := &o.LineItems[j]
					li.ID, li.OrderID, li.Position = lineIDs[nextLine], o.ID, j+1
					nextLine++
					if err := linesIns.add(append([]any{li.ID}, lineRow(li)...)...); err != nil {
						return err
					}
				}
				if err := eventsIns.add(eventIDs[start+i], o.ID, canceldesk.EventImported, BulkActor, "", "", now.UnixMicro()); err != nil {
					return err
				}
				if err := searchIns.add(sortKey(o.CreatedAt, o.ID), docs[i]); err != nil {
					return err
				}
			}
		}
		for _, b := range ins {
			if err := b.flush(); err != nil {
				return err
			}
		}
		// The analytics rollups, summed per row in Go, last (see addStats);
		// what the orders had refunded is a refund row as an import's is.
		stats := make([]statsDelta, 0, len(orders))
		var (
			facts    []cancelFact
			refunded []*canceldesk.Refund
		)
		for _, o := range orders {
			stats = append(stats, orderStats(o, StatsSourceImport)...)
			facts = append(facts, orderFacts(o)...)
			if rf := importedRefund(o, canceldesk.GatewayManual); rf != nil {
				if err := db.insertRefund(ctx, tx, rf, "{}"); err != nil {
					return err
				}
				refunded = append(refunded, rf)
			}
		}
		if err := db.addStats(ctx, tx, stats...); err != nil {
			return err
		}
		if err := db.addFacts(ctx, tx, db.zone.Load(), facts...); err != nil {
			return err
		}
		return db.addRefunded(ctx, tx, refunded...)
	})
}

// checkOrder refuses an order the store does not take, by ImportOrders or
// BulkLoad alike: one without a name, a currency or line items, or with
// an amount outside the domain's bounds.
func checkOrder(o *canceldesk.Order) error {
	if o.Name == "" || o.Currency == "" || len(o.LineItems) == 0 {
		return canceldesk.Errorf(canceldesk.EINVALID, "order %q needs a name, a currency and line items", o.Name)
	}
	if err := o.CheckAmounts(); err != nil {
		return canceldesk.Errorf(canceldesk.EINVALID, "order %q: %s", o.Name, canceldesk.ErrorMessage(err))
	}
	return nil
}

// reserveIDs returns n new ids for table inside tx. On SQLite the write
// transaction holds the database lock, so the ids after the largest are
// free; on PostgreSQL they are drawn from the identity's sequence.
func (db *DB) reserveIDs(ctx context.Context, tx *sql.Tx, table string, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if n == 0 {
		return ids, nil
	}
	if db.dialect == sqlite {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM `+table).Scan(&last); err != nil {
			return nil, fmt.Errorf("store: bulk ids of %s: %w", table, err)
		}
		for i := range n {
			ids = append(ids, last+1+int64(i))
		}
		return ids, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, n)
	if err != nil {
		return nil, fmt.Errorf("store: bulk ids of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("store: bulk ids of %s: got %d, want %d", table, len(ids), n)
	}
	return ids, nil
}

// bulkInsert batches rows of one table into multi-row INSERTs of bulkRows
// rows through a statement prepared once; the last, shorter batch is sent
// unprepared.
type bulkInsert struct {
	db    *DB
	ctx   context.Context
	tx    *sql.Tx
	table string
	cols  string
	ncol  int
	full  *sql.Stmt
	args  []any
	rows  int
}

func (db *DB) newBulkInsert(ctx context.Context, tx *sql.Tx, table, cols string) *bulkInsert {
	n := strings.Count(cols, ",") + 1
	return &bulkInsert{db: db, ctx: ctx, tx: tx, table: table, cols: cols, ncol: n, args: make([]any, 0, n*bulkRows)}
}

// pending is how many rows wait for the next flush.
func (b *bulkInsert) pending() int { return b.rows }

// add queues one row, sending a full batch when one is complete.
func (b *bulkInsert) add(vals ...any) error {
	if len(vals) != b.ncol {
		return fmt.Errorf("store: bulk insert into %s: %d values for %d columns", b.table, len(vals), b.ncol)
	}
	b.args = append(b.args, vals...)
	if b.rows++; b.rows == bulkRows {
		return b.flush()
	}
	return nil
}

// flush sends the queued rows.
func (b *bulkInsert) flush() error {
	if b.rows == 0 {
		return nil
	}
	var err error
	if b.rows == bulkRows {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(b.ctx, b.query(bulkRows)); err != nil {
				return fmt.Errorf("store: bulk insert into %s: %w", b.table, err)
			}
		}
		_, err = b.full.ExecContext(b.ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(b.ctx, b.query(b.rows), b.args...)
	}
	if err != nil {
		return fmt.Errorf("store: bulk insert into %s: %w", b.table, err)
	}
	b.args, b.rows = b.args[:0], 0
	return nil
}

func (b *bulkInsert) query(rows int) string {
	row := "(" + placeholders(b.ncol) + ")"
	var q strings.Builder
	q.Grow(len(b.cols) + 32 + rows*(len(row)+2))
	q.WriteString("INSERT INTO " + b.table + " (" + b.cols + ") VALUES ")
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	return b.db.bind(q.String())
}

func (b *bulkInsert) close() {
	if b.full != nil {
		b.full.Close()
	}
}
