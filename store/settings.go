package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/canceldesk/canceldesk"
)

// settingsKey is the settings row holding canceldesk.Settings.
const settingsKey = "store"

// storedSettings is how canceldesk.Settings is kept as JSON: named fields,
// so a renamed Go field does not lose a store's settings. A field missing
// from the JSON keeps its DefaultSettings value.
type storedSettings struct {
	RestockOnCancel   *bool            `json:"restock_on_cancel,omitempty"`
	DefaultLocationID int64            `json:"default_location_id"`
	StaffRefundLimit  map[string]int64 `json:"staff_refund_limit"`
	StoreName         *string          `json:"store_name,omitempty"`
	ReplyTo           string           `json:"reply_to,omitempty"`
	AlertRateBP       int64            `json:"alert_rate_bp,omitempty"`
	ShopifyNotifies   bool             `json:"shopify_notifies,omitempty"`
	LogoURL           string           `json:"logo_url,omitempty"`
	AccentColor       string           `json:"accent_color,omitempty"`
	ContactEmail      string           `json:"contact_email,omitempty"`
	DefaultLanguage   string           `json:"default_language,omitempty"`
}

// maxStoreNameLen bounds the store's name, in characters.
const maxStoreNameLen = 100

// Settings implements canceldesk.RefundStore.
func (db *DB) Settings(ctx context.Context) (canceldesk.Settings, error) {
	return db.settings(ctx, db.read)
}

func (db *DB) settings(ctx context.Context, q querier) (canceldesk.Settings, error) {
	s := canceldesk.DefaultSettings()
	var value string
	err := q.QueryRowContext(ctx, db.bind(`SELECT value FROM settings WHERE key = ?`), settingsKey).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	} else if err != nil {
		return s, err
	}
	var st storedSettings
	if err := json.Unmarshal([]byte(value), &st); err != nil {
		return s, fmt.Errorf("store: settings: %w", err)
	}
	if st.RestockOnCancel != nil {
		s.RestockOnCancel = *st.RestockOnCancel
	}
	s.DefaultLocationID = st.DefaultLocationID
	for cur, v := range st.StaffRefundLimit {
		s.StaffRefundLimit[cur] = v
	}
	if st.StoreName != nil {
		s.StoreName = *st.StoreName
	}
	s.ReplyTo, s.AlertRateBP, s.ShopifyNotifies = st.ReplyTo, st.AlertRateBP, st.ShopifyNotifies
	s.LogoURL, s.AccentColor, s.ContactEmail = st.LogoURL, st.AccentColor, st.ContactEmail
	if st.DefaultLanguage != "" {
		s.DefaultLanguage = st.DefaultLanguage
	}
	return s, nil
}

// SaveSettings implements canceldesk.RefundStore. A default location that
// does not exist is EINVALID (field "location"); so is a limit below zero
// (field "limit_<CUR>") or a currency that is not three capital letters,
// an empty store name or one over 100 characters (field "store_name"), and
// a reply-to address that is not an email address (field "reply_to"; ""
// is fine). The name and address are kept without surrounding spaces.
// The store's face: a logo that is not an absolute https URL
// (canceldesk.LogoURL; field "logo_url"), an accent colour not #rrggbb or
// too light for white text (field "accent_color"), a contact address that
// is not an email address (field "contact_email"; "" is fine for all
// three), and a default language not among canceldesk.MessageLanguages
// (field "default_language") are EINVALID.
// Nothing is saved unless everything is valid.
func (db *DB) SaveSettings(ctx context.Context, s canceldesk.Settings, actor string) error {
	if s.DefaultLocationID < 0 {
		return locationError()
	}
	curs := make([]string, 0, len(s.StaffRefundLimit))
	for cur := range s.StaffRefundLimit {
		curs = append(curs, cur)
	}
	sort.Strings(curs)
	for _, cur := range curs {
		if !isCurrencyCode(cur) {
			return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "limit_" + cur, Key: "validation.currency",
				Message: "A currency is three capital letters, such as USD."}
		}
		if s.StaffRefundLimit[cur] < 0 {
			return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "limit_" + cur, Key: "validation.amount",
				Message: "A limit cannot be below zero."}
		}
	}
	name := strings.TrimSpace(s.StoreName)
	if n := utf8.RuneCountInString(name); n == 0 || n > maxStoreNameLen || strings.ContainsAny(name, "\r\n") {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "store_name", Key: "validation.store_name",
			Message: "Enter the store's name (at most 100 characters)."}
	}
	replyTo := strings.TrimSpace(s.ReplyTo)
	if replyTo != "" && !plausibleEmail(replyTo) {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "reply_to", Key: "validation.email",
			Message: "Enter an email address like name@example.com."}
	}
	if s.AlertRateBP < 0 || s.AlertRateBP > 10000 {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "alert_rate", Key: "validation.alert_rate",
			Message: "Enter a rate between 0 and 100%."}
	}
	if err := validateBrand(&s); err != nil {
		return err
	}
	restock := s.RestockOnCancel
	value, err := json.Marshal(storedSettings{RestockOnCancel: &restock, DefaultLocationID: s.DefaultLocationID,
		StaffRefundLimit: s.StaffRefundLimit, StoreName: &name, ReplyTo: replyTo, AlertRateBP: s.AlertRateBP,
		ShopifyNotifies: s.ShopifyNotifies, LogoURL: s.LogoURL, AccentColor: s.AccentColor, ContactEmail: s.ContactEmail, DefaultLanguage: s.DefaultLanguage})
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx *Tx) error {
		tx.changed(canceldesk.ChangedSettings)
		if s.DefaultLocationID > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, db.bind(`SELECT count(*) FROM locations WHERE id = ?`), s.DefaultLocationID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return locationError()
			}
		}
		_, err := tx.ExecContext(ctx, db.bind(`INSERT INTO settings (key, value, actor, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, actor = excluded.actor, updated_at = excluded.updated_at`),
			settingsKey, string(value), actor, db.Now().UnixMicro())
		return err
	})
}

// validateBrand checks the store's face and default language, trimming
// them in s (the colour lower-cased).
func validateBrand(s *canceldesk.Settings) error {
	s.LogoURL = strings.TrimSpace(s.LogoURL)
	s.AccentColor = strings.ToLower(strings.TrimSpace(s.AccentColor))
	s.ContactEmail = strings.TrimSpace(s.ContactEmail)
	s.DefaultLanguage = strings.TrimSpace(s.DefaultLanguage)
	if _, ok := canceldesk.LogoURL(s.LogoURL); s.LogoURL != "" && !ok {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "logo_url", Key: "validation.logo_url",
			Message: "Enter the logo's full address, starting with https://."}
	}
	if s.AccentColor != "" && !canceldesk.ValidAccent(s.AccentColor) {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "accent_color", Key: "validation.accent_color",
			Message: "Enter a colour as # and six hex digits, like #1f5f4a."}
	}
	if s.AccentColor != "" && canceldesk.AccentContrast(s.AccentColor) < canceldesk.MinAccentContrast {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "accent_color", Key: "validation.accent_light",
			Message: "This colour is too light for white text on it; choose a darker one."}
	}
	if s.ContactEmail != "" && !plausibleEmail(s.ContactEmail) {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "contact_email", Key: "validation.email",
			Message: "Enter an email address like name@example.com."}
	}
	if s.DefaultLanguage == "" {
		s.DefaultLanguage = canceldesk.DefaultLanguage
	}
	if !slices.Contains(canceldesk.MessageLanguages, s.DefaultLanguage) {
		return &canceldesk.Error{Code: canceldesk.EINVALID, Field: "default_language", Key: "validation.language",
			Message: "Choose a language from the list."}
	}
	return nil
}

// plausibleEmail reports whether s is one email address that can go in a
// Reply-To header as it is: net/mail parses it ("Shop <help@shop.example>"
// too), it holds no line break, and its domain has a dot.
func plausibleEmail(s string) bool {
	if strings.ContainsAny(s, "\r\n") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return false
	}
	_, domain, ok := strings.Cut(a.Address, "@")
	return ok && strings.Contains(strings.Trim(domain, "."), ".")
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
