// Command canceldesk-bench seeds a large store with demo orders and measures
// the latency of what the dashboard does most — the order list, search and
// the order page — each beside its floor: the same SQL run bare through
// database/sql, so the table shows what the store's own code costs on top
// of the database. It also measures an empty Fiber handler over loopback
// HTTP, the floor of any page, and the pages themselves.
//
// Last, because they change the data, it cancels orders: DB.CancelOrder
// (refund, restock, events, outbox) beside a bare guarded UPDATE, the
// cancel dialog's POST beside DB.CancelOrder, the rate of cancels from 8
// concurrent clients, and a race of 100 cancels of one order (exactly one
// must win; the run fails otherwise). Each cancel takes a different open
// order, so with -keep a re-run picks orders not cancelled yet.
//
//	go run ./cmd/canceldesk-bench -orders 1000000 -db sqlite
//	go run ./cmd/canceldesk-bench -orders 1000000 -db sqlite -keep /var/tmp/bench.db
//	go run ./cmd/canceldesk-bench -orders 200000 -db postgres -dsn postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//
// The report (a markdown table) goes to stdout, progress to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

type config struct {
	orders int
	dbKind string
	dsn    string
	keep   string
	iters  int
	warmup int
	seed   int64
	loader string
	// cpuProfile, when set, is where the CPU profile of the measurements
	// (not the seeding) goes, for go tool pprof.
	cpuProfile string
	// cancelsOnly skips every measurement but the cancels.
	cancelsOnly       bool
	concurrentCancels int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "canceldesk-bench:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("canceldesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.orders, "orders", 1_000_000, "how many orders to seed")
	fs.StringVar(&cfg.dbKind, "db", "sqlite", "database: sqlite or postgres")
	fs.StringVar(&cfg.dsn, "dsn", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"PostgreSQL URL (with -db postgres); the benchmark drops and recreates the schema \"bench\" in it")
	fs.StringVar(&cfg.keep, "keep", "",
		"sqlite: a database file to keep and reuse (seeded only when it does not hold -orders orders yet); "+
			"postgres: any value keeps the schema \"bench\" when it already holds -orders orders")
	fs.IntVar(&cfg.iters, "n", 200, "measured iterations of each measurement")
	fs.IntVar(&cfg.warmup, "warmup", 20, "warm-up iterations before each measurement")
	fs.Int64Var(&cfg.seed, "seed", 1, "seed of the generated orders")
	fs.StringVar(&cfg.loader, "loader", "auto",
		"how to seed: bulk (store.DB.BulkLoad, large transactions), import (ImportOrders in batches of 500, as demo.Seed does) or auto (bulk when the store has it)")
	fs.IntVar(&cfg.concurrentCancels, "cancels", 2000, "how many cancels the 8 concurrent clients make, each on its own order")
	fs.BoolVar(&cfg.cancelsOnly, "cancels-only", false, "measure only the cancels (a profile of -cpuprofile then holds nothing else)")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write the CPU profile of the measurements (not the seeding) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case cfg.orders < 1:
		return errors.New("-orders must be at least 1")
	case cfg.iters < 1 || cfg.warmup < 0:
		return errors.New("-n must be at least 1 and -warmup at least 0")
	case cfg.concurrentCancels < 8:
		return errors.New("-cancels must be at least 8")
	case cfg.dbKind != "sqlite" && cfg.dbKind != "postgres":
		return fmt.Errorf("-db %q: want sqlite or postgres", cfg.dbKind)
	case cfg.loader != "bulk" && cfg.loader != "import" && cfg.loader != "auto":
		return fmt.Errorf("-loader %q: want bulk, import or auto", cfg.loader)
	}

	b, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if _, ok := any(b.db).(bulkLoader); !ok && cfg.loader == "bulk" {
		b.close()
		return errors.New("-loader bulk: this store has no BulkLoad")
	} else if cfg.loader == "auto" {
		b.cfg.loader = map[bool]string{true: "bulk", false: "import"}[ok]
	}
	defer b.close()
	if err := b.seed(ctx); err != nil {
		return err
	}
	if err := b.prepare(ctx); err != nil {
		return err
	}
	b.loadBefore = loadAverage()
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	rows, err := b.measureAll(ctx)
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	b.loadAfter = loadAverage()
	b.report(stdout, rows)
	return b.cancels.failure
}

// row is one line of the report.
type row struct {
	name  string
	got   stats
	floor *stats // nil when the measurement is its own floor
	note  string
}

func (b *bench) report(w io.Writer, rows []row) {
	fmt.Fprintf(w, "## Cancel Desk benchmark\n\n")
	fmt.Fprintf(w, "- database: %s", b.describeDB())
	fmt.Fprintf(w, "\n- orders: %s (%s line items, %s events)\n", thousands(b.count), thousands(b.lineItems), thousands(b.events))
	fmt.Fprintf(w, "- seeding: %s\n", b.seedNote)
	fmt.Fprintf(w, "- Go: %s %s/%s, CPUs: %d (GOMAXPROCS %d)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if b.loadBefore != "" {
		fmt.Fprintf(w, "- load average (1, 5, 15 min) before measuring: %s; after: %s — other work on the machine skews the figures\n", b.loadBefore, b.loadAfter)
	}
	fmt.Fprintf(w, "- each measurement: %d iterations after %d warm-up, one client, sequential; search terms and order ids vary per iteration\n\n", b.cfg.iters, b.cfg.warmup)
	b.reportGoals(w, rows)
	fmt.Fprintln(w, "| measurement | p50 ms | p95 ms | p99 ms | floor p95 ms | floor p99 ms | ratio (p95) |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		floor95, floor99, ratio := "—", "—", "—"
		if r.floor != nil {
			floor95, floor99 = ms(r.floor.p95), ms(r.floor.p99)
			if r.floor.p95 > 0 {
				ratio = fmt.Sprintf("%.2f×", float64(r.got.p95)/float64(r.floor.p95))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.name, ms(r.got.p50), ms(r.got.p95), ms(r.got.p99), floor95, floor99, ratio)
	}
	fmt.Fprintln(w)
	for _, l := range b.cancels.lines {
		fmt.Fprintf(w, "- %s\n", l)
	}
	fmt.Fprintf(w, "- %s\n\n", b.modifiedNote())
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(w, "- *%s*: %s\n", r.name, r.note)
		}
	}
	if len(b.diagnostics) > 0 {
		fmt.Fprintf(w, "\n### Diagnostics\n\n")
		for _, d := range b.diagnostics {
			fmt.Fprintf(w, "- %s\n", d)
		}
	}
}

// loadAverage is the machine's load average from /proc/loadavg, or "" where
// there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var out strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out.WriteByte(',')
		}
		out.WriteRune(c)
	}
	return out.String()
}
