package store

import (
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
)

// TestCustomerLanguage: a customer is written to in their language, chosen
// when the message is queued: the order's locale from the import, else the
// language a request about it was filed in, else the store's default. The
// outbox records the language; a manager's template in that language is
// the one used.
func TestCustomerLanguage(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		zh := rtOrder("#L1", func(o *canceldesk.Order) { o.Locale = "zh-TW"; o.BillingAddress.Name = "林小姐" })
		plain := rtOrder("#L2")
		asked := rtOrder("#L3", rqYoung)
		asked.Email = "ask@example.com"
		rtImport(t, db, zh, plain, asked)
		if got := rtGet(t, db, zh.ID).Locale; got != "zh-TW" {
			t.Fatalf("the order's locale came back as %q", got)
		}

		// The order's own language.
		if _, err := db.CancelOrder(rtCtx(t), rtCancelReq(zh, 0, rtKey(1), canceldesk.RefundNow, false)); err != nil {
			t.Fatal(err)
		}
		ms := mtOutbox(t, db, zh.ID)
		if len(ms) != 1 || ms[0].Lang != "zh-TW" || ms[0].Subject != "很抱歉：您的訂單 #L1 商品缺貨" ||
			!strings.Contains(ms[0].Text, "林小姐 您好") || !strings.Contains(ms[0].Text, "我們將退款 30.50 USD 至您原本的付款方式") {
			t.Errorf("message to a zh-TW order: %+v", ms)
		}

		// None: the store's default, which a manager may change.
		s, _ := db.Settings(rtCtx(t))
		s.DefaultLanguage = "zh-TW"
		if err := db.SaveSettings(rtCtx(t), s, "owner@example.com"); err != nil {
			t.Fatal(err)
		}
		mine := canceldesk.Template{Lang: "zh-TW", Kind: canceldesk.MessageOrderCancelled, Variant: "inventory",
			Subject: "缺貨通知 {order_number}", Body: "{customer_name} 您好：{reason}。\n\n{refund}", UpdatedBy: "manager@example.com"}
		if err := db.SaveTemplate(rtCtx(t), mine); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CancelOrder(rtCtx(t), rtCancelReq(plain, 0, rtKey(2), canceldesk.RefundLater, false)); err != nil {
			t.Fatal(err)
		}
		ms = mtOutbox(t, db, plain.ID)
		if len(ms) != 1 || ms[0].Lang != "zh-TW" || ms[0].Subject != "缺貨通知 #L2" ||
			ms[0].Text != "顧客 您好：有商品缺貨。\n\n退款事宜將另以電子郵件通知。\n" {
			t.Errorf("message in the store's default language with the saved template: %+v", ms)
		}
		s.DefaultLanguage = "en"
		if err := db.SaveSettings(rtCtx(t), s, "owner@example.com"); err != nil {
			t.Fatal(err)
		}

		// A request filed in zh-TW: its messages, and the refund after
		// it, are in zh-TW although the store's default is English.
		f := rqForm("#L3", "ask@example.com")
		f.Locale = "zh-TW"
		r := rqFile(t, db, f)
		if r.Locale != "zh-TW" {
			t.Errorf("request locale %q", r.Locale)
		}
		if got, _ := db.Request(rtCtx(t), r.ID); got.Locale != "zh-TW" {
			t.Errorf("stored request locale %q", got.Locale)
		}
		if err := db.DeclineRequest(rtCtx(t), r.ID, "已經打包好了。", "staff@example.com"); err != nil {
			t.Fatal(err)
		}
		ms = mtOutbox(t, db, asked.ID)
		if len(ms) != 2 || ms[0].Lang != "zh-TW" || ms[0].Subject != "我們已收到您取消訂單 #L3 的申請" ||
			ms[1].Lang != "zh-TW" || ms[1].Subject != "關於您取消訂單 #L3 的申請" || !strings.Contains(ms[1].Text, "已經打包好了。") {
			t.Errorf("request messages: %+v", ms)
		}
		if _, err := db.CancelOrder(rtCtx(t), rtCancelReq(asked, 0, rtKey(3), canceldesk.RefundNow, false)); err != nil {
			t.Fatal(err)
		}
		ms = mtOutbox(t, db, asked.ID)
		if len(ms) != 3 || ms[2].Lang != "zh-TW" || !strings.Contains(ms[2].Text, "我們將退款") {
			t.Errorf("cancel after a zh-TW request: %+v", ms[len(ms)-1])
		}

		// The Messages list says the language of each.
		list, err := db.Messages(rtCtx(t), "", 10)
		if err != nil || len(list) != 5 {
			t.Fatalf("Messages: %d, %v", len(list), err)
		}
		for _, m := range list {
			if m.Lang != "zh-TW" {
				t.Errorf("listed message %q in %q", m.Subject, m.Lang)
			}
		}
	})
}
