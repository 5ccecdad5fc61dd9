package store

import (
	"testing"

	"github.com/canceldesk/canceldesk"
)

// TestSettingsBrandValidated: the store's face is refused beside its field
// when it could not be shown safely: a logo not at an absolute https
// address, a colour not #rrggbb or too light for white text, a contact
// that is not an email address, a language customers are not written in.
// Nothing is saved then; valid values come back trimmed.
func TestSettingsBrandValidated(t *testing.T) {
	rtEach(t, func(t *testing.T, db *DB) {
		base := canceldesk.DefaultSettings()
		for _, tc := range []struct {
			name       string
			set        func(*canceldesk.Settings)
			field, key string
		}{
			{"http logo", func(s *canceldesk.Settings) { s.LogoURL = "http://shop.example/logo.png" }, "logo_url", "validation.logo_url"},
			{"relative logo", func(s *canceldesk.Settings) { s.LogoURL = "/logo.png" }, "logo_url", "validation.logo_url"},
			{"script logo", func(s *canceldesk.Settings) { s.LogoURL = "javascript:alert(1)" }, "logo_url", "validation.logo_url"},
			{"logo with quote", func(s *canceldesk.Settings) { s.LogoURL = `https://shop.example/a".png` }, "logo_url", "validation.logo_url"},
			{"named colour", func(s *canceldesk.Settings) { s.AccentColor = "red" }, "accent_color", "validation.accent_color"},
			{"css injection", func(s *canceldesk.Settings) { s.AccentColor = "#000;}body{display:none" }, "accent_color", "validation.accent_color"},
			{"short colour", func(s *canceldesk.Settings) { s.AccentColor = "#fff" }, "accent_color", "validation.accent_color"},
			{"light colour", func(s *canceldesk.Settings) { s.AccentColor = "#ffcc00" }, "accent_color", "validation.accent_light"},
			{"contact", func(s *canceldesk.Settings) { s.ContactEmail = "not an address" }, "contact_email", "validation.email"},
			{"language", func(s *canceldesk.Settings) { s.DefaultLanguage = "fr" }, "default_language", "validation.language"},
		} {
			s := base
			tc.set(&s)
			rtCheckErr(t, tc.name, db.SaveSettings(rtCtx(t), s, "owner@example.com"), canceldesk.EINVALID, tc.field, tc.key)
		}
		if n := rtInt(t, db, `SELECT count(*) FROM settings`); n != 0 {
			t.Fatalf("refused settings were saved: %d rows", n)
		}
		s := base
		s.LogoURL, s.AccentColor, s.ContactEmail = " https://cdn.shop.example:8443/logo.svg ", " #1F5F4A ", " help@shop.example "
		if err := db.SaveSettings(rtCtx(t), s, "owner@example.com"); err != nil {
			t.Fatal(err)
		}
		got, err := db.Settings(rtCtx(t))
		if err != nil || got.LogoURL != "https://cdn.shop.example:8443/logo.svg" || got.AccentColor != "#1f5f4a" ||
			got.ContactEmail != "help@shop.example" || got.DefaultLanguage != "en" {
			t.Errorf("Settings = %+v, %v", got, err)
		}
	})
}
