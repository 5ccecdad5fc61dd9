package store

// Customer cancellation requests, on SQLite and PostgreSQL. The helpers
// carry an rq prefix; the rt ones come from refunds_test.go.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
)

const rqBase = "https://shop.example/r/"

// rqForm is a well-formed request for order number with email.
func rqForm(number, email string) canceldesk.RequestForm {
	return canceldesk.RequestForm{OrderNumber: number, Email: email, Reason: "changed_mind", Comment: "  Ordered the wrong size.  "}
}

// rqYoung makes the order ten minutes old at rtNow, the way a fresh order
// the rule may approve looks.
func rqYoung(o *canceldesk.Order) {
	o.CreatedAt = rtNow.Add(-10 * time.Minute)
	o.UpdatedAt = o.CreatedAt
}

// rqFresh opens an empty store of db's dialect.
func rqFresh(t *testing.T, db *DB) *DB {
	t.Helper()
	if db.dialect == postgres {
		return rtOpen(t, testenv.PostgresSchema(t))
	}
	return rtOpen(t, filepath.Join(t.TempDir(), "fresh.db"))
}

func rqFile(t *testing.T, db *DB, f canceldesk.RequestForm) *canceldesk.CancellationRequest {
	t.Helper()
	r, err := db.FileRequest(rtCtx(t), f, rqBase, nil)
	if err != nil {
		t.Fatalf("FileRequest(%+v): %v", f, err)
	}
	if r == nil {
		t.Fatalf("FileRequest(%+v) = nil, want a request", f)
	}
	return r
}

type rqMessage struct{ Kind, Recipient, Subject, Text, HTML, Payload string }

// rqOutbox lists the order's messages, oldest first.
func rqOutbox(t *testing.T, db *DB, orderID int64) []rqMessage {
	t.Helper()
	rows, err := db.read.QueryContext(rtCtx(t), db.bind(`SELECT kind, recipient, subject, text_body, html_body, payload
		FROM outbox WHERE order_id = ? ORDER BY id`), orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []rqMessage
	for rows.Next() {
		var m rqMessage
		if err := rows.Scan(&m.Kind, &m.Recipient, &m.Subject, &m.Text, &m.HTML, &m.Payload); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rqOneMessage fails unless the order has exactly one message, of kind.
func rqOneMessage(t *testing.T, db *DB, orderID int64, kind string) rqMessage {
	t.Helper()
	ms := rqOutbox(t, db, orderID)
	if len(ms) != 1 || ms[0].Kind != kind {
		var kinds []string
		for _, m := range ms {
			kinds = append(kinds, m.Kind)
		}
		t.Fatalf("order %d messages %v, want exactly one %s", orderID, kinds, kind)
	}
	return ms[0]
}

func rqRule(t *testing.T, db *DB, r canceldesk.AutoApproval) {
	t.Helper()
	if err := db.SaveAutoApproval(rtCtx(t), r, "manager@example.com"); err != nil {
		t.Fatalf("SaveAutoApproval: %v", err)
	}
}

// rqOnRule approves orders up to 50.00 USD placed within the hour, not
// tagged wholesale.
var rqOnRule = canceldesk.AutoApproval{Enabled: true, MaxAgeMinutes: 60, MaxTotal: map[string]int64{"USD": 5000},
	ExcludeTags: []string{"wholesale"}}

// rqApproveReq is the cancel dialog of a request's approval: customer
// reason, refund now, restock to loc, through the manual gateway.
func rqApproveReq(o *canceldesk.Order, loc int64, key string) canceldesk.CancelRequest {
	return canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonCustomer, ReasonLabel: "Customer changed their mind",
		Refund: canceldesk.RefundNow, Restock: loc != 0, LocationID: loc, NotifyCustomer: true, Gateway: "manual",
		IdempotencyKey: key, Actor: "staff@example.com"}
}

// 1. The store never tells whether an order exists: a wrong number or a
// wrong email writes nothing at all.
func TestRequestFileEnumeration(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		o := rtOrder("#1001", func(o *canceldesk.Order) {
			o.Email = "Olivia.Stone@Example.com"
			o.BillingAddress.Name = "Olivia Stone"
		})
		other := rtOrder("#1002")
		rtImport(t, db, o, other)
		before := rtInt(t, db, `SELECT count(*) FROM events`)

		for _, f := range []canceldesk.RequestForm{
			rqForm("#9999", "olivia.stone@example.com"),
			rqForm("1001", "someone.else@example.com"),
			rqForm("#1001", "olivia@example.com"),        // #1002's email
			rqForm("#1002", "olivia.stone@example.com"),  // #1001's email
			rqForm("100", "olivia.stone@example.com"),    // a prefix of the number
			rqForm("#1001%", "olivia.stone@example.com"), // no pattern matching
		} {
			r, err := db.FileRequest(rtCtx(t), f, rqBase, nil)
			if r != nil || err != nil {
				t.Errorf("FileRequest(%s, %s) = %+v, %v; want nil, nil", f.OrderNumber, f.Email, r, err)
			}
		}
		if n := rtInt(t, db, `SELECT count(*) FROM cancellation_requests`); n != 0 {
			t.Errorf("%d requests written for unknown orders, want 0", n)
		}
		if n := rtInt(t, db, `SELECT count(*) FROM outbox`); n != 0 {
			t.Errorf("%d messages written for unknown orders, want 0", n)
		}
		if n := rtInt(t, db, `SELECT count(*) FROM events`); n != before {
			t.Errorf("events %d → %d for unknown orders, want none added", before, n)
		}

		// A malformed form is refused before anything is looked up.
		bad := rqForm("1001", "olivia.stone@example.com")
		bad.Reason = "because"
		_, err := db.FileRequest(rtCtx(t), bad, rqBase, nil)
		rtCheckErr(t, "bad reason", err, canceldesk.EINVALID, "reason", "validation.request_reason")

		// The right number (with or without #) and email in any case.
		for i, f := range []canceldesk.RequestForm{rqForm(" 1001 ", " OLIVIA.STONE@example.COM "), rqForm("#1001", "olivia.stone@example.com")} {
			r := rqFile(t, db, f)
			if r.Status != canceldesk.RequestPending || r.OrderID != o.ID || r.OrderName != "#1001" || r.ID == 0 ||
				r.Reason != "changed_mind" || r.Comment != "Ordered the wrong size." || r.CancellationID != 0 || r.DecidedAt != nil {
				t.Errorf("request %d = %+v, want pending for #1001", i, r)
			}
			if len(r.Token) < 40 {
				t.Fatalf("request %d token %q, want a long random one", i, r.Token)
			}
			// Only the hash is stored.
			sum := sha256.Sum256([]byte(r.Token))
			if h := rtString(t, db, `SELECT token_hash FROM cancellation_requests WHERE id = ?`, r.ID); h != hex.EncodeToString(sum[:]) {
				t.Errorf("token_hash = %q, want the hex SHA-256 of the token", h)
			}
			if n := rtInt(t, db, `SELECT count(*) FROM cancellation_requests WHERE token_hash = ? OR decision = ? OR rule = ?
				OR comment = ? OR email = ?`, r.Token, r.Token, r.Token, r.Token, r.Token); n != 0 {
				t.Errorf("the plaintext token is stored in a request row")
			}
			ms := rqOutbox(t, db, o.ID)
			if len(ms) != i+1 {
				t.Fatalf("%d messages after %d requests", len(ms), i+1)
			}
			m := ms[i]
			if m.Kind != canceldesk.MessageRequestReceived || m.Recipient != o.Email {
				t.Errorf("message = %s to %s, want request_received to %s", m.Kind, m.Recipient, o.Email)
			}
			link := rqBase + r.Token
			for _, want := range []string{link, "Olivia Stone", "#1001", "Our store"} {
				if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("received message lacks %q:\n%s", want, m.Text)
				}
			}
			if strings.Contains(m.Payload, r.Token) {
				t.Errorf("the message payload holds the token: %s", m.Payload)
			}
		}
		kinds, msgs := rtEvents(t, db, o.ID)
		if n := strings.Count(strings.Join(kinds, ","), eventRequestReceived); n != 2 {
			t.Errorf("events %v, want two request_received", kinds)
		}
		if got := msgs[eventRequestReceived][0]; got != "changed_mind — Ordered the wrong size." {
			t.Errorf("received event message %q", got)
		}
		if a := rtString(t, db, `SELECT actor FROM events WHERE kind = 'request_received' ORDER BY id LIMIT 1`); a != "OLIVIA.STONE@example.COM" {
			t.Errorf("received event actor %q, want the email the customer typed", a)
		}
		if _, n, err := db.PendingRequests(rtCtx(t), 10); err != nil || n != 2 {
			t.Errorf("PendingRequests count = %d, %v; want 2", n, err)
		}
	})
}

// 2. An order cancelled already or shipped (even in part) is refused with
// a message that says why, and never reaches the queue, even with the rule
// on.
func TestRequestRefused(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		rtLocation(t, db, "Main")
		rqRule(t, db, rqOnRule)
		cancelled := rtOrder("#2001", rqYoung, func(o *canceldesk.Order) {
			at := rtNow.Add(-5 * time.Minute)
			o.CancelledAt, o.CancelReason = &at, canceldesk.ReasonStaff
		})
		full := rtOrder("#2002", rqYoung, shipped)
		partial := rtOrder("#2003", rqYoung, func(o *canceldesk.Order) {
			o.LineItems[0].FulfilledQuantity = 1
			o.FulfillmentStatus = canceldesk.FulfillmentPartial
		})
		// Shopify says fulfilled though no line says so: trust the status.
		status := rtOrder("#2004", rqYoung, func(o *canceldesk.Order) { o.FulfillmentStatus = canceldesk.FulfillmentFulfilled })
		rtImport(t, db, cancelled, full, partial, status)

		for _, c := range []struct {
			o    *canceldesk.Order
			want string
		}{
			{cancelled, "This order has already been cancelled."},
			{full, "Part or all of this order has already shipped, so it can no longer be cancelled. You can return items after they arrive: reply to this email to start a return."},
			{partial, "Part or all of this order has already shipped"},
			{status, "Part or all of this order has already shipped"},
		} {
			before := rtFootprint(t, db, c.o.ID)
			r := rqFile(t, db, rqForm(c.o.Name, c.o.Email))
			if r.Status != canceldesk.RequestRefused || !strings.HasPrefix(r.Decision, c.want) || r.DecidedAt == nil || r.CancellationID != 0 {
				t.Errorf("%s: request = %+v, want refused saying %q", c.o.Name, r, c.want)
			}
			m := rqOneMessage(t, db, c.o.ID, canceldesk.MessageRequestDeclined)
			if !strings.Contains(m.Text, c.want) || !strings.Contains(m.Text, rqBase+r.Token) {
				t.Errorf("%s: declined message lacks the reason or the link:\n%s", c.o.Name, m.Text)
			}
			// Nothing happened to the order, and no timeline for staff.
			after := rtFootprint(t, db, c.o.ID)
			after.Outbox = before.Outbox
			rtSame(t, c.o.Name+" refused", after, before)
			got, err := db.RequestByToken(rtCtx(t), r.Token)
			if err != nil || got.Status != canceldesk.RequestRefused || got.Decision != r.Decision {
				t.Errorf("%s: RequestByToken = %+v, %v", c.o.Name, got, err)
			}
		}
		rs, n, err := db.PendingRequests(rtCtx(t), 10)
		if err != nil || n != 0 || len(rs) != 0 {
			t.Errorf("PendingRequests = %d rows, %d, %v; want none queued", len(rs), n, err)
		}
	})
}

// 3. The auto-approval rule: a young, small, unshipped, low-risk order is
// cancelled at once with a full refund; any failing condition leaves the
// request to staff.
func TestRequestAutoApproval(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		zeta := rtLocation(t, db, "Zeta warehouse")
		alpha := rtLocation(t, db, "Alpha shop") // the first by name
		rqRule(t, db, rqOnRule)
		rule, err := db.AutoApproval(rtCtx(t))
		if err != nil {
			t.Fatal(err)
		}

		o := rtOrder("#3001", rqYoung, func(o *canceldesk.Order) {
			o.Tags = []string{"gift"}
			o.Risk = canceldesk.RiskMedium
		})
		rtImport(t, db, o)
		r := rqFile(t, db, rqForm("3001", o.Email))
		desc := rule.Describe("USD")
		if r.Status != canceldesk.RequestApproved || r.DecidedBy != "rule" || r.Rule != desc || r.CancellationID == 0 || r.DecidedAt == nil {
			t.Fatalf("request = %+v, want approved by the rule", r)
		}
		got := rtGet(t, db, o.ID)
		if !got.Cancelled() || got.CancelReason != canceldesk.ReasonCustomer || got.RefundedAmount != 3050 ||
			got.FinancialStatus != canceldesk.FinancialRefunded {
			t.Errorf("order after auto-approval: cancelled %v reason %s refunded %d %s; want cancelled, 30.50 refunded",
				got.Cancelled(), got.CancelReason, got.RefundedAmount, got.FinancialStatus)
		}
		refunds, err := db.Refunds(rtCtx(t), o.ID)
		if err != nil || len(refunds) != 1 || refunds[0].Amount != 3050 || refunds[0].Status != canceldesk.RefundSucceeded ||
			refunds[0].CancellationID != r.CancellationID || refunds[0].Actor != "rule" {
			t.Errorf("refunds = %+v, %v; want one full refund by the rule", refunds, err)
		}
		if m, b := rtOnHand(t, db, "MUG", alpha.ID), rtOnHand(t, db, "BOWL", alpha.ID); m != 7 || b != 6 {
			t.Errorf("Alpha stock MUG %d BOWL %d, want 7 and 6 (restocked to the first location by name)", m, b)
		}
		if m := rtOnHand(t, db, "MUG", zeta.ID); m != 5 {
			t.Errorf("Zeta MUG %d, want 5 untouched", m)
		}
		if label := rtString(t, db, `SELECT reason_label FROM cancellations WHERE id = ?`, r.CancellationID); label != "Customer request: changed mind" {
			t.Errorf("cancellation label %q", label)
		}
		kinds, msgs := rtEvents(t, db, o.ID)
		if len(msgs[eventRequestApproved]) != 1 || msgs[eventRequestApproved][0] != "within 60 min, total ≤ USD 50.00, no tag of wholesale" {
			t.Errorf("events %v %v, want request_approved naming the rule %q", kinds, msgs[eventRequestApproved], desc)
		}
		if a := rtString(t, db, `SELECT actor FROM events WHERE order_id = ? AND kind = 'request_approved'`, o.ID); a != "rule" {
			t.Errorf("approved event actor %q, want rule", a)
		}
		if len(msgs[canceldesk.EventCancelled]) != 1 || len(msgs[eventRequestReceived]) != 0 {
			t.Errorf("events %v, want one cancel and no request_received", kinds)
		}
		m := rqOneMessage(t, db, o.ID, canceldesk.MessageRequestApproved) // no order_cancelled besides
		for _, want := range []string{"We are refunding 30.50 USD to your original payment method", rqBase + r.Token, "#3001"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("approved message lacks %q:\n%s", want, m.Text)
			}
		}
		if _, n, _ := db.PendingRequests(rtCtx(t), 10); n != 0 {
			t.Errorf("%d pending after an automatic approval, want 0", n)
		}

		// Each failing condition: the request waits and nothing is cancelled.
		type cond struct {
			name  string
			mod   func(*canceldesk.Order)
			setup func()
		}
		later := func() { db.Now = func() time.Time { return rtNow.Add(2 * time.Hour) } }
		conds := []cond{
			{"too old", nil, later},
			{"just past the age", func(o *canceldesk.Order) { o.CreatedAt = rtNow.Add(-61 * time.Minute) }, nil},
			{"too much", func(o *canceldesk.Order) { o.Total, o.Subtotal = 5001, 4451 }, nil},
			{"other currency", func(o *canceldesk.Order) { o.Currency = "EUR" }, nil},
			{"risk high", func(o *canceldesk.Order) { o.Risk = canceldesk.RiskHigh }, nil},
			{"excluded tag", func(o *canceldesk.Order) { o.Tags = []string{"gift", " WholeSale "} }, nil},
			{"rule disabled", nil, func() {
				off := rqOnRule
				off.Enabled = false
				rqRule(t, db, off)
			}},
		}
		for i, c := range conds {
			t.Run(c.name, func(t *testing.T) {
				db.Now = func() time.Time { return rtNow }
				rqRule(t, db, rqOnRule)
				name := "#31" + string(rune('0'+i)) + "0"
				mods := []func(*canceldesk.Order){rqYoung}
				if c.mod != nil {
					mods = append(mods, c.mod)
				}
				o := rtOrder(name, mods...)
				rtImport(t, db, o)
				if c.setup != nil {
					c.setup()
				}
				r := rqFile(t, db, rqForm(name, o.Email))
				if r.Status != canceldesk.RequestPending || r.CancellationID != 0 || r.DecidedBy != "" || r.Rule != "" {
					t.Errorf("request = %+v, want pending", r)
				}
				if got := rtGet(t, db, o.ID); got.Cancelled() || got.RefundedAmount != 0 {
					t.Errorf("order cancelled or refunded though the rule does not hold")
				}
				rqOneMessage(t, db, o.ID, canceldesk.MessageRequestReceived)
				if n := rtInt(t, db, `SELECT count(*) FROM cancellations WHERE order_id = ?`, o.ID); n != 0 {
					t.Errorf("%d cancellations, want 0", n)
				}
			})
		}
		db.Now = func() time.Time { return rtNow }

		// No location at all: cancelled without restocking.
		t.Run("no restock without a location", func(t *testing.T) {
			fresh := rqFresh(t, db)
			rqRule(t, fresh, rqOnRule)
			o := rtOrder("#3900", rqYoung)
			rtImport(t, fresh, o)
			r := rqFile(t, fresh, rqForm("3900", o.Email))
			if r.Status != canceldesk.RequestApproved {
				t.Fatalf("request = %+v, want approved", r)
			}
			if n := rtInt(t, fresh, `SELECT count(*) FROM inventory_movements WHERE order_id = ?`, o.ID); n != 0 {
				t.Errorf("%d movements, want none", n)
			}
			if restock := rtInt(t, fresh, `SELECT count(*) FROM cancellations WHERE id = ? AND location_id IS NULL`, r.CancellationID); restock != 1 {
				t.Errorf("cancellation has a location, want none")
			}
		})
	})
}

// 4. Two staff deciding one request at once: one decision, the order
// cancelled once.
func TestRequestApproveRace(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		loc := rtLocation(t, db, "Main")
		for round := range 4 {
			name := "#40" + string(rune('0'+round)) + "0"
			o := rtOrder(name)
			rtImport(t, db, o)
			r := rqFile(t, db, rqForm(name, o.Email))
			errs := make([]error, 2)
			results := make([]*canceldesk.CancelResult, 2)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() {
					results[i], errs[i] = db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(o, loc.ID, rtKey(round*10+i)))
				})
			}
			wg.Wait()
			won := -1
			for i, err := range errs {
				if err == nil {
					if won >= 0 {
						t.Fatalf("round %d: both approvals succeeded", round)
					}
					won = i
					continue
				}
				rtCheckErr(t, "the losing approval", err, canceldesk.ECONFLICT, "", "request.decided")
			}
			if won < 0 {
				t.Fatalf("round %d: no approval succeeded: %v", round, errs)
			}
			got, err := db.Request(rtCtx(t), r.ID)
			if err != nil || got.Status != canceldesk.RequestApproved || got.DecidedBy != "staff@example.com" ||
				got.CancellationID != results[won].CancellationID || got.DecidedAt == nil {
				t.Errorf("round %d: request = %+v, %v", round, got, err)
			}
			if n := rtInt(t, db, `SELECT count(*) FROM cancellations WHERE order_id = ?`, o.ID); n != 1 {
				t.Errorf("round %d: %d cancellations, want 1", round, n)
			}
			if n := rtInt(t, db, `SELECT count(*) FROM refunds WHERE order_id = ?`, o.ID); n != 1 {
				t.Errorf("round %d: %d refunds, want 1", round, n)
			}
			if o := rtGet(t, db, o.ID); o.RefundedAmount != 3050 {
				t.Errorf("round %d: refunded %d, want 3050", round, o.RefundedAmount)
			}
			// The approval tells the customer; the cancel's own message is off.
			m := rqOutbox(t, db, o.ID)
			if len(m) != 2 || m[0].Kind != canceldesk.MessageRequestReceived || m[1].Kind != canceldesk.MessageRequestApproved {
				t.Errorf("round %d: messages %+v, want received then approved", round, m)
			} else if !strings.Contains(m[1].Text, "We are refunding 30.50 USD") {
				t.Errorf("round %d: approved message:\n%s", round, m[1].Text)
			}
			_, msgs := rtEvents(t, db, o.ID)
			if len(msgs[eventRequestApproved]) != 1 || len(msgs[canceldesk.EventNotificationOwed]) != 0 {
				t.Errorf("round %d: events %v", round, msgs)
			}
		}

		// Approve against decline: one decision, and only its effects.
		for round := range 4 {
			name := "#41" + string(rune('0'+round)) + "0"
			o := rtOrder(name)
			rtImport(t, db, o)
			r := rqFile(t, db, rqForm(name, o.Email))
			var approveErr, declineErr error
			var wg sync.WaitGroup
			wg.Go(func() {
				_, approveErr = db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(o, loc.ID, rtKey(100+round)))
			})
			wg.Go(func() {
				declineErr = db.DeclineRequest(rtCtx(t), r.ID, "Sorry, it is packed already.", "other@example.com")
			})
			wg.Wait()
			got, err := db.Request(rtCtx(t), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			cancels := rtInt(t, db, `SELECT count(*) FROM cancellations WHERE order_id = ?`, o.ID)
			ms := rqOutbox(t, db, o.ID)
			switch {
			case approveErr == nil && declineErr != nil:
				rtCheckErr(t, "decline after approve", declineErr, canceldesk.ECONFLICT, "", "request.decided")
				if got.Status != canceldesk.RequestApproved || cancels != 1 || len(ms) != 2 || ms[1].Kind != canceldesk.MessageRequestApproved {
					t.Errorf("round %d: approve won but request %s, %d cancels, %d messages", round, got.Status, cancels, len(ms))
				}
			case declineErr == nil && approveErr != nil:
				rtCheckErr(t, "approve after decline", approveErr, canceldesk.ECONFLICT, "", "request.decided")
				if got.Status != canceldesk.RequestDeclined || cancels != 0 || rtGet(t, db, o.ID).Cancelled() ||
					len(ms) != 2 || ms[1].Kind != canceldesk.MessageRequestDeclined {
					t.Errorf("round %d: decline won but request %s, %d cancels, %d messages", round, got.Status, cancels, len(ms))
				}
			default:
				t.Errorf("round %d: approve %v, decline %v; want exactly one to succeed", round, approveErr, declineErr)
			}
		}

		// The same dialog submitted twice replays the first approval.
		o := rtOrder("#4200")
		rtImport(t, db, o)
		r := rqFile(t, db, rqForm("4200", o.Email))
		first, err := db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(o, loc.ID, rtKey(200)))
		if err != nil || first.Replayed {
			t.Fatalf("first approval: %+v, %v", first, err)
		}
		again, err := db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(o, loc.ID, rtKey(200)))
		if err != nil || !again.Replayed || again.CancellationID != first.CancellationID {
			t.Errorf("the same dialog again: %+v, %v; want the first approval replayed", again, err)
		}
		if n := len(rqOutbox(t, db, o.ID)); n != 2 {
			t.Errorf("%d messages after a replay, want 2", n)
		}

		// A cancel that fails (shipped meanwhile) writes nothing.
		o = rtOrder("#4300")
		rtImport(t, db, o)
		r = rqFile(t, db, rqForm("4300", o.Email))
		if _, err := db.write.ExecContext(rtCtx(t), db.bind(`UPDATE line_items SET fulfilled_quantity = quantity WHERE order_id = ?`), o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(rtCtx(t), db.bind(`UPDATE orders SET fulfillment_status = 'fulfilled' WHERE id = ?`), o.ID); err != nil {
			t.Fatal(err)
		}
		before := rtFootprint(t, db, o.ID)
		_, err = db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(o, loc.ID, rtKey(300)))
		rtCheckErr(t, "approving a shipped order", err, canceldesk.ECONFLICT, "", canceldesk.BlockedFulfilled)
		rtSame(t, "failed approval", rtFootprint(t, db, o.ID), before)
		if got, _ := db.Request(rtCtx(t), r.ID); got.Status != canceldesk.RequestPending {
			t.Errorf("request %s after a failed approval, want pending", got.Status)
		}

		// The dialog of another order, or a bad one, is refused.
		other := rtOrder("#4400")
		rtImport(t, db, other)
		_, err = db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(other, loc.ID, rtKey(400)))
		rtCheckErr(t, "another order's dialog", err, canceldesk.EINVALID, "", "")
		_, err = db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(o, loc.ID, "short"))
		rtCheckErr(t, "short key", err, canceldesk.EINVALID, "key", "validation.idempotency_key")
		if rtGet(t, db, other.ID).Cancelled() {
			t.Errorf("another order was cancelled")
		}
		if _, err := db.ApproveRequest(rtCtx(t), 999999, rqApproveReq(o, loc.ID, rtKey(401))); !errors.Is(err, canceldesk.ErrNotFound) {
			t.Errorf("unknown request: %v, want ErrNotFound", err)
		}
	})
}

// 5. Declining: the message is checked, the customer gets the store's
// words, and a request is decided once.
func TestRequestDecline(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		o := rtOrder("#5001", func(o *canceldesk.Order) { o.ShippingAddress.Name = "Sam Lee" })
		rtImport(t, db, o)
		r := rqFile(t, db, rqForm("5001", o.Email))
		before := rtFootprint(t, db, o.ID)
		for _, msg := range []string{"", "   \n ", strings.Repeat("é", canceldesk.MaxDeclineMessageLen+1)} {
			err := db.DeclineRequest(rtCtx(t), r.ID, msg, "staff@example.com")
			rtCheckErr(t, "message of "+string(rune('0'+len(msg)%10)), err, canceldesk.EINVALID, "message", "validation.decline_message")
		}
		rtSame(t, "invalid declines", rtFootprint(t, db, o.ID), before)

		words := "We have packed it already. <b>Return</b> it for a full refund once it arrives."
		if err := db.DeclineRequest(rtCtx(t), r.ID, "  "+words+"\n", "staff@example.com"); err != nil {
			t.Fatalf("DeclineRequest: %v", err)
		}
		got, err := db.Request(rtCtx(t), r.ID)
		if err != nil || got.Status != canceldesk.RequestDeclined || got.Decision != words || got.DecidedBy != "staff@example.com" ||
			got.DecidedAt == nil || !got.DecidedAt.Equal(rtNow) {
			t.Errorf("request = %+v, %v; want declined with the message", got, err)
		}
		ms := rqOutbox(t, db, o.ID)
		if len(ms) != 2 || ms[1].Kind != canceldesk.MessageRequestDeclined {
			t.Fatalf("messages %+v, want received then declined", ms)
		}
		if !strings.Contains(ms[1].Text, words) || !strings.Contains(ms[1].Text, "Sam Lee") ||
			!strings.Contains(ms[1].HTML, "&lt;b&gt;Return&lt;/b&gt;") {
			t.Errorf("declined message lacks the store's words:\n%s\n%s", ms[1].Text, ms[1].HTML)
		}
		_, msgs := rtEvents(t, db, o.ID)
		if len(msgs[eventRequestDeclined]) != 1 || msgs[eventRequestDeclined][0] != words {
			t.Errorf("declined events %v", msgs[eventRequestDeclined])
		}
		if rtGet(t, db, o.ID).Cancelled() {
			t.Errorf("a declined request cancelled the order")
		}

		// Decided already: a second decision changes nothing.
		after := rtFootprint(t, db, o.ID)
		rtCheckErr(t, "declined twice", db.DeclineRequest(rtCtx(t), r.ID, "Again.", "other@example.com"),
			canceldesk.ECONFLICT, "", "request.decided")
		_, err = db.ApproveRequest(rtCtx(t), r.ID, rqApproveReq(o, 0, rtKey(1)))
		rtCheckErr(t, "approved after a decline", err, canceldesk.ECONFLICT, "", "request.decided")
		rtSame(t, "second decision", rtFootprint(t, db, o.ID), after)
		if got, _ := db.Request(rtCtx(t), r.ID); got.Decision != words || got.DecidedBy != "staff@example.com" {
			t.Errorf("decision changed: %+v", got)
		}
		if err := db.DeclineRequest(rtCtx(t), 999999, "Sorry.", "staff@example.com"); !errors.Is(err, canceldesk.ErrNotFound) {
			t.Errorf("unknown request: %v, want ErrNotFound", err)
		}

		// A refused request is decided too.
		s := rtOrder("#5002", shipped)
		rtImport(t, db, s)
		refused := rqFile(t, db, rqForm("5002", s.Email))
		rtCheckErr(t, "declining a refused request", db.DeclineRequest(rtCtx(t), refused.ID, "No.", "staff@example.com"),
			canceldesk.ECONFLICT, "", "request.decided")
	})
}

// 6. The queue, oldest first, with its count; the status link finds its
// request and nothing else does.
func TestRequestQueueAndToken(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		var filed []*canceldesk.CancellationRequest
		// Filed newest order first, so the queue's order is the filing's.
		for i, name := range []string{"#6003", "#6001", "#6002"} {
			o := rtOrder(name)
			rtImport(t, db, o)
			db.Now = func() time.Time { return rtNow.Add(time.Duration(i) * time.Minute) }
			filed = append(filed, rqFile(t, db, rqForm(name, o.Email)))
		}
		// Two filed in the same microsecond come out by id.
		o := rtOrder("#6000")
		rtImport(t, db, o)
		filed = append(filed, rqFile(t, db, rqForm("6000", o.Email)))
		db.Now = func() time.Time { return rtNow }

		rs, n, err := db.PendingRequests(rtCtx(t), 10)
		if err != nil || n != 4 || len(rs) != 4 {
			t.Fatalf("PendingRequests = %d rows, %d, %v; want 4", len(rs), n, err)
		}
		for i, r := range rs {
			if r.ID != filed[i].ID || r.OrderName != filed[i].OrderName || r.Token != "" {
				t.Errorf("queue[%d] = %s (id %d, token %q), want %s", i, r.OrderName, r.ID, r.Token, filed[i].OrderName)
			}
		}
		rs, n, err = db.PendingRequests(rtCtx(t), 2)
		if err != nil || n != 4 || len(rs) != 2 || rs[0].ID != filed[0].ID || rs[1].ID != filed[1].ID {
			t.Errorf("PendingRequests(2) = %d rows, %d, %v; want the oldest 2 and a count of 4", len(rs), n, err)
		}
		if rs, n, err := db.PendingRequests(rtCtx(t), 0); err != nil || n != 4 || len(rs) != 0 {
			t.Errorf("PendingRequests(0) = %d rows, %d, %v; want only the count", len(rs), n, err)
		}
		if err := db.DeclineRequest(rtCtx(t), filed[1].ID, "Sorry.", "staff@example.com"); err != nil {
			t.Fatal(err)
		}
		rs, n, err = db.PendingRequests(rtCtx(t), 10)
		if err != nil || n != 3 || len(rs) != 3 || rs[1].ID != filed[2].ID {
			t.Errorf("after a decline: %d rows, %d, %v; want 3 without it", len(rs), n, err)
		}

		for _, f := range filed {
			got, err := db.RequestByToken(rtCtx(t), f.Token)
			if err != nil || got.ID != f.ID || got.OrderName != f.OrderName || got.Token != "" {
				t.Errorf("RequestByToken(%s's token) = %+v, %v", f.OrderName, got, err)
			}
			byID, err := db.Request(rtCtx(t), f.ID)
			if err != nil || byID.Email != f.Email || byID.Reason != f.Reason || !byID.CreatedAt.Equal(f.CreatedAt) {
				t.Errorf("Request(%d) = %+v, %v; want %+v", f.ID, byID, err, f)
			}
		}
		for _, bad := range []string{"", "not-a-token", filed[0].Token + "x", strings.ToUpper(filed[0].Token),
			rtString(t, db, `SELECT token_hash FROM cancellation_requests WHERE id = ?`, filed[0].ID)} {
			if _, err := db.RequestByToken(rtCtx(t), bad); !errors.Is(err, canceldesk.ErrNotFound) {
				t.Errorf("RequestByToken(%q) = %v, want ErrNotFound", bad, err)
			}
		}
		if _, err := db.Request(rtCtx(t), 999999); !errors.Is(err, canceldesk.ErrNotFound) {
			t.Errorf("Request(unknown) = %v, want ErrNotFound", err)
		}
	})
}

// The rule's settings: the default, validation beside each field, and a
// round trip.
func TestAutoApprovalSettings(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		r, err := db.AutoApproval(rtCtx(t))
		if err != nil || r.Enabled || r.MaxAgeMinutes != 60 || len(r.MaxTotal) != 0 || len(r.ExcludeTags) != 0 {
			t.Errorf("default rule = %+v, %v; want disabled, 60 minutes, no totals", r, err)
		}
		many := make([]string, 21)
		for i := range many {
			many[i] = "tag" + string(rune('a'+i))
		}
		for _, c := range []struct {
			rule       canceldesk.AutoApproval
			field, key string
		}{
			{canceldesk.AutoApproval{MaxAgeMinutes: 0}, "max_age", "validation.minutes"},
			{canceldesk.AutoApproval{MaxAgeMinutes: 10081}, "max_age", "validation.minutes"},
			{canceldesk.AutoApproval{MaxAgeMinutes: 30, MaxTotal: map[string]int64{"USD": 0}}, "max_total_USD", "validation.amount"},
			{canceldesk.AutoApproval{MaxAgeMinutes: 30, MaxTotal: map[string]int64{"EUR": -5}}, "max_total_EUR", "validation.amount"},
			{canceldesk.AutoApproval{MaxAgeMinutes: 30, MaxTotal: map[string]int64{"usd": 100}}, "max_total_usd", ""},
			{canceldesk.AutoApproval{MaxAgeMinutes: 30, ExcludeTags: many}, "exclude_tags", ""},
		} {
			err := db.SaveAutoApproval(rtCtx(t), c.rule, "manager@example.com")
			rtCheckErr(t, c.field, err, canceldesk.EINVALID, c.field, c.key)
		}
		if n := rtInt(t, db, `SELECT count(*) FROM settings`); n != 0 {
			t.Errorf("%d settings rows after invalid saves, want 0", n)
		}

		want := canceldesk.AutoApproval{Enabled: true, MaxAgeMinutes: 10080, MaxTotal: map[string]int64{"USD": 5000, "TWD": 150000},
			ExcludeTags: []string{"  wholesale ", "", "VIP", "vip", " "}}
		want.ExcludeTags = append(want.ExcludeTags, many[:18]...)
		rqRule(t, db, want)
		got, err := db.AutoApproval(rtCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		tags := append([]string{"wholesale", "VIP"}, many[:18]...)
		if !got.Enabled || got.MaxAgeMinutes != 10080 || len(got.MaxTotal) != 2 || got.MaxTotal["USD"] != 5000 ||
			got.MaxTotal["TWD"] != 150000 || strings.Join(got.ExcludeTags, ",") != strings.Join(tags, ",") {
			t.Errorf("saved rule = %+v, want %+v with tags %v", got, want, tags)
		}
		if a := rtString(t, db, `SELECT actor FROM settings WHERE key = 'auto_approval'`); a != "manager@example.com" {
			t.Errorf("actor %q", a)
		}
		// The store's settings are a different row, untouched.
		s, err := db.Settings(rtCtx(t))
		if err != nil || s.StoreName != canceldesk.DefaultSettings().StoreName {
			t.Errorf("Settings = %+v, %v", s, err)
		}
		rqRule(t, db, canceldesk.AutoApproval{MaxAgeMinutes: 5})
		if got, _ := db.AutoApproval(rtCtx(t)); got.Enabled || got.MaxAgeMinutes != 5 || len(got.MaxTotal) != 0 || len(got.ExcludeTags) != 0 {
			t.Errorf("rule after saving it off = %+v", got)
		}
	})
}
