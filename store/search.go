package store

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"time"

	"github.com/canceldesk/canceldesk"
)

// A search term is looked up by its kind. An order number ("#1001",
// "1001") or a whole email that names orders is an exact lookup on the
// B-tree indexes of name and email; anything else, and a number or email
// that names no order, is a substring of the search document, found
// through the trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL).

var (
	orderNumberTerm = regexp.MustCompile(`^#?[0-9]+$`)
	wholeEmailTerm  = regexp.MustCompile(`^[^\s@"'%\\]+@[^\s@"'%\\]+\.[^\s@"'%\\]{2,}$`)
)

// exactCondition is the condition on the B-tree indexes that matches the
// orders query names exactly, or ok false when query is not an order
// number or a whole email.
func exactCondition(query string) (cond string, args []any, ok bool) {
	switch {
	case orderNumberTerm.MatchString(query):
		name := query
		if !strings.HasPrefix(name, "#") {
			name = "#" + name
		}
		return "(o.name = ? OR o.name = ?)", []any{query, name}, true
	case wholeEmailTerm.MatchString(query):
		return "o.email IN (?, ?)", []any{query, strings.ToLower(query)}, true
	}
	return "", nil, false
}

// searchMode is how ListOrders finds the orders of a search.
type searchMode uint8

const (
	// searchIndex: the substring through the trigram index.
	searchIndex searchMode = iota
	// searchExact: the orders the term names (exactCondition).
	searchExact
)

// modeOf chooses the lookup of f's search: exact when the term is an
// order number or a whole email and some order has it. The choice does
// not depend on the cursor, so every page of a search reads the same set.
func (db *DB) modeOf(ctx context.Context, tx *sql.Tx, f canceldesk.OrderFilter) (searchMode, error) {
	if len([]rune(f.Query)) < minSearchLen {
		return searchIndex, nil // already an exact order number
	}
	cond, args, ok := exactCondition(f.Query)
	if !ok {
		return searchIndex, nil
	}
	var one int
	switch err := tx.QueryRowContext(ctx, db.bind(`SELECT 1 FROM orders o WHERE `+cond+` LIMIT 1`), args...).Scan(&one); err {
	case nil:
		return searchExact, nil
	case sql.ErrNoRows:
		return searchIndex, nil
	default:
		return searchIndex, err
	}
}

// probeRows is how many of the newest orders (after the cursor, within
// the filters) a PostgreSQL search reads in sort order before it turns to
// the trigram index: a term in one order of a hundred or so fills its page
// within them (or within one more walk as long as the first predicts it
// needs), and a rarer one costs this walk and then an index lookup of its
// few matches, instead of a walk through every order.
var probeRows = 4000

// probeQuery is the list query of a substring search on PostgreSQL over
// the window newest orders after f's cursor that pass the other filters,
// walked in sort-key order; bound reads the sort key of the last of them
// (no row when fewer orders pass). Without a filter on orders' columns the
// walk reads the search table alone (its rows are narrow and keyed by sort
// key) and only the matches are looked up in orders; with one it walks
// orders and looks each document up.
func (db *DB) probeQuery(f canceldesk.OrderFilter, window int) (probe string, probeArgs []any, bound string, boundArgs []any) {
	g := f
	g.Query = ""
	from, key, where, args := "order_search", "rowid", []string(nil), []any(nil)
	if filtersOrderColumns(g) {
		from, key, where, args = db.listWhere(g, searchIndex, false)
	} else {
		where, args = dateBounds(g, key, where, args)
	}
	if f.After != nil {
		where, args = append(where, key+" < ?"), append(args, sortKey(f.After.CreatedAt, f.After.ID))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	if from == "order_search" {
		probe = `SELECT ` + orderListColumns + ` FROM (SELECT rowid, doc FROM order_search` + cond +
			` ORDER BY rowid DESC LIMIT ?) w JOIN orders o ON o.sort_key = w.rowid
			WHERE w.doc LIKE ? ESCAPE '\' ORDER BY w.rowid DESC LIMIT ?`
	} else {
		probe = `SELECT w.id, w.name, w.email, w.customer_name, w.currency, w.total, w.financial_status,
			w.fulfillment_status, w.cancelled_at, w.cancel_reason, w.item_count, w.created_at
			FROM (SELECT ` + orderListColumns + `, o.sort_key FROM ` + from + cond + ` ORDER BY ` + key + ` DESC LIMIT ?) w
			JOIN order_search s ON s.rowid = w.sort_key WHERE s.doc LIKE ? ESCAPE '\' ORDER BY w.sort_key DESC LIMIT ?`
	}
	probeArgs = append(append(append([]any{}, args...), window), likeTerm(f.Query), pageLimit(f)+1)
	bound = `SELECT ` + key + ` FROM ` + from + cond + ` ORDER BY ` + key + ` DESC OFFSET ? LIMIT 1`
	boundArgs = append(append([]any{}, args...), window-1)
	return db.bind(probe), probeArgs, db.bind(bound), boundArgs
}

// pageLimit is the page size f asks for, within bounds.
func pageLimit(f canceldesk.OrderFilter) int {
	if f.Limit <= 0 || f.Limit > 500 {
		return canceldesk.PageSize
	}
	return f.Limit
}

// probeSearch reads the page of a substring search on PostgreSQL: first
// among the probeRows newest orders, walked in sort order, then, when the
// matches found predict the page fills within a few windows more, one
// walk that long; what is still missing then comes through the trigram
// index, below the orders walked.
func (db *DB) probeSearch(ctx context.Context, tx *sql.Tx, f canceldesk.OrderFilter, scan func(*sql.Rows) error, page *canceldesk.OrderPage) (int, error) {
	limit := pageLimit(f)
	g := f
	window, walked := probeRows, 0
	for round := 0; ; round++ {
		g.Limit = max(limit-len(page.Orders), 1)
		probe, probeArgs, bound, boundArgs := db.probeQuery(g, window)
		if err := eachRow(ctx, tx, probe, probeArgs, scan); err != nil {
			return limit, err
		}
		if len(page.Orders) > limit {
			return limit, nil
		}
		var last int64
		switch err := tx.QueryRowContext(ctx, bound, boundArgs...).Scan(&last); err {
		case nil:
		case sql.ErrNoRows:
			return limit, nil // the walk read every order the filters pass
		default:
			return limit, err
		}
		g.After, walked = cursorOfKey(last), walked+window
		found, need := len(page.Orders), limit+1-len(page.Orders)
		if round == 1 || found == 0 || need*walked/found > 4*probeRows {
			break
		}
		window = 2*need*walked/found + 100
	}
	// The rest through the trigram index: a walk in sort order is what
	// the probe just found too slow, for the rest of this read-only
	// transaction.
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off`); err != nil {
		return limit, err
	}
	g.Limit = max(limit-len(page.Orders), 1)
	q, args, _ := db.listQuery(g, searchIndex)
	return limit, eachRow(ctx, tx, q, args, scan)
}

// cursorOfKey is the cursor whose sort key is key: the list goes on below it.
func cursorOfKey(key int64) *canceldesk.Cursor {
	return &canceldesk.Cursor{CreatedAt: time.Unix(key>>sortKeyIDBits, 0).UTC(), ID: key & (1<<sortKeyIDBits - 1)}
}
