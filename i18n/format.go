package i18n

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/canceldesk/canceldesk"
)

// langFormat is how one language writes numbers and dates.
type langFormat struct {
	tag      language.Tag
	thousand string // group separator, every three digits
	decimal  string // decimal separator
	date     func(t time.Time) string
	dateTime func(t time.Time) string
	month    func(t time.Time) string
}

var formats = map[string]*langFormat{
	"en": {
		tag:      language.English,
		thousand: ",",
		decimal:  ".",
		date:     func(t time.Time) string { return t.Format("Jan 2, 2006") },
		month:    func(t time.Time) string { return t.Format("Jan 2006") },
		dateTime: func(t time.Time) string { return t.Format("Jan 2, 2006, 3:04 PM") },
	},
	"zh-TW": {
		tag:      language.MustParse("zh-TW"),
		thousand: ",",
		decimal:  ".",
		date:     zhDate,
		month: func(t time.Time) string {
			return strconv.Itoa(t.Year()) + "年" + strconv.Itoa(int(t.Month())) + "月"
		},
		dateTime: func(t time.Time) string {
			period, h := "上午", t.Hour()
			if h >= 12 {
				period = "下午"
			}
			if h %= 12; h == 0 {
				h = 12
			}
			return zhDate(t) + " " + period + strconv.Itoa(h) + ":" + t.Format("04")
		},
	},
}

func zhDate(t time.Time) string {
	return strconv.Itoa(t.Year()) + "年" + strconv.Itoa(int(t.Month())) + "月" + strconv.Itoa(t.Day()) + "日"
}

func (l *Localizer) fmt() *langFormat {
	if l == nil || l.format == nil {
		return formats[defaultLang]
	}
	return l.format
}

// group writes n with the language's thousands separator.
func (f *langFormat) group(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/3*len(f.thousand))
	head := len(s) % 3
	if head == 0 {
		head = 3
	}
	b.WriteString(s[:head])
	for i := head; i < len(s); i += 3 {
		b.WriteString(f.thousand)
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// abs is |n| as unsigned, exact even for math.MinInt64.
func abs(n int64) (u uint64, negative bool) {
	if n < 0 {
		return uint64(-(n + 1)) + 1, true
	}
	return uint64(n), false
}

// Number writes n with thousands separators: 1280 → "1,280".
func (l *Localizer) Number(n int64) string {
	u, neg := abs(n)
	s := l.fmt().group(u)
	if neg {
		return "-" + s
	}
	return s
}

// cashWhole lists currencies shown without decimals when the fraction is
// zero, because nobody prices in their cents: NT$1,280 but NT$1,280.50.
var cashWhole = map[string]bool{"TWD": true}

// symbols overrides CLDR where a merchant selling across borders needs the
// symbol to be unambiguous in every language: a plain "$" could be any
// dollar, so US and Taiwan dollars are always "US$" and "NT$".
var symbols = map[string]string{
	"USD": "US$",
	"TWD": "NT$",
}

var symbolCache sync.Map // lang + "/" + ISO code → symbol

// symbol is the currency's symbol in the language: the override above,
// else CLDR's (golang.org/x/text/currency), else the ISO code itself.
func (f *langFormat) symbol(code string) string {
	if s, ok := symbols[code]; ok {
		return s
	}
	key := f.tag.String() + "/" + code
	if s, ok := symbolCache.Load(key); ok {
		return s.(string)
	}
	s := code
	if unit, err := currency.ParseISO(code); err == nil {
		s = message.NewPrinter(f.tag).Sprint(currency.Symbol(unit))
	}
	symbolCache.Store(key, s)
	return s
}

// Money writes an amount given in minor units of currency (ISO 4217), with
// integer arithmetic only and canceldesk.MinorDigits decimals: 1280 "USD" →
// "US$12.80", 128000 "TWD" → "NT$1,280" (TWD drops a zero fraction),
// 128050 "TWD" → "NT$1,280.50", 1280 "JPY" → "¥1,280", -1280 "USD" →
// "-US$12.80". A currency without a symbol is written as its code and a
// no-break space ("SGD 12.80"); an empty currency as the bare number.
func (l *Localizer) Money(amount int64, currencyCode string) string {
	f := l.fmt()
	code := strings.ToUpper(strings.TrimSpace(currencyCode))
	digits := canceldesk.MinorDigits(code)
	u, neg := abs(amount)

	var pow uint64 = 1
	for range digits {
		pow *= 10
	}
	s := f.group(u / pow)
	if frac := u % pow; digits > 0 && (frac != 0 || !cashWhole[code]) {
		fs := strconv.FormatUint(frac, 10)
		s += f.decimal + strings.Repeat("0", digits-len(fs)) + fs
	}

	if code != "" {
		sym := f.symbol(code)
		if sym == code {
			s = sym + "\u00a0" + s
		} else {
			s = sym + s
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

// Date is the calendar date of t in the localizer's time zone:
// "Nov 29, 2026" / "2026年11月29日". The zero time is "".
func (l *Localizer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return l.fmt().date(t.In(l.Location()))
}

// MonthLabel is the month of t in the localizer's time zone: "Nov 2026" /
// "2026年11月".
func (l *Localizer) MonthLabel(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return l.fmt().month(t.In(l.Location()))
}

// DateTime is the date and time of day of t in the localizer's time zone:
// "Nov 29, 2026, 3:04 PM" / "2026年11月29日 下午3:04". The zero time is "".
func (l *Localizer) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return l.fmt().dateTime(t.In(l.Location()))
}
