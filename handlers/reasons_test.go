package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/canceldesk/canceldesk"
)

// dialogReasons lists the cancel dialog's reasons of order id: value →
// label, in order.
func dialogReasons(t *testing.T, c *client, id int64, lang string) ([]string, map[string]string) {
	t.Helper()
	res, doc := c.get(t, fmt.Sprintf("/orders/%d/cancel?lang=%s", id, lang))
	if res.StatusCode != 200 {
		t.Fatalf("dialog: %d", res.StatusCode)
	}
	var keys []string
	labels := map[string]string{}
	doc.Find("select#reason option").Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		keys = append(keys, v)
		labels[v] = strings.TrimSpace(s.Text())
	})
	return keys, labels
}

func reasonForm(en, zh, code string) url.Values {
	return url.Values{"label_en": {en}, "label_zh-TW": {zh}, "code": {code}}
}

func TestReasonsOnSettings(t *testing.T) {
	a := newTestApp(t)
	orders := a.seed(t, 3)
	manager := a.signedIn(t, canceldesk.RoleManager)

	// Rename: the dialog shows the new label in both languages.
	if res, doc := manager.post(t, "/settings/reasons/out_of_stock", reasonForm("Sold out", "已售完", "inventory")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d %q", res.StatusCode, doc.Find(".field-error").Text())
	}
	for lang, want := range map[string]string{"en": "Sold out", "zh-TW": "已售完"} {
		if _, labels := dialogReasons(t, manager, orders[0].ID, lang); labels["out_of_stock"] != want {
			t.Errorf("%s dialog: out_of_stock reads %q, want %q", lang, labels["out_of_stock"], want)
		}
	}

	// A bad label comes back beside its field; nothing changes.
	// The row keeps what was typed.
	res, doc := manager.post(t, "/settings/reasons/out_of_stock", reasonForm("", "空", "fraud"))
	if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(doc.Find("#reason-out_of_stock-en-error").Text()) == "" {
		t.Errorf("empty label: %d, error %q", res.StatusCode, doc.Find("#reason-out_of_stock-en-error").Text())
	}
	if zh, code := doc.Find("#reason-out_of_stock-zh").AttrOr("value", ""), doc.Find("#reason-out_of_stock-code option[selected]").AttrOr("value", ""); zh != "空" || code != "fraud" {
		t.Errorf("empty label: the row lost what was typed: zh %q, code %q", zh, code)
	}
	res, doc = manager.post(t, "/settings/reasons/out_of_stock", reasonForm("Gone", "", "bogus"))
	if res.StatusCode != http.StatusBadRequest || strings.TrimSpace(doc.Find("#reason-out_of_stock-code-error").Text()) == "" ||
		doc.Find("#reason-out_of_stock-en").AttrOr("value", "") != "Gone" {
		t.Errorf("unknown code: %d, error %q", res.StatusCode, doc.Find("#reason-out_of_stock-code-error").Text())
	}
	long := strings.Repeat("x", 61)
	res, doc = manager.post(t, "/settings/reasons", reasonForm(long, "長", "other"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find("#new-reason-en-error").Text(), "60") {
		t.Errorf("long label: %d, error %q", res.StatusCode, doc.Find("#new-reason-en-error").Text())
	}
	if en, zh := doc.Find("#new-reason-en").AttrOr("value", ""), doc.Find("#new-reason-zh").AttrOr("value", ""); en != long || zh != "長" {
		t.Errorf("long label: the new reason's form lost what was typed: %q, %q", en, zh)
	}
	if _, labels := dialogReasons(t, manager, orders[0].ID, "zh-TW"); labels["out_of_stock"] != "已售完" || len(labels) != 7 {
		t.Errorf("refused edits changed the reasons: %v", labels)
	}

	// Add and move up: the new reason is offered where it was moved.
	if res, _ := manager.post(t, "/settings/reasons", reasonForm("Address unreachable", "", "other")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", res.StatusCode)
	}
	if res, _ := manager.post(t, "/settings/reasons/address_unreachable/move", url.Values{"dir": {"up"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("move: %d", res.StatusCode)
	}
	keys, labels := dialogReasons(t, manager, orders[0].ID, "zh-TW")
	if len(keys) != 8 || keys[6] != "address_unreachable" || keys[7] != "other" || labels["address_unreachable"] != "Address unreachable" {
		t.Errorf("after adding and moving up: %v %v", keys, labels)
	}

	// Cancel with a reason, then retire it: gone from the dialog, the old
	// cancel's timeline still names it.
	form := cancelFormOf(t, manager, orders[1].ID)
	form.Set("reason", "out_of_stock")
	form.Del("restock")
	if res, doc := manager.post(t, fmt.Sprintf("/orders/%d/cancel", orders[1].ID), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d %q", res.StatusCode, doc.Find(".field-error").Text())
	}
	if res, _ := manager.post(t, "/settings/reasons/out_of_stock/retire", url.Values{"retired": {"1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("retire: %d", res.StatusCode)
	}
	if _, labels := dialogReasons(t, manager, orders[0].ID, "en"); labels["out_of_stock"] != "" {
		t.Errorf("a retired reason is still offered: %v", labels)
	}
	for lang, want := range map[string]string{"en": "Sold out", "zh-TW": "已售完"} {
		_, doc := manager.get(t, fmt.Sprintf("/orders/%d?lang=%s", orders[1].ID, lang))
		if got := doc.Find(".timeline").Text(); !strings.Contains(got, want) {
			t.Errorf("%s timeline of the old cancel lacks %q: %q", lang, want, got)
		}
	}
	// A dialog drawn before the reason was retired is refused beside the field.
	manager.get(t, "/settings?lang=en") // the language is chosen on a GET
	form = cancelFormOf(t, manager, orders[0].ID)
	form.Set("reason", "out_of_stock")
	res, doc = manager.post(t, fmt.Sprintf("/orders/%d/cancel", orders[0].ID), form)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find("#reason-error").Text(), "retired") {
		t.Errorf("retired reason submitted: %d, error %q", res.StatusCode, doc.Find("#reason-error").Text())
	}
	if o, _ := a.db.Order(t.Context(), orders[0].ID); o.CancelledAt != nil {
		t.Error("the order was cancelled with a retired reason")
	}

	// Restore brings it back; Settings lists retired ones with Restore.
	_, doc = manager.get(t, "/settings")
	if doc.Find("#reason-out_of_stock.retired").Length() != 1 || doc.Find("#reasons tbody tr").Length() != 8 {
		t.Errorf("settings card: %d rows, retired row %d", doc.Find("#reasons tbody tr").Length(), doc.Find("#reason-out_of_stock.retired").Length())
	}
	manager.post(t, "/settings/reasons/out_of_stock/retire", url.Values{})
	if _, labels := dialogReasons(t, manager, orders[0].ID, "en"); labels["out_of_stock"] != "Sold out" {
		t.Errorf("restored reason: %v", labels)
	}
}

// Staff cannot edit reasons, and every edit checks the CSRF token.
func TestReasonsStaffAndCSRF(t *testing.T) {
	a := newTestApp(t)
	staff := a.signedIn(t, canceldesk.RoleStaff)
	for _, path := range []string{"/settings/reasons", "/settings/reasons/other", "/settings/reasons/other/move", "/settings/reasons/other/retire"} {
		if res, _ := staff.post(t, path, reasonForm("Hacked", "", "other")); res.StatusCode != http.StatusForbidden {
			t.Errorf("staff POST %s: %d, want 403", path, res.StatusCode)
		}
	}
	owner := a.signedIn(t, canceldesk.RoleOwner)
	form := reasonForm("Hacked", "", "other")
	form.Set("_csrf", "wrong")
	if res, _ := owner.post(t, "/settings/reasons/other", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", res.StatusCode)
	}
	list, err := a.db.Reasons(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := canceldesk.FindReason(list, "other"); r.Label("en") != "Other" || len(list) != len(canceldesk.DefaultReasons) {
		t.Errorf("reasons changed: %+v", list)
	}
	if res, _ := owner.post(t, "/settings/reasons/other", reasonForm("Something else", "", "other")); res.StatusCode != http.StatusSeeOther {
		t.Errorf("owner edit: %d", res.StatusCode)
	}
}
