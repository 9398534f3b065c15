package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"safetynet/i18n"
)

// flash is what an action tells the page it leads to: what changed and
// how many, what did not happen and why, and what can be undone. It
// travels in a short-lived cookie across the redirect and is shown once.
type flash struct {
	Msg    i18n.Message `json:"m"`
	Failed []string     `json:"f,omitempty"` // refusals, already worded
	Undo   []int64      `json:"u,omitempty"` // dismissed alerts a reopen puts back
}

// flashView is a flash in the reader's words, for the layout.
type flashView struct {
	Text   string
	Failed []string
	Undo   []int64
}

const flashCookie = "flash"

// setFlash keeps f for the next page this browser shows.
func setFlash(w http.ResponseWriter, r *http.Request, f flash) {
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	setCookie(w, r, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// takeFlash reads the flash waiting for this page, if any, and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request, l i18n.Lang) *flashView {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	setCookie(w, r, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	var f flash
	if err != nil || json.Unmarshal(b, &f) != nil || !l.Has(f.Msg.Key) {
		return nil // not one this site wrote: nothing to show
	}
	return &flashView{Text: f.Msg.In(l), Failed: f.Failed, Undo: f.Undo}
}
