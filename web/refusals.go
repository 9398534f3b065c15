package web

import (
	"errors"
	"net/http"

	"safetynet/alerts"
	"safetynet/i18n"
)

// refusals are the alerts package's refusals in the catalogue's words,
// with the status each answers with.
var refusals = []struct {
	err    error
	status int
	key    string
}{
	{alerts.ErrNeedsReason, http.StatusBadRequest, "e.needs_reason"},
	{alerts.ErrNeedsNote, http.StatusBadRequest, "e.needs_note"},
	{alerts.ErrBadOutcome, http.StatusBadRequest, "e.bad_outcome"},
	{alerts.ErrUnknownAction, http.StatusBadRequest, "e.unknown_action"},
	{alerts.ErrNoAlert, http.StatusNotFound, "not_found"},
	{alerts.ErrOpenTwin, http.StatusConflict, "e.open_twin"},
	{alerts.ErrTransition, http.StatusConflict, "e.transition"},
	{alerts.ErrNoOpenTask, http.StatusConflict, "e.task_closed"},
	{alerts.ErrPhotoTooLarge, http.StatusRequestEntityTooLarge, "e.photo_too_large"},
	{alerts.ErrNotPhoto, http.StatusUnsupportedMediaType, "e.not_photo"},
	{alerts.ErrTooManyPhotos, http.StatusBadRequest, "e.too_many_photos"},
}

// refusal is the status and catalogue key of an error an action met;
// ok is false for an error that is not a refusal (a fault: 500).
func refusal(err error) (status int, key string, ok bool) {
	for _, r := range refusals {
		if errors.Is(err, r.err) {
			return r.status, r.key, true
		}
	}
	return http.StatusInternalServerError, "e.internal", false
}

// refuse answers an action's error with the error page: a refusal in the
// user's words with the way back to the form, a fault as a 500.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, u *User, err error, back string) {
	status, key, ok := refusal(err)
	if !ok {
		s.internal(w, r, u, err)
		return
	}
	s.failBack(w, r, u, status, key, back)
}

// refusalText words a refusal for a list of them ("预警 12：…").
func refusalText(l i18n.Lang, alertID int64, err error) string {
	_, key, _ := refusal(err)
	return l.F("e.alert_refused", alertID, l.T(key))
}
