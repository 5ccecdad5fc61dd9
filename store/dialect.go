package store

import (
	"strconv"
	"strings"
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
// whose search document contains query as a plain substring, ignoring case.
// Quotes, %, _ and backslashes in query have no special meaning.
func (db *DB) searchCondition(query string) (string, []any) {
	if len([]rune(query)) < minSearchLen {
		name := query
		if !strings.HasPrefix(name, "#") {
			name = "#" + name
		}
		return "(o.name = ? OR o.name = ?)", []any{query, name}
	}
	if db.dialect == postgres {
		return `o.search_doc LIKE ? ESCAPE '\'`, []any{"%" + escapeLike(strings.ToLower(query)) + "%"}
	}
	// FTS5: a double-quoted string is a phrase; inside it "" is a quote.
	phrase := `"` + strings.ReplaceAll(query, `"`, `""`) + `"`
	return "o.id IN (SELECT rowid FROM order_search WHERE order_search MATCH ?)", []any{phrase}
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// searchDoc is the text the search index holds for an order.
func searchDoc(name, email, customer string, lines []string) string {
	parts := append([]string{name, strings.TrimPrefix(name, "#"), email, customer}, lines...)
	return strings.ToLower(strings.Join(parts, "\n"))
}
