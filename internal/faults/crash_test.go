package faults

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to read the database
	_ "modernc.org/sqlite"             // the "sqlite" driver, to read the database

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
	"github.com/canceldesk/canceldesk/store"
)

const ownerEmail = "owner@demo.canceldesk.test"

// TestCrashConsistency kills the server with SIGKILL while several
// browsers cancel orders (refund now, restock, tell the customer: each
// cancel writes a refund, stock ledger rows and an outbox message) and
// refund single units of other orders, then reads the database directly
// and starts the server again on it, on SQLite and on PostgreSQL.
//
// Verdict, straight from the database after the crash: every cancel is
// all or nothing (the order is cancelled ⇔ it has one cancellation ⇔ its
// refund row ⇔ its restock movements and line counters ⇔ its one outbox
// message and timeline entry); every refund is all or nothing (its row ⇔
// the order's refunded amount and line counter ⇔ its one outbox message);
// nothing the server acknowledged (303) is lost; stock on hand equals the
// ledger's sum for every SKU and location; no outbox message is there
// twice. Then the restarted server answers, every cancel and refund is
// sent again with its own key (a browser retrying what it never heard
// back about) and each order ends up cancelled, or refunded, exactly once;
// a second cancel with a new key is refused with 409.
func TestCrashConsistency(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "canceldesk.db")
		crashConsistency(t, path, "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)", "")
	})
	t.Run("postgres", func(t *testing.T) {
		// A schema of its own in the shared test database; the server's
		// connections carry an application name, so the test can tell when
		// PostgreSQL has seen them all go.
		schema := testenv.PostgresSchema(t)
		u, err := url.Parse(schema)
		if err != nil {
			t.Fatal(err)
		}
		app := "canceldesk-faults-" + randomHex(6)
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
		crashConsistency(t, u.String(), "pgx", schema, app)
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// job is one cancel or refund a browser submits, and what it heard back
// before the crash.
type job struct {
	kind  string // "cancel" or "refund"
	order int64
	line  int64  // refund: the line one unit is refunded of
	key   string // the dialog's idempotency key
	// before the crash
	started bool
	acked   bool // 303 to the order page: committed
	broken  bool // no answer: the connection broke
	answer  string
}

func (j *job) String() string {
	return fmt.Sprintf("%s of order %d (key %s)", j.kind, j.order, j.key)
}

// form is what the dialog posts.
func (j *job) form(location int64, key string) (string, url.Values) {
	loc := strconv.FormatInt(location, 10)
	if j.kind == "cancel" {
		return "/orders/" + strconv.FormatInt(j.order, 10) + "/cancel", url.Values{
			"reason": {"customer_changed_mind"}, "refund": {"now"}, "restock": {"1"}, "location": {loc},
			"notify": {"1"}, "note": {"fault test"}, "key": {key}}
	}
	line := strconv.FormatInt(j.line, 10)
	return "/orders/" + strconv.FormatInt(j.order, 10) + "/refund", url.Values{
		"qty_" + line: {"1"}, "restock_" + line: {string(canceldesk.RestockNone)}, "location": {loc},
		"shipping_mode": {"none"}, "method": {"original"}, "notify": {"1"}, "note": {"fault test"}, "key": {key}}
}

// submit posts the job's dialog and reports whether the answer is the
// redirect to the order page that follows a committed cancel or refund.
func (j *job) submit(c *client, location int64, key string) (bool, string, error) {
	path, form := j.form(location, key)
	r, err := c.post(path, form)
	if err != nil {
		return false, "", err
	}
	want := "/orders/" + strconv.FormatInt(j.order, 10) + "?cancelled=1"
	if j.kind == "refund" {
		want = "/orders/" + strconv.FormatInt(j.order, 10) + "?refunded=1"
	}
	return r.status == http.StatusSeeOther && r.location == want, r.String(), nil
}

func crashConsistency(t *testing.T, dsn, driver, readDSN, pgApp string) {
	last := time.Now()
	step := func(what string) {
		t.Logf("%s (%v)", what, time.Since(last).Round(time.Millisecond))
		last = time.Now()
	}
	a := startApp(t, appConfig{DB: dsn, Demo: true})
	step("server started with the demo store")
	db, err := sql.Open(driver, readDSN)
	if err != nil {
		t.Fatalf("opening the database to read it: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	r := &reader{t: t, db: db, pg: driver == "pgx"}

	// Orders to cancel: open, paid, nothing shipped, nothing refunded, an
	// email to write to and a SKU on every line (so every cancel refunds,
	// restocks and owes a message). Orders to refund one unit of: shipped
	// and paid, with an email; none of them is cancelled here.
	cancelIDs := r.ids(`SELECT o.id FROM orders o WHERE o.cancelled_at IS NULL AND o.financial_status = 'paid'
		AND o.fulfillment_status = 'unfulfilled' AND o.email <> '' AND o.total > 0 AND o.refunded_amount = 0
		AND EXISTS (SELECT 1 FROM line_items l WHERE l.order_id = o.id)
		AND NOT EXISTS (SELECT 1 FROM line_items l WHERE l.order_id = o.id AND (l.sku = '' OR l.fulfilled_quantity > 0))
		AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.order_id = o.id)
		ORDER BY o.id LIMIT 24`)
	refundIDs := r.ids(`SELECT o.id FROM orders o WHERE o.cancelled_at IS NULL AND o.financial_status = 'paid'
		AND o.fulfillment_status = 'fulfilled' AND o.email <> '' AND o.total > o.refunded_amount
		ORDER BY o.id DESC LIMIT 24`)
	if len(cancelIDs) < 12 || len(refundIDs) < 12 {
		t.Fatalf("the demo store has %d orders to cancel and %d to refund, want 12 of each", len(cancelIDs), len(refundIDs))
	}
	location := r.ids(`SELECT id FROM locations ORDER BY id LIMIT 1`)[0]
	var jobs []*job
	for i := range max(len(cancelIDs), len(refundIDs)) {
		if i < len(cancelIDs) {
			jobs = append(jobs, &job{kind: "cancel", order: cancelIDs[i], key: "faults-cancel-" + randomHex(12)})
		}
		if i < len(refundIDs) {
			line := r.ids(r.bind(`SELECT id FROM line_items WHERE order_id = ? AND quantity > refunded_quantity ORDER BY id LIMIT 1`), refundIDs[i])
			if len(line) == 0 {
				continue
			}
			jobs = append(jobs, &job{kind: "refund", order: refundIDs[i], line: line[0], key: "faults-refund-" + randomHex(12)})
		}
	}
	base := r.baseline(jobs)

	owner := newClient(a.base, 30*time.Second)
	if err := owner.signIn(ownerEmail); err != nil {
		t.Fatal(err)
	}

	// Four browsers submit the dialogs; the server is killed once 16
	// answers have come back, with more on their way.
	const workers, killAfter = 4, 16
	queue := make(chan *job)
	killed := make(chan struct{})
	var acked atomic.Int32
	var wg sync.WaitGroup
	go func() {
		defer close(queue)
		for _, j := range jobs {
			select {
			case queue <- j:
			case <-killed:
				return
			}
		}
	}()
	enough := make(chan struct{})
	var once sync.Once
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				select {
				case <-killed:
					continue
				default:
				}
				j.started = true
				ok, answer, err := j.submit(owner, location, j.key)
				j.acked, j.answer = ok, answer
				if err != nil {
					j.broken, j.answer = true, err.Error()
				}
				if ok && acked.Add(1) >= killAfter {
					once.Do(func() { close(enough) })
				}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	select {
	case <-enough:
	case <-allDone:
	case <-time.After(60 * time.Second):
		t.Errorf("only %d of %d cancels and refunds answered within 60s", acked.Load(), len(jobs))
	}
	close(killed) // no new request from here: those under way are in flight
	a.kill(t)
	<-allDone

	var inFlight, unstarted int
	for _, j := range jobs {
		switch {
		case !j.started:
			unstarted++
		case !j.acked:
			inFlight++
			if !j.broken { // an HTTP answer other than the redirect
				t.Errorf("%v before the crash: %s, want 303 to the order", j, j.answer)
			}
		}
	}
	step("load until SIGKILL")
	t.Logf("SIGKILL after %d acknowledged, %d without an answer, %d not sent", acked.Load(), inFlight, unstarted)
	if acked.Load() < killAfter/2 {
		t.Fatalf("only %d cancels and refunds went through before the crash: the load did not run", acked.Load())
	}

	if pgApp != "" {
		r.waitGone(pgApp)
	}
	r.check("after SIGKILL", jobs, base, false)
	step("database checked after the crash")

	// The same database, a new process: it answers, and every browser sends
	// its dialog again.
	a = startApp(t, appConfig{DB: dsn, Demo: true})
	owner = newClient(a.base, 30*time.Second)
	if err := owner.signIn(ownerEmail); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	step("server restarted")
	for _, j := range jobs {
		ok, answer, err := j.submit(owner, location, j.key)
		if err != nil || !ok {
			t.Errorf("%v sent again after the restart: %s %v, want 303 to the order", j, answer, err)
		}
	}
	// The same dialog once more changes nothing; a new cancel dialog on a
	// cancelled order is refused.
	conflicts := 0
	for _, j := range jobs {
		if ok, answer, err := j.submit(owner, location, j.key); err != nil || !ok {
			t.Errorf("%v sent a third time: %s %v, want 303 (a replay)", j, answer, err)
		}
		if j.kind == "cancel" && conflicts < 3 {
			conflicts++
			path, form := j.form(location, "faults-again-"+randomHex(12))
			res, err := owner.post(path, form)
			if err != nil || res.status != http.StatusConflict {
				t.Errorf("a second cancel of order %d with a new key: %v %v, want 409", j.order, res, err)
			}
		}
	}
	step("dialogs sent again")
	r.check("after the restart and the retries", jobs, base, true)
	step("database checked after the retries")
	for _, j := range jobs[:4] {
		if res, err := owner.get("/orders/" + strconv.FormatInt(j.order, 10)); err != nil || res.status != http.StatusOK {
			t.Errorf("order page of order %d after the restart: %v %v", j.order, res, err)
		}
	}
}

// reader reads the server's database directly.
type reader struct {
	t  *testing.T
	db *sql.DB
	pg bool
}

// bind turns ? placeholders into PostgreSQL's $1, $2, ….
func (r *reader) bind(q string) string {
	if !r.pg {
		return q
	}
	return store.Rebind(q)
}

func (r *reader) ids(q string, args ...any) []int64 {
	r.t.Helper()
	rows, err := r.db.Query(q, args...)
	if err != nil {
		r.t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// waitGone waits until PostgreSQL has ended every session of the killed
// server, so that nothing it sent is still being committed while the
// checks read.
func (r *reader) waitGone(app string) {
	r.t.Helper()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var n int
		if err := r.db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil {
			r.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(end) {
			r.t.Fatalf("PostgreSQL still has %d sessions of the killed server after 30s", n)
		}
	}
}

// orderState is what the checks compare before and after.
type orderState struct {
	refunded      int64 // orders.refunded_amount
	refunds       int   // refund rows
	refundMsgs    int   // refund_issued messages
	lineRefunded  int   // refunded_quantity of the job's line
	cancelledMsgs int
}

func (r *reader) baseline(jobs []*job) map[int64]orderState {
	r.t.Helper()
	tx := r.snapshot()
	defer tx.Rollback()
	out := map[int64]orderState{}
	for _, j := range jobs {
		out[j.order] = r.state(tx, j)
	}
	return out
}

// snapshot begins a read-only transaction: every check reads one state of
// the database.
func (r *reader) snapshot() *sql.Tx {
	r.t.Helper()
	opts := &sql.TxOptions{ReadOnly: true}
	if r.pg {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := r.db.BeginTx(context.Background(), opts)
	if err != nil {
		r.t.Fatal(err)
	}
	return tx
}

func (r *reader) int(tx *sql.Tx, q string, args ...any) int64 {
	r.t.Helper()
	var n sql.NullInt64
	if err := tx.QueryRow(r.bind(q), args...).Scan(&n); err != nil {
		r.t.Fatalf("%v\n%s", err, q)
	}
	return n.Int64
}

func (r *reader) state(tx *sql.Tx, j *job) orderState {
	r.t.Helper()
	s := orderState{
		refunded:      r.int(tx, `SELECT refunded_amount FROM orders WHERE id = ?`, j.order),
		refunds:       int(r.int(tx, `SELECT count(*) FROM refunds WHERE order_id = ?`, j.order)),
		refundMsgs:    int(r.int(tx, `SELECT count(*) FROM outbox WHERE order_id = ? AND kind = 'refund_issued'`, j.order)),
		cancelledMsgs: int(r.int(tx, `SELECT count(*) FROM outbox WHERE order_id = ? AND kind = 'order_cancelled'`, j.order)),
	}
	if j.line != 0 {
		s.lineRefunded = int(r.int(tx, `SELECT refunded_quantity FROM line_items WHERE id = ?`, j.line))
	}
	return s
}

// check reads the database in one snapshot and reports every broken
// invariant. all: every job must have happened by now (after the retries);
// otherwise a job may not have happened, but only as a whole.
func (r *reader) check(phase string, jobs []*job, base map[int64]orderState, all bool) {
	t := r.t
	t.Helper()
	tx := r.snapshot()
	defer tx.Rollback()
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf(phase+": "+format, args...)
	}
	done := map[string]int{}
	for _, j := range jobs {
		var ok bool
		if j.kind == "cancel" {
			ok = r.checkCancel(tx, j, base[j.order], errorf)
		} else {
			ok = r.checkRefund(tx, j, base[j.order], errorf)
		}
		if ok {
			done[j.kind]++
		} else if j.acked {
			errorf("%v was acknowledged (%s) but is not in the database", j, j.answer)
		} else if all {
			errorf("%v has not happened, even after it was sent again", j)
		}
	}

	// Stock on hand is the ledger's sum, for every SKU and location.
	rows, err := tx.Query(`SELECT l.sku, l.location_id, l.on_hand,
		(SELECT coalesce(sum(m.delta), 0) FROM inventory_movements m WHERE m.sku = l.sku AND m.location_id = l.location_id)
		FROM inventory_levels l`)
	if err != nil {
		t.Fatal(err)
	}
	levels := 0
	for rows.Next() {
		var sku string
		var loc, onHand, sum int64
		if err := rows.Scan(&sku, &loc, &onHand, &sum); err != nil {
			t.Fatal(err)
		}
		levels++
		if onHand != sum {
			errorf("stock of %s at location %d is %d, its ledger sums to %d", sku, loc, onHand, sum)
		}
	}
	rows.Close()
	if orphans := r.int(tx, `SELECT count(*) FROM (SELECT m.sku, m.location_id FROM inventory_movements m
		WHERE NOT EXISTS (SELECT 1 FROM inventory_levels l WHERE l.sku = m.sku AND l.location_id = m.location_id)
		GROUP BY m.sku, m.location_id HAVING sum(m.delta) <> 0) x`); orphans > 0 {
		errorf("%d SKU×location ledgers have no stock level", orphans)
	}
	if levels == 0 {
		errorf("no stock levels at all: the demo store has no inventory to check")
	}

	// No customer message twice: one per cancellation, one per refund.
	for _, q := range []string{
		`SELECT count(*) FROM (SELECT kind, payload FROM outbox GROUP BY kind, payload HAVING count(*) > 1) x`,
		`SELECT count(*) FROM (SELECT message_id FROM outbox GROUP BY message_id HAVING count(*) > 1) x`,
		`SELECT count(*) FROM (SELECT order_id FROM outbox WHERE kind = 'order_cancelled' GROUP BY order_id HAVING count(*) > 1) x`,
	} {
		if n := r.int(tx, q); n > 0 {
			errorf("%d duplicated outbox messages: %s", n, q)
		}
	}
	t.Logf("%s: %d cancels and %d refunds in the database, each whole; stock = ledger on %d SKU×locations",
		phase, done["cancel"], done["refund"], levels)
}

// checkCancel checks one cancel job's order is cancelled wholly or not at
// all, and reports whether it is.
func (r *reader) checkCancel(tx *sql.Tx, j *job, base orderState, errorf func(string, ...any)) bool {
	t := r.t
	t.Helper()
	var cancelledAt sql.NullInt64
	var refunded int64
	if err := tx.QueryRow(r.bind(`SELECT cancelled_at, refunded_amount FROM orders WHERE id = ?`), j.order).Scan(&cancelledAt, &refunded); err != nil {
		t.Fatal(err)
	}
	type cancellation struct {
		id        int64
		key, plan string
	}
	var cs []cancellation
	rows, err := tx.Query(r.bind(`SELECT id, idempotency_key, plan FROM cancellations WHERE order_id = ? ORDER BY id`), j.order)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c cancellation
		if err := rows.Scan(&c.id, &c.key, &c.plan); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	rows.Close()

	refunds := r.int(tx, `SELECT count(*) FROM refunds WHERE order_id = ?`, j.order)
	moves := r.int(tx, `SELECT count(*) FROM inventory_movements WHERE order_id = ? AND kind = 'cancel_restock'`, j.order)
	msgs := r.int(tx, `SELECT count(*) FROM outbox WHERE order_id = ? AND kind = 'order_cancelled'`, j.order)
	events := r.int(tx, `SELECT count(*) FROM events WHERE order_id = ? AND kind = 'cancelled'`, j.order)
	cancelledUnits := r.int(tx, `SELECT sum(cancelled_quantity) FROM line_items WHERE order_id = ?`, j.order)
	restockedUnits := r.int(tx, `SELECT sum(restocked_quantity) FROM line_items WHERE order_id = ?`, j.order)

	if len(cs) == 0 {
		if cancelledAt.Valid || refunds > 0 || moves > 0 || msgs > 0 || events > 0 || cancelledUnits > 0 || refunded != base.refunded {
			errorf("%v is partly there without its cancellation: cancelled_at %v, %d refunds, %d restock movements, "+
				"%d messages, %d timeline entries, %d units cancelled, refunded %d (was %d)",
				j, cancelledAt.Valid, refunds, moves, msgs, events, cancelledUnits, refunded, base.refunded)
		}
		return false
	}
	if len(cs) > 1 {
		errorf("%v: order cancelled %d times", j, len(cs))
	}
	c := cs[0]
	if c.key != j.key {
		errorf("%v: cancelled with another key %q", j, c.key)
	}
	var plan canceldesk.CancelPlan
	if err := json.Unmarshal([]byte(c.plan), &plan); err != nil {
		errorf("%v: cancellation %d plan: %v", j, c.id, err)
		return true
	}
	if plan.RefundKind != canceldesk.RefundKindRefund || plan.RefundTotal <= 0 || !plan.Restock || !plan.Notify || plan.RestockUnits() == 0 {
		errorf("%v: the plan does not refund, restock and notify: %+v", j, plan)
	}
	if !cancelledAt.Valid {
		errorf("%v: cancellation %d but the order is not cancelled", j, c.id)
	}

	// Its refund: one, for the plan's amount, under the cancel's key.
	var rfCancellation sql.NullInt64
	var rfAmount int64
	var rfKey string
	err = tx.QueryRow(r.bind(`SELECT cancellation_id, amount, idempotency_key FROM refunds WHERE order_id = ?`), j.order).
		Scan(&rfCancellation, &rfAmount, &rfKey)
	switch {
	case refunds != 1:
		errorf("%v: %d refund rows, want 1", j, refunds)
	case err != nil:
		t.Fatal(err)
	case rfCancellation.Int64 != c.id || rfAmount != plan.RefundTotal || rfKey != "refund:"+j.key:
		errorf("%v: refund (cancellation %d, %d, key %s), want (cancellation %d, %d, key refund:%s)",
			j, rfCancellation.Int64, rfAmount, rfKey, c.id, plan.RefundTotal, j.key)
	}
	if refunded != base.refunded+plan.RefundTotal {
		errorf("%v: refunded amount %d, want %d", j, refunded, base.refunded+plan.RefundTotal)
	}

	// Its restock: the plan's units per SKU, at the plan's location, in the
	// ledger and on the lines.
	want := map[string]int64{}
	for _, l := range plan.Lines {
		want[l.SKU] += int64(l.RestockQty)
		var cancelled, restocked int
		if err := tx.QueryRow(r.bind(`SELECT cancelled_quantity, restocked_quantity FROM line_items WHERE id = ?`), l.LineItemID).
			Scan(&cancelled, &restocked); err != nil {
			t.Fatal(err)
		}
		if cancelled != l.CancelQty || restocked != l.RestockQty {
			errorf("%v: line %d cancelled %d restocked %d, the plan says %d and %d", j, l.LineItemID, cancelled, restocked, l.CancelQty, l.RestockQty)
		}
	}
	got := map[string]int64{}
	rows, err = tx.Query(r.bind(`SELECT sku, location_id, delta FROM inventory_movements WHERE order_id = ? AND kind = 'cancel_restock'`), j.order)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var sku string
		var loc, delta int64
		if err := rows.Scan(&sku, &loc, &delta); err != nil {
			t.Fatal(err)
		}
		got[sku] += delta
		if loc != plan.LocationID {
			errorf("%v: restock movement to location %d, the plan says %d", j, loc, plan.LocationID)
		}
	}
	rows.Close()
	for _, sku := range append(keys(want), keys(got)...) {
		if want[sku] != got[sku] {
			errorf("%v: %s restocked %d in the ledger, the plan says %d", j, sku, got[sku], want[sku])
		}
	}
	if restockedUnits != int64(plan.RestockUnits()) {
		errorf("%v: %d units restocked on the lines, the plan says %d", j, restockedUnits, plan.RestockUnits())
	}

	// Its customer message and timeline entry: once each.
	if msgs != 1 {
		errorf("%v: %d order_cancelled messages, want 1", j, msgs)
	} else {
		var payload string
		if err := tx.QueryRow(r.bind(`SELECT payload FROM outbox WHERE order_id = ? AND kind = 'order_cancelled'`), j.order).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var p struct {
			CancellationID int64 `json:"cancellation_id"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil || p.CancellationID != c.id {
			errorf("%v: the message is about cancellation %d (%v), want %d", j, p.CancellationID, err, c.id)
		}
	}
	if events != 1 {
		errorf("%v: %d 'cancelled' timeline entries, want 1", j, events)
	}
	return true
}

// checkRefund checks one refund job happened wholly or not at all, and
// reports whether it did.
func (r *reader) checkRefund(tx *sql.Tx, j *job, base orderState, errorf func(string, ...any)) bool {
	t := r.t
	t.Helper()
	now := r.state(tx, j)
	var id, amount int64
	err := tx.QueryRow(r.bind(`SELECT id, amount FROM refunds WHERE idempotency_key = ?`), "partial:"+j.key).Scan(&id, &amount)
	if err == sql.ErrNoRows {
		if now != base {
			errorf("%v is partly there without its refund row: %+v, was %+v", j, now, base)
		}
		return false
	} else if err != nil {
		t.Fatal(err)
	}
	want := orderState{refunded: base.refunded + amount, refunds: base.refunds + 1, refundMsgs: base.refundMsgs + 1,
		lineRefunded: base.lineRefunded + 1, cancelledMsgs: base.cancelledMsgs}
	if now != want {
		errorf("%v: refund %d of %d, the order is %+v, want %+v", j, id, amount, now, want)
	}
	var n int64
	rows, err := tx.Query(r.bind(`SELECT payload FROM outbox WHERE order_id = ? AND kind = 'refund_issued'`), j.order)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var p struct {
			RefundID int64 `json:"refund_id"`
		}
		if json.Unmarshal([]byte(payload), &p) == nil && p.RefundID == id {
			n++
		}
	}
	rows.Close()
	if n != 1 {
		errorf("%v: %d refund_issued messages about refund %d, want 1", j, n, id)
	}
	return true
}

func keys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
