package payments

import (
	"fmt"
	"math"
	"strings"

	"github.com/canceldesk/canceldesk"
)

// stripeZeroDecimal are the currencies Stripe's API takes in whole units
// (https://docs.stripe.com/currencies#zero-decimal). Stripe's list differs
// from ISO 4217 and from ours: ISK, HUF and TWD are two-decimal in Stripe's
// API (amounts in whole units × 100) even where the currency has no
// cents in practice, and MGA is zero-decimal there.
var stripeZeroDecimal = map[string]bool{
	"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true,
	"KRW": true, "MGA": true, "PYG": true, "RWF": true, "UGX": true, "VND": true,
	"VUV": true, "XAF": true, "XOF": true, "XPF": true,
}

// stripeThreeDecimal are the currencies Stripe's API takes in thousandths
// (https://docs.stripe.com/currencies#three-decimal).
var stripeThreeDecimal = map[string]bool{
	"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true,
}

// stripeDigits is the number of decimal digits of an amount in Stripe's API.
func stripeDigits(currency string) int {
	switch {
	case stripeZeroDecimal[currency]:
		return 0
	case stripeThreeDecimal[currency]:
		return 3
	}
	return 2
}

// stripeAmount converts an amount in our minor units of currency (see
// canceldesk.MinorDigits) into the units Stripe's API expects for it. It
// fails rather than round: money is never lost to a conversion.
func stripeAmount(amount int64, currency string) (int64, error) {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	if len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return 0, fmt.Errorf("currency %q is not an ISO 4217 code", currency)
	}
	if amount <= 0 {
		return 0, fmt.Errorf("amount %d %s is not positive", amount, cur)
	}
	out, err := convertMinor(amount, canceldesk.MinorDigits(cur), stripeDigits(cur))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", cur, err)
	}
	return out, nil
}

// convertMinor rescales an amount with from decimal digits to one with to
// decimal digits, exactly.
func convertMinor(amount int64, from, to int) (int64, error) {
	switch {
	case to > from:
		f := pow10(to - from)
		if amount > math.MaxInt64/f || amount < math.MinInt64/f {
			return 0, fmt.Errorf("amount %d is too large", amount)
		}
		return amount * f, nil
	case to < from:
		f := pow10(from - to)
		if amount%f != 0 {
			return 0, fmt.Errorf("amount %d has fractions the provider cannot take (%d decimals, it takes %d)", amount, from, to)
		}
		return amount / f, nil
	}
	return amount, nil
}

func pow10(n int) int64 {
	f := int64(1)
	for range n {
		f *= 10
	}
	return f
}
