package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/internal/testenv"
)

var messageIDPattern = regexp.MustCompile(`^<outbox\.[0-9a-f]{32}@canceldesk\.local>$`)

// mtSettings names the store "Mugs & Co".
func mtSettings(t *testing.T, db *DB) {
	t.Helper()
	if err := db.SaveSettings(rtCtx(t), canceldesk.Settings{RestockOnCancel: true, StaffRefundLimit: map[string]int64{},
		StoreName: "Mugs & Co"}, "owner@example.com"); err != nil {
		t.Fatal(err)
	}
}

// mtOutbox returns the order's outbox messages, oldest first, with every
// field.
func mtOutbox(t *testing.T, db *DB, orderID int64) []canceldesk.OutboxMessage {
	t.Helper()
	ms, err := db.queryMessages(rtCtx(t), db.read, `SELECT `+messageColumns+messageFrom+`WHERE m.order_id = ? ORDER BY m.id`, orderID)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// mtEnqueue writes n messages owed now, for order (0: none), to
// n1@example.com, n2@example.com, ...; it returns their ids.
func mtEnqueue(t *testing.T, db *DB, orderID int64, n int) []int64 {
	t.Helper()
	var ids []int64
	ctx := rtCtx(t)
	for i := range n {
		err := db.tx(ctx, func(w *Tx) error {
			tx := w.Tx
			data := canceldesk.MessageData{CustomerName: fmt.Sprintf("Customer %d", i+1), OrderNumber: "#x"}
			if err := db.enqueueMessage(ctx, tx, orderID, canceldesk.MessageOrderCancelled, "", fmt.Sprintf("n%d@example.com", i+1),
				data, map[string]int{"n": i + 1}, db.Now(), nil); err != nil {
				return err
			}
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT max(id) FROM outbox`).Scan(&id)
			ids = append(ids, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func mtIDs(ms []canceldesk.OutboxMessage) []int64 {
	ids := []int64{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func mtMessage(t *testing.T, db *DB, id int64) *canceldesk.OutboxMessage {
	t.Helper()
	m, err := db.Message(rtCtx(t), id)
	if err != nil {
		t.Fatalf("Message(%d): %v", id, err)
	}
	return m
}

// 1. A cancel or refund that tells the customer writes the message,
// rendered then: the reason's template, the offer, HTML escaped, the store
// credit's code.
func TestMessagesRenderedWhenOwed(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		mtSettings(t, db)
		named := func(o *canceldesk.Order) { o.BillingAddress.Name = "Olivia <b>Bold</b> & Sons" }
		o := rtOrder("#m1", named)
		quiet := rtOrder("#m2", named)
		plain := rtOrder("#m3", named)
		credit := rtOrder("#m4", named)
		rtImport(t, db, o, quiet, plain, credit)

		req := rtCancelReq(o, 0, rtKey(1), canceldesk.RefundNow, false)
		req.Offer = canceldesk.Offer{Kind: canceldesk.OfferDiscount, Text: " SAVE10  <now> "}
		if _, err := db.CancelOrder(rtCtx(t), req); err != nil {
			t.Fatal(err)
		}
		ms := mtOutbox(t, db, o.ID)
		if len(ms) != 1 {
			t.Fatalf("%d outbox rows, want 1", len(ms))
		}
		m := ms[0]
		if m.Kind != canceldesk.MessageOrderCancelled || m.Recipient != "olivia@example.com" || m.OrderID != o.ID ||
			m.OrderName != "#m1" || m.Status != canceldesk.MessagePending || m.Attempts != 0 || m.LastError != "" ||
			!m.NextAttemptAt.Equal(rtNow) || !m.CreatedAt.Equal(rtNow) || m.SentAt != nil {
			t.Errorf("message %+v", m)
		}
		if !messageIDPattern.MatchString(m.MessageID) {
			t.Errorf("Message-ID %q", m.MessageID)
		}
		// The inventory reason's own template.
		if m.Subject != "Sorry: your order #m1 is out of stock" {
			t.Errorf("subject %q", m.Subject)
		}
		offer := "As a thank-you, here is a code for your next order: SAVE10 <now>"
		for _, want := range []string{"Hello Olivia <b>Bold</b> & Sons,", "sold out before we could ship it", "2 × Mug\n1 × Bowl",
			"We are refunding 30.50 USD to your original payment method", offer, "\n\nMugs & Co\n"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, m.Text)
			}
		}
		for _, want := range []string{"Hello Olivia &lt;b&gt;Bold&lt;/b&gt; &amp; Sons,",
			"As a thank-you, here is a code for your next order: SAVE10 &lt;now&gt;", "2 × Mug<br>\n1 × Bowl", "Mugs &amp; Co"} {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
			}
		}
		for _, bad := range []string{"<b>Bold", "<now>", "Mugs & Co"} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("HTML holds %q unescaped", bad)
			}
		}
		payload := rtString(t, db, `SELECT payload FROM outbox WHERE id = ?`, m.ID)
		var p struct {
			OrderName string `json:"order_name"`
			Reason    string `json:"reason"`
			OfferKind string `json:"offer_kind"`
			OfferText string `json:"offer_text"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil || p.OrderName != "#m1" || p.Reason != "inventory" ||
			p.OfferKind != "discount" || p.OfferText != "SAVE10 <now>" {
			t.Errorf("payload %s (%v)", payload, err)
		}
		if kinds, _ := rtEvents(t, db, o.ID); !slices.Contains(kinds, canceldesk.EventNotificationOwed) {
			t.Errorf("events %v lack notification_owed", kinds)
		}

		// Without notify: no message.
		q := rtCancelReq(quiet, 0, rtKey(2), canceldesk.RefundNow, false)
		q.NotifyCustomer = false
		if _, err := db.CancelOrder(rtCtx(t), q); err != nil {
			t.Fatal(err)
		}
		if ms := mtOutbox(t, db, quiet.ID); len(ms) != 0 {
			t.Errorf("a cancel without notify wrote %+v", ms)
		}

		// A reason without its own template gets the kind's; no offer, no
		// offer paragraph.
		s := rtCancelReq(plain, 0, rtKey(3), canceldesk.RefundLater, false)
		s.Reason = canceldesk.ReasonStaff
		if _, err := db.CancelOrder(rtCtx(t), s); err != nil {
			t.Fatal(err)
		}
		ms = mtOutbox(t, db, plain.ID)
		if len(ms) != 1 || ms[0].Subject != "Your order #m3 has been cancelled" ||
			!strings.Contains(ms[0].Text, "has been cancelled because of an error on our side.") ||
			!strings.Contains(ms[0].Text, "Your refund will follow in a separate email.") ||
			strings.Contains(ms[0].Text, "thank-you") || strings.Contains(ms[0].Text, "\n\n\n") {
			t.Errorf("staff cancel message %+v", ms)
		}
		if len(ms) == 1 && ms[0].MessageID == m.MessageID {
			t.Error("two messages share a Message-ID")
		}

		// A refund as store credit sends the code.
		rq := rtReq(credit, rtKey(4), rtLine(credit, 0, 1, canceldesk.RestockNone, 0))
		rq.Method = canceldesk.MethodStoreCredit
		res, err := db.RefundOrder(rtCtx(t), rq)
		if err != nil || res.Credit == nil {
			t.Fatalf("RefundOrder: %+v, %v", res, err)
		}
		ms = mtOutbox(t, db, credit.ID)
		if len(ms) != 1 {
			t.Fatalf("%d refund messages", len(ms))
		}
		r := ms[0]
		if r.Kind != canceldesk.MessageRefundIssued || r.Subject != "Your refund for order #m4" ||
			!messageIDPattern.MatchString(r.MessageID) || !r.NextAttemptAt.Equal(rtNow) || r.Status != canceldesk.MessagePending {
			t.Errorf("refund message %+v", r)
		}
		code := "Your store credit code: " + res.Credit.Code + " (11.00 USD). Enter it at checkout."
		if !strings.Contains(r.Text, code) || !strings.Contains(r.HTML, code) ||
			!strings.Contains(r.Text, "We have refunded 11.00 USD as store credit.") || strings.Contains(r.HTML, "<b>Bold") {
			t.Errorf("refund message lacks the credit:\n%s\n%s", r.Text, r.HTML)
		}
		if n := rtInt(t, db, `SELECT count(DISTINCT message_id) FROM outbox`); n != 3 {
			t.Errorf("%d distinct Message-IDs of 3 messages", n)
		}
	})
}

// 2. Saved templates replace the defaults and are used for the next
// message; a template with an unknown placeholder is refused.
func TestMessageTemplates(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		// English first, then each other language with the same keys.
		keys := func(ts []canceldesk.Template) []string {
			var out []string
			for _, t := range ts {
				if t.Lang == "en" {
					out = append(out, t.Key())
				}
			}
			return out
		}
		ts, err := db.Templates(rtCtx(t))
		wantKeys := []string{"order_cancelled", "order_cancelled.customer", "order_cancelled.declined", "order_cancelled.fraud",
			"order_cancelled.inventory", "refund_issued", "request_received", "request_approved", "request_declined"}
		if err != nil || !slices.Equal(keys(ts), wantKeys) {
			t.Fatalf("Templates = %v, %v; want %v", keys(ts), err, wantKeys)
		}
		for _, tpl := range ts {
			if d := canceldesk.PickTemplate(canceldesk.DefaultTemplates(), tpl.Lang, tpl.Kind, tpl.Variant); tpl != d || tpl.UpdatedBy != "" {
				t.Errorf("template %s is not the default", tpl.Key())
			}
		}

		if len(ts) != 2*len(wantKeys) || ts[len(wantKeys)].Lang != "zh-TW" {
			t.Errorf("%d templates, want %d in each of English and Chinese", len(ts), len(wantKeys))
		}
		mine := canceldesk.Template{Lang: "en", Kind: canceldesk.MessageOrderCancelled, Variant: "inventory", Subject: "Sold out: {order_number}",
			Body: "Dear {customer_name},\n\n{offer}\n\n{store_name}", UpdatedBy: "manager@example.com"}
		if err := db.SaveTemplate(rtCtx(t), mine); err != nil {
			t.Fatal(err)
		}
		staff := canceldesk.Template{Lang: "en", Kind: canceldesk.MessageOrderCancelled, Variant: "staff", Subject: "Our mistake: {order_number}",
			Body: "Sorry, {customer_name}.", UpdatedBy: "owner@example.com"}
		if err := db.SaveTemplate(rtCtx(t), staff); err != nil {
			t.Fatal(err)
		}
		ts, err = db.Templates(rtCtx(t))
		wantKeys = slices.Insert(slices.Clone(wantKeys), 5, "order_cancelled.staff")
		if err != nil || !slices.Equal(keys(ts), wantKeys) {
			t.Fatalf("Templates = %v, %v; want %v", keys(ts), err, wantKeys)
		}
		mine.UpdatedAt, staff.UpdatedAt = rtNow, rtNow
		if ts[4] != mine || ts[5] != staff {
			t.Errorf("saved templates came back as %+v, %+v", ts[4], ts[5])
		}

		// Saving again replaces it.
		later := rtNow.Add(time.Hour)
		db.Now = func() time.Time { return later }
		mine.Subject, mine.UpdatedBy = "Gone: {order_number}", "owner@example.com"
		if err := db.SaveTemplate(rtCtx(t), mine); err != nil {
			t.Fatal(err)
		}
		if ts, _ := db.Templates(rtCtx(t)); len(keys(ts)) != len(wantKeys) || ts[4].Subject != "Gone: {order_number}" ||
			ts[4].UpdatedBy != "owner@example.com" || !ts[4].UpdatedAt.Equal(later) {
			t.Errorf("after saving again: %+v", ts[4])
		}
		if n := rtInt(t, db, `SELECT count(*) FROM message_templates`); n != 2 {
			t.Errorf("%d template rows, want 2", n)
		}

		// The next message uses it.
		o := rtOrder("#t1", func(o *canceldesk.Order) { o.BillingAddress.Name = "Olivia" })
		rtImport(t, db, o)
		req := rtCancelReq(o, 0, rtKey(1), canceldesk.RefundNow, false)
		req.Offer = canceldesk.Offer{Kind: canceldesk.OfferProduct, Text: "Teapot"}
		if _, err := db.CancelOrder(rtCtx(t), req); err != nil {
			t.Fatal(err)
		}
		ms := mtOutbox(t, db, o.ID)
		if len(ms) != 1 || ms[0].Subject != "Gone: #t1" || ms[0].Text != "Dear Olivia,\n\nYou might also like: Teapot\n\nOur store\n" {
			t.Errorf("message after saving a template: %+v", ms)
		}

		// Refused: nothing saved.
		before := rtInt(t, db, `SELECT count(*) FROM message_templates`)
		bad := canceldesk.Template{Kind: canceldesk.MessageRefundIssued, Subject: "Refund", Body: "Hello {nope}", UpdatedBy: "x"}
		err = db.SaveTemplate(rtCtx(t), bad)
		var pe *canceldesk.PlaceholderError
		if !errors.As(err, &pe) || pe.Name != "nope" || pe.Field != "body" {
			t.Errorf("unknown placeholder: %#v", err)
		}
		rtCheckErr(t, "empty subject", db.SaveTemplate(rtCtx(t), canceldesk.Template{Kind: canceldesk.MessageRefundIssued,
			Subject: " ", Body: "Hello", UpdatedBy: "x"}), canceldesk.EINVALID, "subject", "validation.template_empty")
		rtCheckErr(t, "unknown kind", db.SaveTemplate(rtCtx(t), canceldesk.Template{Kind: "nope", Subject: "a", Body: "b"}),
			canceldesk.EINVALID, "", "")
		if n := rtInt(t, db, `SELECT count(*) FROM message_templates`); n != before {
			t.Errorf("refused templates were saved: %d rows, want %d", n, before)
		}
		if ts, _ := db.Templates(rtCtx(t)); ts[6].Key() != "refund_issued" || ts[6].Body != canceldesk.DefaultTemplates()[5].Body {
			t.Errorf("refund template %+v", ts[6])
		}
	})
}

// 3. A claim leases messages: a second claim gets none of them until the
// lease ends, and then nothing is lost.
func TestClaimMessages(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		o := rtOrder("#c1")
		rtImport(t, db, o)
		ids := mtEnqueue(t, db, o.ID, 3)
		lease := time.Minute

		first, err := db.ClaimMessages(rtCtx(t), 2, lease)
		if err != nil || !slices.Equal(mtIDs(first), ids[:2]) {
			t.Fatalf("first claim = %v, %v; want %v", mtIDs(first), err, ids[:2])
		}
		m := first[0]
		if m.Attempts != 1 || m.Subject != "Your order #x has been cancelled" || !strings.Contains(m.Text, "Hello Customer 1,") ||
			!strings.Contains(m.HTML, "Hello Customer 1,") || !messageIDPattern.MatchString(m.MessageID) ||
			m.OrderName != "#c1" || m.Recipient != "n1@example.com" || m.Status != canceldesk.MessagePending {
			t.Errorf("claimed %+v", m)
		}
		if until := rtInt(t, db, `SELECT claimed_until FROM outbox WHERE id = ?`, ids[0]); until != rtNow.Add(lease).UnixMicro() {
			t.Errorf("claimed_until = %d", until)
		}
		second, err := db.ClaimMessages(rtCtx(t), 10, lease)
		if err != nil || !slices.Equal(mtIDs(second), ids[2:]) {
			t.Fatalf("second claim = %v, %v; want %v", mtIDs(second), err, ids[2:])
		}
		if third, err := db.ClaimMessages(rtCtx(t), 10, lease); err != nil || len(third) != 0 {
			t.Errorf("third claim = %v, %v; want none", mtIDs(third), err)
		}
		if none, err := db.ClaimMessages(rtCtx(t), 0, lease); err != nil || len(none) != 0 {
			t.Errorf("claim of 0 = %v, %v", mtIDs(none), err)
		}

		// Just before the lease ends: still held.
		db.Now = func() time.Time { return rtNow.Add(lease - time.Microsecond) }
		if got, err := db.ClaimMessages(rtCtx(t), 10, lease); err != nil || len(got) != 0 {
			t.Errorf("claim before the lease ended = %v, %v", mtIDs(got), err)
		}
		// The worker died: when the lease ends they come back, a second
		// attempt each.
		db.Now = func() time.Time { return rtNow.Add(lease) }
		again, err := db.ClaimMessages(rtCtx(t), 10, lease)
		if err != nil || !slices.Equal(mtIDs(again), ids) {
			t.Fatalf("claim after the lease = %v, %v; want %v", mtIDs(again), err, ids)
		}
		for _, m := range again {
			if m.Attempts != 2 {
				t.Errorf("message %d: %d attempts, want 2", m.ID, m.Attempts)
			}
		}
		if n := rtInt(t, db, `SELECT count(*) FROM outbox WHERE status = 'pending'`); n != 3 {
			t.Errorf("%d pending, want 3", n)
		}
	})
}

// 4. Two app instances claiming at once never claim one message twice.
func TestClaimMessagesTwoInstances(t *testing.T) {
	dsn := testenv.PostgresSchema(t)
	dbs := []*DB{rtOpen(t, dsn), rtOpen(t, dsn)}
	const total = 50
	ctx := rtCtx(t)
	for round := range 4 {
		ids := mtEnqueue(t, dbs[0], 0, total)
		claimed := make([][]int64, len(dbs))
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make(chan error, len(dbs))
		)
		for i, db := range dbs {
			wg.Go(func() {
				<-start
				for {
					ms, err := db.ClaimMessages(ctx, 3, time.Hour)
					if err != nil {
						errs <- err
						return
					}
					if len(ms) == 0 {
						return
					}
					claimed[i] = append(claimed[i], mtIDs(ms)...)
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		all := append(slices.Clone(claimed[0]), claimed[1]...)
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		if !slices.Equal(all, ids) {
			t.Fatalf("round %d: claimed %v (instance 1: %d, instance 2: %d), want each of %v once", round, all,
				len(claimed[0]), len(claimed[1]), ids)
		}
		if n := rtInt(t, dbs[0], `SELECT count(*) FROM outbox WHERE id >= ? AND attempts <> 1`, ids[0]); n != 0 {
			t.Fatalf("round %d: %d messages claimed more than once", round, n)
		}
		t.Logf("round %d: instance 1 claimed %d, instance 2 %d", round, len(claimed[0]), len(claimed[1]))
	}
}

// A claim skips rows another instance holds locked instead of waiting.
func TestClaimMessagesSkipsLocked(t *testing.T) {
	dsn := testenv.PostgresSchema(t)
	db := rtOpen(t, dsn)
	ids := mtEnqueue(t, db, 0, 4)
	other, err := db.write.BeginTx(rtCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	if _, err := other.ExecContext(rtCtx(t), `SELECT id FROM outbox WHERE id IN ($1, $2) FOR UPDATE`, ids[0], ids[1]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(rtCtx(t), 5*time.Second)
	defer cancel()
	got, err := db.ClaimMessages(ctx, 10, time.Minute)
	if err != nil || !slices.Equal(mtIDs(got), ids[2:]) {
		t.Fatalf("claim beside locked rows = %v, %v; want %v", mtIDs(got), err, ids[2:])
	}
	other.Rollback()
	if got, err := db.ClaimMessages(rtCtx(t), 10, time.Minute); err != nil || !slices.Equal(mtIDs(got), ids[:2]) {
		t.Errorf("claim after the lock = %v, %v; want %v", mtIDs(got), err, ids[:2])
	}
}

// 5. Delivery outcomes, resending, and the Messages page.
func TestMessageDelivery(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		o := rtOrder("#d1")
		rtImport(t, db, o)
		ids := mtEnqueue(t, db, o.ID, 3)
		orphan := mtEnqueue(t, db, 0, 1)[0]
		if got, err := db.ClaimMessages(rtCtx(t), 10, time.Hour); err != nil || len(got) != 4 {
			t.Fatalf("claim = %v, %v", mtIDs(got), err)
		}
		at := rtNow.Add(10 * time.Second)
		db.Now = func() time.Time { return at }

		// Sent.
		if err := db.MarkSent(rtCtx(t), ids[0]); err != nil {
			t.Fatal(err)
		}
		m := mtMessage(t, db, ids[0])
		if m.Status != canceldesk.MessageSent || m.SentAt == nil || !m.SentAt.Equal(at) || m.LastError != "" || m.Attempts != 1 {
			t.Errorf("sent message %+v", m)
		}
		if n := rtInt(t, db, `SELECT claimed_until FROM outbox WHERE id = ?`, ids[0]); n != 0 {
			t.Errorf("a sent message keeps its claim until %d", n)
		}
		db.Now = func() time.Time { return at.Add(time.Minute) }
		if err := db.MarkSent(rtCtx(t), ids[0]); err != nil {
			t.Errorf("MarkSent again: %v", err)
		}
		if err := db.MarkFailed(rtCtx(t), ids[0], "late", nil); err != nil {
			t.Errorf("MarkFailed of a sent message: %v", err)
		}
		if m := mtMessage(t, db, ids[0]); m.Status != canceldesk.MessageSent || !m.SentAt.Equal(at) || m.LastError != "" {
			t.Errorf("a sent message changed: %+v", m)
		}
		db.Now = func() time.Time { return at }

		// Failed, to be tried again later.
		retry := at.Add(5 * time.Minute)
		if err := db.MarkFailed(rtCtx(t), ids[1], "421 try again later", &retry); err != nil {
			t.Fatal(err)
		}
		m = mtMessage(t, db, ids[1])
		if m.Status != canceldesk.MessagePending || m.LastError != "421 try again later" || !m.NextAttemptAt.Equal(retry) ||
			m.SentAt != nil || rtInt(t, db, `SELECT claimed_until FROM outbox WHERE id = ?`, ids[1]) != 0 {
			t.Errorf("retried message %+v", m)
		}
		if got, _ := db.ClaimMessages(rtCtx(t), 10, time.Second); len(got) != 0 {
			t.Errorf("claimed before its retry: %v", mtIDs(got))
		}
		db.Now = func() time.Time { return retry }
		if got, _ := db.ClaimMessages(rtCtx(t), 10, time.Second); !slices.Equal(mtIDs(got), ids[1:2]) || got[0].Attempts != 2 {
			t.Errorf("claim at its retry = %+v", got)
		}
		db.Now = func() time.Time { return at }

		// Failed for good; an error over 1000 characters is cut.
		long := strings.Repeat("é", 1200)
		if err := db.MarkFailed(rtCtx(t), ids[2], long, nil); err != nil {
			t.Fatal(err)
		}
		m = mtMessage(t, db, ids[2])
		if m.Status != canceldesk.MessageFailed || m.LastError != strings.Repeat("é", 1000) || m.SentAt != nil {
			t.Errorf("failed message %+v", m)
		}
		if err := db.MarkSent(rtCtx(t), ids[2]); err != nil {
			t.Errorf("MarkSent of a failed message: %v", err)
		}
		if m := mtMessage(t, db, ids[2]); m.Status != canceldesk.MessageFailed {
			t.Errorf("a failed message was marked sent: %+v", m)
		}
		if err := db.MarkFailed(rtCtx(t), orphan, "550 no such user", nil); err != nil {
			t.Fatal(err)
		}

		// Unknown messages.
		for what, err := range map[string]error{
			"MarkSent":      db.MarkSent(rtCtx(t), 9999),
			"MarkFailed":    db.MarkFailed(rtCtx(t), 9999, "x", nil),
			"ResendMessage": db.ResendMessage(rtCtx(t), 9999, "x"),
		} {
			if !errors.Is(err, canceldesk.ErrNotFound) {
				t.Errorf("%s of an unknown message: %v", what, err)
			}
		}
		if _, err := db.Message(rtCtx(t), 9999); !errors.Is(err, canceldesk.ErrNotFound) {
			t.Errorf("Message of an unknown id: %v", err)
		}

		// Only a failed message can be resent.
		eventsBefore := rtInt(t, db, `SELECT count(*) FROM events WHERE order_id = ?`, o.ID)
		for _, id := range ids[:2] {
			rtCheckErr(t, fmt.Sprintf("resend of message %d", id), db.ResendMessage(rtCtx(t), id, "manager@example.com"),
				canceldesk.ECONFLICT, "", "message.not_failed")
		}
		if n := rtInt(t, db, `SELECT count(*) FROM events WHERE order_id = ?`, o.ID); n != eventsBefore {
			t.Errorf("a refused resend wrote %d events", n-eventsBefore)
		}
		resendAt := at.Add(time.Hour)
		db.Now = func() time.Time { return resendAt }
		if err := db.ResendMessage(rtCtx(t), ids[2], "manager@example.com"); err != nil {
			t.Fatal(err)
		}
		m = mtMessage(t, db, ids[2])
		if m.Status != canceldesk.MessagePending || m.Attempts != 0 || m.LastError != "" || !m.NextAttemptAt.Equal(resendAt) ||
			rtInt(t, db, `SELECT claimed_until FROM outbox WHERE id = ?`, ids[2]) != 0 {
			t.Errorf("resent message %+v", m)
		}
		kinds, msgs := rtEvents(t, db, o.ID)
		if kinds[len(kinds)-1] != eventMessageResent || !slices.Equal(msgs[eventMessageResent], []string{"n3@example.com"}) ||
			rtString(t, db, `SELECT actor FROM events WHERE order_id = ? AND kind = ?`, o.ID, eventMessageResent) != "manager@example.com" {
			t.Errorf("events %v %v", kinds, msgs)
		}
		rtCheckErr(t, "resend twice", db.ResendMessage(rtCtx(t), ids[2], "x"), canceldesk.ECONFLICT, "", "message.not_failed")
		if err := db.ResendMessage(rtCtx(t), orphan, "x"); err != nil {
			t.Errorf("resend of a message without an order: %v", err)
		}
		if got, err := db.ClaimMessages(rtCtx(t), 10, time.Minute); err != nil || !slices.Equal(mtIDs(got), []int64{ids[1], ids[2], orphan}) ||
			got[1].Attempts != 1 {
			t.Errorf("claim after the resend = %+v, %v", got, err)
		}

		// The Messages page: newest first, by status.
		db.Now = func() time.Time { return resendAt.Add(time.Hour) }
		if err := db.MarkFailed(rtCtx(t), ids[1], "550 mailbox full", nil); err != nil {
			t.Fatal(err)
		}
		for status, want := range map[string][]int64{
			"":                        {orphan, ids[2], ids[1], ids[0]},
			canceldesk.MessagePending: {orphan, ids[2]},
			canceldesk.MessageSent:    {ids[0]},
			canceldesk.MessageFailed:  {ids[1]},
		} {
			for _, limit := range []int{0, -1, 501, 200} {
				got, err := db.Messages(rtCtx(t), status, limit)
				if err != nil || !slices.Equal(mtIDs(got), want) {
					t.Errorf("Messages(%q, %d) = %v, %v; want %v", status, limit, mtIDs(got), err, want)
				}
			}
		}
		if got, _ := db.Messages(rtCtx(t), "", 2); !slices.Equal(mtIDs(got), []int64{orphan, ids[2]}) {
			t.Errorf("Messages limit 2 = %v", mtIDs(got))
		}
		list, _ := db.Messages(rtCtx(t), canceldesk.MessageFailed, 10)
		if len(list) != 1 || list[0].OrderName != "#d1" || list[0].OrderID != o.ID || list[0].LastError != "550 mailbox full" ||
			list[0].Subject != "Your order #x has been cancelled" || list[0].Recipient != "n2@example.com" || list[0].Attempts != 3 {
			t.Errorf("failed list %+v", list)
		}
		if list, _ := db.Messages(rtCtx(t), "", 1); len(list) != 1 || list[0].OrderID != 0 || list[0].OrderName != "" {
			t.Errorf("a message without an order: %+v", list)
		}
		_, err := db.Messages(rtCtx(t), "bounced", 10)
		rtCheckErr(t, "unknown status", err, canceldesk.EINVALID, "", "")
		full := mtMessage(t, db, ids[0])
		if full.Text == "" || !strings.Contains(full.HTML, "<!DOCTYPE html>") || full.Subject == "" || full.SentAt == nil {
			t.Errorf("Message lacks fields: %+v", full)
		}
	})
}

func version(name string) int {
	n, _ := strconv.Atoi(name[:4])
	return n
}

// Rows written before 0005 get a Message-ID and are held as failed, not
// sent late and blank; resending one renders it then.
func TestMessagesMigration(t *testing.T) {
	for _, d := range []dialect{sqlite, postgres} {
		t.Run(string(d), func(t *testing.T) {
			var raw *sql.DB
			var dsn string
			var err error
			if d == sqlite {
				dsn = filepath.Join(t.TempDir(), "old.db")
				raw, err = sql.Open("sqlite", sqliteDSN(dsn, true))
			} else {
				dsn = testenv.PostgresSchema(t)
				raw, err = sql.Open("pgx", dsn)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			// The schema as 0004 left it, with two old messages.
			old := &DB{dialect: d}
			if _, err := raw.ExecContext(rtCtx(t), `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			entries, _ := fs.ReadDir(migrations, "migrations/"+string(d))
			for _, e := range entries {
				if e.Name() >= "0005" {
					continue
				}
				body, _ := migrations.ReadFile("migrations/" + string(d) + "/" + e.Name())
				if _, err := raw.ExecContext(rtCtx(t), string(body)); err != nil {
					t.Fatalf("%s: %v", e.Name(), err)
				}
				if _, err := raw.ExecContext(rtCtx(t), old.bind(`INSERT INTO schema_migrations VALUES (?, ?, 0)`), version(e.Name()), e.Name()); err != nil {
					t.Fatal(err)
				}
			}
			created := rtNow.Add(-time.Hour).UnixMicro()
			for _, status := range []string{"pending", "sent"} {
				if _, err := raw.ExecContext(rtCtx(t), old.bind(`INSERT INTO outbox (kind, recipient, payload, status, created_at)
					VALUES ('order_cancelled', 'a@example.com', '{}', ?, ?)`), status, created); err != nil {
					t.Fatal(err)
				}
			}

			db := rtOpen(t, dsn)
			ms, err := db.Messages(rtCtx(t), "", 10)
			if err != nil || len(ms) != 2 {
				t.Fatalf("Messages = %+v, %v", ms, err)
			}
			for _, m := range ms {
				want := canceldesk.MessageFailed
				if m.ID == 2 {
					want = canceldesk.MessageSent
				}
				if m.MessageID != fmt.Sprintf("<outbox-%d@canceldesk.invalid>", m.ID) || !m.NextAttemptAt.Equal(fromMicros(created)) ||
					m.Status != want || (want == canceldesk.MessageFailed) != (m.LastError != "") {
					t.Errorf("old message %+v", m)
				}
			}
			if got, err := db.ClaimMessages(rtCtx(t), 10, time.Minute); err != nil || len(got) != 0 {
				t.Errorf("old messages were claimed: %v, %v", mtIDs(got), err)
			}
			// New messages still get their own Message-ID and are claimed.
			id := mtEnqueue(t, db, 0, 1)[0]
			if got, err := db.ClaimMessages(rtCtx(t), 10, time.Minute); err != nil || !slices.Equal(mtIDs(got), []int64{id}) {
				t.Errorf("claim = %v, %v", mtIDs(got), err)
			}
		})
	}
}

// A message written before 0005 (payload only) is rendered when resent.
func TestResendUnrenderedMessage(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		mtSettings(t, db)
		o := rtOrder("#u1", func(o *canceldesk.Order) { o.BillingAddress.Name = "Olivia" })
		c := rtOrder("#u2", func(o *canceldesk.Order) { o.BillingAddress.Name = "Olivia" })
		rtImport(t, db, o, c)
		if _, err := db.CancelOrder(rtCtx(t), rtCancelReq(o, 0, rtKey(1), canceldesk.RefundNow, false)); err != nil {
			t.Fatal(err)
		}
		rq := rtReq(c, rtKey(2), rtLine(c, 0, 1, canceldesk.RestockNone, 0))
		rq.Method = canceldesk.MethodStoreCredit
		res, err := db.RefundOrder(rtCtx(t), rq)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(rtCtx(t), `UPDATE outbox SET subject = '', text_body = '', html_body = '', status = 'failed'`); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			order        int64
			subject, has string
		}{
			{o.ID, "Sorry: your order #u1 is out of stock", "We are refunding 30.50 USD to your original payment method"},
			{c.ID, "Your refund for order #u2", "Your store credit code: " + res.Credit.Code},
		} {
			id := mtOutbox(t, db, tc.order)[0].ID
			if err := db.ResendMessage(rtCtx(t), id, "manager@example.com"); err != nil {
				t.Fatal(err)
			}
			m := mtMessage(t, db, id)
			if m.Status != canceldesk.MessagePending || m.Subject != tc.subject || !strings.Contains(m.Text, "Hello Olivia,") ||
				!strings.Contains(m.Text, tc.has) || !strings.Contains(m.HTML, tc.has) || !strings.Contains(m.Text, "Mugs & Co") {
				t.Errorf("resent unrendered message %+v", m)
			}
		}
	})
}
