package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/seedstore"
	"github.com/canceldesk/canceldesk/store"
)

// The account every virtual user signs in as: a manager, as the analytics
// chart needs one. Each virtual user has a session of its own.
const loadEmail, loadPassword = "load.manager@example.com", "load-password-1234"

// How much of each kind of value the traffic draws from.
const (
	detailPool = 2000 // order pages
	termPool   = 300  // search terms of each kind
)

// data is what the traffic draws from: real values of random orders.
type data struct {
	orders    int64
	detailIDs []int64
	terms     [numSearchKinds][]string
	cancelIDs []int64 // distinct open, paid, unfulfilled orders with SKUs
	location  canceldesk.Location
}

// prepare seeds or reuses the database, makes the load account and draws
// what the traffic uses. Its connections are closed before the server
// starts, so they neither compete with it nor count against it.
func (l *load) prepare(ctx context.Context) error {
	var (
		db  *store.DB
		raw *sql.DB
		err error
	)
	if l.cfg.dbKind == "sqlite" {
		path := l.cfg.keep
		if path == "" {
			if l.tempDir, err = os.MkdirTemp("", "canceldesk-load-"); err != nil {
				return err
			}
			path = filepath.Join(l.tempDir, "load.db")
		} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		l.dsn = path
		l.progress("opening SQLite %s", path)
		if db, err = store.Open(ctx, path); err != nil {
			return err
		}
		v := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)"} {
			v.Add("_pragma", p)
		}
		raw, err = sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	} else {
		// The schema is dropped and recreated: loopback only, never a
		// shared server by mistake.
		if u, err := url.Parse(l.cfg.dsn); err != nil || (u.Hostname() != "" && !isLoopback(u.Hostname())) {
			return fmt.Errorf("-dsn: the load test uses a PostgreSQL on loopback only (it drops and recreates -schema)")
		}
		l.progress("preparing PostgreSQL schema %q", l.cfg.schema)
		if l.dsn, err = seedstore.PreparePostgres(ctx, l.cfg.dsn, l.cfg.schema, !l.cfg.fresh, l.cfg.orders); err != nil {
			return fmt.Errorf("-dsn: %w", err)
		}
		if db, err = store.Open(ctx, l.dsn); err != nil {
			return err
		}
		raw, err = sql.Open("pgx", l.dsn)
	}
	if err != nil {
		db.Close()
		return err
	}
	defer db.Close()
	defer raw.Close()

	if l.seedNote, err = seedstore.Seed(ctx, db, raw, seedstore.Options{Orders: l.cfg.orders, Seed: l.cfg.seed,
		Bulk: true, Progress: l.progress}); err != nil {
		return err
	}
	if err := ensureAccount(ctx, db); err != nil {
		return fmt.Errorf("the load account: %w", err)
	}
	d := &drawer{raw: raw, postgres: l.cfg.dbKind == "postgres", rng: rand.New(rand.NewPCG(uint64(l.cfg.seed), 7))}
	l.data = &data{}
	if l.data.orders, err = db.CountOrders(ctx); err != nil {
		return err
	}
	locs, err := db.Locations(ctx)
	if err != nil {
		return err
	}
	if len(locs) == 0 {
		return errors.New("the store has no stock location to restock to")
	}
	l.data.location = locs[0]
	l.progress("drawing order pages and search terms from the data")
	if err := d.drawPages(ctx, l.data); err != nil {
		return err
	}
	want := l.cancelsWanted()
	l.progress("drawing %d open, paid, unfulfilled orders with SKUs to cancel (restock to %q)", want, l.data.location.Name)
	if l.data.cancelIDs, err = d.drawCancellable(ctx, want); err != nil {
		return err
	}
	if len(l.data.cancelIDs) < want {
		l.progress("only %d cancellable orders left in the database", len(l.data.cancelIDs))
	}
	l.dbDesc = l.describeDB()
	return nil
}

// cancelsWanted is how many distinct orders the cancels may need: the
// mix's share of -requests, or of -duration at a generous 60 cancels a
// second, with a margin. Running out is reported, not an error.
func (l *load) cancelsWanted() int {
	m := l.cfg.mix
	if m[opCancel] == 0 {
		return 0
	}
	share := float64(m[opCancel]) / float64(m.total())
	n := 1 << 30
	if l.cfg.requests > 0 {
		n = int(float64(l.cfg.requests)*share*1.2) + l.cfg.vus
	}
	if l.cfg.duration > 0 {
		n = min(n, int(l.cfg.duration.Seconds()*60*share/0.05)+l.cfg.vus)
	}
	return max(n, l.cfg.vus)
}

// ensureAccount makes the load's manager account, or puts it back as a
// manager with the load's password if it was changed.
func ensureAccount(ctx context.Context, db *store.DB) error {
	hash, err := canceldesk.HashPassword(loadPassword)
	if err != nil {
		return err
	}
	err = db.CreateAccount(ctx, &canceldesk.Account{Name: "Load Test", Email: loadEmail, Role: canceldesk.RoleManager, PasswordHash: hash})
	if canceldesk.ErrorCode(err) != canceldesk.ECONFLICT {
		return err
	}
	a, err := db.AccountByEmail(ctx, loadEmail)
	if err != nil {
		return err
	}
	if a.Role != canceldesk.RoleManager || !a.Active() {
		if _, err := db.UpdateAccount(ctx, a.ID, canceldesk.RoleManager, false); err != nil {
			return err
		}
	}
	if !canceldesk.CheckPassword(a.PasswordHash, loadPassword) {
		return db.SetPassword(ctx, a.ID, hash)
	}
	return nil
}

func (l *load) describeDB() string {
	if l.cfg.dbKind == "postgres" {
		u, _ := url.Parse(l.dsn)
		return fmt.Sprintf("postgres, schema %s at %s", l.cfg.schema, u.Redacted())
	}
	var size int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(l.dsn + suffix); err == nil {
			size += fi.Size()
		}
	}
	where := l.dsn
	if l.cfg.keep == "" {
		where = "a temporary file"
	}
	if size >= 1e9 {
		return fmt.Sprintf("sqlite, %s (%.2f GB)", where, float64(size)/1e9)
	}
	return fmt.Sprintf("sqlite, %s (%.1f MB)", where, float64(size)/1e6)
}

// drawer draws real values from random orders with plain SQL.
type drawer struct {
	raw      *sql.DB
	postgres bool
	rng      *rand.Rand
	lo, hi   int64
}

// bind rewrites ? placeholders for PostgreSQL.
func (d *drawer) bind(q string) string {
	if !d.postgres {
		return q
	}
	return store.Rebind(q)
}

func (d *drawer) randomID() int64 { return d.lo + d.rng.Int64N(d.hi-d.lo+1) }

// drawPages draws existing orders for the order pages and, from other
// random orders, search terms: a surname, the local part of an email and
// an order number.
func (d *drawer) drawPages(ctx context.Context, out *data) error {
	if err := d.raw.QueryRowContext(ctx, `SELECT min(id), max(id) FROM orders`).Scan(&d.lo, &d.hi); err != nil {
		return err
	}
	q := d.bind(`SELECT name, email, customer_name FROM orders WHERE id = ?`)
	for tries := 0; len(out.detailIDs) < detailPool || !termsFull(out); tries++ {
		if tries > 20*detailPool {
			return errors.New("could not draw orders and search terms from the data")
		}
		id := d.randomID()
		var name, email, customer string
		err := d.raw.QueryRowContext(ctx, q, id).Scan(&name, &email, &customer)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return err
		}
		if len(out.detailIDs) < detailPool {
			out.detailIDs = append(out.detailIDs, id)
		}
		add := func(k searchKind, term string) {
			if term != "" && len(out.terms[k]) < termPool {
				out.terms[k] = append(out.terms[k], term)
			}
		}
		add(searchNumber, name)
		add(searchSurname, surname(customer))
		if local, _, ok := strings.Cut(email, "@"); ok && len([]rune(local)) >= 3 {
			add(searchEmail, local)
		}
	}
	return nil
}

func termsFull(d *data) bool {
	for _, t := range d.terms {
		if len(t) < termPool {
			return false
		}
	}
	return true
}

// surname is what a person types to find a customer: the last word of a
// Latin name, or the whole name when that is shorter than the three
// characters search needs (a Han name such as 陳怡君).
func surname(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	if last := f[len(f)-1]; len([]rune(last)) >= 3 {
		return last
	}
	if name = strings.TrimSpace(name); len([]rune(name)) >= 3 {
		return name
	}
	return ""
}

// cancellableSQL lists open (not cancelled), paid, unfulfilled orders with
// an email (a message is owed) and a line with a SKU (something is
// restocked) from an id on: what a cancel with refund and restock acts on.
const cancellableSQL = `SELECT o.id FROM orders o WHERE o.id >= ? AND o.cancelled_at IS NULL
	AND o.financial_status = 'paid' AND o.fulfillment_status = 'unfulfilled' AND o.email <> ''
	AND EXISTS (SELECT 1 FROM line_items l WHERE l.order_id = o.id AND l.sku <> '')
	ORDER BY o.id LIMIT ?`

// drawCancellable draws up to n distinct cancellable orders, a few at a
// time from random places, so they spread over the store; fewer when the
// store has fewer left.
func (d *drawer) drawCancellable(ctx context.Context, n int) ([]int64, error) {
	const run = 8 // consecutive cancellable orders taken from each random place
	q := d.bind(cancellableSQL)
	seen := map[int64]bool{}
	var out []int64
	fetch := func(from int64, limit int) (int, error) {
		rows, err := d.raw.QueryContext(ctx, q, from, limit)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		added := 0
		for rows.Next() && len(out) < n {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return 0, err
			}
			if !seen[id] {
				seen[id], out = true, append(out, id)
				added++
			}
		}
		return added, rows.Err()
	}
	for misses := 0; len(out) < n && misses < 50; {
		added, err := fetch(d.randomID(), run)
		if err != nil {
			return nil, err
		}
		if added == 0 {
			misses++
		}
	}
	if len(out) < n { // a nearly exhausted store: sweep it from the start
		if _, err := fetch(d.lo, n+len(seen)); err != nil {
			return nil, err
		}
	}
	d.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}
