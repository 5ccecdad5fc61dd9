package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
)

// stmt is one statement with its arguments, in ? placeholders.
type stmt struct {
	q    string
	args []any
}

// maxStmtParams is how many parameters insertRows and execShared put in
// one statement, under the limits of SQLite (32,766) and PostgreSQL
// (65,535).
const maxStmtParams = 30000

// execShared runs the upserts of the rows many writers share (stock on
// hand, the analytics rollups), in the order given, as a write's last
// step: on PostgreSQL each of those rows stays locked from its upsert to
// the commit, and every other writer of it waits that long. There they go
// as the data-modifying CTEs of one statement (more only past
// maxStmtParams), one round trip where each was one, so a row is held
// for that statement and the commit. The statement reads each CTE in turn
// (they would otherwise run in an order of PostgreSQL's choosing), so the
// rows are locked in the order given, as if run one by one, and writers
// that lock them in one order never deadlock. SQLite, in process and with
// one writer, runs them one by one.
func (db *DB) execShared(ctx context.Context, tx *sql.Tx, stmts []stmt) error {
	if db.dialect != postgres {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, db.bind(s.q), s.args...); err != nil {
				return err
			}
		}
		return nil
	}
	for len(stmts) > 0 {
		n, params := 0, 0
		for n < len(stmts) && (n == 0 || params+len(stmts[n].args) <= maxStmtParams) {
			params += len(stmts[n].args)
			n++
		}
		var with, sum strings.Builder
		args := make([]any, 0, params)
		for i, s := range stmts[:n] {
			name := "s" + strconv.Itoa(i)
			sep := ", "
			if i == 0 {
				sep = "WITH "
			} else {
				sum.WriteString(" + ")
			}
			with.WriteString(sep + name + " AS (" + s.q + " RETURNING 1)")
			sum.WriteString("(SELECT count(*) FROM " + name + ")")
			args = append(args, s.args...)
		}
		if _, err := tx.ExecContext(ctx, db.bind(with.String()+" SELECT "+sum.String()), args...); err != nil {
			return err
		}
		stmts = stmts[n:]
	}
	return nil
}

// insertRows inserts rows with insert (an INSERT INTO with its column
// list) in as few statements as the rows' parameters allow, and returns
// their new ids in the order of rows: ids grow in the order rows go in,
// whatever order RETURNING gives them back in.
func (db *DB) insertRows(ctx context.Context, tx *sql.Tx, insert string, rows [][]any) ([]int64, error) {
	ids := make([]int64, 0, len(rows))
	for start := 0; start < len(rows); {
		var (
			q    strings.Builder
			args []any
		)
		q.WriteString(insert + " VALUES ")
		n := 0
		for ; start < len(rows) && (n == 0 || len(args)+len(rows[start]) <= maxStmtParams); start, n = start+1, n+1 {
			if n > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(len(rows[start])) + ")")
			args = append(args, rows[start]...)
		}
		q.WriteString(" RETURNING id")
		first := len(ids)
		err := eachRow(ctx, tx, db.bind(q.String()), args, func(r *sql.Rows) error {
			var id int64
			err := r.Scan(&id)
			ids = append(ids, id)
			return err
		})
		if err != nil {
			return ids, err
		}
		slices.Sort(ids[first:])
	}
	return ids, nil
}
