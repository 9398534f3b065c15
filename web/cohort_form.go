package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"safetynet/alerts"
	"safetynet/analytics"
)

// cohortForm is the cohort form with its choices and what was filled in.
type cohortForm struct {
	Action      string // where the form posts: a new cohort, or a new version of one
	Name        string
	Def         analytics.Definition
	Regions     []regionChoice
	Tiers       []string
	Signals     []string
	Rules       []string
	States      []string
	Outcomes    []string
	RecordLevel bool // may write the cohort as SQL
	Error       string
}

func (s *Server) formFor(ctx context.Context, q *analytics.Querier, u *User, name string, d analytics.Definition) cohortForm {
	f := cohortForm{Action: "/analytics/cohorts", Name: name, Def: d, Tiers: analytics.Tiers, Signals: analytics.Signals, Rules: s.Pack.IDs(),
		States:   []string{alerts.StatusNew, alerts.StatusDispatched, alerts.StatusVisited, alerts.StatusResolved, alerts.StatusDismissed},
		Outcomes: alerts.Outcomes, RecordLevel: u.Role.RecordLevel()}
	if q != nil {
		f.Regions = s.regionsFor(ctx, q, u.RegionPrefix)
	}
	return f
}

// definitionFrom reads the form; what is wrong is left to Check.
func definitionFrom(form url.Values) analytics.Definition {
	d := analytics.Definition{
		Unit: analytics.Unit(form.Get("unit")), Membership: analytics.Membership(form.Get("membership")),
		Region: form.Get("region"), Tiers: form["tier"], Sex: form.Get("sex"), Signals: form["signal"],
		AlertRules: form["rule"], AlertStates: form["state"], Outcomes: form["outcome"],
		SQL: strings.TrimSpace(form.Get("sql")),
	}
	for _, p := range []struct {
		field string
		to    **int
	}{{"age_min", &d.AgeMin}, {"age_max", &d.AgeMax}, {"size_min", &d.SizeMin}, {"size_max", &d.SizeMax}} {
		if v := strings.TrimSpace(form.Get(p.field)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				n = -1 // Check says it is out of range
			}
			*p.to = &n
		}
	}
	if v := strings.TrimSpace(form.Get("oop")); v != "" {
		d.OutOfPocket, _ = strconv.ParseFloat(v, 64)
	}
	if form.Get("period") == "fixed" {
		d.Period = analytics.Period{From: form.Get("from"), To: form.Get("to")}
	} else {
		n, _ := strconv.Atoi(form.Get("last"))
		d.Period = analytics.Period{Last: n}
	}
	if d.SQL != "" { // a cohort written as SQL: the form's filters do not apply
		d = analytics.Definition{Unit: d.Unit, Membership: analytics.Both, SQL: d.SQL, Period: d.Period}
	}
	return d
}

// newCohort shows an empty form: persons of the registry, the last 12 months.
func (s *Server) newCohort(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.Analyses() {
		s.fail(w, r, u, http.StatusForbidden, "e.analysts_only")
		return
	}
	var q *analytics.Querier
	if qq, err := s.querier(r.Context(), u); err == nil {
		q = qq
	}
	d := analytics.Definition{Unit: analytics.Persons, Membership: analytics.InRegistry, Region: u.RegionPrefix, Period: analytics.Period{Last: 12}}
	s.render(w, r, "cohort_form", u, http.StatusOK, s.formFor(r.Context(), q, u, "", d))
}

// saveCohort stores a new cohort, or (with an id in the path) a new
// version of one, and shows its counts.
func (s *Server) saveCohort(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.Analyses() {
		s.fail(w, r, u, http.StatusForbidden, "e.analysts_only")
		return
	}
	var id int64
	if p := r.PathValue("id"); p != "" {
		id, _ = strconv.ParseInt(p, 10, 64)
	}
	d := definitionFrom(r.PostForm)
	name := r.PostForm.Get("name")
	q, qerr := s.querier(r.Context(), u)
	refuse := func(msg string) {
		f := s.formFor(r.Context(), q, u, name, d)
		f.Error = msg
		if id != 0 {
			f.Action = fmt.Sprintf("/analytics/cohorts/%d", id)
		}
		s.render(w, r, "cohort_form", u, http.StatusBadRequest, f)
	}
	t := translator(lang(w, r))
	if d.SQL != "" && !u.Role.RecordLevel() {
		refuse(t("e.sql_record_level"))
		return
	}
	if u.RegionPrefix != "" && !strings.HasPrefix(d.Region, u.RegionPrefix) {
		d.Region = u.RegionPrefix // a cohort never reaches past its author's scope
	}
	if err := d.Check(); err != nil {
		refuse(err.Error())
		return
	}
	if d.SQL != "" && qerr == nil {
		if err := q.CheckSQL(r.Context(), &d); err != nil {
			refuse(err.Error())
			return
		}
	}
	c, err := analytics.SaveCohort(r.Context(), s.DB, id, name, d, u.Name, time.Now())
	if err != nil {
		refuse(err.Error())
		return
	}
	s.audit(r.Context(), u.Name, "cohort_save", fmt.Sprintf("cohort:%d v%d", c.ID, c.Version), c.Name)
	http.Redirect(w, r, fmt.Sprintf("/analytics/cohorts/%d?v=%d&saved=1", c.ID, c.Version), http.StatusSeeOther)
}
