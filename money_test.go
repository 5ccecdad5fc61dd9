package canceldesk_test

import (
	"testing"

	"github.com/canceldesk/canceldesk"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in, cur string
		want    int64
	}{
		{"12.80", "USD", 1280},
		{"1,280.50", "USD", 128050},
		{"12,345,678", "JPY", 12345678},
		{"1280", "TWD", 128000},
		{"-3.5", "USD", -350},
		{"+0.01", "EUR", 1},
		{".5", "USD", 50},
		{"1280", "JPY", 1280},
		{"", "USD", 0},
		{"  7.00 ", "usd", 700},
	} {
		got, err := canceldesk.ParseAmount(tc.in, tc.cur)
		if err != nil || got != tc.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tc.in, tc.cur, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, cur string }{
		{"12.345", "USD"}, {"1.5", "JPY"}, {"abc", "USD"}, {"1e3", "USD"}, {"-", "USD"}, {".", "USD"},
		{"99999999999999999999", "USD"}, {"1.2.3", "USD"}, {"1,50", "EUR"}, {",100", "USD"}, {"1,0000", "USD"},
	} {
		if got, err := canceldesk.ParseAmount(tc.in, tc.cur); err == nil {
			t.Errorf("ParseAmount(%q, %s) = %d, want an error", tc.in, tc.cur, got)
		}
	}
}

func TestMoneyDecimal(t *testing.T) {
	for _, tc := range []struct {
		m    canceldesk.Money
		want string
	}{
		{canceldesk.Money{Amount: 1280, Currency: "USD"}, "12.80"},
		{canceldesk.Money{Amount: -5, Currency: "USD"}, "-0.05"},
		{canceldesk.Money{Amount: 1280, Currency: "JPY"}, "1280"},
	} {
		if got := tc.m.Decimal(); got != tc.want {
			t.Errorf("%+v.Decimal() = %q, want %q", tc.m, got, tc.want)
		}
		back, err := canceldesk.ParseAmount(tc.m.Decimal(), tc.m.Currency)
		if err != nil || back != tc.m.Amount {
			t.Errorf("round trip of %+v = %d, %v", tc.m, back, err)
		}
	}
}
