package store

import "github.com/canceldesk/canceldesk"

// ListQuery returns the SQL, in the dialect's placeholders, and the
// arguments that ListOrders runs for f, so tests can EXPLAIN it.
func (db *DB) ListQuery(f canceldesk.OrderFilter) (string, []any) {
	q, args, _ := db.listQuery(f)
	return q, args
}
