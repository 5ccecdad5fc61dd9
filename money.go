package canceldesk

import (
	"fmt"
	"math"
	"strings"
)

// Money is an amount in minor units (cents) of an ISO 4217 currency.
// Amounts are never floats anywhere in Cancel Desk.
type Money struct {
	Amount   int64
	Currency string
}

// MaxOrderAmount bounds every amount of one order, in minor units: its
// subtotal, shipping, taxes, discounts, total and refunds, each line's
// price × quantity and the lines together. It is 10,000,000,000.00 in a
// currency of two decimals, far above any real order; and a million
// orders at the bound still sum to 10^18, below int64's 9.2×10^18, so the
// sums the rollups, analytics and exports keep cannot overflow. Every way
// orders come in (the CSV import, the store's import and bulk load, the
// demo) checks it through Order.CheckAmounts.
const MaxOrderAmount int64 = 1_000_000_000_000

// ErrAmountOverflow is wrapped by the error of a sum of amounts that does
// not fit in int64. A figure that meets it is not shown rather than shown
// wrapped round.
var ErrAmountOverflow = &Error{Code: EUNAVAILABLE, Key: "analytics.unavailable",
	Message: "These figures cannot be shown: a stored total is out of range."}

// AddAmounts returns a + b, or an error wrapping ErrAmountOverflow when the
// sum does not fit in int64, instead of wrapping round.
func AddAmounts(a, b int64) (int64, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, fmt.Errorf("%d + %d: %w", a, b, ErrAmountOverflow)
	}
	return s, nil
}

// zeroDecimal lists ISO 4217 currencies with no minor unit.
var zeroDecimal = map[string]bool{
	"BIF": true, "CLP": true, "DJF": true, "GNF": true, "ISK": true, "JPY": true, "KMF": true,
	"KRW": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true,
	"XOF": true, "XPF": true,
}

// MinorDigits is the number of decimal digits of the currency's minor unit.
func MinorDigits(currency string) int {
	if zeroDecimal[strings.ToUpper(currency)] {
		return 0
	}
	return 2
}

// ParseAmount parses a decimal string such as "1,280.50" or "-3.5" into minor
// units of currency, exactly (no floating point). Thousands separators are
// allowed; more decimals than the currency has are an error.
func ParseAmount(s, currency string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ",") {
		if !thousandsGrouped(s) {
			return 0, fmt.Errorf("%q: commas may only separate thousands", s)
		}
		s = strings.ReplaceAll(s, ",", "")
	}
	if s == "" {
		return 0, nil
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	digits := MinorDigits(currency)
	if intPart == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > digits {
		return 0, fmt.Errorf("%q has more decimals than %q allows", s, currency)
	}
	for len(frac) < digits {
		frac += "0"
	}
	// Every int64 parses, down to math.MinInt64, whose magnitude is one
	// more than math.MaxInt64: so Decimal's output always reads back.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var n uint64
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not an amount", s)
		}
		d := uint64(r - '0')
		if n > (limit-d)/10 {
			return 0, fmt.Errorf("%q is too large", s)
		}
		n = n*10 + d
	}
	if neg {
		return int64(-n), nil // two's complement: -(1<<63) is math.MinInt64
	}
	return int64(n), nil
}

// Decimal renders the amount as a plain decimal string ("1280.50"), for CSV
// and form values; display formatting per language lives in the i18n package.
func (m Money) Decimal() string {
	d := MinorDigits(m.Currency)
	a := uint64(m.Amount) // the magnitude, even of math.MinInt64, which has no positive int64
	sign := ""
	if m.Amount < 0 {
		sign, a = "-", -a
	}
	if d == 0 {
		return fmt.Sprintf("%s%d", sign, a)
	}
	return fmt.Sprintf("%s%d.%02d", sign, a/100, a%100)
}

// thousandsGrouped reports whether the integer part of s groups its digits
// by three ("1,280.50"), so a decimal comma ("1,50") is never misread.
func thousandsGrouped(s string) bool {
	intPart, _, _ := strings.Cut(strings.TrimLeft(s, "+-"), ".")
	groups := strings.Split(intPart, ",")
	if len(groups[0]) < 1 || len(groups[0]) > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}
