// Command canceldesk-load puts the real Cancel Desk server under load and
// prints what it took: a markdown table of requests, errors, throughput and
// p50/p95/p99 latency per route, and the server's peak memory.
//
// It seeds (or reuses) a database with many demo orders, creates a manager
// account for the load, builds `canceldesk serve` from this tree and starts
// it on a free loopback port, signs in -vus virtual users (each with its own
// cookie jar, CSRF token and keep-alive connection) and drives a weighted
// mix of traffic for -duration or -requests, whichever ends first: the
// orders list and its next pages, search by customer surname, email and
// order number, order pages, the analytics chart over 30 and 365 days, and
// cancels through the cancel dialog (refund now, restock, notify) of
// distinct open orders, each checked to have succeeded. While it runs it
// reads the server's /proc/<pid>/status for its resident memory.
//
//	go run ./cmd/canceldesk-load -db sqlite -orders 1000000 -keep /var/tmp/cdb/load.db -duration 30s
//	go run ./cmd/canceldesk-load -db postgres -orders 1000000 -redis redis://127.0.0.1:6379/14 -duration 30s
//	go run ./cmd/canceldesk-load -orders 2000 -duration 3s   # a quick look: a temporary SQLite file
//
// The table goes to stdout, progress to stderr. It exits non-zero when more
// than -max-errors of the requests failed (a status other than 2xx/3xx, a
// redirect to the sign-in page, a cancel that did not succeed, or a
// transport error), so the command has a verdict.
//
// The cancels change the database: with -keep (SQLite) or the kept schema
// (PostgreSQL) a re-run cancels other open orders. Everything listens and
// connects on loopback only; the server is stopped (SIGTERM, then waited
// for) on exit and on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	dbKind    string
	orders    int
	keep      string
	dsn       string
	schema    string
	fresh     bool
	redis     string
	vus       int
	duration  time.Duration
	requests  int
	mix       mix
	maxErrors float64
	bin       string
	seed      int64
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "canceldesk-load:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := config{mix: defaultMix()}
	fs := flag.NewFlagSet("canceldesk-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.dbKind, "db", "sqlite", "database: sqlite or postgres")
	fs.IntVar(&cfg.orders, "orders", 1_000_000, "how many orders the database holds (seeded when it is empty)")
	fs.StringVar(&cfg.keep, "keep", "", "sqlite: a database file to keep and reuse (seeded only when empty); without it a temporary file, removed at exit")
	fs.StringVar(&cfg.dsn, "dsn", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL URL (with -db postgres)")
	fs.StringVar(&cfg.schema, "schema", "load", "PostgreSQL schema of the load test, reused when it holds -orders orders, else dropped and seeded")
	fs.BoolVar(&cfg.fresh, "fresh", false, "postgres: drop and seed the schema even when it holds the orders already")
	fs.StringVar(&cfg.redis, "redis", "", "Redis URL for the server's sessions and order cache, e.g. redis://127.0.0.1:6379/14 (its cached orders are dropped first)")
	fs.IntVar(&cfg.vus, "vus", 8, "concurrent virtual users, each signed in with its own session and connection")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long to drive traffic (0: until -requests)")
	fs.IntVar(&cfg.requests, "requests", 0, "stop after this many requests (0: until -duration)")
	fs.Var(&cfg.mix, "mix", "weights of the operations, "+cfg.mix.String())
	fs.Float64Var(&cfg.maxErrors, "max-errors", 0.01, "fail when more than this fraction of the requests failed")
	fs.StringVar(&cfg.bin, "bin", "", "a canceldesk binary to run instead of building ./cmd/canceldesk from this module")
	fs.Int64Var(&cfg.seed, "seed", 1, "seed of the generated orders and of the traffic's choices")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case cfg.dbKind != "sqlite" && cfg.dbKind != "postgres":
		return fmt.Errorf("-db %q: want sqlite or postgres", cfg.dbKind)
	case cfg.orders < 1:
		return errors.New("-orders must be at least 1")
	case cfg.vus < 1 || cfg.vus > 1000:
		return errors.New("-vus must be between 1 and 1000")
	case cfg.duration < 0 || cfg.requests < 0:
		return errors.New("-duration and -requests must not be negative")
	case cfg.duration == 0 && cfg.requests == 0:
		return errors.New("set -duration or -requests (or both): the run must end")
	case cfg.maxErrors < 0 || cfg.maxErrors > 1:
		return errors.New("-max-errors is a fraction between 0 and 1")
	case cfg.keep != "" && cfg.dbKind != "sqlite":
		return errors.New("-keep is for -db sqlite; PostgreSQL keeps its -schema")
	}
	l := &load{cfg: cfg, stderr: stderr}
	defer l.close()
	if err := l.prepare(ctx); err != nil {
		return err
	}
	if err := l.startServer(ctx); err != nil {
		return err
	}
	res, err := l.drive(ctx)
	if err != nil {
		return fmt.Errorf("%w; the server's log ends:\n%s", err, tail(l.srv.logPath, 10))
	}
	l.stopServer()
	l.report(stdout, res)
	if ctx.Err() != nil {
		return errors.New("interrupted: the table shows the requests made until then")
	}
	return res.verdict(cfg.maxErrors)
}

// load is one run: the database, the server and what the traffic draws from.
type load struct {
	cfg    config
	stderr io.Writer

	dbDesc     string // for the report
	loadBefore string // load average before the traffic
	seedNote   string
	dsn        string // what the server opens: a SQLite path or a postgres URL
	tempDir    string // removed on close
	data       *data
	srv        *server
}

func (l *load) progress(format string, args ...any) {
	fmt.Fprintf(l.stderr, "canceldesk-load: "+format+"\n", args...)
}

func (l *load) close() {
	if l.srv != nil {
		l.stopServer()
	}
	if l.tempDir != "" {
		os.RemoveAll(l.tempDir)
	}
}

// op is one kind of user action in the mix.
type op int

const (
	opList op = iota
	opSearch
	opDetail
	opChart
	opCancel
	numOps
)

var opNames = [numOps]string{"list", "search", "detail", "chart", "cancel"}

// mix is the weight of each operation.
type mix [numOps]int

func defaultMix() mix { return mix{opList: 30, opSearch: 25, opDetail: 30, opChart: 10, opCancel: 5} }

func (m *mix) String() string {
	var parts []string
	for o, w := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", opNames[o], w))
	}
	return strings.Join(parts, ",")
}

// Set reads "list=30,search=25,..."; operations left out weigh 0.
func (m *mix) Set(s string) error {
	var out mix
	for part := range strings.SplitSeq(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.Atoi(val)
		if !ok || err != nil || w < 0 {
			return fmt.Errorf("%q: want name=weight", part)
		}
		found := false
		for o, n := range opNames {
			if n == name {
				out[o], found = w, true
			}
		}
		if !found {
			return fmt.Errorf("unknown operation %q (have %s)", name, strings.Join(opNames[:], ", "))
		}
	}
	if out.total() == 0 {
		return errors.New("all weights are 0")
	}
	*m = out
	return nil
}

func (m mix) total() int {
	n := 0
	for _, w := range m {
		n += w
	}
	return n
}
