package web

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"safetynet/i18n"
	"strconv"
	"strings"
	"time"

	"safetynet/alerts"
	"safetynet/match"
)

type tasksData struct {
	Tasks    []alerts.Task
	Task     *alerts.Task
	House    *match.Household
	Outcomes []string
	// Submission is the outcome form's own token, so that the form sent
	// twice is recorded once.
	Submission string
}

// mine says whether a task is the grid worker's: their grid's, or
// assigned to them by name.
func mine(u *User, t *alerts.Task) bool {
	return u.Role == GridWorker && ((t.GridCode != "" && t.GridCode == u.Grid) || t.Assignee == u.Name)
}

// gridTask returns the task of the path if it is in the grid worker's grid.
func (s *Server) gridTask(w http.ResponseWriter, r *http.Request, u *User) *alerts.Task {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, u, http.StatusNotFound, "e.no_such_task")
		return nil
	}
	t, err := alerts.GetTask(r.Context(), s.DB, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !mine(u, t)) {
		s.fail(w, r, u, http.StatusNotFound, "e.no_such_task") // another grid's task looks the same as none
		return nil
	}
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("task: %w", err))
		return nil
	}
	return t
}

// myTasks is the grid worker's list, made for a phone: the most urgent first.
func (s *Server) myTasks(w http.ResponseWriter, r *http.Request, u *User) {
	if u.Role != GridWorker {
		http.Redirect(w, r, "/alerts", http.StatusSeeOther)
		return
	}
	ts, err := alerts.WorkerTasks(r.Context(), s.DB, u.Grid, u.Name)
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("tasks: %w", err))
		return
	}
	s.render(w, r, "tasks", u, http.StatusOK, tasksData{Tasks: ts})
}

// taskPage is the household card and the outcome form.
func (s *Server) taskPage(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.gridTask(w, r, u)
	if t == nil {
		return
	}
	d := tasksData{Task: t, Outcomes: alerts.Outcomes, Submission: NewFormToken()}
	if t.HouseholdID != "" {
		h, err := match.FindHousehold(r.Context(), s.DB, t.HouseholdID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			s.Log.Error("household", "err", err)
		}
		d.House = h
	}
	s.audit(r.Context(), u.Name, "view_task", "household:"+t.HouseholdID, "task:"+strconv.FormatInt(t.TaskID, 10))
	s.render(w, r, "task", u, http.StatusOK, d)
}

// taskOutcome records the visit: the alert moves on to visited.
func (s *Server) taskOutcome(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.gridTask(w, r, u)
	if t == nil {
		return
	}
	// A form sent again (a phone sending what it saved offline, whose
	// first answer was lost) is recorded once: Act knows its token.
	submission := r.PostFormValue("submission")
	if t.Status != "open" && submission == "" {
		s.failBack(w, r, u, http.StatusConflict, "e.task_closed", "/tasks")
		return
	}
	photos, err := formPhotos(r)
	if err != nil { // before the visit is recorded: the form comes back whole
		s.refuse(w, r, u, err, "/tasks/"+strconv.FormatInt(t.TaskID, 10))
		return
	}
	outcome, note := r.PostFormValue("outcome"), r.PostFormValue("note")
	if err := alerts.Act(r.Context(), s.DB, alerts.Move{AlertID: t.AlertID, Action: alerts.Visit, Actor: u.Name, Outcome: outcome, Note: note,
		Submission: submission, At: time.Now()}); err != nil {
		s.refuse(w, r, u, err, "/tasks/"+strconv.FormatInt(t.TaskID, 10))
		return
	}
	s.audit(r.Context(), u.Name, "task_outcome", "alert:"+strconv.FormatInt(t.AlertID, 10), outcome+" "+note)
	for _, b := range photos {
		p, err := alerts.AddPhoto(r.Context(), s.DB, s.PhotoDir, t, b, u.Name, time.Now())
		if err != nil {
			s.internal(w, r, u, err)
			return
		}
		s.audit(r.Context(), u.Name, "task_photo", "alert:"+strconv.FormatInt(t.AlertID, 10), fmt.Sprintf("photo %d sha256 %s %d bytes", p.ID, p.SHA256, p.Bytes))
	}
	setFlash(w, r, flash{Msg: i18n.Msg("flash.outcome")})
	http.Redirect(w, r, "/tasks", http.StatusSeeOther)
}

// formPhotos reads the photos of an outcome form, each checked: at most
// five, each a JPEG, PNG or WebP of 8 MB at most.
func formPhotos(r *http.Request) ([][]byte, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	files := r.MultipartForm.File["photo"]
	if len(files) > alerts.MaxPhotos {
		return nil, alerts.ErrTooManyPhotos
	}
	var out [][]byte
	for _, fh := range files {
		if fh.Size == 0 {
			continue // the empty file input of a form without photos
		}
		if fh.Size > alerts.MaxPhotoBytes {
			return nil, alerts.ErrPhotoTooLarge
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, alerts.MaxPhotoBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		if _, err := alerts.CheckPhoto(b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// photo answers a visit photo to those who may see its alert: operators
// of its region, administrators, and the grid worker of its task.
func (s *Server) photo(w http.ResponseWriter, r *http.Request, u *User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, u, http.StatusNotFound, "e.no_photo")
		return
	}
	p, err := alerts.GetPhoto(r.Context(), s.DB, id)
	if err != nil {
		s.fail(w, r, u, http.StatusNotFound, "e.no_photo")
		return
	}
	if !s.maySeePhoto(r, u, p) {
		s.fail(w, r, u, http.StatusNotFound, "e.no_photo") // out of scope looks the same as missing
		return
	}
	b, err := os.ReadFile(alerts.PhotoPath(s.PhotoDir, p))
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	s.audit(r.Context(), u.Name, "view_photo", "alert:"+strconv.FormatInt(p.AlertID, 10), fmt.Sprintf("photo %d", p.ID))
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(b)
}

func (s *Server) maySeePhoto(r *http.Request, u *User, p *alerts.Photo) bool {
	if u.Role == GridWorker {
		t, err := alerts.GetTask(r.Context(), s.DB, p.TaskID)
		return err == nil && mine(u, t)
	}
	f := alerts.Filter{}
	if !scope(u, &f) {
		return false
	}
	a, err := alerts.Get(r.Context(), s.DB, p.AlertID)
	return err == nil && strings.HasPrefix(a.RegionCode, f.RegionPrefix)
}
