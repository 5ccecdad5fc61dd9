package payments

import (
	"math"
	"testing"

	"github.com/canceldesk/canceldesk"
)

func TestStripeAmount(t *testing.T) {
	// TWD is two-decimal in Stripe's API; whatever our minor digits for it
	// are, the amount sent must be in hundredths of a dollar.
	twdFactor := pow10(2 - canceldesk.MinorDigits("TWD"))
	for _, tc := range []struct {
		amount   int64
		currency string
		want     int64
	}{
		{1250, "USD", 1250},             // 12.50 USD: cents both sides
		{1250, "usd", 1250},             // case-insensitive
		{500, "JPY", 500},               // ¥500: zero-decimal both sides
		{500, "KRW", 500},               //
		{1000, "TWD", 1000 * twdFactor}, // see above
		{500, "ISK", 50000},             // ISK: 0 digits for us, two-decimal in Stripe
		{1250, "KWD", 12500},            // three-decimal in Stripe
		{1250, "BHD", 12500},            //
		{1200, "MGA", 12},               // zero-decimal in Stripe, cents for us
		{1, "EUR", 1},                   //
		{99999999, "USD", 99999999},     // Stripe's usual maximum passes through
		{math.MaxInt64 / 100, "ISK", math.MaxInt64 / 100 * 100}, // largest that fits
	} {
		got, err := stripeAmount(tc.amount, tc.currency)
		if err != nil || got != tc.want {
			t.Errorf("stripeAmount(%d, %q) = %d, %v; want %d", tc.amount, tc.currency, got, err, tc.want)
		}
	}

	for _, tc := range []struct {
		amount   int64
		currency string
	}{
		{0, "USD"},
		{-100, "USD"},
		{1250, ""},
		{1250, "US"},
		{1250, "US1"},
		{1250, "dollars"},
		{1250, "MGA"},                  // 12.50 MGA: Stripe takes whole ariary only
		{math.MaxInt64/100 + 1, "ISK"}, // would overflow
	} {
		if got, err := stripeAmount(tc.amount, tc.currency); err == nil {
			t.Errorf("stripeAmount(%d, %q) = %d, want an error", tc.amount, tc.currency, got)
		}
	}
}

func TestConvertMinor(t *testing.T) {
	for _, tc := range []struct {
		name     string
		amount   int64
		from, to int
		want     int64
	}{
		{"TWD as whole dollars to Stripe", 1000, 0, 2, 100000},
		{"same digits", 1250, 2, 2, 1250},
		{"zero-decimal both", 500, 0, 0, 500},
		{"cents to thousandths", 1250, 2, 3, 12500},
		{"cents to whole units", 1200, 2, 0, 12},
	} {
		got, err := convertMinor(tc.amount, tc.from, tc.to)
		if err != nil || got != tc.want {
			t.Errorf("%s: convertMinor(%d, %d, %d) = %d, %v; want %d", tc.name, tc.amount, tc.from, tc.to, got, err, tc.want)
		}
	}
	if got, err := convertMinor(1250, 2, 0); err == nil {
		t.Errorf("convertMinor(1250, 2, 0) = %d, want an error (would drop 50 cents)", got)
	}
	if got, err := convertMinor(math.MaxInt64, 0, 2); err == nil {
		t.Errorf("convertMinor(MaxInt64, 0, 2) = %d, want an overflow error", got)
	}
}
