package store

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
)

// txHook records the Changes the after-commit hook of db is handed.
func txHook(db *DB) *[]canceldesk.Changes {
	var got []canceldesk.Changes
	db.OnCommit(func(_ context.Context, ch canceldesk.Changes) { got = append(got, ch) })
	return &got
}

// The after-commit hook runs only after a commit, with exactly what the
// write changed; a write that fails or rolls back hands it nothing.
func TestAfterCommitHook(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		o, other := rtOrder("#hook-1"), rtOrder("#hook-2")
		rtImport(t, db, o, other)
		got := txHook(db)

		t.Run("RolledBackWriteCallsNothing", func(t *testing.T) {
			*got = nil
			boom := errors.New("boom")
			err := db.tx(rtCtx(t), func(tx *Tx) error {
				tx.changedOrder(o.ID)
				tx.changed(canceldesk.ChangedSettings)
				return boom
			})
			if !errors.Is(err, boom) || len(*got) != 0 {
				t.Fatalf("err %v, hook called with %+v", err, *got)
			}
		})

		t.Run("CancelReportsItsOrderAndPendingRefund", func(t *testing.T) {
			*got = nil
			req := rtCancelReq(o, loc.ID, rtKey(1), canceldesk.RefundNow, true)
			req.Gateway = "stripe"
			res, err := db.CancelOrder(rtCtx(t), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(*got) != 1 {
				t.Fatalf("hook called %d times, want once", len(*got))
			}
			ch := (*got)[0]
			if !slices.Equal(ch.Orders, []int64{o.ID}) || !slices.Equal(ch.Refunds, []int64{res.Refund.ID}) ||
				!slices.Equal(ch.Pending, []int64{res.Refund.ID}) || !ch.Has(canceldesk.ChangedOrders|canceldesk.ChangedRefunds) {
				t.Errorf("changes = %+v, want order %d and its pending refund %d", ch, o.ID, res.Refund.ID)
			}

			*got = nil
			if err := db.SettleRefund(rtCtx(t), res.Refund.ID, canceldesk.RefundSucceeded, "re_1", ""); err != nil {
				t.Fatal(err)
			}
			if len(*got) != 1 || !slices.Equal((*got)[0].Orders, []int64{o.ID}) || len((*got)[0].Pending) != 0 {
				t.Errorf("after SettleRefund: %+v, want the order, nothing owed a gateway", *got)
			}
		})

		t.Run("ConflictCallsNothing", func(t *testing.T) {
			*got = nil
			_, err := db.CancelOrder(rtCtx(t), rtCancelReq(o, loc.ID, rtKey(2), canceldesk.RefundLater, false))
			if canceldesk.ErrorCode(err) != canceldesk.ECONFLICT || len(*got) != 0 {
				t.Fatalf("second cancel: %v; hook called with %+v", err, *got)
			}
		})

		t.Run("ApprovalReportsOrderAndRequests", func(t *testing.T) {
			r := rqFile(t, db, rqForm("hook-2", other.Email))
			*got = nil
			if _, err := db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(other, loc.ID, rtKey(3))); err != nil {
				t.Fatal(err)
			}
			if len(*got) != 1 || !slices.Equal((*got)[0].Orders, []int64{other.ID}) || !(*got)[0].Has(canceldesk.ChangedRequests) {
				t.Errorf("changes = %+v, want order %d and the requests", *got, other.ID)
			}
		})
	})
}

// With Redis on, an order read through the cache right after a request is
// approved, by staff or by the auto-approval rule, shows it cancelled.
func TestCacheAfterApproval(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		opt, err := redis.ParseURL(testenv.RedisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { rdb.Close() })
		cache := NewCache(db, rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
		hook := new(canceldesk.AfterCommit)
		hook.Add(cache.Forget)
		db.OnCommit(hook.Run)
		loc := rtLocation(t, db, "Main")
		staff, rule := rtOrder("#approve-staff"), rtOrder("#approve-rule", rqYoung)
		rtImport(t, db, staff, rule)
		cached := func(t *testing.T, o *canceldesk.Order) *canceldesk.Order {
			t.Helper()
			got, err := cache.Order(rtCtx(t), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		for _, o := range []*canceldesk.Order{staff, rule} {
			key := orderKey(o.ID)
			rdb.Del(rtCtx(t), key)
			t.Cleanup(func() { rdb.Del(context.Background(), key) })
			if cached(t, o).Cancelled() {
				t.Fatalf("%s is cancelled before any request", o.Name)
			}
		}

		t.Run("ApprovedByStaff", func(t *testing.T) {
			r := rqFile(t, db, rqForm("approve-staff", staff.Email))
			if _, err := db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(staff, loc.ID, rtKey(1))); err != nil {
				t.Fatal(err)
			}
			if got := cached(t, staff); !got.Cancelled() {
				t.Error("the cache shows the approved order uncancelled")
			}
		})
		t.Run("ApprovedByRule", func(t *testing.T) {
			rqRule(t, db, rqOnRule)
			if r := rqFile(t, db, rqForm("approve-rule", rule.Email)); r.Status != canceldesk.RequestApproved {
				t.Fatalf("request %+v, want approved by the rule", r)
			}
			if got := cached(t, rule); !got.Cancelled() {
				t.Error("the cache shows the auto-approved order uncancelled")
			}
		})
	})
}
