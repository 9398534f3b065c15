package web

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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
	outcome, note := r.PostFormValue("outcome"), r.PostFormValue("note")
	if err := alerts.Act(r.Context(), s.DB, alerts.Move{AlertID: t.AlertID, Action: alerts.Visit, Actor: u.Name, Outcome: outcome, Note: note,
		Submission: submission, At: time.Now()}); err != nil {
		s.refuse(w, r, u, err, "/tasks/"+strconv.FormatInt(t.TaskID, 10))
		return
	}
	s.audit(r.Context(), u.Name, "task_outcome", "alert:"+strconv.FormatInt(t.AlertID, 10), outcome+" "+note)
	setFlash(w, flash{Key: "flash.outcome"})
	http.Redirect(w, r, "/tasks", http.StatusSeeOther)
}
