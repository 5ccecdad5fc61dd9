package i18n

import (
	"bytes"
	"html/template"
	"math"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/canceldesk/canceldesk"
)

func mustBundle(t *testing.T) *Bundle {
	t.Helper()
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func taipei(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		// No tzdata on this machine: Taipei has been UTC+8 without DST since 1979.
		loc = time.FixedZone("Asia/Taipei", 8*3600)
	}
	return loc
}

func TestLanguages(t *testing.T) {
	b := mustBundle(t)
	want := []Language{{"en", "English"}, {"zh-TW", "繁體中文"}}
	if got := b.Languages(); !reflect.DeepEqual(got, want) {
		t.Errorf("Languages() = %v", got)
	}
	b.Languages()[0].Name = "changed"
	if b.Languages()[0].Name != "English" {
		t.Error("Languages() shares its slice")
	}
}

func TestMatch(t *testing.T) {
	b := mustBundle(t)
	cases := []struct {
		accept    string
		preferred []string
		want      string
	}{
		{"", nil, "en"},
		{"en-US,en;q=0.9", nil, "en"},
		{"zh-TW,zh;q=0.9,en;q=0.8", nil, "zh-TW"},
		{"zh", nil, "zh-TW"},
		{"zh-Hant", nil, "zh-TW"},
		{"zh-Hant-TW", nil, "zh-TW"},
		{"zh-HK", nil, "zh-TW"},
		{"zh-CN,zh;q=0.9", nil, "zh-TW"},
		{"ZH-tw", nil, "zh-TW"},
		{"fr-FR,fr;q=0.9", nil, "en"},
		{"fr-FR, zh;q=0.5", nil, "zh-TW"},
		{"en;q=0.3, zh-TW;q=0.8", nil, "zh-TW"},
		{"zh-TW;q=0, en", nil, "en"},
		{"ja, *;q=0.1", nil, "en"},
		{"!!garbage!!, zh-TW", nil, "zh-TW"},
		{";;;,,,", nil, "en"},
		{"zh-TW", []string{"en"}, "en"},
		{"en", []string{"zh-TW"}, "zh-TW"},
		{"en", []string{"zh-tw"}, "zh-TW"},
		{"en", []string{"", "zh-TW"}, "zh-TW"},
		{"zh-TW", []string{""}, "zh-TW"},
		{"zh-TW", []string{"fr"}, "zh-TW"},
		{"zh-TW", []string{"bogus!!"}, "zh-TW"},
		{"", []string{"zh-Hant"}, "zh-TW"},
		{"zh-TW", []string{"en-GB"}, "en"},
	}
	for _, c := range cases {
		if got := b.Match(c.accept, c.preferred...); got != c.want {
			t.Errorf("Match(%q, %q) = %q, want %q", c.accept, c.preferred, got, c.want)
		}
	}
}

func TestLocalizerBasics(t *testing.T) {
	b := mustBundle(t)
	en := b.Localizer("en", nil)
	if en.Lang() != "en" || en.Location() != time.UTC {
		t.Errorf("en: %q %v", en.Lang(), en.Location())
	}
	if l := b.Localizer("fr", nil); l.Lang() != "en" {
		t.Errorf("unsupported language → %q", l.Lang())
	}
	if l := b.Localizer("zh-Hant", nil); l.Lang() != "zh-TW" {
		t.Errorf("zh-Hant → %q", l.Lang())
	}
	zh := b.Localizer("zh-TW", taipei(t))
	checks := []struct{ got, want string }{
		{en.T("orders.title"), "Orders"},
		{zh.T("orders.title"), "訂單"},
		{zh.T("nav.import"), "匯入"},
		{en.T("no.such.key"), "⟦no.such.key⟧"},
		{zh.T("no.such.key"), "⟦no.such.key⟧"},
		{en.T("order.title", "Name", "#1001"), "Order #1001"},
		{zh.T("order.title", "Name", "#1001"), "訂單 #1001"},
		{en.T("orders.showing", "From", 1001, "To", 1050), "Showing 1,001–1,050"},
		{en.T("import.error_row", "Row", 4, "Reason", "bad quantity"), "Row 4: bad quantity"},
		{zh.T("import.error_row", "Row", 4, "Reason", "bad quantity"), "第 4 列：bad quantity"},
		{en.T("import.result", "Orders", 1280, "Lines", 3, "Cancelled", 0, "Present", int64(2), "Skipped", uint(1)),
			"Orders imported: 1,280 · Line items: 3 · Cancelled orders: 0 · Already present: 2 · Rows skipped: 1"},
		{en.T("order.paid_by", map[string]any{"Method": "Visa"}), "Payment method: Visa"},
		{en.T("order.paid_by", "Method"), "Payment method: "},            // key without value
		{en.T("order.paid_by", 7, "Visa"), "Payment method: <no value>"}, // a non-string key does not panic
		{en.T("orders.title", "Unused", 1), "Orders"},
		{en.Status("financial", "paid"), "Paid"},
		{zh.Status("financial", "partially_refunded"), "部分退款"},
		{zh.Status("fulfillment", "unfulfilled"), "未出貨"},
		{zh.Status("risk", "high"), "高風險"},
		{en.Status("risk", ""), ""},
		{en.Status("financial", "bogus"), "⟦status.financial.bogus⟧"},
		{en.T("reason.inventory"), "Item out of stock"},
		{en.T("event.imported"), "Imported from a Shopify export"},
		{en.T("error.not_found.title"), "Page not found"},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("%d: got %q, want %q", i, c.got, c.want)
		}
	}
}

func TestN(t *testing.T) {
	b := mustBundle(t)
	en, zh := b.Localizer("en", nil), b.Localizer("zh-TW", nil)
	checks := []struct{ got, want string }{
		{en.N("orders.count", 0), "0 orders"},
		{en.N("orders.count", 1), "1 order"},
		{en.N("orders.count", 2), "2 orders"},
		{en.N("orders.count", 1280), "1,280 orders"},
		{en.N("orders.count", 1234567), "1,234,567 orders"},
		{zh.N("orders.count", 1), "1 筆訂單"},
		{zh.N("orders.count", 1280), "1,280 筆訂單"},
		{en.N("orders.items", 1), "1 item"},
		{en.N("orders.items", 3), "3 items"},
		{zh.N("orders.items", 3), "3 件商品"},
		{en.N("orders.count", -1), "-1 order"},
		{en.N("nope", 2), "⟦nope⟧"},
		{en.N("orders.title", 2), "Orders"}, // not plural: N still works
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("%d: got %q, want %q", i, c.got, c.want)
		}
	}
}

// A message missing from one language falls back to English.
func TestFallbackToEnglish(t *testing.T) {
	fsys := fstest.MapFS{
		"locales/en.json":    {Data: []byte(`{"a": "Hello {{.Name}}", "n": {"one": "{{.Count}} cat", "other": "{{.Count}} cats"}}`)},
		"locales/zh-TW.json": {Data: []byte(`{"b": "只有中文"}`)},
	}
	b, err := newBundle(fsys)
	if err != nil {
		t.Fatal(err)
	}
	zh := b.Localizer("zh-TW", nil)
	if got := zh.T("a", "Name", "Ann"); got != "Hello Ann" {
		t.Errorf("fallback T = %q", got)
	}
	if got := zh.N("n", 1280); got != "1,280 cats" {
		t.Errorf("fallback N = %q", got)
	}
	if got := b.Localizer("en", nil).T("b"); got != "⟦b⟧" {
		t.Errorf("zh-only key in en = %q", got)
	}
	if b.HasKey("a") || b.HasKey("b") {
		t.Error("HasKey requires every language")
	}
	if got := b.Keys("en"); !reflect.DeepEqual(got, []string{"a", "n"}) {
		t.Errorf("Keys = %v", got)
	}
	if b.Keys("fr") != nil {
		t.Error("Keys of an unsupported language")
	}
}

func TestNewRejectsBrokenCatalogues(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"missing file": {"locales/en.json": {Data: []byte(`{}`)}},
		"bad json":     {"locales/en.json": {Data: []byte(`{`)}, "locales/zh-TW.json": {Data: []byte(`{}`)}},
		"duplicate":    {"locales/en.json": {Data: []byte(`{"a":"1","a":"2"}`)}, "locales/zh-TW.json": {Data: []byte(`{}`)}},
	} {
		if _, err := newBundle(fsys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestHasKey(t *testing.T) {
	b := mustBundle(t)
	if !b.HasKey("orders.title") || !b.HasKey("orders.count") || b.HasKey("orders") || b.HasKey("") {
		t.Error("HasKey")
	}
}

func TestMoney(t *testing.T) {
	b := mustBundle(t)
	for _, lang := range []string{"en", "zh-TW"} {
		l := b.Localizer(lang, nil)
		checks := []struct {
			amount int64
			cur    string
			want   string
		}{
			{1280, "USD", "US$12.80"},
			{0, "USD", "US$0.00"},
			{5, "USD", "US$0.05"},
			{-1280, "USD", "-US$12.80"},
			{123456789, "USD", "US$1,234,567.89"},
			{1280, "usd", "US$12.80"},
			{128000, "TWD", "NT$1,280"},
			{128050, "TWD", "NT$1,280.50"},
			{128005, "TWD", "NT$1,280.05"},
			{-128000, "TWD", "-NT$1,280"},
			{0, "TWD", "NT$0"},
			{1280, "JPY", "¥1,280"},
			{1280, "EUR", "€12.80"},
			{1280, "GBP", "£12.80"},
			{1280, "SGD", "SGD\u00a012.80"},
			{1280, "XYZ", "XYZ\u00a012.80"},
			{1280, "", "12.80"},
			{math.MinInt64, "USD", "-US$92,233,720,368,547,758.08"},
			{math.MaxInt64, "JPY", "¥9,223,372,036,854,775,807"},
		}
		for _, c := range checks {
			if got := l.Money(c.amount, c.cur); got != c.want {
				t.Errorf("%s Money(%d, %q) = %q, want %q", lang, c.amount, c.cur, got, c.want)
			}
		}
	}
}

func TestNumber(t *testing.T) {
	b := mustBundle(t)
	for _, lang := range []string{"en", "zh-TW"} {
		l := b.Localizer(lang, nil)
		for n, want := range map[int64]string{
			0: "0", 7: "7", 999: "999", 1000: "1,000", -1000: "-1,000", 1280: "1,280",
			123456: "123,456", 1234567: "1,234,567", -999999: "-999,999",
			math.MinInt64: "-9,223,372,036,854,775,808",
		} {
			if got := l.Number(n); got != want {
				t.Errorf("%s Number(%d) = %q, want %q", lang, n, got, want)
			}
		}
	}
}

func TestDates(t *testing.T) {
	b := mustBundle(t)
	tpe := taipei(t)
	en, zh := b.Localizer("en", tpe), b.Localizer("zh-TW", tpe)
	evening := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)  // 04:00 on the 29th in Taipei
	afternoon := time.Date(2026, 11, 29, 7, 4, 0, 0, time.UTC) // 15:04 in Taipei
	midnight := time.Date(2026, 1, 4, 16, 0, 0, 0, time.UTC)   // 00:00 on Jan 5 in Taipei
	noon := time.Date(2026, 1, 5, 4, 30, 0, 0, time.UTC)       // 12:30 in Taipei
	checks := []struct{ got, want string }{
		{en.Date(evening), "Nov 29, 2026"},
		{zh.Date(evening), "2026年11月29日"},
		{b.Localizer("en", time.UTC).Date(evening), "Nov 28, 2026"},
		{en.DateTime(afternoon), "Nov 29, 2026, 3:04 PM"},
		{zh.DateTime(afternoon), "2026年11月29日 下午3:04"},
		{en.DateTime(evening), "Nov 29, 2026, 4:00 AM"},
		{zh.DateTime(evening), "2026年11月29日 上午4:00"},
		{en.DateTime(midnight), "Jan 5, 2026, 12:00 AM"},
		{zh.DateTime(midnight), "2026年1月5日 上午12:00"},
		{en.DateTime(noon), "Jan 5, 2026, 12:30 PM"},
		{zh.DateTime(noon), "2026年1月5日 下午12:30"},
		{en.Date(time.Time{}), ""},
		{zh.DateTime(time.Time{}), ""},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("%d: got %q, want %q", i, c.got, c.want)
		}
	}
	if zh.Location() != tpe {
		t.Error("Location")
	}
}

func TestNilLocalizer(t *testing.T) {
	var l *Localizer
	if l.T("x") != "⟦x⟧" || l.N("x", 2) != "⟦x⟧" || l.Lang() != "en" || l.Location() != time.UTC ||
		l.Money(1280, "USD") != "US$12.80" || l.Number(1000) != "1,000" || l.Status("risk", "") != "" {
		t.Error("nil localizer")
	}
}

// The methods are callable from html/template the way the views call them.
func TestFromHTMLTemplate(t *testing.T) {
	b := mustBundle(t)
	cancelled := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	tmpl := template.Must(template.New("t").Parse(
		`<html lang="{{.L.Lang}}">{{.L.T "orders.title"}}|{{.L.N "orders.count" .Count}}|{{.L.Money .Total "TWD"}}|` +
			`{{.L.Status "financial" "paid"}}|{{.L.T "order.cancelled_banner" "Date" (.L.Date .At)}}|` +
			`{{.L.T "order.paid_by" "Method" .Method}}|{{.L.DateTime .At}}|{{.L.T "missing.key"}}`))
	data := map[string]any{"Count": 1280, "Total": int64(128000), "At": &cancelled, "Method": "<b>Visa</b>"}

	var buf bytes.Buffer
	data["L"] = b.Localizer("zh-TW", taipei(t))
	if err := tmpl.Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	want := `<html lang="zh-TW">訂單|1,280 筆訂單|NT$1,280|已付款|此訂單已於 2026年11月29日 取消|` +
		`付款方式：&lt;b&gt;Visa&lt;/b&gt;|2026年11月29日 上午4:00|⟦missing.key⟧`
	if buf.String() != want {
		t.Errorf("zh-TW:\n got %s\nwant %s", buf.String(), want)
	}

	buf.Reset()
	data["L"] = b.Localizer("en", taipei(t))
	if err := tmpl.Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `<html lang="en">Orders|1,280 orders|NT$1,280|Paid|This order was cancelled on Nov 29, 2026|Payment method: &lt;b&gt;`) {
		t.Errorf("en: %s", buf.String())
	}
}

func TestTemplateKeys(t *testing.T) {
	fsys := fstest.MapFS{
		"layouts/main.html": {Data: []byte(`<html lang="{{.L.Lang}}"><title>{{.L.T "app.name"}}</title>` +
			`<a>{{ .L.T "nav.skip" }}</a>{{- $.L.T "app.name" -}}`)},
		"orders/index.html": {Data: []byte(`{{range .Orders}}<td>{{$.L.N "orders.items" .ItemCount}}</td>` +
			`<td>{{$.L.T "order.cancel_reason" "Reason" ($.L.T "reason.other")}}</td>` +
			`{{$.L.Status "financial" (print .FinancialStatus)}}{{$.L.T (printf "reason.%s" .CancelReason)}}{{end}}` +
			"{{.L.T `raw.key`}}{{/* .L.T \"commented.out\" */}}<p>.T \"not.in.action\"</p>" +
			`{{with .L}}{{.T "app.name"}}{{.N "orders.count" 3}}{{end}}{{.L.Tx "not.a.call"}}`)},
		"orders/notes.txt":      {Data: []byte(`{{.L.T "txt.ignored"}}`)},
		"partials/_nav.html":    {Data: []byte("{{.L.T\n  \"nav.orders\"}}")},
		"partials/_escape.html": {Data: []byte(`{{.L.T "quoted.\"key"}}`)},
	}
	got, err := TemplateKeys(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"app.name":            {"layouts/main.html", "orders/index.html"},
		"nav.skip":            {"layouts/main.html"},
		"orders.items":        {"orders/index.html"},
		"order.cancel_reason": {"orders/index.html"},
		"reason.other":        {"orders/index.html"},
		"raw.key":             {"orders/index.html"},
		"orders.count":        {"orders/index.html"},
		"nav.orders":          {"partials/_nav.html"},
		`quoted."key`:         {"partials/_escape.html"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TemplateKeys =\n%v\nwant\n%v", got, want)
	}

	if _, err := TemplateKeys(fstest.MapFS{}); err != nil {
		t.Errorf("empty fs: %v", err)
	}
}

// TestMessageLanguagesAreTheCatalogues: customers are written to in the
// languages the pages speak, no more and no fewer, so a request filed on
// the form in a language gets its emails in it.
func TestMessageLanguagesAreTheCatalogues(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, l := range b.Languages() {
		tags = append(tags, l.Tag)
	}
	if !reflect.DeepEqual(tags, canceldesk.MessageLanguages) {
		t.Errorf("page languages %v, message languages %v", tags, canceldesk.MessageLanguages)
	}
	for _, tag := range tags {
		if !b.HasKey("language." + tag) {
			t.Errorf("no name for the language %s", tag)
		}
	}
}
