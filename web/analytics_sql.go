package web

import (
	"fmt"
	"net/http"
	"strconv"

	"safetynet/analytics"
)

type sqlPage struct {
	Query    string
	Result   *analytics.Result
	Error    string
	Snapshot *analytics.Manifest
	Limits   analytics.Limits
	Formats  []string
}

// sqlForm is the record-level analyst's SQL page: one SELECT over the
// analyst views, the result in the page (up to the row limit) or as a
// file in any export format (no row limit).
func (s *Server) sqlForm(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.RecordLevel() {
		s.fail(w, r, u, http.StatusForbidden, "e.record_level_only")
		return
	}
	q, err := s.querier(r.Context(), u)
	if err != nil {
		s.fail(w, r, u, http.StatusServiceUnavailable, "e.no_snapshot", err.Error())
		return
	}
	s.render(w, r, "sql", u, http.StatusOK, sqlPage{Query: "SELECT month, tier, count(*) AS persons FROM registry_months GROUP BY ALL ORDER BY ALL",
		Snapshot: q.Manifest, Limits: q.Limits(), Formats: []string{"csv", "xlsx", "parquet", "arrow"}})
}

// sqlRun runs the query; every query is audited with its text, its
// outcome and the rows it returned, before the answer goes out.
func (s *Server) sqlRun(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.RecordLevel() {
		s.fail(w, r, u, http.StatusForbidden, "e.record_level_only")
		return
	}
	text := r.PostForm.Get("q")
	format := r.PostForm.Get("format")
	q, err := s.querier(r.Context(), u)
	if err != nil {
		s.fail(w, r, u, http.StatusServiceUnavailable, "e.no_snapshot", err.Error())
		return
	}
	subject := "snapshot:" + q.Manifest.Name
	if _, ok := exportFormats[format]; ok {
		n, err := exportRows(w, r, q, text, format)
		outcome := strconv.FormatInt(n, 10) + " rows"
		if err != nil {
			outcome = "failed after " + outcome + ": " + err.Error()
		}
		s.audit(r.Context(), u.Name, "sql_export", subject, fmt.Sprintf("region=%s format=%s %s: %s", u.RegionPrefix, format, outcome, text))
		if err != nil && n == 0 {
			w.Header().Del("Content-Disposition")
			s.fail(w, r, u, http.StatusBadRequest, "e.query_failed", err.Error())
		}
		return
	}
	res, err := q.Query(r.Context(), text)
	page := sqlPage{Query: text, Result: res, Snapshot: q.Manifest, Limits: q.Limits(), Formats: []string{"csv", "xlsx", "parquet", "arrow"}}
	outcome := "refused: " + fmt.Sprint(err)
	if err == nil {
		outcome = fmt.Sprintf("%d rows", len(res.Rows))
	} else {
		page.Error = err.Error()
	}
	s.audit(r.Context(), u.Name, "sql", subject, fmt.Sprintf("region=%s %s: %s", u.RegionPrefix, outcome, text))
	status := http.StatusOK
	if err != nil {
		status = http.StatusBadRequest
	}
	s.render(w, r, "sql", u, status, page)
}

// exportCohort writes a cohort's counts (suppressed as on the page) by
// region (?what=regions) or by month (?what=series) as CSV or XLSX.
func (s *Server) exportCohort(w http.ResponseWriter, r *http.Request, u *User) {
	c, _, ok := s.cohortOf(w, r, u)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "xlsx" {
		s.fail(w, r, u, http.StatusBadRequest, "e.bad_format")
		return
	}
	q, err := s.querier(r.Context(), u)
	if err != nil {
		s.fail(w, r, u, http.StatusServiceUnavailable, "e.no_snapshot")
		return
	}
	t := translator(lang(w, r))
	region := cohortRegion(r, u, c)
	k := s.k(u)
	var header []string
	var rows [][]string
	version := fmt.Sprintf("%s v%d · %s", c.Name, c.Version, q.Manifest.Name)
	if r.URL.Query().Get("what") == "series" {
		series, err := q.Series(r.Context(), &c.Definition, region)
		if err != nil {
			s.fail(w, r, u, http.StatusBadRequest, "e.cohort_failed", err.Error())
			return
		}
		analytics.SuppressSeries(series, k)
		header = []string{t("month"), t("count"), t("cohort_version")}
		for _, m := range series {
			rows = append(rows, []string{m.Month, analytics.ShowCount(m.Count, k), version})
		}
	} else {
		table, err := q.CountByRegion(r.Context(), &c.Definition, region, r.URL.Query().Get("month"))
		if err != nil {
			s.fail(w, r, u, http.StatusBadRequest, "e.cohort_failed", err.Error())
			return
		}
		analytics.SuppressRegions(table, k)
		header = []string{t("region_code"), t("region_name"), t("month"), t("count"), t("cohort_version")}
		for _, row := range table.Rows {
			rows = append(rows, []string{row.Code, regionLabel(row.Code, t), table.Month, analytics.ShowCount(row.Count, k), version})
		}
		rows = append(rows, []string{table.Parent.Code, t("total"), table.Month, analytics.ShowCount(table.Total, k), version})
	}
	s.audit(r.Context(), u.Name, "cohort_export", fmt.Sprintf("cohort:%d v%d", c.ID, c.Version), fmt.Sprintf("region=%s format=%s suppress=%d", region, format, k))
	if err := writeTable(w, format, fmt.Sprintf("cohort-%d-v%d", c.ID, c.Version), header, rows); err != nil {
		s.Log.Error("cohort export", "err", err)
	}
}
