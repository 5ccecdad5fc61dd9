package i18n

import (
	"strings"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// TestPlainMessagesMatchGoI18n checks that every message T answers without
// go-i18n reads exactly as go-i18n renders it, in every language, and that
// messages with template data still go through go-i18n.
func TestPlainMessagesMatchGoI18n(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range b.Languages() {
		plain := b.plain[lang.Tag]
		if len(plain) < 100 {
			t.Fatalf("%s: only %d plain messages found", lang.Tag, len(plain))
		}
		l := b.Localizer(lang.Tag, nil)
		for id, text := range plain {
			want, err := b.localizers[lang.Tag].Localize(&goi18n.LocalizeConfig{MessageID: id})
			if err != nil {
				t.Fatalf("%s %s: %v", lang.Tag, id, err)
			}
			if text != want || l.T(id) != want {
				t.Errorf("%s %s: plain %q, T %q, go-i18n %q", lang.Tag, id, text, l.T(id), want)
			}
		}
	}
	l := b.Localizer("en", nil)
	if _, ok := b.plain["en"]["bulk.select_order"]; ok {
		t.Fatal("bulk.select_order has template data but is kept as plain text")
	}
	if got := l.T("bulk.select_order", "Name", "#1001"); got == "" || !strings.Contains(got, "#1001") {
		t.Errorf(`T("bulk.select_order", Name #1001) = %q, want the name filled in`, got)
	}
}
