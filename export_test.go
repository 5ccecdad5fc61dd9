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
		// Plain decimal numbers stay numbers, negative ones too.
		{"-5", "-5"},
		{"-12.50", "-12.50"},
		{"-0.01", "-0.01"},
		// Anything else starting with a sign is a formula.
		{"-12.50+1", "'-12.50+1"},
		{"-2+3", "'-2+3"},
		{"-", "'-"},
		{"-.5", "'-.5"},
		{"--1", "'--1"},
		{"+1", "'+1"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{`=HYPERLINK("http://x","click")`, `'=HYPERLINK("http://x","click")`},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		{"\t5", "'\t5"},
		// After white space, of any kind, and invisible characters.
		{" =1+1", "' =1+1"},
		{"   @SUM(1)", "'   @SUM(1)"},
		{"\n=1+1", "'\n=1+1"},
		{"\r\n+1", "'\r\n+1"},
		{" \t-2+3", "' \t-2+3"},
		{"\u00a0=1+1", "'\u00a0=1+1"},
		{"\u2003\u3000=1", "'\u2003\u3000=1"},
		{"\u200b=1", "'\u200b=1"},
		{"\ufeff@x", "'\ufeff@x"},
		{"\x00=1", "'\x00=1"},
		// Full-width signs.
		{"＝1+1", "'＝1+1"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠SUM(1)", "'＠SUM(1)"},
		// Text that merely holds a sign, or white space alone.
		{"a=1", "a=1"},
		{"'=1", "'=1"},
		{" hello", " hello"},
		{" 5", " 5"},
		{"\u00a0", "\u00a0"},
		{"2026-01-02T03:04:05+01:00", "2026-01-02T03:04:05+01:00"},
	} {
		if got := canceldesk.SafeCell(tc.in); got != tc.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
