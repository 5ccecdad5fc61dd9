package canceldesk

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// The store's face on the customer's pages: its logo (an absolute https
// URL) and accent colour (#rrggbb behind white text), kept in Settings.

// MinAccentContrast is the least contrast of white text on the accent
// colour: WCAG 2 AA for normal text.
const MinAccentContrast = 4.5

// MaxLogoURLLen bounds the logo's address.
const MaxLogoURLLen = 500

var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// logoHost is a host (and port) that can stand in a Content-Security-Policy
// source as it is: letters, digits, dots and hyphens.
var logoHost = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)

// ValidAccent reports whether s is a colour written #rrggbb: the only form
// a colour ever reaches a page's CSS in.
func ValidAccent(s string) bool { return accentPattern.MatchString(s) }

// AccentContrast is the WCAG contrast ratio of white on the colour #rrggbb
// (1 to 21); 0 when s is not such a colour.
func AccentContrast(s string) float64 {
	if !ValidAccent(s) {
		return 0
	}
	return 1.05 / (relativeLuminance(s) + 0.05)
}

// DarkenAccent returns the colour with its hue kept and every channel
// scaled down just enough for white text to reach MinAccentContrast; a
// colour dark enough already comes back as it is (lower case).
func DarkenAccent(s string) string {
	if !ValidAccent(s) {
		return ""
	}
	s = strings.ToLower(s)
	r, g, b := channels(s)
	for f := 1.0; f > 0; f -= 0.01 {
		c := fmt.Sprintf("#%02x%02x%02x", int(math.Floor(r*f)), int(math.Floor(g*f)), int(math.Floor(b*f)))
		if AccentContrast(c) >= MinAccentContrast {
			return c
		}
	}
	return "#000000"
}

func channels(s string) (r, g, b float64) {
	v, _ := strconv.ParseUint(s[1:], 16, 32)
	return float64(v >> 16 & 0xff), float64(v >> 8 & 0xff), float64(v & 0xff)
}

// relativeLuminance is WCAG 2's relative luminance of #rrggbb.
func relativeLuminance(s string) float64 {
	lin := func(c float64) float64 {
		c /= 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	r, g, b := channels(s)
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// LogoURL parses s as the store's logo address: an absolute https URL with
// a plain host, no user or password, at most MaxLogoURLLen characters.
// ok is false for anything else ("" too), which is never rendered.
func LogoURL(s string) (u *url.URL, ok bool) {
	if s == "" || len(s) > MaxLogoURLLen || strings.ContainsAny(s, " \t\r\n\"'<>\\") {
		return nil, false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Opaque != "" || !logoHost.MatchString(u.Host) {
		return nil, false
	}
	return u, true
}

// Languages customers are written to in: each has its own message
// templates. The first is the store's default unless Settings say another.
var MessageLanguages = []string{"en", "zh-TW"}

// DefaultLanguage is a new store's default language.
const DefaultLanguage = "en"

// CustomerLanguage maps a locale as a shop writes it ("zh-TW", "zh_tw",
// "en-US", "zh-Hant") to one of MessageLanguages, or "" when it is empty
// or none of them.
func CustomerLanguage(locale string) string {
	tag := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
	base, _, _ := strings.Cut(tag, "-")
	switch base {
	case "en":
		return "en"
	case "zh":
		return "zh-TW" // Traditional Chinese is the only Chinese there is
	}
	return ""
}

// OrderLanguage is the language an order's customer is written to in: the
// order's own (from the import), else the store's default.
func OrderLanguage(o *Order, s Settings) string {
	if o != nil {
		if l := CustomerLanguage(o.Locale); l != "" {
			return l
		}
	}
	return StoreLanguage(s)
}

// StoreLanguage is the store's default language, "en" when unset.
func StoreLanguage(s Settings) string {
	if l := CustomerLanguage(s.DefaultLanguage); l != "" {
		return l
	}
	return DefaultLanguage
}
