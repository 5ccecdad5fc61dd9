package i18n

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// Localizer speaks one language in one time zone. Views reach it as .L;
// every method returns just a string so html/template can call it. A nil
// *Localizer does not panic: it formats as English in UTC and shows every
// message as missing.
type Localizer struct {
	bundle *Bundle
	lang   string
	loc    *time.Location
	msgs   *goi18n.Localizer
	format *langFormat
}

// Lang is the language tag, "en" or "zh-TW", for <html lang>.
func (l *Localizer) Lang() string {
	if l == nil {
		return defaultLang
	}
	return l.lang
}

// Location is the time zone dates and times are shown in.
func (l *Localizer) Location() *time.Location {
	if l == nil || l.loc == nil {
		return time.UTC
	}
	return l.loc
}

// missing is what a message id without a message renders as.
func missing(id string) string { return "⟦" + id + "⟧" }

// T translates the message id. args are optional key/value pairs of
// template data: {{.L.T "orders.showing" "From" 1 "To" 50}} fills
// {{.From}} and {{.To}}. Integer values are formatted as numbers of the
// language (1280 → "1,280"); pass a string to show digits as they are. A
// single map[string]any argument is used as the template data directly. A
// message missing from the language falls back to English; missing
// everywhere it renders as ⟦id⟧.
func (l *Localizer) T(id string, args ...any) string {
	return l.localize(id, nil, l.data(args))
}

// N translates the plural message id for count: the plural form is chosen
// by count, and the template data holds "Count", the count formatted as a
// number of the language ("1,280"), plus args as in T.
// {{.L.N "orders.count" 1280}} → "1,280 orders" / "1,280 筆訂單".
func (l *Localizer) N(id string, count int, args ...any) string {
	data := map[string]any{"Count": l.Number(int64(count))}
	for k, v := range l.data(args) {
		data[k] = v
	}
	return l.localize(id, count, data)
}

// Status names a status value for a badge: Status("financial", "paid") is
// T("status.financial.paid"). Kinds are "financial", "fulfillment" and
// "risk". An empty value (an order without a risk assessment, say) is "".
func (l *Localizer) Status(kind, value string) string {
	if value == "" {
		return ""
	}
	return l.T("status." + kind + "." + value)
}

func (l *Localizer) localize(id string, pluralCount any, data map[string]any) string {
	if l == nil || l.msgs == nil {
		return missing(id)
	}
	if data == nil && pluralCount == nil {
		if text, ok := l.bundle.plain[l.lang][id]; ok {
			return text
		}
	}
	if !l.bundle.keys[l.lang][id] && !l.bundle.keys[defaultLang][id] {
		return missing(id)
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id, PluralCount: pluralCount}
	if data != nil {
		cfg.TemplateData = data
	}
	// A message missing in this language comes back in English together
	// with a MessageNotFoundErr: the English text is the right answer.
	msg, err := l.msgs.Localize(cfg)
	if err != nil && msg == "" {
		return missing(id)
	}
	return msg
}

// data turns T's key/value arguments into template data. A key that is not
// a string is printed with fmt; a key without a value gets "".
func (l *Localizer) data(args []any) map[string]any {
	if len(args) == 0 {
		return nil
	}
	if len(args) == 1 {
		if m, ok := args[0].(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, v := range m {
				out[k] = l.arg(v)
			}
			return out
		}
	}
	out := make(map[string]any, (len(args)+1)/2)
	for i := 0; i < len(args); i += 2 {
		key, ok := args[i].(string)
		if !ok {
			key = fmt.Sprint(args[i])
		}
		var v any = ""
		if i+1 < len(args) {
			v = l.arg(args[i+1])
		}
		out[key] = v
	}
	return out
}

// arg formats integer template values as numbers of the language.
func (l *Localizer) arg(v any) any {
	switch n := v.(type) {
	case int:
		return l.Number(int64(n))
	case int8:
		return l.Number(int64(n))
	case int16:
		return l.Number(int64(n))
	case int32:
		return l.Number(int64(n))
	case int64:
		return l.Number(n)
	case uint:
		return l.fmt().group(uint64(n))
	case uint8:
		return l.fmt().group(uint64(n))
	case uint16:
		return l.fmt().group(uint64(n))
	case uint32:
		return l.fmt().group(uint64(n))
	case uint64:
		return l.fmt().group(n)
	}
	return v
}

// PaymentMethod names an order's payment method in words of the language,
// wherever a page shows one. The names shops and gateways use ("manual",
// "card", "stripe", "shopify_payments", "Cash on Delivery (COD)", …) are
// matched without regard to case, spaces or punctuation against the
// messages "payment_method.<name>"; any other method is shown as given,
// underscores as spaces and the first letter capitalized ("bank_transfer"
// → "Bank transfer"). An empty method is "".
func (l *Localizer) PaymentMethod(method string) string {
	method = strings.TrimSpace(method)
	if method == "" {
		return ""
	}
	var key strings.Builder
	gap := false
	for _, r := range strings.ToLower(method) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && key.Len() > 0 {
				key.WriteByte('_')
			}
			key.WriteRune(r)
			gap = false
		} else {
			gap = true
		}
	}
	id := "payment_method." + key.String()
	if l != nil && l.bundle != nil && (l.bundle.keys[l.lang][id] || l.bundle.keys[defaultLang][id]) {
		return l.T(id)
	}
	if !strings.Contains(method, "_") {
		return method
	}
	words := strings.ReplaceAll(method, "_", " ")
	r, n := utf8.DecodeRuneInString(words)
	return string(unicode.ToUpper(r)) + words[n:]
}
