package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	sqlitedriver "modernc.org/sqlite"
)

// SQLite parses every statement it is given. database/sql prepares a
// query string afresh on each call, so a cancel's twenty statements spent
// about 40% of its time in SQLite's parser. cachingConnector keeps each
// connection's prepared statements by their text and runs a query again
// through its statement (modernc.org/sqlite resets a reused statement when
// its rows close). PostgreSQL needs none of this: pgx caches its own.

// maxCachedStmts bounds a connection's statements. The queries are built
// from a fixed set of parts, so the hot ones number a few dozen; a
// connection that reaches the bound starts over.
const maxCachedStmts = 256

// maxCachedQueryLen leaves long scripts (migrations) uncached.
const maxCachedQueryLen = 4096

// openSQLite opens a database/sql pool over modernc.org/sqlite whose
// connections keep their prepared statements.
func openSQLite(dsn string) *sql.DB {
	return sql.OpenDB(cachingConnector{dsn: dsn})
}

type cachingConnector struct{ dsn string }

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn)
}

func (cachingConnector) Driver() driver.Driver { return sqliteDriver }

// sqliteDriver opens the store's SQLite connections, with the store's own
// SQL function cd_has (see docHasCondition).
var sqliteDriver = func() *sqlitedriver.Driver {
	d := &sqlitedriver.Driver{}
	d.MustRegisterDeterministicScalarFunction("cd_has", -1, cdHas)
	return d
}()

// sqliteConn is what modernc.org/sqlite's connection offers and
// database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

func newCachingConn(c driver.Conn) (*cachingConn, error) {
	sc, ok := c.(sqliteConn)
	if !ok {
		c.Close()
		return nil, errors.New("store: the SQLite driver's connection lacks a context interface")
	}
	return &cachingConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

// cachingConn is one SQLite connection with its statements. database/sql
// uses a connection from one goroutine at a time, so no lock is needed.
type cachingConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy    bool // its rows are open: a nested use of the same text prepares anew
	dropped bool // forgotten while busy: closed when its rows close
}

// stmt is the connection's statement for query, prepared on first use;
// nil when query is not cached or its statement is in use.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if st := c.stmts[query]; st != nil {
		if st.busy {
			return nil, nil
		}
		return st, nil
	}
	if len(query) > maxCachedQueryLen {
		return nil, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		c.forget()
	}
	ds, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s, ok := ds.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		ds.Close()
		return nil, nil
	}
	st := &cachedStmt{stmt: s}
	c.stmts[query] = st
	return st, nil
}

// forget closes the statements not in use and drops them all.
func (c *cachingConn) forget() {
	for q, st := range c.stmts {
		if st.busy {
			st.dropped = true
		} else {
			st.stmt.Close()
		}
		delete(c.stmts, q)
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return st.stmt.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := st.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	st.busy = true
	return &cachedRows{Rows: rows, st: st}, nil
}

func (c *cachingConn) Close() error {
	c.forget()
	return c.sqliteConn.Close()
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	driver.Rows
	st *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.st.busy = false
	if r.st.dropped {
		err = errors.Join(err, r.st.stmt.Close())
	}
	return err
}

// OpenSQLiteReader opens a pool on the SQLite file at path as the store's
// read pool is opened (its settings, SQL functions and kept statements):
// the benchmark measures bare queries through it.
func OpenSQLiteReader(path string) *sql.DB { return openSQLite(sqliteDSN(path, false)) }
