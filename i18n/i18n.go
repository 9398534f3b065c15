// Package i18n owns the message catalogues: every word a user reads, in
// the web pages, the workbooks safetynet writes and the messages meant
// for departments, in Chinese (zh-CN, the default) and in English.
// A key missing from a catalogue is a bug that TestCatalogues finds.
package i18n

import (
	"fmt"
	"strings"
)

// Lang is a catalogue's language.
type Lang string

const (
	ZH Lang = "zh" // zh-CN, the default
	EN Lang = "en"
)

// Langs are the languages there are catalogues for.
var Langs = []Lang{ZH, EN}

var catalogs = map[Lang]map[string]string{ZH: zh, EN: en}

// Parse reads a language's code ("zh", "zh-CN", "en", "en-US"); anything
// else is the default.
func Parse(s string) Lang {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "en" || strings.HasPrefix(s, "en-") || strings.HasPrefix(s, "en_") {
		return EN
	}
	return ZH
}

// T is the message for key, or the key itself when no catalogue has it
// (a detail of a rule of one's own shows its own name, less its "d.").
func (l Lang) T(key string) string {
	if v, ok := catalogs[l][key]; ok {
		return v
	}
	if v, ok := catalogs[ZH][key]; ok {
		return v
	}
	return strings.TrimPrefix(key, "d.")
}

// F is the message for key with its %-verbs filled in.
func (l Lang) F(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

// Has says whether the catalogue has key.
func (l Lang) Has(key string) bool {
	_, ok := catalogs[l][key]
	return ok
}

// Keys are every key of the language's catalogue.
func (l Lang) Keys() []string {
	out := make([]string, 0, len(catalogs[l]))
	for k := range catalogs[l] {
		out = append(out, k)
	}
	return out
}
