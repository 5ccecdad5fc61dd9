// Package seedstore fills a store with many generated demo orders, fast,
// for the benchmark (cmd/canceldesk-bench) and the load test
// (cmd/canceldesk-load): a PostgreSQL schema of their own, and a seed that
// is skipped when the database already holds the orders, so a large store
// is made once and reused.
package seedstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/canceldesk/canceldesk/internal/demo"
	"github.com/canceldesk/canceldesk/store"
)

// BulkBatch is how many orders go to one store.DB.BulkLoad call.
const BulkBatch = 10_000

// Options say what Seed loads and how.
type Options struct {
	Orders int   // how many orders the database should hold
	Seed   int64 // seed of the generated orders (demo.Orders)
	// Bulk loads with store.DB.BulkLoad (large transactions, many rows
	// per statement); otherwise ImportOrders in batches of
	// demo.BatchSize, as demo.Seed does.
	Bulk bool
	// Progress reports what is happening (printf-style); nil is quiet.
	Progress func(format string, args ...any)
}

// LoaderName describes the loader for a report.
func (o Options) LoaderName() string {
	if o.Bulk {
		return fmt.Sprintf("store.DB.BulkLoad, %s orders per call", Thousands(BulkBatch))
	}
	return fmt.Sprintf("ImportOrders in batches of %d", demo.BatchSize)
}

// SkippedNote is Seed's note when the database already held the orders.
const SkippedNote = "skipped: the database already held the orders"

// Seed loads opt.Orders demo orders (with the demo's products, stock
// locations and stock) into db unless it holds exactly that many already;
// a database holding some other number of orders is an error. raw is a
// plain pool on the same database: after loading, it folds SQLite's WAL
// back into the file, or runs VACUUM ANALYZE on PostgreSQL (the
// statistics autovacuum would gather on a live system). The note says
// what was done and how long it took.
func Seed(ctx context.Context, db *store.DB, raw *sql.DB, opt Options) (note string, err error) {
	progress := opt.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	n, err := db.CountOrders(ctx)
	if err != nil {
		return "", err
	}
	if n == int64(opt.Orders) {
		progress("%s orders already there: not seeding", Thousands(n))
		return SkippedNote, nil
	}
	if n != 0 {
		return "", fmt.Errorf("the database holds %s orders, not 0 or %s: remove it or pick another -keep", Thousands(n), Thousands(int64(opt.Orders)))
	}
	start := time.Now()
	now := start.UTC()
	if err := demo.SeedStock(ctx, db, now); err != nil {
		return "", err
	}
	progress("generating %s orders (seed %d)", Thousands(int64(opt.Orders)), opt.Seed)
	orders := demo.Orders(opt.Orders, now, opt.Seed)
	genTime := time.Since(start)
	progress("generated in %s; loading with %s", genTime.Round(time.Millisecond), map[bool]string{true: "bulk", false: "import"}[opt.Bulk])

	loadStart := time.Now()
	lastReport := loadStart
	batch := demo.BatchSize
	if opt.Bulk {
		batch = BulkBatch
	}
	for i := 0; i < len(orders); i += batch {
		part := orders[i:min(i+batch, len(orders))]
		if opt.Bulk {
			err = db.BulkLoad(ctx, part)
		} else {
			_, err = db.ImportOrders(ctx, part, demo.Actor)
		}
		if err != nil {
			return "", fmt.Errorf("loading orders %s..%s: %w", part[0].Name, part[len(part)-1].Name, err)
		}
		if done := i + len(part); time.Since(lastReport) > 5*time.Second || done == len(orders) {
			lastReport = time.Now()
			el := time.Since(loadStart)
			rate := float64(done) / el.Seconds()
			eta := time.Duration(float64(len(orders)-done)/rate) * time.Second
			progress("loaded %s / %s orders (%.0f orders/s, %s elapsed, eta %s)", Thousands(int64(done)),
				Thousands(int64(len(orders))), rate, el.Round(time.Second), eta.Round(time.Second))
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
	}
	loadTime := time.Since(loadStart)
	orders = nil

	settleStart := time.Now()
	sqlite := db.Dialect() == "sqlite"
	if sqlite {
		_, err = raw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	} else {
		_, err = raw.ExecContext(ctx, `VACUUM ANALYZE`)
	}
	if err != nil {
		return "", fmt.Errorf("settling after the load: %w", err)
	}
	settle := time.Since(settleStart)
	total := time.Since(start)
	note = fmt.Sprintf("%s total: generating %s, loading %s with %s (%.0f orders/s), %s %s",
		total.Round(time.Second), genTime.Round(100*time.Millisecond), loadTime.Round(time.Second), opt.LoaderName(),
		float64(opt.Orders)/loadTime.Seconds(), map[bool]string{true: "WAL checkpoint", false: "VACUUM ANALYZE"}[sqlite],
		settle.Round(100*time.Millisecond))
	progress("seeded: %s", note)
	return note, nil
}

// PreparePostgres makes sure pg_trgm lives in public (so it survives the
// schema being dropped), drops and recreates schema unless keep is set and
// the schema already holds exactly orders orders, and returns dsn with
// search_path set to the schema, then public. The URL works wherever the
// store takes one, `canceldesk serve --db` included.
func PreparePostgres(ctx context.Context, dsn, schema string, keep bool, orders int) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%q is not a postgres:// URL", dsn)
	}
	if !validSchema(schema) {
		return "", fmt.Errorf("schema %q: want lower-case letters, digits and _", schema)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		return "", fmt.Errorf("PostgreSQL at %s: %w", u.Redacted(), err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`); err != nil {
		return "", fmt.Errorf("pg_trgm: %w", err)
	}
	reuse := false
	if keep {
		var n sql.NullInt64
		err := admin.QueryRowContext(ctx, `SELECT count(*) FROM `+schema+`.orders`).Scan(&n)
		reuse = err == nil && n.Int64 == int64(orders)
	}
	if !reuse {
		for _, q := range []string{`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`, `CREATE SCHEMA ` + schema} {
			if _, err := admin.ExecContext(ctx, q); err != nil {
				return "", fmt.Errorf("%s: %w", q, err)
			}
		}
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// validSchema accepts a plain identifier, as it is spliced into SQL.
func validSchema(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Thousands formats n with comma separators: 1,000,000.
func Thousands(n int64) string {
	if n < 0 {
		return "-" + Thousands(-n)
	}
	s := fmt.Sprint(n)
	var out strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out.WriteByte(',')
		}
		out.WriteRune(c)
	}
	return out.String()
}
