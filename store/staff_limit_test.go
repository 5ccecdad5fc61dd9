package store

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

// slStaff and slOther are two staff members; slManager is above the limit.
const (
	slStaff   = "staff@example.com"
	slOther   = "other@example.com"
	slManager = "manager@example.com"
)

// slLimit sets the staff refund limit to US$10.00.
func slLimit(t *testing.T, db *DB) {
	t.Helper()
	if err := db.SaveSettings(rtCtx(t), canceldesk.Settings{RestockOnCancel: false,
		StaffRefundLimit: map[string]int64{"USD": 1000}, StoreName: "Mugs"}, "owner@example.com"); err != nil {
		t.Fatal(err)
	}
}

// slPins is a paid, unshipped order of n pins at US$3.00, no tax, no
// shipping.
func slPins(name string, n int) *canceldesk.Order {
	return rtOrder(name, func(o *canceldesk.Order) {
		o.LineItems = []canceldesk.LineItem{{Name: "Pin", SKU: "PIN", Quantity: n, Price: 300}}
		o.Subtotal, o.Taxes, o.Shipping, o.Total = int64(n)*300, 0, 0, int64(n)*300
	})
}

// slPin refunds one pin of o as actor, with role, through gateway.
func slPin(o *canceldesk.Order, key int, actor string, role canceldesk.Role, gateway string) canceldesk.RefundRequest {
	req := rtReq(o, rtKey(key), rtLine(o, 0, 1, canceldesk.RestockNone, 0))
	req.Actor, req.ActorRole, req.Gateway, req.NotifyCustomer = actor, role, gateway, false
	return req
}

func slCancel(o *canceldesk.Order, key string, refund canceldesk.RefundChoice, actor string, role canceldesk.Role) canceldesk.CancelRequest {
	req := rtCancelReq(o, 0, key, refund, false)
	req.Actor, req.ActorRole = actor, role
	return req
}

// TestStaffLimitCancel: a cancel refunding now is held to the limit, with
// what this staff member refunded on the order before; refund later is
// not, nor is a manager.
func TestStaffLimitCancel(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		slLimit(t, db)
		o, later, part, mgr := rtOrder("#sl1"), rtOrder("#sl2"), rtOrder("#sl3"), rtOrder("#sl4")
		rtImport(t, db, o, later, part, mgr)

		before := rtFootprint(t, db, o.ID)
		_, err := db.CancelOrder(rtCtx(t), slCancel(o, "sl-cancel-key-0001", canceldesk.RefundNow, slStaff, canceldesk.RoleStaff))
		rtCheckErr(t, "staff refunding US$30.50 now", err, canceldesk.EFORBIDDEN, "refund", "refund.needs_manager")
		rtSame(t, "a refused cancel", rtFootprint(t, db, o.ID), before)

		// No role is no authority.
		_, err = db.CancelOrder(rtCtx(t), slCancel(o, "sl-cancel-key-0002", canceldesk.RefundNow, slStaff, ""))
		rtCheckErr(t, "a cancel without a role", err, canceldesk.EFORBIDDEN, "refund", "refund.needs_manager")

		if res, err := db.CancelOrder(rtCtx(t), slCancel(later, "sl-cancel-key-0003", canceldesk.RefundLater, slStaff,
			canceldesk.RoleStaff)); err != nil || res.Refund != nil {
			t.Errorf("staff cancelling with refund later: %+v, %v", res, err)
		}

		// US$5.50 refunded first leaves US$4.50 under the limit: the
		// remaining US$25.00 is over it, even on its own.
		if _, err := db.RefundOrder(rtCtx(t), rtReq(part, rtKey(1), rtLine(part, 1, 1, canceldesk.RestockNone, 0))); err != nil {
			t.Fatal(err)
		}
		_, err = db.CancelOrder(rtCtx(t), slCancel(part, "sl-cancel-key-0004", canceldesk.RefundNow, slStaff, canceldesk.RoleStaff))
		rtCheckErr(t, "staff refunding the rest now", err, canceldesk.EFORBIDDEN, "refund", "refund.needs_manager")

		if res, err := db.CancelOrder(rtCtx(t), slCancel(mgr, "sl-cancel-key-0005", canceldesk.RefundNow, slManager,
			canceldesk.RoleManager)); err != nil || res.Refund == nil || res.Refund.Amount != 3050 {
			t.Errorf("manager refunding now: %+v, %v", res, err)
		}
	})
}

// TestStaffLimitAddsUp: five small refunds in a row stop at the limit;
// another member's, a manager's and failed refunds are not counted, and a
// retried refund counts as a new one.
func TestStaffLimitAddsUp(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		slLimit(t, db)
		o := slPins("#sl10", 20)
		rtImport(t, db, o)
		for i := 1; i <= 5; i++ {
			_, err := db.RefundOrder(rtCtx(t), slPin(o, i, slStaff, canceldesk.RoleStaff, "manual"))
			if i <= 3 && err != nil {
				t.Errorf("refund %d of US$3.00: %v", i, err)
			}
			if i > 3 {
				rtCheckErr(t, fmt.Sprintf("refund %d of US$3.00", i), err, canceldesk.EFORBIDDEN, "total", "refund.needs_manager")
			}
		}
		if got := rtGet(t, db, o.ID).RefundedAmount; got != 900 {
			t.Errorf("refunded %d, want 900", got)
		}
		for i, who := range []struct {
			actor string
			role  canceldesk.Role
		}{{slOther, canceldesk.RoleStaff}, {slManager, canceldesk.RoleManager}} {
			if _, err := db.RefundOrder(rtCtx(t), slPin(o, 10+i, who.actor, who.role, "manual")); err != nil {
				t.Errorf("%s: %v", who.actor, err)
			}
		}

		// A failed refund moved nothing; sending it again moves money.
		f := slPins("#sl11", 20)
		rtImport(t, db, f)
		failed, err := db.RefundOrder(rtCtx(t), slPin(f, 20, slStaff, canceldesk.RoleStaff, "stripe"))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SettleRefund(rtCtx(t), failed.Refund.ID, canceldesk.RefundFailed, "", "card_declined"); err != nil {
			t.Fatal(err)
		}
		for i := 21; i <= 23; i++ {
			if _, err := db.RefundOrder(rtCtx(t), slPin(f, i, slStaff, canceldesk.RoleStaff, "manual")); err != nil {
				t.Errorf("refund %d after a failed one: %v", i, err)
			}
		}
		_, err = db.RetryRefund(rtCtx(t), failed.Refund.ID, slStaff, canceldesk.RoleStaff)
		rtCheckErr(t, "staff retrying past the limit", err, canceldesk.EFORBIDDEN, "", "refund.needs_manager")
		if rf, err := db.RetryRefund(rtCtx(t), failed.Refund.ID, slManager, canceldesk.RoleManager); err != nil ||
			rf.Status != canceldesk.RefundPending {
			t.Errorf("manager retrying: %+v, %v", rf, err)
		}
	})
}

// TestStaffLimitRace: 20 parallel US$3.00 refunds by one staff member on
// one order, with a US$10.00 limit, refund at most US$9.00.
func TestStaffLimitRace(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		slLimit(t, db)
		o := slPins("#sl20", 20)
		rtImport(t, db, o)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		ctx := rtCtx(t)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.RefundOrder(ctx, slPin(o, 100+i, slStaff, canceldesk.RoleStaff, "manual"))
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch canceldesk.ErrorCode(err) {
			case "":
				ok++
			case canceldesk.EFORBIDDEN:
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		refunded := rtInt(t, db, `SELECT coalesce(sum(amount), 0) FROM refunds WHERE order_id = ? AND actor = ?`, o.ID, slStaff)
		if refunded > 900 || rtGet(t, db, o.ID).RefundedAmount != refunded || ok != 3 {
			t.Errorf("%d refunds passed, US$%d.%02d refunded; want 3 and at most US$9.00", ok, refunded/100, refunded%100)
		}
	})
}

// TestStaffLimitRequests: staff approving a request over their limit are
// refused and the request stays pending; a manager may approve it. The
// auto-approval rule is not held to the limit, and the timeline says so.
func TestStaffLimitRequests(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		slLimit(t, db)
		o := rtOrder("#sl30")
		auto := rtOrder("#sl31", func(o *canceldesk.Order) { o.CreatedAt, o.UpdatedAt = rtNow.Add(-5*time.Minute), rtNow })
		rtImport(t, db, o, auto)
		form := canceldesk.RequestForm{OrderNumber: o.Name, Email: o.Email, Reason: "changed_mind"}
		r, err := db.FileRequest(rtCtx(t), form, "https://shop.test/r/", nil)
		if err != nil || r.Status != canceldesk.RequestPending {
			t.Fatalf("FileRequest: %+v, %v", r, err)
		}
		before := rtFootprint(t, db, o.ID)
		_, err = db.ApproveRequest(rtCtx(t), r.ID, slCancel(o, "sl-approve-key-0001", canceldesk.RefundNow, slStaff, canceldesk.RoleStaff))
		rtCheckErr(t, "staff approving US$30.50", err, canceldesk.EFORBIDDEN, "refund", "refund.needs_manager")
		rtSame(t, "a refused approval", rtFootprint(t, db, o.ID), before)
		if got, err := db.Request(rtCtx(t), r.ID); err != nil || got.Status != canceldesk.RequestPending {
			t.Errorf("after a refused approval: %+v, %v", got, err)
		}
		if res, err := db.ApproveRequest(rtCtx(t), r.ID, slCancel(o, "sl-approve-key-0002", canceldesk.RefundNow, slManager,
			canceldesk.RoleManager)); err != nil || res.Refund == nil || res.Refund.Amount != 3050 {
			t.Errorf("manager approving: %+v, %v", res, err)
		}

		if err := db.SaveAutoApproval(rtCtx(t), canceldesk.AutoApproval{Enabled: true, MaxAgeMinutes: 60,
			MaxTotal: map[string]int64{"USD": 100000}}, "manager@example.com"); err != nil {
			t.Fatal(err)
		}
		form.OrderNumber = auto.Name
		r, err = db.FileRequest(rtCtx(t), form, "https://shop.test/r/", nil)
		if err != nil || r.Status != canceldesk.RequestApproved {
			t.Fatalf("auto-approval: %+v, %v", r, err)
		}
		if got := rtGet(t, db, auto.ID).RefundedAmount; got != 3050 {
			t.Errorf("auto-approval refunded %d, want 3050", got)
		}
		_, msgs := rtEvents(t, db, auto.ID)
		if m := msgs[eventRequestApproved]; len(m) != 1 || !strings.Contains(m[0], "without the staff refund limit (USD 10.00)") {
			t.Errorf("approval timeline %q: it must say the staff limit did not apply", m)
		}
	})
}
