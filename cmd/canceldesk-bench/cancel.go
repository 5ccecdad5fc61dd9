package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/canceldesk/canceldesk"
)

// The cancel measurements change the data, so they run last. Each
// iteration cancels a different open order; with -keep a re-run finds the
// orders cancelled before closed and picks others.

// Counts of the cancel measurements besides -n and -warmup.
const (
	concurrentClients = 8
	raceGoroutines    = 100
)

// concurrentResult is the rate and latency of the concurrent cancels.
type concurrentResult struct {
	n    int
	rate float64
	lat  stats
}

// cancelState is what the cancel measurements share and report.
type cancelState struct {
	open     []int64 // cancellable orders not used yet
	location canceldesk.Location
	// Orders cancelled by this run, by how.
	byStore, byHTTP, byFloor int
	lines                    []string // reported under the table
	concurrent               concurrentResult
	failure                  error // the concurrent cancels or the race check failed
}

// cancelEligibleSQL is true for an open (not cancelled), paid, unfulfilled
// order with an email (so a message is owed) and at least one line with a
// SKU (so something is restocked).
const cancelEligibleSQL = `SELECT count(*) FROM orders o WHERE o.id = ? AND o.cancelled_at IS NULL
	AND o.financial_status = 'paid' AND o.fulfillment_status = 'unfulfilled' AND o.email <> ''
	AND EXISTS (SELECT 1 FROM line_items l WHERE l.order_id = o.id AND l.sku <> '')`

// pickCancellable draws n distinct random orders that a cancel with refund
// and restock can act on.
func (b *bench) pickCancellable(ctx context.Context, n int) ([]int64, error) {
	var lo, hi int64
	if err := b.raw.QueryRowContext(ctx, `SELECT min(id), max(id) FROM orders`).Scan(&lo, &hi); err != nil {
		return nil, err
	}
	q := b.bind(cancelEligibleSQL)
	seen := map[int64]bool{}
	var out []int64
	for tries := 0; len(out) < n; tries++ {
		if tries > 200*n {
			return nil, fmt.Errorf("found only %d open, paid, unfulfilled orders with SKUs in %d draws; %d needed", len(out), tries, n)
		}
		id := lo + b.rng.Int64N(hi-lo+1)
		if seen[id] {
			continue
		}
		seen[id] = true
		var ok int
		if err := b.raw.QueryRowContext(ctx, q, id).Scan(&ok); err != nil {
			return nil, err
		}
		if ok == 1 {
			out = append(out, id)
		}
	}
	return out, nil
}

// take hands out n unused cancellable orders.
func (c *cancelState) take(n int) []int64 {
	ids := c.open[:n:n]
	c.open = c.open[n:]
	return ids
}

// newKey is an idempotency key as a dialog would hold: 32 random
// characters.
func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (b *bench) cancelRequest(id int64) canceldesk.CancelRequest {
	return canceldesk.CancelRequest{OrderID: id, Reason: canceldesk.ReasonCustomer, ReasonLabel: "Customer changed their mind",
		Refund: canceldesk.RefundNow, Restock: true, LocationID: b.cancels.location.ID, StaffNote: "canceldesk-bench",
		NotifyCustomer: true, IdempotencyKey: newKey(), Actor: benchEmail, ActorRole: canceldesk.RoleManager}
}

// storeCancel cancels order id through DB.CancelOrder and checks that it
// did what was asked: a new cancellation with a refund and a restock.
func (b *bench) storeCancel(ctx context.Context, id int64) error {
	res, err := b.db.CancelOrder(ctx, b.cancelRequest(id))
	if err != nil {
		return fmt.Errorf("order %d: %w", id, err)
	}
	switch {
	case res.Replayed:
		return fmt.Errorf("order %d: a fresh key replayed", id)
	case res.Refund == nil || res.Plan.RestockUnits() == 0 || !res.Plan.Notify:
		return fmt.Errorf("order %d: refund %v, %d units restocked, notify %v", id, res.Refund != nil, res.Plan.RestockUnits(), res.Plan.Notify)
	}
	return nil
}

// measureCancels runs the cancel measurements. They change the database:
// call them last.
func (b *bench) measureCancels(ctx context.Context) ([]row, error) {
	per := b.cfg.iters + b.cfg.warmup
	need := 4*per + b.cfg.concurrentCancels + 1
	locs, err := b.db.Locations(ctx)
	if err != nil {
		return nil, err
	}
	if len(locs) > 0 {
		b.cancels.location = locs[0]
	} else if b.cancels.location, err = b.db.EnsureLocation(ctx, "Taipei Warehouse"); err != nil {
		return nil, err
	}
	b.progress("drawing %d open, paid, unfulfilled orders with SKUs to cancel (restock to %q)", need, b.cancels.location.Name)
	if b.cancels.open, err = b.pickCancellable(ctx, need); err != nil {
		return nil, err
	}
	var out []row

	// (e) DB.CancelOrder beside the bare guarded UPDATE.
	storeIDs, floorIDs := b.cancels.take(per), b.cancels.take(per)
	bare := b.bind(`UPDATE orders SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL`)
	r, err := b.pair(ctx, "cancel (DB.CancelOrder: refund + restock + events + outbox)",
		"each iteration a different open, paid, unfulfilled order, a fresh idempotency key, refund now, restock to "+
			strconv.Quote(b.cancels.location.Name)+", notify; floor: the bare guarded `UPDATE orders SET cancelled_at = ? "+
			"WHERE id = ? AND cancelled_at IS NULL` on other open orders, through database/sql in a transaction, committed",
		func(ctx context.Context, i int) error {
			err := b.storeCancel(ctx, storeIDs[i])
			if err == nil {
				b.cancels.byStore++
			}
			return err
		},
		func(ctx context.Context, i int) error {
			tx, err := b.raw.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			res, err := tx.ExecContext(ctx, bare, time.Now().UnixMicro(), floorIDs[i])
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n != 1 {
				return fmt.Errorf("order %d: %d rows updated", floorIDs[i], n)
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			b.cancels.byFloor++
			return nil
		})
	if err != nil {
		return nil, err
	}
	out = append(out, r)

	// (f) The POST of the cancel dialog, beside DB.CancelOrder.
	if r, err = b.measureCancelPost(ctx, b.cancels.take(per), b.cancels.take(per)); err != nil {
		return nil, err
	}
	out = append(out, r)

	// (g) Throughput with concurrent clients, then the race on one order.
	if err := b.measureConcurrentCancels(ctx, b.cancels.take(b.cfg.concurrentCancels)); err != nil {
		return nil, err
	}
	if err := b.raceCancel(ctx, b.cancels.take(1)[0]); err != nil {
		return nil, err
	}
	return out, nil
}

// measureCancelPost measures POST /orders/{id}/cancel as the dialog's form
// sends it, signed in, with a key made here and the session's CSRF token;
// the floor is DB.CancelOrder on other orders.
func (b *bench) measureCancelPost(ctx context.Context, pageIDs, floorIDs []int64) (row, error) {
	base, client, stop, err := b.startApp(ctx)
	if err != nil {
		return row{}, err
	}
	defer stop()
	// The CSRF token of the session, as any page carries it.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"orders", nil)
	resp, err := client.Do(req)
	if err != nil {
		return row{}, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfMeta.FindSubmatch(body)
	if m == nil {
		return row{}, errors.New("GET /orders without a CSRF token")
	}
	csrf := string(m[1])
	// The POST answers 303; the redirect is not followed.
	post := *client
	post.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	loc := strconv.FormatInt(b.cancels.location.ID, 10)
	return b.pair(ctx, "page: POST /orders/{id}/cancel",
		"the cancel dialog's form (reason customer_changed_mind, refund now, restock to "+strconv.Quote(b.cancels.location.Name)+
			", note, notify, a 32-character key made by the client, the session's CSRF token), signed in, answering 303 (not followed); "+
			"each iteration a different open order; floor: DB.CancelOrder on other orders",
		func(ctx context.Context, i int) error {
			id := pageIDs[i]
			form := url.Values{"reason": {"customer_changed_mind"}, "refund": {"now"}, "restock": {"1"}, "location": {loc},
				"note": {"canceldesk-bench"}, "notify": {"1"}, "key": {newKey()}, "_csrf": {csrf}}
			target := base + "orders/" + strconv.FormatInt(id, 10) + "/cancel"
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := post.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				return err
			}
			want := "/orders/" + strconv.FormatInt(id, 10) + "?cancelled=1"
			if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), want) {
				return fmt.Errorf("order %d: %s to %q", id, resp.Status, resp.Header.Get("Location"))
			}
			b.cancels.byHTTP++
			return nil
		},
		func(ctx context.Context, i int) error {
			err := b.storeCancel(ctx, floorIDs[i])
			if err == nil {
				b.cancels.byStore++
			}
			return err
		})
}

// measureConcurrentCancels cancels the orders through DB.CancelOrder from
// concurrentClients goroutines at once and reports the rate and latency.
// A failed cancel does not stop the others: the failures are counted,
// reported and fail the run (after the report).
func (b *bench) measureConcurrentCancels(ctx context.Context, ids []int64) error {
	b.progress("measuring %d cancels from %d concurrent clients", len(ids), concurrentClients)
	work := make(chan int, len(ids))
	for i := range ids {
		work <- i
	}
	close(work)
	var (
		mu     sync.Mutex
		d      []time.Duration
		failed = map[string]int{} // error text without the order, by count
		wg     sync.WaitGroup
	)
	start := time.Now()
	for range concurrentClients {
		wg.Go(func() {
			for i := range work {
				if ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := b.storeCancel(ctx, ids[i])
				el := time.Since(t)
				mu.Lock()
				if err != nil {
					msg := err.Error()
					if _, rest, ok := strings.Cut(msg, ": "); ok {
						msg = rest
					}
					failed[msg]++
				} else {
					d = append(d, el)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	b.cancels.byStore += len(d)
	line := fmt.Sprintf("**concurrent cancels**: %d DB.CancelOrder calls (refund + restock + events + outbox) on %d different orders "+
		"from %d concurrent clients in %s: **%.0f cancels/s**", len(ids), len(ids), concurrentClients, wall.Round(time.Millisecond),
		float64(len(d))/wall.Seconds())
	if len(d) > 0 {
		s := summarize(d)
		b.cancels.concurrent = concurrentResult{n: len(d), rate: float64(len(d)) / wall.Seconds(), lat: s}
		line += fmt.Sprintf("; latency under that load p50 %s ms, **p95 %s ms**, p99 %s ms", ms(s.p50), ms(s.p95), ms(s.p99))
	}
	if n := len(ids) - len(d); n > 0 {
		var kinds []string
		for msg, k := range failed {
			kinds = append(kinds, fmt.Sprintf("%d× %s", k, msg))
		}
		slices.Sort(kinds)
		line += fmt.Sprintf(" — **FAIL: %d of %d cancels failed** (%s); the rate and latency count the successful ones only",
			n, len(ids), strings.Join(kinds, "; "))
		b.cancels.failure = errors.Join(b.cancels.failure,
			fmt.Errorf("concurrent cancels: %d of %d failed: %s", n, len(ids), strings.Join(kinds, "; ")))
	}
	b.cancels.lines = append(b.cancels.lines, line)
	return nil
}

// raceCancel starts raceGoroutines cancels of one order at once, each with
// its own key: exactly one may succeed, the others must be ECONFLICT. Any
// other outcome fails the run (after the report).
func (b *bench) raceCancel(ctx context.Context, id int64) error {
	b.progress("racing %d cancels of order %d", raceGoroutines, id)
	reqs := make([]canceldesk.CancelRequest, raceGoroutines)
	for i := range reqs {
		reqs[i] = b.cancelRequest(id)
	}
	var (
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		ok, conflict, oops int
		firstOops          error
	)
	gate := make(chan struct{})
	start := time.Now()
	for i := range reqs {
		wg.Go(func() {
			<-gate
			res, err := b.db.CancelOrder(ctx, reqs[i])
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && !res.Replayed:
				ok++
			case canceldesk.ErrorCode(err) == canceldesk.ECONFLICT:
				conflict++
			default:
				oops++
				if firstOops == nil {
					firstOops = err
					if err == nil {
						firstOops = errors.New("a fresh key replayed")
					}
				}
			}
		})
	}
	close(gate)
	wg.Wait()
	wall := time.Since(start)
	b.cancels.byStore += min(ok, 1)

	var cancellations, refunds, outbox int
	for _, c := range []struct {
		dst *int
		q   string
	}{
		{&cancellations, `SELECT count(*) FROM cancellations WHERE order_id = ?`},
		{&refunds, `SELECT count(*) FROM refunds WHERE order_id = ?`},
		{&outbox, `SELECT count(*) FROM outbox WHERE order_id = ?`},
	} {
		if err := b.raw.QueryRowContext(ctx, b.bind(c.q), id).Scan(c.dst); err != nil {
			return err
		}
	}
	line := fmt.Sprintf("**race**: %d goroutines cancelling order %d at once, each with its own key, through DB.CancelOrder: "+
		"%d succeeded, %d ECONFLICT, %d other errors (in %s); the order has %d cancellation, %d refund and %d outbox rows",
		raceGoroutines, id, ok, conflict, oops, wall.Round(time.Millisecond), cancellations, refunds, outbox)
	pass := ok == 1 && conflict == raceGoroutines-1 && oops == 0 && cancellations == 1 && refunds == 1 && outbox == 1
	if pass {
		line += " — **pass** (exactly one)"
	} else {
		line += " — **FAIL**: want exactly 1 success, " + strconv.Itoa(raceGoroutines-1) + " ECONFLICT and one row of each"
		if firstOops != nil {
			line += fmt.Sprintf("; first other error: %v", firstOops)
		}
		b.cancels.failure = errors.Join(b.cancels.failure, fmt.Errorf("race check failed: %d succeeded, %d ECONFLICT, %d other errors", ok, conflict, oops))
	}
	b.cancels.lines = append(b.cancels.lines, line)
	return nil
}

// modifiedNote says what the run changed in the database.
func (b *bench) modifiedNote() string {
	c := b.cancels
	total := c.byStore + c.byHTTP + c.byFloor
	where := "a temporary database, removed at exit"
	if b.cfg.keep != "" {
		where = "the kept database; a re-run with -keep draws other open orders"
	}
	return fmt.Sprintf("**the database was modified**: the cancel measurements ran last and cancelled %s orders "+
		"(%s through DB.CancelOrder with refunds, restocks, events and outbox rows; %s through the HTTP POST; "+
		"%s by the floor's bare UPDATE, which sets cancelled_at only) in %s",
		thousands(int64(total)), thousands(int64(c.byStore)), thousands(int64(c.byHTTP)), thousands(int64(c.byFloor)), where)
}
