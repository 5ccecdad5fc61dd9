package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

type stats struct{ p50, p95, p99 time.Duration }

// measure runs fn cfg.warmup times, then cfg.iters times under the clock.
// fn gets the iteration number, to pick its term or id; warm-up iterations
// are numbered after the measured ones so they warm other rows.
func (b *bench) measure(ctx context.Context, name string, fn func(ctx context.Context, i int) error) (stats, error) {
	b.progress("measuring %s", name)
	for i := 0; i < b.cfg.warmup; i++ {
		if err := fn(ctx, b.cfg.iters+i); err != nil {
			return stats{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	d := make([]time.Duration, b.cfg.iters)
	for i := range d {
		start := time.Now()
		if err := fn(ctx, i); err != nil {
			return stats{}, fmt.Errorf("%s: %w", name, err)
		}
		d[i] = time.Since(start)
	}
	return summarize(d), nil
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	k := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}

// pair measures a store operation and its floor, interleaved: iteration i
// runs both on the same term or id, alternating which goes first, so
// neither profits from the other having warmed the cache, and drift in the
// machine's load hits both alike.
func (b *bench) pair(ctx context.Context, name, note string, fn, floor func(ctx context.Context, i int) error) (row, error) {
	b.progress("measuring %s, beside its floor", name)
	for i := 0; i < b.cfg.warmup; i++ {
		if err := fn(ctx, b.cfg.iters+i); err != nil {
			return row{}, fmt.Errorf("%s: %w", name, err)
		}
		if err := floor(ctx, b.cfg.iters+i); err != nil {
			return row{}, fmt.Errorf("%s (floor): %w", name, err)
		}
	}
	got := make([]time.Duration, b.cfg.iters)
	fl := make([]time.Duration, b.cfg.iters)
	timed := func(f func(context.Context, int) error, i int, dst []time.Duration, what string) error {
		start := time.Now()
		if err := f(ctx, i); err != nil {
			return fmt.Errorf("%s%s: %w", name, what, err)
		}
		dst[i] = time.Since(start)
		return nil
	}
	for i := range got {
		var err error
		if i%2 == 0 {
			err = errors.Join(timed(fn, i, got, ""), timed(floor, i, fl, " (floor)"))
		} else {
			err = errors.Join(timed(floor, i, fl, " (floor)"), timed(fn, i, got, ""))
		}
		if err != nil {
			return row{}, err
		}
	}
	g, f := summarize(got), summarize(fl)
	return row{name: name, got: g, floor: &f, note: note}, nil
}

func summarize(d []time.Duration) stats {
	slices.Sort(d)
	return stats{p50: percentile(d, 0.50), p95: percentile(d, 0.95), p99: percentile(d, 0.99)}
}

// listColumns are the columns ListOrders reads.
const listColumns = `o.id, o.name, o.email, o.customer_name, o.currency, o.total, o.financial_status,
	o.fulfillment_status, o.cancelled_at, o.cancel_reason, o.item_count, o.created_at`

// orderColumns are the columns Order reads.
const orderColumns = `o.id, o.external_id, o.name, o.email, o.currency, o.subtotal, o.shipping, o.taxes,
	o.discounts, o.total, o.refunded_amount, o.financial_status, o.fulfillment_status, o.payment_method,
	o.paid_at, o.fulfilled_at, o.cancelled_at, o.cancel_reason, o.billing_address, o.shipping_address,
	o.notes, o.tags, o.risk, o.source, o.created_at, o.updated_at`

// pageLimit is what ListOrders asks for: a page and one more row.
const pageLimit = canceldesk.PageSize + 1

// scanList reads list rows the way ListOrders does and returns how many.
func scanList(rows *sql.Rows) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id, total, created                       int64
			name, email, cust, cur, fin, ful, reason string
			items                                    int
			cancelled                                sql.NullInt64
		)
		if err := rows.Scan(&id, &name, &email, &cust, &cur, &total, &fin, &ful, &cancelled, &reason, &items, &created); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// listSQL is the bare first page of the list, as the store builds it:
// newest first by sort_key (created_at in seconds, then id), one row more
// than the page.
const listSQL = `SELECT ` + listColumns + ` FROM orders o ORDER BY o.sort_key DESC LIMIT ?`

// searchSQL is the bare search, as the store builds it for a query of three
// characters or more: on SQLite driven from the FTS5 table, whose rowid is
// the sort key, so the walk stops after the page; on PostgreSQL a LIKE on
// the same table's document (pg_trgm GIN index) with the sort-key order.
func (b *bench) searchSQL(term string) (string, []any) {
	if b.sqlite {
		quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
		from := `SELECT ` + listColumns + ` FROM order_search JOIN orders o ON o.sort_key = order_search.rowid WHERE `
		order := ` ORDER BY order_search.rowid DESC LIMIT ?`
		lower := strings.ToLower(term)
		r := []rune(lower)
		if len(r) < 6 {
			return from + `order_search MATCH ?` + order, []any{quote(term)}
		}
		// A longer term: its disjoint trigrams ANDed, then the orders that
		// hold the term itself (the store's cd_has).
		var parts []string
		for i := 0; i+3 <= len(r); i += 3 {
			parts = append(parts, quote(string(r[i:i+3])))
		}
		if len(r)%3 != 0 {
			parts = append(parts, quote(string(r[len(r)-3:])))
		}
		return from + `order_search MATCH ? AND (cd_has(?, o.name, o.email, o.customer_name) OR
			EXISTS (SELECT 1 FROM line_items l WHERE l.order_id = o.id AND cd_has(?, l.name, l.sku)))` + order,
			[]any{strings.Join(parts, " AND "), lower, lower}
	}
	return b.bind(`SELECT ` + listColumns + ` FROM order_search JOIN orders o ON o.sort_key = order_search.rowid
		WHERE order_search.doc LIKE ? ESCAPE '\' ORDER BY order_search.rowid DESC LIMIT ?`), []any{b.matchArg(term)}
}

// matchArg is the argument of a count of term's matches through the
// search index alone: the FTS5 phrase, or the LIKE pattern.
func (b *bench) matchArg(term string) string {
	if b.sqlite {
		return `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
	}
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(term)) + "%"
}

// checkFloors makes sure the floors still read what the store reads: the
// same orders in the same order for the list and a few terms of each kind.
// The floors copy the store's SQL; when the store's query changes, this
// fails rather than let the table compare against a different query.
func (b *bench) checkFloors(ctx context.Context) error {
	ids := func(rows *sql.Rows, err error) ([]int64, error) {
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id, total, created int64
			var name, email, cust, cur, fin, ful, reason string
			var items int
			var cancelled sql.NullInt64
			if err := rows.Scan(&id, &name, &email, &cust, &cur, &total, &fin, &ful, &cancelled, &reason, &items, &created); err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, rows.Err()
	}
	check := func(what, query string, floor []int64, err error) error {
		if err != nil {
			return fmt.Errorf("floor of %s: %w", what, err)
		}
		page, err := b.db.ListOrders(ctx, canceldesk.OrderFilter{Query: query})
		if err != nil {
			return err
		}
		floor = floor[:min(len(floor), canceldesk.PageSize)]
		var got []int64
		for _, o := range page.Orders {
			got = append(got, o.ID)
		}
		if !slices.Equal(got, floor) {
			return fmt.Errorf("the floor SQL of %s no longer reads what ListOrders reads (%d vs %d orders, first %v vs %v): "+
				"the store's list query changed; update listSQL/searchSQL in cmd/canceldesk-bench/measure.go",
				what, len(floor), len(got), head(floor), head(got))
		}
		return nil
	}
	floor, err := ids(b.raw.QueryContext(ctx, b.bind(listSQL), pageLimit))
	if err := check("the list", "", floor, err); err != nil {
		return err
	}
	for _, terms := range [][]string{b.emails, b.surnames, b.skus} {
		for _, t := range terms[:min(5, len(terms))] {
			q, arg := b.searchSQL(t)
			floor, err := ids(b.raw.QueryContext(ctx, q, append(arg, pageLimit)...))
			if err := check(fmt.Sprintf("search %q", t), t, floor, err); err != nil {
				return err
			}
		}
	}
	return nil
}

func head(ids []int64) []int64 { return ids[:min(3, len(ids))] }

func (b *bench) measureAll(ctx context.Context) ([]row, error) {
	var out []row
	add := func(r row, err error) error {
		if err == nil {
			out = append(out, r)
		}
		return err
	}

	if b.cfg.cancelsOnly {
		return b.measureCancels(ctx)
	}
	if err := b.checkFloors(ctx); err != nil {
		return nil, err
	}

	// (a) The first page of the list.
	list := b.bind(listSQL)
	err := add(b.pair(ctx, "orders list, first page (ListOrders, no filter)",
		"floor: the same SELECT … ORDER BY sort_key DESC LIMIT 51 through database/sql, no transaction",
		func(ctx context.Context, i int) error {
			p, err := b.db.ListOrders(ctx, canceldesk.OrderFilter{})
			if err == nil && len(p.Orders) != min(canceldesk.PageSize, int(b.count)) {
				err = fmt.Errorf("got %d orders", len(p.Orders))
			}
			return err
		},
		func(ctx context.Context, i int) error {
			rows, err := b.raw.QueryContext(ctx, list, pageLimit)
			if err != nil {
				return err
			}
			_, err = scanList(rows)
			return err
		}))
	if err != nil {
		return nil, err
	}

	// (b) Search by email local part, customer name and SKU.
	searchFloor := "floor: the bare search SELECT (" + map[bool]string{
		true:  "FTS5 trigram MATCH joined to orders, walked in rowid = sort_key order",
		false: "order_search.doc LIKE '%…%', pg_trgm GIN index, ORDER BY sort key",
	}[b.sqlite] + ", LIMIT 51) through database/sql"
	for _, s := range []struct {
		name  string
		terms []string
	}{
		{"search: email local part", b.emails},
		{"search: customer surname / name", b.surnames},
		{"search: SKU (each in 7–26% of orders)", b.skus},
	} {
		terms := s.terms
		matched := 0
		r, err := b.pair(ctx, s.name+" (ListOrders q=…)", searchFloor+"; terms: "+examples(terms),
			func(ctx context.Context, i int) error {
				p, err := b.db.ListOrders(ctx, canceldesk.OrderFilter{Query: terms[i%len(terms)]})
				if err == nil && len(p.Orders) == 0 {
					err = fmt.Errorf("%q found nothing", terms[i%len(terms)])
				}
				if i < b.cfg.iters {
					matched += len(p.Orders)
				}
				return err
			},
			func(ctx context.Context, i int) error {
				q, arg := b.searchSQL(terms[i%len(terms)])
				rows, err := b.raw.QueryContext(ctx, q, append(arg, pageLimit)...)
				if err != nil {
					return err
				}
				_, err = scanList(rows)
				return err
			})
		if err != nil {
			return nil, err
		}
		r.note += fmt.Sprintf("; %.1f orders on the page on average", float64(matched)/float64(b.cfg.iters))
		out = append(out, r)
	}

	// (c) The order page's data.
	oneSQL := b.bind(`SELECT ` + orderColumns + ` FROM orders o WHERE o.id = ?`)
	err = add(b.pair(ctx, "order detail (Order + Events)",
		"random orders; floor: the bare single-row SELECT of the order's columns by id (the store also reads lines and events, in a read transaction)",
		func(ctx context.Context, i int) error {
			id := b.ids[i%len(b.ids)]
			o, err := b.db.Order(ctx, id)
			if err != nil {
				return err
			}
			ev, err := b.db.Events(ctx, o.ID)
			if err == nil && (len(o.LineItems) == 0 || len(ev) == 0) {
				err = fmt.Errorf("order %d: %d lines, %d events", id, len(o.LineItems), len(ev))
			}
			return err
		},
		func(ctx context.Context, i int) error {
			var (
				id, sub, ship, tax, disc, total, refunded, created, updated            int64
				ext, name, email, cur, fin, ful, pay, reason, bill, shipA, notes, tags string
				risk, source                                                           string
				paid, fulfilled, cancelled                                             sql.NullInt64
			)
			return b.raw.QueryRowContext(ctx, oneSQL, b.ids[i%len(b.ids)]).Scan(&id, &ext, &name, &email, &cur, &sub, &ship,
				&tax, &disc, &total, &refunded, &fin, &ful, &pay, &paid, &fulfilled, &cancelled, &reason, &bill,
				&shipA, &notes, &tags, &risk, &source, &created, &updated)
		}))
	if err != nil {
		return nil, err
	}

	// (d) HTTP: the framework's own cost, then the real pages.
	rows, err := b.measureHTTPFloor(ctx)
	if err != nil {
		return nil, err
	}
	out = append(out, rows...)
	rows, err = b.measurePages(ctx)
	if err != nil {
		return nil, err
	}
	out = append(out, rows...)

	if err := b.diagnose(ctx); err != nil {
		return nil, err
	}

	// (e–g) Cancels, last: they change the data.
	rows, err = b.measureCancels(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, rows...), nil
}

func examples(terms []string) string {
	seen := map[string]bool{}
	var ex []string
	for _, t := range terms {
		if !seen[t] && len(ex) < 4 {
			seen[t] = true
			ex = append(ex, "`"+t+"`")
		}
	}
	return fmt.Sprintf("%d distinct of %d, e.g. %s", len(distinct(terms)), len(terms), strings.Join(ex, ", "))
}

func distinct(terms []string) map[string]bool {
	m := map[string]bool{}
	for _, t := range terms {
		m[t] = true
	}
	return m
}

// diagnose explains the search figures: how many orders each SKU matches,
// how long the index alone takes to find them all, and the query plan.
func (b *bench) diagnose(ctx context.Context) error {
	skus := make([]string, 0)
	for t := range distinct(b.skus) {
		skus = append(skus, t)
	}
	slices.Sort(skus)
	var matchSQL string
	if b.sqlite {
		matchSQL = `SELECT count(*) FROM order_search WHERE order_search MATCH ?`
	} else {
		matchSQL = `SELECT count(*) FROM order_search WHERE doc LIKE $1 ESCAPE '\'`
	}
	var parts []string
	var slowest time.Duration
	for _, sku := range skus {
		arg := b.matchArg(sku)
		start := time.Now()
		var n int64
		if err := b.raw.QueryRowContext(ctx, matchSQL, arg).Scan(&n); err != nil {
			return fmt.Errorf("counting matches of %s: %w", sku, err)
		}
		el := time.Since(start)
		slowest = max(slowest, el)
		parts = append(parts, fmt.Sprintf("%s %s (%.1f%%, %s ms)", sku, thousands(n), 100*float64(n)/float64(b.count), ms(el)))
	}
	b.diagnostics = append(b.diagnostics, "orders matching each SKU, and the time to count them through the search index alone: "+strings.Join(parts, "; "))

	q, arg := b.searchSQL(skus[0])
	var plan []string
	if b.sqlite {
		rows, err := b.raw.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, append(arg, pageLimit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return err
			}
			plan = append(plan, detail)
		}
		if err := rows.Err(); err != nil {
			return err
		}
	} else {
		rows, err := b.raw.QueryContext(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+q, append(arg, pageLimit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan = append(plan, strings.TrimSpace(line))
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	b.diagnostics = append(b.diagnostics, fmt.Sprintf("plan of the search for %q: %s", skus[0], strings.Join(plan, " / ")))
	return nil
}
