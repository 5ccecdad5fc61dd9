package store

import (
	"database/sql/driver"
	"strconv"
	"strings"
	"time"

	sqlitedriver "modernc.org/sqlite"
)

type dialect string

const (
	sqlite   dialect = "sqlite"
	postgres dialect = "postgres"
)

// bind rewrites ? placeholders to $1, $2, ... for PostgreSQL. Queries in this
// package never contain a literal question mark.
func (db *DB) bind(q string) string {
	if db.dialect != postgres {
		return q
	}
	return Rebind(q)
}

// Rebind turns the ? placeholders of q into PostgreSQL's $1, $2, …: for
// the tools and tests that run the store's SQL on a raw connection.
func Rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// minSearchLen is the shortest query the trigram indexes can answer; shorter
// ones match an order number exactly instead.
const minSearchLen = 3

// searchCondition returns the SQL condition and argument that match orders
// whose search document contains query as a plain substring, ignoring case,
// and whether the table order_search must be joined. Quotes, %, _ and
// backslashes in query have no special meaning. counting asks for the
// condition of a count (see disjointTrigrams).
func (db *DB) searchCondition(query string, counting bool) (cond string, args []any, fts bool) {
	if len([]rune(query)) < minSearchLen {
		name := query
		if !strings.HasPrefix(name, "#") {
			name = "#" + name
		}
		return "(o.name = ? OR o.name = ?)", []any{query, name}, false
	}
	if db.dialect == postgres {
		return `order_search.doc LIKE ? ESCAPE '\'`, []any{likeTerm(query)}, true
	}
	if match, term, ok := disjointTrigrams(query); ok && !counting {
		return "order_search MATCH ? AND " + docHasCondition, []any{match, term, term}, true
	}
	return "order_search MATCH ?", []any{ftsString(query)}, true
}

// likeTerm is the LIKE pattern of a substring search for query in the
// lower-cased search document.
func likeTerm(query string) string { return "%" + escapeLike(strings.ToLower(query)) + "%" }

// ftsString quotes s for an FTS5 query: a double-quoted string is a
// phrase (of trigrams, with this tokenizer); inside it "" is a quote.
func ftsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// A long term as one FTS5 phrase makes SQLite read, with their positions,
// the entries of each of its trigrams: fourteen for an email's
// "laura.williams14", some in half the orders, 15 to 30 ms on a million.
// The trigrams that tile the term without overlapping, ANDed, narrow it to
// the same few orders reading a third of the entries and no positions
// (2 ms); docHasCondition then keeps the orders that hold the term itself,
// in the fields the search document is made of (see searchDoc). A count
// (counting, only of terms common enough to fill a page) keeps the
// phrase: it reads the index alone, no order.

// disjointTrigrams is the FTS5 query ANDing the trigrams that tile query,
// lower-cased as the search document is, with that lower-cased term; ok
// is false for a term of under six characters, which the phrase answers
// as fast. (Fewer trigrams, chosen as likely rare, read less for most
// terms but let through so many orders for some that their p99 went from
// 21 to 86 ms: the tiling covers every character.)
func disjointTrigrams(query string) (match, term string, ok bool) {
	term = strings.ToLower(query)
	r := []rune(term)
	if len(r) < 6 {
		return "", "", false
	}
	var parts []string
	for i := 0; i+3 <= len(r); i += 3 {
		parts = append(parts, ftsString(string(r[i:i+3])))
	}
	if len(r)%3 != 0 {
		parts = append(parts, ftsString(string(r[len(r)-3:])))
	}
	return strings.Join(parts, " AND "), term, true
}

// docHasCondition keeps the orders whose search document holds the term
// (its two arguments): its own fields, then its lines' names and SKUs.
const docHasCondition = `(cd_has(?, o.name, o.email, o.customer_name) OR
	EXISTS (SELECT 1 FROM line_items l WHERE l.order_id = o.id AND cd_has(?, l.name, l.sku)))`

// cdHas is the SQL function cd_has(term, field...): 1 when a field,
// lower-cased as searchDoc does, contains term, else 0.
func cdHas(_ *sqlitedriver.FunctionContext, args []driver.Value) (driver.Value, error) {
	term, _ := args[0].(string)
	for _, a := range args[1:] {
		var f string
		switch v := a.(type) {
		case string:
			f = v
		case []byte:
			f = string(v)
		}
		if strings.Contains(strings.ToLower(f), term) {
			return int64(1), nil
		}
	}
	return int64(0), nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// sortKeyIDBits is how many low bits of a sort key hold the order id.
const sortKeyIDBits = 29

// sortKey orders the list newest first: the second the order was placed,
// then its id. Seconds fit 34 bits until the year 2514; two orders of the
// same second collide only if their ids differ by a multiple of 2^29.
func sortKey(created time.Time, id int64) int64 {
	return created.Unix()<<sortKeyIDBits | id&(1<<sortKeyIDBits-1)
}

// searchDoc is the text the search index holds for an order.
func searchDoc(name, email, customer string, lines []string) string {
	parts := append([]string{name, strings.TrimPrefix(name, "#"), email, customer}, lines...)
	return strings.ToLower(strings.Join(parts, "\n"))
}
