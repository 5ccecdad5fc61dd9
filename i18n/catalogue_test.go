package i18n

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// rawCatalogue reads one embedded catalogue as id → message, where a
// message is either a string or a map of plural forms.
func rawCatalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	buf, err := fs.ReadFile(localesFS, "locales/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

func missingFrom(a, b map[string]any) []string {
	var out []string
	for id := range a {
		if _, ok := b[id]; !ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Every message exists in every language.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	en, zh := rawCatalogue(t, "en"), rawCatalogue(t, "zh-TW")
	if m := missingFrom(en, zh); len(m) > 0 {
		t.Errorf("missing from zh-TW.json (%d): %s", len(m), strings.Join(m, ", "))
	}
	if m := missingFrom(zh, en); len(m) > 0 {
		t.Errorf("missing from en.json (%d): %s", len(m), strings.Join(m, ", "))
	}
}

// A plural message is plural in both languages, with the forms each needs.
func TestPluralForms(t *testing.T) {
	need := map[string][]string{"en": {"one", "other"}, "zh-TW": {"other"}}
	cats := map[string]map[string]any{"en": rawCatalogue(t, "en"), "zh-TW": rawCatalogue(t, "zh-TW")}
	for lang, cat := range cats {
		for id, msg := range cat {
			forms, plural := msg.(map[string]any)
			if !plural {
				if _, ok := msg.(string); !ok {
					t.Errorf("%s %s: a message is a string or an object of plural forms, not %T", lang, id, msg)
				}
				continue
			}
			for _, f := range need[lang] {
				if _, ok := forms[f]; !ok {
					t.Errorf("%s %s: plural form %q missing", lang, id, f)
				}
			}
			for other, oc := range cats {
				if _, ok := oc[id].(map[string]any); !ok && oc[id] != nil {
					t.Errorf("%s is plural in %s but not in %s", id, lang, other)
				}
			}
		}
	}
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(msg any) []string {
	var text string
	switch m := msg.(type) {
	case string:
		text = m
	case map[string]any:
		for _, v := range m {
			if s, ok := v.(string); ok {
				text += s
			}
		}
	}
	set := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		set[m[1]] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A translation uses the same template data as the English message, and
// every message renders in every language.
func TestPlaceholdersAgree(t *testing.T) {
	en, zh := rawCatalogue(t, "en"), rawCatalogue(t, "zh-TW")
	for id, msg := range en {
		if zmsg, ok := zh[id]; ok && !slices.Equal(placeholders(msg), placeholders(zmsg)) {
			t.Errorf("%s: en uses %v, zh-TW uses %v", id, placeholders(msg), placeholders(zmsg))
		}
	}
	b := mustBundle(t)
	for _, lang := range b.Languages() {
		l := b.Localizer(lang.Tag, nil)
		for _, id := range b.Keys(lang.Tag) {
			data := map[string]any{}
			for _, p := range placeholders(en[id]) {
				data[p] = "X"
			}
			for _, got := range []string{l.T(id, data), l.N(id, 1, data), l.N(id, 2, data)} {
				if got == "" || strings.Contains(got, "⟦") || strings.Contains(got, "<no value>") || strings.Contains(got, "{{") {
					t.Errorf("%s %s renders as %q", lang.Tag, id, got)
				}
			}
		}
	}
}

func TestDuplicateKeysAreRejected(t *testing.T) {
	if _, err := catalogueKeys([]byte(`{"a": "x", "b": "y", "a": "z"}`)); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("duplicate id: err = %v", err)
	}
	ids, err := catalogueKeys([]byte(`{"a": "x", "b": {"one": "1", "other": "n"}}`))
	if err != nil || !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("ids = %v, %v", ids, err)
	}
	if _, err := catalogueKeys([]byte(`["a"]`)); err == nil {
		t.Error("an array is not a catalogue")
	}
}

// The messages the views, handlers and domain errors are built on exist.
func TestRequiredKeys(t *testing.T) {
	b := mustBundle(t)
	required := strings.Fields(`
		app.name nav.label nav.orders nav.import nav.signed_in_as nav.skip
		orders.title orders.search_label orders.search_placeholder
		orders.filter.status orders.filter.status.all orders.filter.status.open orders.filter.status.cancelled
		orders.filter.financial orders.filter.fulfillment orders.filter.any orders.filter.from orders.filter.to
		orders.filter.apply orders.filter.clear
		orders.col.order orders.col.date orders.col.customer orders.col.total orders.col.payment
		orders.col.fulfillment orders.col.items orders.count orders.items orders.showing
		orders.empty.title orders.empty.body orders.empty.none_title orders.empty.none_body orders.empty.fix_filters
		orders.pages orders.next orders.first orders.cancelled_badge orders.cancelled_reason
		order.title order.back order.items order.col.product order.col.sku order.col.quantity order.col.price
		order.col.total order.col.fulfilled order.subtotal order.shipping order.taxes order.discounts order.total
		order.refunded order.net order.paid_by order.customer order.contact order.shipping_address
		order.billing_address order.no_address order.tags order.no_tags order.risk order.source order.notes
		order.timeline order.timeline_empty order.cancelled_banner order.cancel_reason order.refund_status
		order.placed order.placed_from order.stock order.stock_at order.more_actions
		status.financial.pending status.financial.authorized status.financial.paid status.financial.partially_paid
		status.financial.partially_refunded status.financial.refunded status.financial.voided
		status.fulfillment.unfulfilled status.fulfillment.partial status.fulfillment.fulfilled
		status.risk.low status.risk.medium status.risk.high status.cancelled
		reason.customer reason.declined reason.fraud reason.inventory reason.staff reason.other
		event.imported event.created event.cancelled
		import.title import.intro import.file_label import.submit import.result import.result_title
		import.errors_title import.error_row import.no_file import.too_large
		error.not_found.title error.not_found.body error.bad_request.title error.internal.title
		error.internal.body error.back_home error.forbidden.title error.forbidden.body
		error.unavailable.title error.unavailable.body error.too_large.title error.too_large.body
		error.too_large.form error.not_text
		validation.q_too_long validation.q_invalid validation.status validation.financial
		validation.fulfillment validation.date_format validation.date_order validation.cursor
		lang.switch common.search common.clear`)
	for _, id := range required {
		if !b.HasKey(id) {
			t.Errorf("catalogues lack %s", id)
		}
	}
}
