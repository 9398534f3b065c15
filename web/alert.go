package web

import (
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"safetynet/alerts"
	"safetynet/i18n"
	"safetynet/ingest"
	"safetynet/match"
)

// evidenceView is one record an alert rests on, as its page shows it.
type evidenceView struct {
	alerts.Evidence
	SourceName string
	Record     *ingest.Record
	Fields     []fieldView
	Link       *match.Explanation
}

// changeView is one line of an alert's history in the reader's words.
type changeView struct {
	At         time.Time
	Actor      string
	From, To   string
	What, Note string
}

type alertData struct {
	Alert     *alerts.Alert
	Actions   []alerts.Action // what the user may do now
	Outcomes  []string
	History   []changeView
	Title     string
	Reason    string
	Region    string
	Details   []fieldView
	Household *match.Household
	Evidence  []evidenceView
	Photos    []alerts.Photo
}

func (s *Server) alertPage(w http.ResponseWriter, r *http.Request, u *User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, u, http.StatusNotFound, "not_found")
		return
	}
	f := alerts.Filter{}
	if !scope(u, &f) {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return
	}
	a, err := alerts.Get(r.Context(), s.DB, id)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !strings.HasPrefix(a.RegionCode, f.RegionPrefix) {
		s.fail(w, r, u, http.StatusNotFound, "not_found") // out of scope looks the same as missing
		return
	}
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	l := i18n.Parse(lang(w, r))
	d := alertData{Alert: a, Title: s.Pack.Title(a.RuleID, string(l)), Outcomes: alerts.Outcomes,
		Reason: s.Pack.Reason(a.RuleID, a.Reason, a.Details, l), Region: regionText(a.RegionCode)}
	if canAct(u) {
		d.Actions = alerts.Allowed(a.Status)
	}
	history, err := alerts.History(r.Context(), s.DB, id)
	if err != nil {
		s.Log.Error("history", "err", err)
	}
	for _, c := range history {
		d.History = append(d.History, s.changeText(l, c))
	}
	var details map[string]any
	json.Unmarshal(a.Details, &details)
	d.Details = detailViews(l, details)
	subject := "person:" + match.Mask(a.IDNumber)
	if a.HouseholdID != "" {
		subject = "household:" + a.HouseholdID
		h, err := match.FindHousehold(r.Context(), s.DB, a.HouseholdID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			s.Log.Error("household", "err", err)
		}
		d.Household = h
	}
	for _, ev := range a.Evidence {
		d.Evidence = append(d.Evidence, s.evidence(r, l, ev))
	}
	if d.Photos, err = alerts.Photos(r.Context(), s.DB, id); err != nil {
		s.Log.Error("photos", "err", err)
	}
	s.audit(r.Context(), u.Name, "view_alert", subject, "alert:"+strconv.FormatInt(id, 10))
	s.render(w, r, "alert", u, http.StatusOK, d)
}

// evidence reads one record of an alert's evidence and how it was linked.
func (s *Server) evidence(r *http.Request, l i18n.Lang, ev alerts.Evidence) evidenceView {
	v := evidenceView{Evidence: ev, SourceName: l.T("src." + ev.Source)}
	rec, err := ingest.FindRecord(r.Context(), s.DB, ev.Source, ev.RecordID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.Log.Error("evidence", "source", ev.Source, "record", ev.RecordID, "err", err)
	}
	if rec != nil {
		v.Record, v.Fields = rec, recordFields(l, rec)
	}
	v.Link, err = match.Explain(r.Context(), s.DB, ev.Source, ev.RecordID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.Log.Error("link explanation", "source", ev.Source, "record", ev.RecordID, "err", err)
	}
	return v
}

// changeText words one history line: the system's events from their
// arguments, a person's note as they wrote it.
func (s *Server) changeText(l i18n.Lang, c alerts.Change) changeView {
	v := changeView{At: c.At, Actor: c.Actor, From: c.From, To: c.To, Note: c.Note}
	if c.Actor == "system" {
		v.Actor = l.T("system")
	}
	arg := func(i int) string {
		if i < len(c.Args) {
			return c.Args[i]
		}
		return ""
	}
	switch c.Event {
	case alerts.EventRaised:
		v.What = l.F("h.raised", s.Pack.Title(arg(0), string(l)))
	case alerts.EventEscalated:
		v.What = l.T("h.escalated")
	case alerts.EventAssigned:
		v.What = l.F("h.assigned", arg(0), arg(1))
	case alerts.EventVisited:
		v.What = l.F("h.visited", l.T("o."+arg(0)))
		if arg(1) != "" || arg(2) != "" {
			v.What += l.F("h.visited_sheet", arg(1), arg(2))
		}
	}
	return v
}
