package canceldesk

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ReasonOption is one entry of the cancel dialog's reason list: a stable
// key (kept by cancellations and their timeline), the Shopify code it maps
// to, its label per language and whether managers retired it. Managers edit
// the list on Settings (ReasonStore); a new store starts with
// DefaultReasons.
type ReasonOption struct {
	Key  string
	Code CancelReason
	// Labels maps a language of MessageLanguages to the label; "en" is
	// always set.
	Labels map[string]string
	// Retired: no longer offered, still named by old cancellations.
	Retired bool
}

// Label is the reason's label in lang, else in English.
func (r ReasonOption) Label(lang string) string {
	if s := r.Labels[lang]; s != "" {
		return s
	}
	return r.Labels["en"]
}

// MaxReasonLabel bounds a reason's label, in characters.
const MaxReasonLabel = 60

// DefaultReasons is the reason list of a new store (the migration seeds
// the same list with the same labels).
var DefaultReasons = []ReasonOption{
	{"customer_changed_mind", ReasonCustomer, map[string]string{"en": "Customer changed their mind", "zh-TW": "顧客改變心意"}, false},
	{"out_of_stock", ReasonInventory, map[string]string{"en": "Item out of stock", "zh-TW": "商品缺貨"}, false},
	{"suspected_fraud", ReasonFraud, map[string]string{"en": "Suspected fraud", "zh-TW": "疑似詐騙"}, false},
	{"shipping_problem", ReasonOther, map[string]string{"en": "Shipping problem", "zh-TW": "運送問題"}, false},
	{"payment_declined", ReasonDeclined, map[string]string{"en": "Payment declined", "zh-TW": "付款遭拒"}, false},
	{"staff_error", ReasonStaff, map[string]string{"en": "Staff error", "zh-TW": "員工作業錯誤"}, false},
	{"other", ReasonOther, map[string]string{"en": "Other", "zh-TW": "其他"}, false},
}

// ReasonByKey finds a reason of the default list by its key.
func ReasonByKey(key string) (ReasonOption, bool) { return FindReason(DefaultReasons, key) }

// FindReason finds a reason of list by its key.
func FindReason(list []ReasonOption, key string) (ReasonOption, bool) {
	for _, r := range list {
		if r.Key == key {
			return r, true
		}
	}
	return ReasonOption{}, false
}

// CheckReason trims the reason's labels and checks them and its code: a
// label of 1–60 characters in English, and in each other language either
// none or 1–60 characters (field "label_<lang>"); a code of CancelReasons
// (field "code"). Labels in languages not offered are dropped.
func CheckReason(r ReasonOption) (ReasonOption, error) {
	labels := map[string]string{}
	for _, lang := range MessageLanguages {
		s := strings.TrimSpace(r.Labels[lang])
		field := "label_" + lang
		switch {
		case s == "" && lang == "en":
			return r, &Error{Code: EINVALID, Field: field, Key: "validation.reason_label_empty", Message: "A reason needs an English label."}
		case utf8.RuneCountInString(s) > MaxReasonLabel:
			return r, &Error{Code: EINVALID, Field: field, Key: "validation.reason_label_long",
				Message: fmt.Sprintf("A reason's label is at most %d characters.", MaxReasonLabel)}
		case s != "":
			labels[lang] = s
		}
	}
	if !slices.Contains(CancelReasons, r.Code) {
		return r, &Error{Code: EINVALID, Field: "code", Key: "validation.reason_code", Message: "Choose one of Shopify's reason codes."}
	}
	r.Labels = labels
	return r, nil
}

// ReasonKey makes a new reason's key from its English label: lower-case
// letters and digits joined by "_" ("reason" when none is left), with
// "_2", "_3"… added while taken says the key is used.
func ReasonKey(label string, taken func(string) bool) string {
	var b strings.Builder
	sep := false
	for _, c := range strings.ToLower(label) {
		if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
			sep = false
		} else {
			sep = true
		}
	}
	base := b.String()
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "_")
	}
	if base == "" {
		base = "reason"
	}
	key := base
	for n := 2; taken(key); n++ {
		key = base + "_" + strconv.Itoa(n)
	}
	return key
}

// ReasonStore keeps the store's reason list, in the order the dialog
// offers it.
type ReasonStore interface {
	// Reasons lists the reasons in order: all of them, or only those not
	// retired.
	Reasons(ctx context.Context, all bool) ([]ReasonOption, error)
	// AddReason checks r (CheckReason), gives it a key from its English
	// label and puts it last.
	AddReason(ctx context.Context, r ReasonOption) (ReasonOption, error)
	// UpdateReason sets the labels and code of the reason r.Key.
	UpdateReason(ctx context.Context, r ReasonOption) (ReasonOption, error)
	// MoveReason moves the reason one place up (delta -1) or down (+1).
	MoveReason(ctx context.Context, key string, delta int) error
	// RetireReason retires the reason, or restores it.
	RetireReason(ctx context.Context, key string, retired bool) error
}
