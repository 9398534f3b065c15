package web

import (
	"net/http"

	"safetynet/i18n"
)

// lang picks the language of a request and remembers a choice.
func lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "zh" || l == "en" {
		setCookie(w, r, &http.Cookie{Name: "lang", Value: l, Path: "/", SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "zh" || c.Value == "en") {
		return c.Value
	}
	return "zh"
}

// langOf is the language a translator speaks.
func langOf(t func(string) string) string {
	if t("lang_other_code") == "zh" {
		return "en"
	}
	return "zh"
}

// translator returns the word for key in language l.
func translator(l string) func(string) string { return i18n.Parse(l).T }
