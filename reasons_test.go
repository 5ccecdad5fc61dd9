package canceldesk

import (
	"strings"
	"testing"
)

func TestCheckReason(t *testing.T) {
	long := strings.Repeat("é", MaxReasonLabel+1)
	for _, tc := range []struct {
		name   string
		r      ReasonOption
		field  string
		wantEN string
	}{
		{"ok", ReasonOption{Code: ReasonOther, Labels: map[string]string{"en": " Late ", "zh-TW": "延遲", "fr": "x"}}, "", "Late"},
		{"english only", ReasonOption{Code: ReasonStaff, Labels: map[string]string{"en": strings.Repeat("é", MaxReasonLabel)}}, "", strings.Repeat("é", MaxReasonLabel)},
		{"no english", ReasonOption{Code: ReasonOther, Labels: map[string]string{"en": "  ", "zh-TW": "延遲"}}, "label_en", ""},
		{"english too long", ReasonOption{Code: ReasonOther, Labels: map[string]string{"en": long}}, "label_en", ""},
		{"chinese too long", ReasonOption{Code: ReasonOther, Labels: map[string]string{"en": "x", "zh-TW": long}}, "label_zh-TW", ""},
		{"bad code", ReasonOption{Code: "refund", Labels: map[string]string{"en": "x"}}, "code", ""},
	} {
		got, err := CheckReason(tc.r)
		if tc.field == "" {
			if err != nil || got.Labels["en"] != tc.wantEN {
				t.Errorf("%s: %+v, %v", tc.name, got, err)
			}
			if _, ok := got.Labels["fr"]; ok {
				t.Errorf("%s: a language not offered kept", tc.name)
			}
			continue
		}
		if e, ok := err.(*Error); !ok || e.Field != tc.field || e.Code != EINVALID || e.Key == "" {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
}

func TestReasonKey(t *testing.T) {
	taken := map[string]bool{"late": true, "late_2": true}
	for label, want := range map[string]string{
		"Late":                  "late_3",
		"Customer: wrong size!": "customer_wrong_size",
		"延遲":                    "reason",
		"  Ship -- 2 days ":     "ship_2_days",
	} {
		if got := ReasonKey(label, func(k string) bool { return taken[k] }); got != want {
			t.Errorf("ReasonKey(%q) = %q, want %q", label, got, want)
		}
	}
	if got := (ReasonOption{Labels: map[string]string{"en": "Late"}}).Label("zh-TW"); got != "Late" {
		t.Errorf("Label falls back to English: %q", got)
	}
}
