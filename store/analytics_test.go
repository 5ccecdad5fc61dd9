package store

import (
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

// TestExtraFigures seeds orders imported cancelled, cancelled by staff
// (refund now through a gateway that waits, one refund then failed, a
// manual one in another currency, a void), a partial refund, and customer
// requests declined, approved, refused and pending, some just outside
// [from, to) at both ends; every figure is compared with values worked
// out by hand, for the range, a part of it and an empty range.
func TestExtraFigures(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 7)
		h, d := time.Hour, 24*time.Hour
		ctx := rtCtx(t)

		placed := func(at time.Time) func(*canceldesk.Order) {
			return func(o *canceldesk.Order) { o.CreatedAt, o.UpdatedAt = at, at }
		}
		pay := func(m string) func(*canceldesk.Order) { return func(o *canceldesk.Order) { o.PaymentMethod = m } }
		// importedCancel: came in cancelled at `at`, every unit cancelled.
		importedCancel := func(at time.Time) func(*canceldesk.Order) {
			return func(o *canceldesk.Order) {
				o.CancelledAt, o.CancelReason = &at, canceldesk.ReasonFraud
				for i := range o.LineItems {
					o.LineItems[i].CancelledQuantity = o.LineItems[i].Quantity
				}
			}
		}
		many := func(o *canceldesk.Order) { // PLATE ×3, S01..S09 ×1, a line without SKU
			o.LineItems = []canceldesk.LineItem{{Name: "Plate", SKU: "PLATE", Quantity: 3, Price: 100}}
			for i := 1; i <= 9; i++ {
				o.LineItems = append(o.LineItems, canceldesk.LineItem{Name: "Spoon", SKU: fmt.Sprintf("S%02d", i), Quantity: 1, Price: 100})
			}
			o.LineItems = append(o.LineItems, canceldesk.LineItem{Name: "Gift wrap", Quantity: 1, Price: 100})
		}
		s10 := func(o *canceldesk.Order) {
			o.LineItems = append(o.LineItems, canceldesk.LineItem{Name: "Spoon", SKU: "S10", Quantity: 5, Price: 100})
		}

		// Imported cancelled: just before, at from (2h), in (30m), at to.
		a0 := rtOrder("#a0", placed(from.Add(-10*h)), pay("paypal"), s10, importedCancel(from.Add(-time.Microsecond)))
		a1 := rtOrder("#a1", placed(from.Add(-2*h)), pay(""), importedCancel(from))
		a2 := rtOrder("#a2", placed(from.Add(d-30*time.Minute)), pay("paypal"), many, importedCancel(from.Add(d)))
		a7 := rtOrder("#a7", placed(to.Add(-h)), pay(""), s10, importedCancel(to))
		// Cancelled by staff below.
		a3 := rtOrder("#a3", placed(from.Add(2*d-5*h)))                                                             // 5h, stripe, refund fails
		a4 := rtOrder("#a4", placed(from.Add(-d)), pay("paypal"), func(o *canceldesk.Order) { o.Currency = "EUR" }) // 96h, manual
		a5 := rtOrder("#a5", placed(from.Add(4*d-h)))                                                               // 1h, stripe, pending
		a8 := rtOrder("#a8", placed(from.Add(5*d-3*h)), func(o *canceldesk.Order) { o.FinancialStatus = canceldesk.FinancialAuthorized })
		a9 := rtOrder("#a9", placed(from))                // open, partly refunded
		s6 := rtOrder("#s6", placed(from), s10)           // cancelled after to
		s7 := rtOrder("#s7", placed(from.Add(-5*h)), s10) // cancelled before from
		// Requests' orders.
		var r [9]*canceldesk.Order
		for i := 1; i < len(r); i++ {
			r[i] = rtOrder(fmt.Sprintf("#r%d", i), placed(from.Add(-10*h)))
		}
		rtImport(t, db, append([]*canceldesk.Order{a0, a1, a2, a7, a3, a4, a5, a8, a9, s6, s7}, r[1:]...)...)

		at := func(t time.Time) { db.Now = func() time.Time { return t } }
		key := 0
		cancel := func(when time.Time, o *canceldesk.Order, gateway string) *canceldesk.CancelResult {
			t.Helper()
			at(when)
			key++
			req := rtCancelReq(o, 0, rtKey(key), canceldesk.RefundNow, false)
			req.Gateway = gateway
			res, err := db.CancelOrder(ctx, req)
			if err != nil {
				t.Fatalf("CancelOrder %s: %v", o.Name, err)
			}
			return res
		}
		res3 := cancel(from.Add(2*d), a3, "stripe")
		at(from.Add(2*d + h))
		if err := db.SettleRefund(ctx, res3.Refund.ID, canceldesk.RefundFailed, "", "card_declined"); err != nil {
			t.Fatalf("SettleRefund: %v", err)
		}
		cancel(from.Add(3*d), a4, "manual")
		res5 := cancel(from.Add(4*d), a5, "stripe")
		if res := cancel(from.Add(5*d), a8, "stripe"); res.Refund == nil || res.Refund.Kind != canceldesk.RefundKindVoid {
			t.Fatalf("a8's cancel: refund %+v, want a void", res.Refund)
		}
		cancel(to.Add(h), s6, "manual")
		cancel(from.Add(-h), s7, "manual")
		at(from.Add(6 * d))
		a9 = rtGet(t, db, a9.ID)
		key++
		if _, err := db.RefundOrder(ctx, rtReq(a9, rtKey(key), rtLine(a9, 0, 1, canceldesk.RestockNone, 0))); err != nil {
			t.Fatalf("RefundOrder: %v", err)
		}

		file := func(when time.Time, o *canceldesk.Order, reason, comment string) *canceldesk.CancellationRequest {
			t.Helper()
			at(when)
			req, err := db.FileRequest(ctx, canceldesk.RequestForm{OrderNumber: o.Name, Email: o.Email, Reason: reason,
				Comment: comment}, "http://x/r/", nil)
			if err != nil || req == nil {
				t.Fatalf("FileRequest %s: %v, %v", o.Name, req, err)
			}
			return req
		}
		decline := func(when time.Time, req *canceldesk.CancellationRequest) {
			t.Helper()
			at(when)
			if err := db.DeclineRequest(ctx, req.ID, "Sorry, it has left.", "staff@example.com"); err != nil {
				t.Fatalf("DeclineRequest: %v", err)
			}
		}
		approve := func(when time.Time, req *canceldesk.CancellationRequest, o *canceldesk.Order) {
			t.Helper()
			at(when)
			key++
			if _, err := db.ApproveRequest(ctx, req.ID, rtCancelReq(o, 0, rtKey(key), canceldesk.RefundLater, false)); err != nil {
				t.Fatalf("ApproveRequest: %v", err)
			}
		}
		q8 := file(from.Add(-3*h), r[8], "changed_mind", "before")
		approve(from.Add(-2*h), q8, r[8]) // decided and cancelled before from
		q1 := file(from.Add(-2*h), r[1], "delivery_too_long", "too slow")
		decline(from.Add(h), q1)
		q2 := file(from.Add(h), r[2], "better_price", "found cheaper")
		approve(from.Add(2*h), q2, r[2]) // cancels #r2: 12h after it was placed, stripe, MUG 2, BOWL 1
		q3 := file(from.Add(2*h), r[3], "changed_mind", "")
		decline(to.Add(h), q3)
		q4 := file(from.Add(3*h), r[4], "ordered_by_mistake", "oops")
		q5 := file(from.Add(4*h), r[5], "changed_mind", "meh")
		decline(from.Add(5*h), q5)
		file(to, r[6], "changed_mind", "late")
		q7 := file(from.Add(6*h), r[7], "better_price", "  also cheaper  ")
		refused := file(from.Add(7*h), a2, "other", "why refused")
		if refused.Status != canceldesk.RequestRefused {
			t.Fatalf("request on a cancelled order: status %q, want refused", refused.Status)
		}

		// Units cancelled by staff and the approval: every unit, 2 mugs and a bowl.
		if li := rtGet(t, db, a3.ID).LineItems; li[0].CancelledQuantity != 2 || li[1].CancelledQuantity != 1 {
			t.Fatalf("a3's lines after the cancel: %+v", li)
		}

		extra := func(from, to time.Time) canceldesk.ExtraFigures {
			t.Helper()
			f, err := db.ExtraFigures(ctx, from, to)
			if err != nil {
				t.Fatalf("ExtraFigures: %v", err)
			}
			return f
		}
		check := func(what string, got, want canceldesk.ExtraFigures) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
			}
		}

		// In [from, to): a1 2h, a2 30m, r2 12h, a3 5h, a4 96h, a5 1h, a8 3h.
		// Refunds: a4's EUR 30.50 (manual, succeeded), a9's mug 11.00
		// (10.00 + tax 1.00); a5's pending and a3's failed moved no money,
		// a8's a void, s6's and s7's outside.
		spoons := func(n int) []canceldesk.CountBy {
			var out []canceldesk.CountBy
			for i := 1; i <= n; i++ {
				out = append(out, canceldesk.CountBy{Label: fmt.Sprintf("S%02d", i), Count: 1})
			}
			return out
		}
		check("the week", extra(from, to), canceldesk.ExtraFigures{
			Refunded:       map[string]int64{"USD": 1100, "EUR": 3050},
			MedianToCancel: 3 * h,
			Requests:       3, Approved: 1, // q1 and q5 declined, q2 approved
			TopSKUs:   append([]canceldesk.CountBy{atCount("MUG", 12), atCount("BOWL", 6), atCount("PLATE", 3)}, spoons(7)...),
			ByPayment: []canceldesk.CountBy{atCount("stripe", 4), atCount("paypal", 2), atCount(canceldesk.NoPaymentMethod, 1)},
		})
		// In [from, from+3d): a1 2h, a2 30m, r2 12h, a3 5h; median (2h+5h)/2.
		check("three days", extra(from, from.Add(3*d)), canceldesk.ExtraFigures{
			Refunded:       map[string]int64{},
			MedianToCancel: 3*h + 30*time.Minute,
			Requests:       3, Approved: 1,
			TopSKUs:   append([]canceldesk.CountBy{atCount("MUG", 6), atCount("BOWL", 3), atCount("PLATE", 3)}, spoons(7)...),
			ByPayment: []canceldesk.CountBy{atCount("stripe", 2), atCount(canceldesk.NoPaymentMethod, 1), atCount("paypal", 1)},
		})
		check("an empty range", extra(to.Add(d), to.Add(2*d)), canceldesk.ExtraFigures{Refunded: map[string]int64{}})

		// Feedback: commented requests created in the range, newest first.
		feedback := func(reason string, limit int) []int64 {
			t.Helper()
			fb, err := db.Feedback(ctx, from, to, reason, limit)
			if err != nil {
				t.Fatalf("Feedback(%q, %d): %v", reason, limit, err)
			}
			var ids []int64
			for _, f := range fb {
				ids = append(ids, f.RequestID)
			}
			return ids
		}
		for _, c := range []struct {
			reason string
			limit  int
			want   []int64
		}{
			{"", 50, []int64{refused.ID, q7.ID, q5.ID, q4.ID, q2.ID}},
			{"", 3, []int64{refused.ID, q7.ID, q5.ID}},
			{"better_price", 50, []int64{q7.ID, q2.ID}},
			{"changed_mind", 50, []int64{q5.ID}},
			{"delivery_too_long", 50, nil},
			{"", 0, nil},
		} {
			if got := feedback(c.reason, c.limit); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Feedback(%q, %d) = %v, want %v", c.reason, c.limit, got, c.want)
			}
		}
		fb, err := db.Feedback(ctx, from, to, "better_price", 1)
		if err != nil {
			t.Fatal(err)
		}
		want := []canceldesk.Feedback{{RequestID: q7.ID, OrderID: r[7].ID, OrderName: "#r7", Reason: "better_price",
			Comment: "also cheaper", CreatedAt: from.Add(6 * h)}}
		if !reflect.DeepEqual(fb, want) {
			t.Errorf("Feedback(better_price, 1) = %+v, want %+v", fb, want)
		}
		_, err = db.Feedback(ctx, from, to, "bored", 10)
		rtCheckErr(t, "Feedback of an unknown reason", err, canceldesk.EINVALID, "reason", "validation.request_reason")

		// Over whole days the money refunded comes from the daily rollups
		// once they are built: what the refunds give, before and after a
		// pending and a failed refund succeed.
		refunded := func(what string, want map[string]int64) {
			t.Helper()
			tx, err := db.readTx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			direct := map[string]int64{}
			err = eachRow(ctx, tx, db.bind(extraRefundedQuery), []any{from.UnixMicro(), to.UnixMicro()}, func(rows *sql.Rows) error {
				var cur string
				var sum int64
				err := rows.Scan(&cur, &sum)
				direct[cur] = sum
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := extra(from, to).Refunded; !reflect.DeepEqual(got, want) || !reflect.DeepEqual(direct, want) {
				t.Errorf("%s: refunded %v, the refunds give %v, want %v", what, got, direct, want)
			}
		}
		if err := db.SetStatsZone(ctx, time.UTC); err != nil {
			t.Fatal(err)
		}
		refunded("days built", map[string]int64{"USD": 1100, "EUR": 3050})
		at(to.Add(2 * d))
		for _, res := range []*canceldesk.CancelResult{res5, res3} {
			if err := db.SettleRefund(ctx, res.Refund.ID, canceldesk.RefundSucceeded, "re_"+strconv.FormatInt(res.Refund.ID, 10), ""); err != nil {
				t.Fatalf("SettleRefund: %v", err)
			}
		}
		refunded("a5's and a3's refunds succeeded", map[string]int64{"USD": 1100 + res5.Refund.Amount + res3.Refund.Amount, "EUR": 3050})
		// Built in another zone and then in UTC again: from the refunds.
		for _, loc := range []*time.Location{time.FixedZone("UTC+1", 3600), time.UTC} {
			if err := db.SetStatsZone(ctx, loc); err != nil {
				t.Fatal(err)
			}
		}
		var rows int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM refund_stats_daily`).Scan(&rows); err != nil || rows == 0 {
			t.Fatalf("refund_stats_daily holds %d rows (%v): the days were not rebuilt from the refunds", rows, err)
		}
		refunded("days rebuilt", map[string]int64{"USD": 1100 + res5.Refund.Amount + res3.Refund.Amount, "EUR": 3050})
	})
}

func atCount(label string, n int64) canceldesk.CountBy {
	return canceldesk.CountBy{Label: label, Count: n}
}

// TestExtraFiguresUseIndex: where migration 0008's orders_cancelled_at is
// there, the queries over cancelled orders read it.
func TestExtraFiguresUseIndex(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		exists := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'orders_cancelled_at'`
		if db.dialect == postgres {
			exists = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'orders_cancelled_at'`
		}
		if rtInt(t, db, exists) == 0 {
			t.Fatal("no orders_cancelled_at index: migration 0008 creates it")
		}
		for name, q := range map[string]string{"median": extraMedianQuery, "top SKUs": extraTopSKUsQuery,
			"by payment": extraByPaymentQuery} {
			tx, err := db.read.BeginTx(rtCtx(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			explain := "EXPLAIN QUERY PLAN "
			if db.dialect == postgres {
				explain = "EXPLAIN "
				if _, err := tx.ExecContext(rtCtx(t), `SET LOCAL enable_seqscan = off`); err != nil {
					t.Fatal(err)
				}
			}
			args := []any{int64(0), int64(1)}
			if strings.Contains(q, "LIMIT") {
				args = append(args, 10)
			}
			text := rtPlan(t, tx, explain, db.bind(q), args...)
			tx.Rollback()
			// Either partial index on cancelled orders serves the range
			// (orders_cancel_delay, migration 0009, has cancelled_at second).
			if !strings.Contains(text, "orders_cancelled_at") && !strings.Contains(text, "orders_cancel_delay") {
				t.Errorf("%s reads neither partial index of cancelled orders:\n%s", name, text)
			}
		}
		// The money refunded in the range: the succeeded refunds by time
		// (migration 0020), not a scan of every refund.
		if text := rangePlan(t, db, extraRefundedQuery); !strings.Contains(text, "refunds_succeeded_at") {
			t.Errorf("the refunded sum does not read refunds_succeeded_at:\n%s", text)
		}
	})
}

// rangePlan is the plan of q over the time range [0, 1), with PostgreSQL's
// sequential scans off (a test's tables are small enough for one).
func rangePlan(t *testing.T, db *DB, q string) string {
	t.Helper()
	tx, err := db.read.BeginTx(rtCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	explain := "EXPLAIN QUERY PLAN "
	if db.dialect == postgres {
		explain = "EXPLAIN "
		if _, err := tx.ExecContext(rtCtx(t), `SET LOCAL enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
	}
	return rtPlan(t, tx, explain, db.bind(q), int64(0), int64(1))
}
