package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"safetynet/config"
	"safetynet/i18n"
	"safetynet/ingest"
	"safetynet/jobs"
)

type deliveriesData struct {
	Sources     []ingest.SourceState
	Quarantined []ingest.QuarantinedFile
	Rejections  []ingest.Rejection
	Runs        []jobs.RunInfo
	Running     bool
	CanRun      bool
}

// deliveriesPage is how the departments' deliveries stand, for operators
// and administrators: each source's last delivery and last success, what
// went stale, files refused whole, rows waiting for the department with
// its workbook to fix them from, and the runs of the chain (which an
// administrator can start from here).
func (s *Server) deliveriesPage(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.Acts() {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return
	}
	ctx := r.Context()
	var d deliveriesData
	var err error
	if d.Sources, err = ingest.SourceStates(ctx, s.DB, config.Sources, s.StaleAfter, time.Now()); err != nil {
		s.internal(w, r, u, err)
		return
	}
	if d.Quarantined, err = ingest.QuarantinedFiles(ctx, s.DB, ingest.QuarantineFilter{}); err != nil {
		s.internal(w, r, u, err)
		return
	}
	if d.Rejections, err = ingest.Rejections(ctx, s.DB, 50); err != nil {
		s.internal(w, r, u, err)
		return
	}
	if d.Runs, err = jobs.Runs(ctx, s.DB, 30); err != nil {
		s.internal(w, r, u, err)
		return
	}
	for _, run := range d.Runs {
		d.Running = d.Running || run.Status == "running"
	}
	d.CanRun = u.Role == Admin && s.Chain != nil
	s.render(w, r, "deliveries", u, http.StatusOK, d)
}

// quarantineExport is the workbook a department fixes a delivery from.
func (s *Server) quarantineExport(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.Acts() {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return
	}
	batch, err := strconv.ParseInt(r.URL.Query().Get("batch"), 10, 64)
	if err != nil {
		s.failBack(w, r, u, http.StatusBadRequest, "e.no_batch", "/deliveries")
		return
	}
	rows, err := ingest.QuarantinedRows(r.Context(), s.DB, ingest.QuarantineFilter{Batch: batch})
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	if len(rows) == 0 {
		s.failBack(w, r, u, http.StatusNotFound, "e.no_batch", "/deliveries")
		return
	}
	var buf bytes.Buffer
	if err := ingest.WriteQuarantineXLSX(&buf, rows, i18n.Parse(lang(w, r))); err != nil {
		s.internal(w, r, u, err)
		return
	}
	s.audit(r.Context(), u.Name, "quarantine_export", "batch:"+strconv.FormatInt(batch, 10), fmt.Sprintf("%d rows", len(rows)))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="fix-%s-batch%d.xlsx"`, rows[0].Source, batch))
	w.Write(buf.Bytes())
}

// runNow starts a run of every source, under the scheduler's lock.
func (s *Server) runNow(w http.ResponseWriter, r *http.Request, u *User) {
	if u.Role != Admin || s.Chain == nil {
		s.fail(w, r, u, http.StatusForbidden, "e.admins_only")
		return
	}
	err := s.Chain.Start(r.Context(), "web:"+u.Name)
	switch {
	case errors.Is(err, jobs.ErrBusy):
		setFlash(w, r, flash{Msg: i18n.Msg("flash.run_busy")})
	case err != nil:
		s.internal(w, r, u, err)
		return
	default:
		s.audit(r.Context(), u.Name, "run_now", "", "")
		setFlash(w, r, flash{Msg: i18n.Msg("flash.run_started")})
	}
	http.Redirect(w, r, "/deliveries", http.StatusSeeOther)
}

// Hours is a duration in hours, for the page.
func (p page) Hours(d time.Duration) string { return strconv.FormatFloat(d.Hours(), 'f', -1, 64) }

// Drift is a column change in the page's language.
func (p page) Drift(d ingest.Drift) string {
	l := i18n.Parse(p.Lang)
	label := ingest.ColumnLabel(l, d.Table, d.Col)
	switch d.Kind {
	case "renamed":
		return l.F("drift.renamed", label, d.Was, d.Now)
	case "missing":
		return l.F("drift.missing", label, d.Was)
	}
	return l.F("drift.new", d.Now)
}

// Kind is a kind of quarantined row in the page's language.
func (p page) Kind(source string, k ingest.ReasonKind) string {
	l := i18n.Parse(p.Lang)
	return k.In(l, func(col string) string { return ingest.ColumnLabel(l, source, col) })
}

// Trigger says who or what started a run.
func (p page) Trigger(t string) string {
	l := i18n.Parse(p.Lang)
	if who, ok := strings.CutPrefix(t, "web:"); ok {
		return l.F("trigger.web", who)
	}
	if l.Has("trigger." + t) {
		return l.T("trigger." + t)
	}
	return t
}

// Stage says where a running run is.
func (p page) Stage(s string) string {
	l := i18n.Parse(p.Lang)
	if src, ok := strings.CutPrefix(s, "ingest:"); ok {
		return l.F("stage.ingest", l.T("src."+src))
	}
	return l.T("stage." + s)
}
