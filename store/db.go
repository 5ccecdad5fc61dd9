// Package store keeps Cancel Desk's system of record in SQL: SQLite
// (modernc.org/sqlite, the embedded default) or PostgreSQL (pgx). One code
// path serves both; the few differences (placeholders, search index,
// locking) are isolated in dialect.go. Every exported method is one
// transaction built from unexported helpers that take the tx.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/canceldesk/canceldesk"
)

//go:embed migrations
var migrations embed.FS

// DB is the store. Reads go to read; writes to write, which on SQLite is a
// single connection taking the write lock at BEGIN (so writers queue instead
// of failing with SQLITE_BUSY on upgrade). On PostgreSQL both are one pool.
type DB struct {
	read, write *sql.DB
	dialect     dialect
	// Now is the clock; tests replace it.
	Now func() time.Time
	// zone is the time zone of the daily analytics rollups (nil: UTC);
	// see SetStatsZone.
	zone atomic.Pointer[time.Location]
	// onCommit is the after-commit hook (see OnCommit).
	onCommit atomic.Pointer[func(context.Context, canceldesk.Changes)]
	// writers queues SQLite's write transactions first come, first
	// served: database/sql hands its one write connection to a random
	// waiter, so under eight concurrent cancels one waited 70 ms while the
	// mean wait was 10. A channel's blocked senders go in arrival order.
	// nil on PostgreSQL.
	writers chan struct{}
	// stopCheckpoints ends SQLite's background checkpoints (nil on
	// PostgreSQL).
	stopCheckpoints func()
}

// Open connects to dsn and applies pending migrations. A dsn starting with
// postgres:// or postgresql:// selects PostgreSQL; anything else is a SQLite
// file path (optionally prefixed with sqlite: or file:).
func Open(ctx context.Context, dsn string) (*DB, error) {
	db := &DB{Now: func() time.Time { return time.Now().UTC() }}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.dialect = postgres
		if db.read, err = sql.Open("pgx", dsn); err != nil {
			return nil, err
		}
		db.read.SetMaxOpenConns(20)
		db.read.SetMaxIdleConns(20)
		db.read.SetConnMaxIdleTime(5 * time.Minute)
		db.write = db.read
	} else {
		db.dialect = sqlite
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if path, _, _ = strings.Cut(path, "?"); path == "" {
			return nil, errors.New("store: empty SQLite path")
		}
		db.read = openSQLite(sqliteDSN(path, false))
		db.read.SetMaxOpenConns(8)
		db.read.SetMaxIdleConns(8)
		db.write = openSQLite(sqliteDSN(path, true))
		db.write.SetMaxOpenConns(1)
		db.writers = make(chan struct{}, 1)
		db.stopCheckpoints = db.checkpoints()
	}
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.loadStatsZone(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: analytics zone: %w", err)
	}
	return db, nil
}

func sqliteDSN(path string, writer bool) string {
	v := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)",
		"wal_autocheckpoint(" + strconv.Itoa(walBackstopPages) + ")"} {
		v.Add("_pragma", p)
	}
	if writer {
		v.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + v.Encode()
}

// Close releases the connections.
func (db *DB) Close() error {
	if db.stopCheckpoints != nil {
		db.stopCheckpoints()
	}
	err := db.read.Close()
	if db.write != db.read {
		err = errors.Join(err, db.write.Close())
	}
	return err
}

// Dialect names the database in use: "sqlite" or "postgres".
func (db *DB) Dialect() string { return string(db.dialect) }

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// migrate applies the embedded migrations of the dialect in order, each in
// its own transaction, and records them in schema_migrations. On PostgreSQL
// an advisory lock keeps concurrently starting instances from racing.
func (db *DB) migrate(ctx context.Context) error {
	dir := "migrations/" + string(db.dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	// Under the lock too: concurrent CREATE TABLE IF NOT EXISTS on
	// PostgreSQL can fail with a unique violation in pg_type.
	err = db.tx(ctx, func(tx *Tx) error {
		if db.dialect == postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7243001)`); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for _, e := range entries {
		version, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %s: name must start with a number", e.Name())
		}
		body, err := migrations.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return err
		}
		err = db.tx(ctx, func(tx *Tx) error {
			if db.dialect == postgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7243001)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, db.bind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, db.bind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), version, e.Name(), db.Now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
	}
	return nil
}

// micros converts a time for storage; nil stays NULL.
func micros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros converts a stored time back to UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromNullMicros(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}
