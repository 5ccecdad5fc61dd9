package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/seedstore"
	"github.com/canceldesk/canceldesk/store"
)

// bench is the seeded database and what the measurements draw from.
type bench struct {
	cfg    config
	stderr io.Writer
	db     *store.DB
	// raw is a plain database/sql pool on the same database, for floors.
	raw     *sql.DB
	sqlite  bool
	path    string // the SQLite file
	tempDir string // removed on close
	dsn     string // the PostgreSQL URL with search_path=bench,public

	count, lineItems, events int64
	seedNote                 string
	loadBefore, loadAfter    string

	rng         *rand.Rand
	ids         []int64 // orders the detail measurement opens
	emails      []string
	surnames    []string
	skus        []string
	diagnostics []string
	cancels     cancelState
}

const benchSchema = "bench"

func open(ctx context.Context, cfg config, stderr io.Writer) (*bench, error) {
	b := &bench{cfg: cfg, stderr: stderr, sqlite: cfg.dbKind == "sqlite", rng: rand.New(rand.NewPCG(uint64(cfg.seed), 99))}
	var err error
	if b.sqlite {
		b.path = cfg.keep
		if b.path == "" {
			if b.tempDir, err = os.MkdirTemp("", "canceldesk-bench-"); err != nil {
				return nil, err
			}
			b.path = filepath.Join(b.tempDir, "bench.db")
		}
		if b.db, err = store.Open(ctx, b.path); err != nil {
			b.close()
			return nil, err
		}
		// The same connection settings as the store's read pool.
		b.raw = store.OpenSQLiteReader(b.path)
		b.raw.SetMaxOpenConns(8)
		b.raw.SetMaxIdleConns(8)
		return b, nil
	}

	if b.dsn, err = b.preparePostgres(ctx); err != nil {
		return nil, err
	}
	if b.db, err = store.Open(ctx, b.dsn); err != nil {
		return nil, err
	}
	if b.raw, err = sql.Open("pgx", b.dsn); err != nil {
		b.close()
		return nil, err
	}
	b.raw.SetMaxOpenConns(20)
	b.raw.SetMaxIdleConns(20)
	return b, nil
}

// preparePostgres drops and recreates the bench schema unless -keep asks
// to reuse a complete one, and returns the URL that uses it.
func (b *bench) preparePostgres(ctx context.Context) (string, error) {
	dsn, err := seedstore.PreparePostgres(ctx, b.cfg.dsn, benchSchema, b.cfg.keep != "", b.cfg.orders)
	if err != nil {
		return "", fmt.Errorf("-dsn: %w", err)
	}
	return dsn, nil
}

func (b *bench) close() {
	if b.raw != nil {
		b.raw.Close()
	}
	if b.db != nil {
		b.db.Close()
	}
	if b.tempDir != "" {
		os.RemoveAll(b.tempDir)
	}
}

func (b *bench) describeDB() string {
	if !b.sqlite {
		u, _ := url.Parse(b.dsn)
		return fmt.Sprintf("postgres (pgx via database/sql), schema %s at %s", benchSchema, u.Redacted())
	}
	var size int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(b.path + suffix); err == nil {
			size += fi.Size()
		}
	}
	return fmt.Sprintf("sqlite (modernc.org/sqlite, WAL), %.2f GB on disk", float64(size)/1e9)
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.stderr, "canceldesk-bench: "+format+"\n", args...)
}

// seed loads cfg.orders demo orders unless the database holds them already.
func (b *bench) seed(ctx context.Context) error {
	note, err := seedstore.Seed(ctx, b.db, b.raw, seedstore.Options{Orders: b.cfg.orders, Seed: b.cfg.seed,
		Bulk: b.cfg.loader == "bulk", Progress: b.progress})
	b.seedNote = note
	return err
}

// bulkLoader is store.DB's fast path for loading many new orders, when the
// store has one (store/bulk.go).
type bulkLoader interface {
	BulkLoad(ctx context.Context, orders []*canceldesk.Order) error
}

// prepare counts what was loaded and draws the ids and search terms the
// measurements use: real values of random orders.
func (b *bench) prepare(ctx context.Context) error {
	for _, c := range []struct {
		dst *int64
		q   string
	}{{&b.count, `SELECT count(*) FROM orders`}, {&b.lineItems, `SELECT count(*) FROM line_items`}, {&b.events, `SELECT count(*) FROM events`}} {
		if err := b.raw.QueryRowContext(ctx, c.q).Scan(c.dst); err != nil {
			return err
		}
	}
	var lo, hi int64
	if err := b.raw.QueryRowContext(ctx, `SELECT min(id), max(id) FROM orders`).Scan(&lo, &hi); err != nil {
		return err
	}
	draw := func() int64 { return lo + b.rng.Int64N(hi-lo+1) }
	if hi-lo+1 != b.count {
		return fmt.Errorf("order ids %d..%d are not contiguous for %d orders", lo, hi, b.count)
	}
	terms := b.cfg.iters + b.cfg.warmup
	for len(b.ids) < terms {
		b.ids = append(b.ids, draw())
	}
	for tries := 0; len(b.emails) < terms || len(b.surnames) < terms || len(b.skus) < terms; tries++ {
		if tries > 100*terms {
			return errors.New("could not draw search terms from the data")
		}
		var email, customer string
		id := draw()
		if err := b.raw.QueryRowContext(ctx, b.bind(`SELECT email, customer_name FROM orders WHERE id = ?`), id).Scan(&email, &customer); err != nil {
			return err
		}
		if local, _, ok := strings.Cut(email, "@"); ok && len([]rune(local)) >= 3 && len(b.emails) < terms {
			b.emails = append(b.emails, local)
		}
		if s := surname(customer); s != "" && len(b.surnames) < terms {
			b.surnames = append(b.surnames, s)
		}
		if len(b.skus) < terms {
			var sku string
			if err := b.raw.QueryRowContext(ctx, b.bind(`SELECT sku FROM line_items WHERE order_id = ? ORDER BY position LIMIT 1`), id).Scan(&sku); err != nil {
				return err
			}
			b.skus = append(b.skus, sku)
		}
	}
	return nil
}

// surname is what a person types to find a customer: the last word of a
// Latin name, or the whole name when that is shorter than the three
// characters search needs (a Han name such as 陳怡君, or "Wu").
func surname(name string) string {
	name = strings.TrimSpace(name)
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	if last := f[len(f)-1]; len([]rune(last)) >= 3 {
		return last
	}
	if len([]rune(name)) >= 3 {
		return name
	}
	return ""
}

// bind rewrites ? placeholders for PostgreSQL, as the store does.
func (b *bench) bind(q string) string {
	if b.sqlite {
		return q
	}
	return store.Rebind(q)
}
