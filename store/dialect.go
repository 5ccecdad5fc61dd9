package store

import (
	"strconv"
	"strings"
	"time"
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
// and whether the FTS table s must be joined (SQLite). Quotes, %, _ and
// backslashes in query have no special meaning.
func (db *DB) searchCondition(query string) (cond string, args []any, fts bool) {
	if len([]rune(query)) < minSearchLen {
		name := query
		if !strings.HasPrefix(name, "#") {
			name = "#" + name
		}
		return "(o.name = ? OR o.name = ?)", []any{query, name}, false
	}
	if db.dialect == postgres {
		return `o.search_doc LIKE ? ESCAPE '\'`, []any{"%" + escapeLike(strings.ToLower(query)) + "%"}, false
	}
	// FTS5: a double-quoted string is a phrase; inside it "" is a quote.
	phrase := `"` + strings.ReplaceAll(query, `"`, `""`) + `"`
	return "order_search MATCH ?", []any{phrase}, true
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
