package canceldesk_test

import (
	"testing"

	"github.com/canceldesk/canceldesk"
)

func TestSafeCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Olivia Smith", "Olivia Smith"},
		{"#1001", "#1001"},
		{"5", "5"},
		{"12.50", "12.50"},
		{"-5", "'-5"},
		{"+1", "'+1"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{`=HYPERLINK("http://x","click")`, `'=HYPERLINK("http://x","click")`},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		{" =1+1", " =1+1"}, // only the first character counts
		{"a=1", "a=1"},
		{"'=1", "'=1"},
		{"2026-01-02T03:04:05+01:00", "2026-01-02T03:04:05+01:00"},
	} {
		if got := canceldesk.SafeCell(tc.in); got != tc.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
