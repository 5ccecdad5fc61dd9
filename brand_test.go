package canceldesk

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestAccentContrast(t *testing.T) {
	for _, tc := range []struct {
		color string
		want  float64
	}{{"#000000", 21}, {"#ffffff", 1}, {"#1f5f4a", 7.52}, {"#767676", 4.54}, {"#FFCC00", 1.51}} {
		if got := AccentContrast(tc.color); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("AccentContrast(%s) = %.2f, want %.2f", tc.color, got, tc.want)
		}
	}
	for _, bad := range []string{"", "red", "#fff", "#12345g", "#1234567", "1f5f4a", "#000;}", " #000000"} {
		if ValidAccent(bad) || AccentContrast(bad) != 0 {
			t.Errorf("%q taken for a colour", bad)
		}
	}
	for _, c := range []string{"#ffcc00", "#87ceeb", "#ff0000", "#ffffff", "#1f5f4a"} {
		d := DarkenAccent(c)
		if !ValidAccent(d) || AccentContrast(d) < MinAccentContrast {
			t.Errorf("DarkenAccent(%s) = %s, contrast %.2f", c, d, AccentContrast(d))
		}
		if AccentContrast(c) >= MinAccentContrast && d != c {
			t.Errorf("DarkenAccent(%s) = %s, want it unchanged", c, d)
		}
		if d == "#000000" && c != "#000000" && c != "#ffffff" {
			t.Errorf("DarkenAccent(%s) lost the hue", c)
		}
	}
}

func TestLogoURL(t *testing.T) {
	for _, ok := range []string{"https://cdn.shop.example/logo.png", "https://127.0.0.1:8443/l.svg?v=2", "https://shop.example"} {
		if _, good := LogoURL(ok); !good {
			t.Errorf("LogoURL(%q) refused", ok)
		}
	}
	for _, bad := range []string{"", "http://shop.example/logo.png", "//shop.example/logo.png", "/logo.png", "javascript:alert(1)",
		"data:image/png;base64,AAAA", "https://user:pw@shop.example/l.png", `https://shop.example/a".png`, "https://shop.example/a b.png",
		"https://shop_example;/l.png", "https://" + strings.Repeat("a", 500) + ".example/l.png", "https:shop.example/l.png"} {
		if _, good := LogoURL(bad); good {
			t.Errorf("LogoURL(%q) accepted", bad)
		}
	}
}

func TestCustomerLanguage(t *testing.T) {
	for in, want := range map[string]string{"zh-TW": "zh-TW", "zh_tw": "zh-TW", "zh-Hant": "zh-TW", "ZH": "zh-TW", "en-US": "en",
		" en ": "en", "fr": "", "": "", "english": ""} {
		if got := CustomerLanguage(in); got != want {
			t.Errorf("CustomerLanguage(%q) = %q, want %q", in, got, want)
		}
	}
	s := DefaultSettings()
	if OrderLanguage(&Order{}, s) != "en" || OrderLanguage(&Order{Locale: "zh_TW"}, s) != "zh-TW" {
		t.Error("OrderLanguage with the default store language")
	}
	s.DefaultLanguage = "zh-TW"
	if OrderLanguage(&Order{}, s) != "zh-TW" || OrderLanguage(&Order{Locale: "en-GB"}, s) != "en" {
		t.Error("OrderLanguage with a zh-TW store")
	}
}

// TestMessageWordsComplete: every language has every sentence and every
// built-in template, each valid; the Chinese ones hold no English words
// but the placeholders'.
func TestMessageWordsComplete(t *testing.T) {
	for _, lang := range MessageLanguages {
		for key := range messageWords[DefaultLanguage] {
			if messageWords[lang][key] == "" {
				t.Errorf("%s lacks the sentence %s", lang, key)
			}
		}
		for _, r := range CancelReasons {
			if messageWords[lang]["reason."+string(r)] == "" {
				t.Errorf("%s lacks the reason %s", lang, r)
			}
		}
	}
	byLang := map[string][]string{}
	for _, tpl := range DefaultTemplates() {
		if err := tpl.Validate(); err != nil {
			t.Errorf("default %s %s: %v", tpl.Lang, tpl.Key(), err)
		}
		byLang[tpl.Lang] = append(byLang[tpl.Lang], tpl.Key())
		if tpl.Lang == "zh-TW" && hasEnglish(placeholder.ReplaceAllString(tpl.Subject+tpl.Body, "")) {
			t.Errorf("zh-TW %s reads English: %q", tpl.Key(), tpl.Body)
		}
	}
	if len(byLang) != len(MessageLanguages) || !slices.Equal(byLang["en"], byLang["zh-TW"]) {
		t.Errorf("templates per language: %v", byLang)
	}
	for key, w := range messageWords["zh-TW"] {
		if hasEnglish(strings.NewReplacer("%[1]s", "", "%[2]s", "", "%[3]s", "").Replace(w)) {
			t.Errorf("zh-TW sentence %s reads English: %q", key, w)
		}
	}
}

// hasEnglish reports a run of three Latin letters.
func hasEnglish(s string) bool {
	run := 0
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			if run++; run >= 3 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// TestMessageInChinese: a cancel message in zh-TW says the reason, the
// refund, the store credit and the offer in Chinese.
func TestMessageInChinese(t *testing.T) {
	o := &Order{Name: "#1001", Currency: "TWD", Total: 120000, FinancialStatus: FinancialPaid,
		LineItems: []LineItem{{ID: 1, Name: "茶壺", Quantity: 1, Price: 120000}}}
	d := CancelMessageData("zh-TW", o, PlanCancel(o, CancelRequest{Refund: RefundNow}), ReasonInventory,
		Offer{Kind: OfferDiscount, Text: "THANKS10"}, Settings{StoreName: "茶行"})
	m := PickTemplate(DefaultTemplates(), d.Lang, MessageOrderCancelled, string(ReasonInventory)).Render(d)
	for _, want := range []string{"顧客 您好", "1 × 茶壺", "我們將退款 1200.00 TWD 至您原本的付款方式", "折扣碼：THANKS10", "茶行"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("zh-TW message lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, `<html lang="zh-TW">`) {
		t.Error("the HTML part does not say its language")
	}
	if m.Subject != "很抱歉：您的訂單 #1001 商品缺貨" {
		t.Errorf("subject %q", m.Subject)
	}
	if got := PickTemplate(nil, "fr", MessageRefundIssued, ""); got.Lang != "en" {
		t.Errorf("a language without templates falls back to %q", got.Lang)
	}
}
