package demo_test

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk/internal/demo"
)

// reservedDomain reports whether an email domain is reserved for examples
// (RFC 2606): mail to it never reaches a person.
func reservedDomain(d string) bool {
	d = strings.ToLower(d)
	switch d {
	case "example.com", "example.org", "example.net":
		return true
	}
	return strings.HasSuffix(d, ".test") || strings.HasSuffix(d, ".example.com") ||
		strings.HasSuffix(d, ".example.org") || strings.HasSuffix(d, ".example.net")
}

// TestDemoEmailsUseReservedDomains: with SMTP configured, a demo must not
// email a real person, so every customer address of the demo (retail and
// wholesale, across several seeds) is at a reserved example domain.
func TestDemoEmailsUseReservedDomains(t *testing.T) {
	seen := map[string]bool{}
	for _, seed := range []int64{1, 2, 42} {
		for _, o := range demo.Orders(3000, now, seed) {
			if o.Email == "" {
				continue // an order without an email (a POS sale) emails no one
			}
			a, err := mail.ParseAddress(o.Email)
			if err != nil {
				t.Fatalf("order %s: email %q does not parse: %v", o.Name, o.Email, err)
			}
			_, domain, _ := strings.Cut(a.Address, "@")
			if !reservedDomain(domain) {
				t.Errorf("order %s: email %q is at %s, not a reserved example domain", o.Name, o.Email, domain)
			}
			seen[domain] = true
		}
	}
	locales := map[string]int{}
	for _, o := range demo.Orders(3000, now, 1) {
		locales[o.Locale]++
	}
	if locales["zh-TW"] == 0 || locales[""] == 0 || len(locales) != 2 {
		t.Errorf("demo order locales %v, want Taiwanese customers in zh-TW and the rest unset", locales)
	}
	if len(seen) < 3 {
		t.Errorf("demo emails use only %d domains: %v", len(seen), seen)
	}
	for _, d := range []string{"gmail.com", "yahoo.com.tw", "outlook.com", "example.com.tw", "example.community"} {
		if reservedDomain(d) {
			t.Errorf("reservedDomain(%q) = true", d)
		}
	}
}
