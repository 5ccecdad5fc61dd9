// Package i18n translates Cancel Desk's interface and formats money, numbers
// and dates for each supported language. Messages live in go-i18n v2 JSON
// catalogues embedded from locales/; each file is a flat object whose keys
// are dotted message ids ("orders.title"). A plural message is an object of
// CLDR forms ({"one": …, "other": …}); Chinese needs only "other".
//
// Every Localizer method returns a plain string so that html/template can
// call it ({{.L.T "orders.title"}}); nothing here panics or returns errors to
// a template. A missing message renders as ⟦id⟧ so it is seen, not hidden.
package i18n

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localesFS embed.FS

// Language is one supported language: its BCP 47 tag, as used in
// <html lang>, ?lang= and the catalogue file name, and its name written in
// that language itself, for the language switch.
type Language struct {
	Tag  string
	Name string
}

// languages lists the supported languages; the first is the default.
var languages = []Language{
	{Tag: "en", Name: "English"},
	{Tag: "zh-TW", Name: "繁體中文"},
}

const defaultLang = "en"

// Bundle holds the loaded catalogues. It is safe for concurrent use once
// New has returned.
type Bundle struct {
	bundle *goi18n.Bundle
	// keys maps a language tag to the set of message ids of its catalogue.
	keys map[string]map[string]bool
	// localizers caches one go-i18n localizer per language.
	localizers map[string]*goi18n.Localizer
	// plain maps a language tag to its messages that are plain text (no
	// template actions, no plural forms): T answers those without go-i18n,
	// which a page of fifty rows calls hundreds of times.
	plain map[string]map[string]string
}

// New loads the embedded catalogues of every supported language.
func New() (*Bundle, error) {
	return newBundle(localesFS)
}

// newBundle loads locales/<tag>.json from fsys for every supported language.
func newBundle(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{
		bundle:     goi18n.NewBundle(language.MustParse(defaultLang)),
		keys:       map[string]map[string]bool{},
		localizers: map[string]*goi18n.Localizer{},
		plain:      map[string]map[string]string{},
	}
	b.bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, lang := range languages {
		path := "locales/" + lang.Tag + ".json"
		buf, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		ids, err := catalogueKeys(buf)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", path, err)
		}
		if _, err := b.bundle.ParseMessageFileBytes(buf, path); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", path, err)
		}
		set := make(map[string]bool, len(ids))
		for _, id := range ids {
			set[id] = true
		}
		b.keys[lang.Tag] = set
		if b.plain[lang.Tag], err = plainMessages(buf); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", path, err)
		}
		b.localizers[lang.Tag] = goi18n.NewLocalizer(b.bundle, lang.Tag)
	}
	return b, nil
}

// plainMessages are the messages of a flat JSON catalogue that are a
// string without template actions.
func plainMessages(buf []byte) (map[string]string, error) {
	var all map[string]any
	if err := json.Unmarshal(buf, &all); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(all))
	for id, v := range all {
		if text, ok := v.(string); ok && !strings.Contains(text, "{{") {
			out[id] = text
		}
	}
	return out, nil
}

// catalogueKeys returns the message ids of a flat JSON catalogue in file
// order, rejecting an id written twice (encoding/json would silently keep
// the last one).
func catalogueKeys(buf []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(buf))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("a catalogue must be a JSON object of message ids")
	}
	var ids []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		id := tok.(string) // object keys are always strings
		if seen[id] {
			return nil, fmt.Errorf("message %q is defined twice", id)
		}
		seen[id] = true
		ids = append(ids, id)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("message %q: %w", id, err)
		}
	}
	return ids, nil
}

// Languages lists the supported languages, default first.
func (b *Bundle) Languages() []Language {
	return append([]Language(nil), languages...)
}

// HasKey reports whether every catalogue defines the message id.
func (b *Bundle) HasKey(id string) bool {
	for _, lang := range languages {
		if !b.keys[lang.Tag][id] {
			return false
		}
	}
	return true
}

// Keys returns the sorted message ids of one language's catalogue (nil for
// an unsupported language).
func (b *Bundle) Keys(lang string) []string {
	set := b.keys[lang]
	if set == nil {
		return nil
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Localizer returns the localizer of lang (anything unsupported becomes the
// closest supported language, as Match decides) showing times in loc (UTC
// when nil).
func (b *Bundle) Localizer(lang string, loc *time.Location) *Localizer {
	if loc == nil {
		loc = time.UTC
	}
	lang = b.Match("", lang)
	return &Localizer{bundle: b, lang: lang, loc: loc, msgs: b.localizers[lang], format: formats[lang]}
}

// Match picks the supported language for a request. The first preferred
// value (an explicit choice such as ?lang= or a cookie) that names a
// supported language wins: "zh-TW", "zh-tw", "zh-Hant", "en-GB" all count;
// empty and unsupported values are ignored. Otherwise the Accept-Language
// header decides, in order of its q-values: any English is "en", any Chinese
// (zh, zh-TW, zh-Hant, zh-HK, and zh-CN too, as Traditional Chinese is the
// only Chinese there is) is "zh-TW". Anything else is "en".
func (b *Bundle) Match(acceptLanguage string, preferred ...string) string {
	for _, p := range preferred {
		if lang, ok := supported(p); ok {
			return lang
		}
	}
	for _, tag := range parseAcceptLanguage(acceptLanguage) {
		if lang, ok := supported(tag); ok {
			return lang
		}
	}
	return defaultLang
}

// supported maps one language tag to the supported language it belongs to.
func supported(tag string) (string, bool) {
	tag = strings.TrimSpace(tag)
	if tag == "" || tag == "*" || len(tag) > 64 {
		return "", false
	}
	for _, l := range languages {
		if strings.EqualFold(tag, l.Tag) {
			return l.Tag, true
		}
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", false
	}
	base, _ := t.Base()
	switch base.String() {
	case "en":
		return "en", true
	case "zh":
		return "zh-TW", true
	}
	return "", false
}

// parseAcceptLanguage returns the language ranges of an Accept-Language
// header, most preferred first. It is lenient: a malformed entry is skipped,
// not fatal to the rest, and q=0 ("not acceptable") entries are dropped.
func parseAcceptLanguage(header string) []string {
	type entry struct {
		tag string
		q   float64
	}
	var entries []entry
	for i, part := range strings.Split(header, ",") {
		if i >= 32 { // nobody prefers 32 languages; bound the work
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		if tag == "" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if q > 0 {
			entries = append(entries, entry{tag, q})
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].q > entries[j].q })
	tags := make([]string, len(entries))
	for i, e := range entries {
		tags[i] = e.tag
	}
	return tags
}
