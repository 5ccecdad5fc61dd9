package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/handlers"
	"github.com/canceldesk/canceldesk/i18n"
)

// fullEventData sets every field a timeline entry can carry, so each
// kind's renderer uses all of its keys.
func fullEventData() canceldesk.EventData {
	return canceldesk.EventData{Amount: 1250, Currency: "USD", RefundID: 7, RefundKind: canceldesk.RefundKindRefund,
		Status: canceldesk.RefundPending, Gateway: "stripe", Error: "card_declined", CreditCode: "CD-1234",
		Items: []canceldesk.EventItem{{Label: "MUG", Quantity: 2}, {Label: "BOWL", Quantity: 1}}, Location: "Main",
		Reason: string(canceldesk.ReasonInventory), ReasonOption: "out_of_stock", Note: "note", Order: "#4000-R1",
		RuleMinutes: 30, RuleTotal: 5000, RuleTags: []string{"vip"}, Limit: 2000, Recipient: "o@example.com",
		WaitsForRefund: true}
}

// TestTimelineEveryKindRendersInBothLanguages: every kind the store writes
// renders from the catalogues in English and in Chinese, with no missing
// message and no English left in the Chinese.
func TestTimelineEveryKindRendersInBothLanguages(t *testing.T) {
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	en, zh := bundle.Localizer("en", time.UTC), bundle.Localizer("zh-TW", time.UTC)
	for _, kind := range canceldesk.EventKinds {
		if !bundle.HasKey("event." + kind) {
			t.Errorf("event.%s is missing from a catalogue", kind)
		}
		for _, data := range []canceldesk.EventData{{}, fullEventData()} {
			if kind == canceldesk.EventRequestReceived && data.Reason != "" {
				data.Reason = "changed_mind" // a customer's reason
			}
			e := canceldesk.Event{Kind: kind, Data: data}
			got := map[string]string{"en": handlers.EventText(en, e), "zh-TW": handlers.EventText(zh, e)}
			for lang, text := range got {
				if text == "" || strings.Contains(text, "⟦") || strings.Contains(text, "<no value>") {
					t.Errorf("%s in %s = %q", kind, lang, text)
				}
			}
			if got["en"] == got["zh-TW"] {
				t.Errorf("%s reads the same in both languages: %q", kind, got["en"])
			}
			for _, w := range []string{"Refund", "refund", "Items", "Re-created", "store credit", "via ", "to o@", "Customer", "Pending"} {
				if strings.Contains(got["zh-TW"], w) {
					t.Errorf("%s in zh-TW holds English %q: %q", kind, w, got["zh-TW"])
				}
			}
		}
	}
	// The catalogues hold every detail key the renderer uses.
	for _, k := range bundle.Keys("en") {
		if strings.HasPrefix(k, "event.") && !bundle.HasKey(k) {
			t.Errorf("%s is missing from a catalogue", k)
		}
	}
	// Money is in the reader's format; a held message says it waits.
	e := canceldesk.Event{Kind: canceldesk.EventRefund, Data: fullEventData()}
	if got := handlers.EventText(en, e); !strings.Contains(got, "$12.50") {
		t.Errorf("en refund = %q", got)
	}
	held := canceldesk.Event{Kind: canceldesk.EventNotificationOwed, Data: canceldesk.EventData{Recipient: "o@example.com", WaitsForRefund: true, RefundID: 7}}
	if got := handlers.EventText(en, held); strings.Contains(got, "queued") || !strings.Contains(got, "waits for the refund") {
		t.Errorf("held notification = %q", got)
	}
	// A row from before the data: its message as written.
	legacy := canceldesk.Event{Kind: canceldesk.EventRefund, Message: "USD 1.00 · manual · succeeded"}
	if got := handlers.EventText(zh, legacy); !strings.HasSuffix(got, " · USD 1.00 · manual · succeeded") {
		t.Errorf("legacy entry = %q", got)
	}
}

// TestTimelineInChinese: a zh-TW reader sees a cancel, its refund and
// restock and the re-create in Chinese, with the re-created order linked
// by its name, and an old row's message as it was written.
func TestTimelineInChinese(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t)
	loc := a.location(t, "Main Warehouse")
	orders := a.seed(t, 1)
	o := orders[0]
	staff := a.signedIn(t, canceldesk.RoleStaff)
	if _, err := a.db.CancelOrder(ctx, canceldesk.CancelRequest{OrderID: o.ID, Reason: canceldesk.ReasonInventory,
		ReasonKey: "out_of_stock", Refund: canceldesk.RefundNow, Restock: true, LocationID: loc.ID, StaffNote: "Supplier late",
		NotifyCustomer: true, IdempotencyKey: "timeline-zh-00001", Actor: testEmails[canceldesk.RoleStaff]}); err != nil {
		t.Fatal(err)
	}
	n, err := a.db.RecreateOrder(ctx, o.ID, testEmails[canceldesk.RoleStaff])
	if err != nil {
		t.Fatal(err)
	}
	_, doc := staff.get(t, fmt.Sprintf("/orders/%d?lang=zh-TW", o.ID))
	text := doc.Find(".timeline").Text()
	for _, want := range []string{"已取消訂單", "商品缺貨", "已退款", "US$10.00", "商品已補回庫存", "補回「Main Warehouse」",
		"已重新建立為 " + n.Name, "Supplier late"} {
		if !strings.Contains(text, want) {
			t.Errorf("zh-TW timeline lacks %q:\n%s", want, text)
		}
	}
	for _, english := range []string{"Order cancelled", "Refund issued", "Items restocked", "Re-created as", "queued"} {
		if strings.Contains(text, english) {
			t.Errorf("zh-TW timeline holds %q:\n%s", english, text)
		}
	}
	if href, _ := doc.Find(".timeline a").Filter(":contains('" + n.Name + "')").Attr("href"); href != fmt.Sprintf("/orders/%d", n.ID) {
		t.Errorf("re-created link = %q, want /orders/%d", href, n.ID)
	}
	if href, _ := doc.Find(`.timeline a[href^="#refund-"]`).Attr("href"); href == "" || doc.Find(href).Length() != 1 {
		t.Errorf("refund link %q does not reach a refund row", href)
	}
	_, doc = staff.get(t, fmt.Sprintf("/orders/%d?lang=zh-TW", n.ID))
	if text := doc.Find(".timeline").Text(); !strings.Contains(text, "由 "+o.Name+" 重新建立") {
		t.Errorf("new order's timeline:\n%s", text)
	}
}
