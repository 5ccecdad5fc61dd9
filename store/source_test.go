package store

// Where a cancel came from: stored on the cancellation when it is made,
// and read back by the rollups and the export, on SQLite and PostgreSQL.

import (
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

func TestCancelSourceStored(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		at := rtNow.Add(-time.Hour)
		staff, bulk, approved, auto := rtOrder("#s1"), rtOrder("#s2"), rtOrder("#s3"), rtOrder("#s4", rqYoung)
		imported := rtOrder("#s5", func(o *canceldesk.Order) { o.CancelledAt, o.CancelReason = &at, canceldesk.ReasonFraud })
		rtImport(t, db, staff, bulk, approved, auto, imported)

		// Staff, from the dialog (no source given).
		if _, err := db.CancelOrder(rtCtx(t), rtCancelReq(staff, loc.ID, rtKey(1), canceldesk.RefundLater, false)); err != nil {
			t.Fatalf("staff cancel: %v", err)
		}
		// Bulk: the list's bulk cancel says so.
		req := rtCancelReq(bulk, loc.ID, rtKey(2), canceldesk.RefundLater, false)
		req.Source = canceldesk.SourceBulk
		if _, err := db.CancelOrder(rtCtx(t), req); err != nil {
			t.Fatalf("bulk cancel: %v", err)
		}
		// Staff approval of a customer's request.
		r := rqFile(t, db, rqForm("s3", approved.Email))
		if r.Status != canceldesk.RequestPending {
			t.Fatalf("request = %+v, want pending", r)
		}
		if _, err := db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(approved, loc.ID, rtKey(3))); err != nil {
			t.Fatalf("ApproveRequest: %v", err)
		}
		// The auto-approval rule.
		rqRule(t, db, rqOnRule)
		if r := rqFile(t, db, rqForm("s4", auto.Email)); r.Status != canceldesk.RequestApproved {
			t.Fatalf("request = %+v, want approved by the rule", r)
		}

		want := map[int64]string{staff.ID: canceldesk.SourceStaff, bulk.ID: canceldesk.SourceBulk,
			approved.ID: canceldesk.SourceCustomerRequest, auto.ID: canceldesk.SourceAutoApproved}
		for id, src := range want {
			if got := rtString(t, db, `SELECT source FROM cancellations WHERE order_id = ?`, id); got != src {
				t.Errorf("order %d: cancellations.source = %q, want %q", id, got, src)
			}
		}
		want[imported.ID] = canceldesk.SourceImport

		rows := exportAll(t, db, time.Time{}.Add(time.Hour), time.Now().Add(24*time.Hour))
		if len(rows) != len(want) {
			t.Fatalf("export has %d rows, want %d", len(rows), len(want))
		}
		for _, row := range rows {
			if row.Source != want[row.OrderID] {
				t.Errorf("export order %s: source %q, want %q", row.Order, row.Source, want[row.OrderID])
			}
		}

		// The rollups count one cancel per source.
		for _, src := range []string{canceldesk.SourceStaff, canceldesk.SourceBulk, canceldesk.SourceCustomerRequest,
			canceldesk.SourceAutoApproved, canceldesk.SourceImport} {
			if n := rtInt(t, db, `SELECT coalesce(sum(cancelled_count), 0) FROM order_stats_hourly WHERE source = ?`, src); n != 1 {
				t.Errorf("rollups: %d cancels from %s, want 1", n, src)
			}
		}
	})
}

// TestCancelSourceRefused: a source no cancel can carry is refused before
// anything is written; the column refuses one too.
func TestCancelSourceRefused(t *testing.T) {
	req := canceldesk.CancelRequest{OrderID: 1, Reason: canceldesk.ReasonInventory, Refund: canceldesk.RefundLater,
		IdempotencyKey: rtKey(1), Actor: "staff@example.com", Source: canceldesk.SourceImport}
	if err := req.Validate(); err == nil {
		t.Errorf("Validate with source %q = nil, want an error", req.Source)
	}
	rtEach(t, func(t *testing.T, db *DB) {
		o := rtOrder("#s9")
		rtImport(t, db, o)
		_, err := db.write.ExecContext(rtCtx(t), db.bind(`INSERT INTO cancellations (order_id, reason, refund_choice, restock,
			notify, idempotency_key, actor, source, created_at) VALUES (?, 'other', 'later', false, false, 'k-1234567890123456', 'x', 'rumour', 0)`), o.ID)
		if err == nil {
			t.Errorf("a cancellation with source 'rumour' was stored")
		}
	})
}

// TestCancelSourceBackfill: migration 0016's rule, run on rows stored the
// way cancels were before it, gives each its old inferred source.
func TestCancelSourceBackfill(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		orders := []*canceldesk.Order{rtOrder("#b1"), rtOrder("#b2"), rtOrder("#b3"), rtOrder("#b4")}
		rtImport(t, db, orders...)
		rows := []struct{ key, actor, want string }{
			{"dialog-key-0000000001", "staff@example.com", canceldesk.SourceStaff},
			{"approval:dialog-key-0000000002", "staff@example.com", canceldesk.SourceCustomerRequest},
			{"request:0123456789abcdef0123456789abcdef", "rule", canceldesk.SourceAutoApproved},
			{"dialog-key-0000000004", "rule", canceldesk.SourceAutoApproved},
		}
		for i, r := range rows {
			if _, err := db.write.ExecContext(rtCtx(t), db.bind(`INSERT INTO cancellations (order_id, reason, refund_choice, restock,
				notify, idempotency_key, actor, source, created_at) VALUES (?, 'other', 'later', false, false, ?, ?, 'bulk', 0)`),
				orders[i].ID, r.key, r.actor); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.write.ExecContext(rtCtx(t), migrationBackfill(t, db)); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if got := rtString(t, db, `SELECT source FROM cancellations WHERE order_id = ?`, orders[i].ID); got != r.want {
				t.Errorf("key %q actor %q: source %q, want %q", r.key, r.actor, got, r.want)
			}
		}
	})
}

// migrationBackfill is migration 0016's UPDATE of db's dialect.
func migrationBackfill(t *testing.T, db *DB) string {
	t.Helper()
	body, err := migrations.ReadFile("migrations/" + string(db.dialect) + "/0016_cancel_source.sql")
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	i := strings.Index(s, "UPDATE cancellations")
	if i < 0 {
		t.Fatal("migration 0016 has no UPDATE")
	}
	return s[i:]
}
