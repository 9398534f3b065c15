package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"safetynet/analytics"
	"safetynet/regions"
)

// AnalyticsConfig says where the analytic snapshot is and how counts are
// shown to analysts who see aggregates only.
type AnalyticsConfig struct {
	Dir       string
	SmallCell int // k: counts below it are suppressed
	Limits    analytics.Limits
}

// querier is the current snapshot's querier for the user's scope, kept
// for the next request: opening one lists and binds every partition file.
// Queriers of replaced snapshots are closed once newer ones displace them.
func (s *Server) querier(ctx context.Context, u *User) (*analytics.Querier, error) {
	name, err := analytics.CurrentName(s.Analytics.Dir)
	if err != nil {
		return nil, err
	}
	key := name + "|" + u.RegionPrefix
	s.queriersMu.Lock()
	defer s.queriersMu.Unlock()
	if q, ok := s.queriers[key]; ok {
		return q, nil
	}
	q, err := analytics.Open(ctx, s.Analytics.Dir, u.RegionPrefix, s.Analytics.Limits)
	if err != nil {
		return nil, err
	}
	if s.queriers == nil {
		s.queriers = map[string]*analytics.Querier{}
	}
	s.queriers[key] = q
	s.querierKeys = append(s.querierKeys, key)
	if len(s.querierKeys) > maxQueriers {
		old := s.querierKeys[0]
		s.querierKeys = s.querierKeys[1:]
		s.queriers[old].Close()
		delete(s.regionLists, s.queriers[old])
		delete(s.queriers, old)
	}
	return q, nil
}

// maxQueriers is how many snapshot-and-scope queriers stay open.
const maxQueriers = 16

// Close closes the queriers the server kept, removing their spools and
// in-memory databases. Call it once the HTTP server has shut down: a
// request still running would find its querier closed.
func (s *Server) Close() error {
	s.queriersMu.Lock()
	defer s.queriersMu.Unlock()
	var errs []error
	for _, key := range s.querierKeys {
		errs = append(errs, s.queriers[key].Close())
	}
	s.queriers, s.querierKeys, s.regionLists = nil, nil, nil
	return errors.Join(errs...)
}

// k is the suppression threshold for the user: 0 (exact counts) for the
// record-level roles, who could count the rows themselves.
func (s *Server) k(u *User) int {
	if u.Role.RecordLevel() {
		return 0
	}
	return max(s.Analytics.SmallCell, 2)
}

// chart is what static/charts.js draws with ECharts; a nil value is a
// suppressed count, drawn as a gap and labelled by Note.
type chart struct {
	Kind   string     `json:"kind"` // bar, line, funnel
	Title  string     `json:"title"`
	Labels []string   `json:"labels"`
	Series []chartSet `json:"series"`
	Note   string     `json:"note,omitempty"`
	Links  []string   `json:"links,omitempty"` // a bar's drill-down address
}

type chartSet struct {
	Name   string `json:"name"`
	Values []*int `json:"values"`
}

// shown is a count as an analyst may see it: nil when suppressed.
func shown(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}

type funnelView struct {
	By   string
	Rows []funnelRowView
}

type funnelRowView struct {
	analytics.FunnelRow
	Label string
}

type analyticsHome struct {
	Snapshot     *analytics.Manifest
	NoSnapshot   string
	K            int
	Total        funnelRowView
	ByRule       funnelView
	ByTownship   funnelView
	ByMonth      funnelView
	Discovery    *funnelRowView
	FunnelChart  chart
	RuleChart    chart
	Cohorts      []analytics.Cohort
	RecordLevel  bool
	Downloadable []string
}

// analyticsHome is the analyst's landing page: the 政策找人 funnel of the
// snapshot, by rule and by township, and the saved cohorts.
func (s *Server) analyticsHome(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.Analyses() {
		s.fail(w, r, u, http.StatusForbidden, "e.analysts_only")
		return
	}
	t := translator(lang(w, r))
	data := analyticsHome{K: s.k(u), RecordLevel: u.Role.RecordLevel()}
	cohorts, err := analytics.Cohorts(r.Context(), s.DB)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	data.Cohorts = cohorts
	q, err := s.querier(r.Context(), u)
	if err != nil {
		data.NoSnapshot = err.Error()
		s.render(w, r, "analytics", u, http.StatusOK, data)
		return
	}
	data.Snapshot = q.Manifest
	all, err := funnelTotal(r.Context(), q)
	var total funnelRowView
	var byRule funnelView
	if err == nil {
		total, byRule, err = s.funnel(r.Context(), q, "rule", all, data.K, t)
	}
	if err == nil {
		_, data.ByTownship, err = s.funnel(r.Context(), q, "region", all, data.K, t)
	}
	if err == nil {
		_, data.ByMonth, err = s.funnel(r.Context(), q, "month", all, data.K, t)
	}
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	data.Total, data.ByRule = total, byRule
	for i := range byRule.Rows {
		if byRule.Rows[i].Group == "discovery" {
			data.Discovery = &byRule.Rows[i]
		}
	}
	data.FunnelChart = chart{Kind: "funnel", Title: t("funnel"), Note: smallNote(t, data.K),
		Labels: []string{t("f.raised"), t("f.dispatched"), t("f.visited"), t("f.in_time"), t("f.helped"), t("f.changed")},
		Series: []chartSet{{Name: t("total"), Values: []*int{shown(total.Raised), shown(total.Dispatched), shown(total.Visited), shown(total.InTime), shown(total.Helped), shown(total.Changed)}}}}
	data.RuleChart = chart{Kind: "bar", Title: t("funnel_by_rule"), Note: smallNote(t, data.K)}
	raised, visited, changed := chartSet{Name: t("f.raised")}, chartSet{Name: t("f.visited")}, chartSet{Name: t("f.changed")}
	for _, row := range byRule.Rows {
		data.RuleChart.Labels = append(data.RuleChart.Labels, row.Label)
		raised.Values = append(raised.Values, shown(row.Raised))
		visited.Values = append(visited.Values, shown(row.Visited))
		changed.Values = append(changed.Values, shown(row.Changed))
	}
	data.RuleChart.Series = []chartSet{raised, visited, changed}
	s.audit(r.Context(), u.Name, "analytics_funnel", "snapshot:"+q.Manifest.Name, fmt.Sprintf("region=%s suppress=%d", u.RegionPrefix, data.K))
	s.render(w, r, "analytics", u, http.StatusOK, data)
}

// funnel is the funnel grouped by `by`, suppressed at k, with its total.
// all is the unsuppressed total (funnelTotal), counted once for every
// grouping of a page.
func (s *Server) funnel(ctx context.Context, q *analytics.Querier, by string, all analytics.FunnelRow, k int, t func(string) string) (funnelRowView, funnelView, error) {
	rows, err := q.Funnel(ctx, by)
	if err != nil {
		return funnelRowView{}, funnelView{}, err
	}
	rows = append(rows, all)
	analytics.SuppressFunnel(rows, k)
	view := funnelView{By: by}
	for _, row := range rows[:len(rows)-1] {
		view.Rows = append(view.Rows, funnelRowView{FunnelRow: row, Label: s.groupLabel(by, row.Group, t)})
	}
	return funnelRowView{FunnelRow: rows[len(rows)-1], Label: t("total")}, view, nil
}

// funnelTotal is the funnel of all the snapshot's alerts, not suppressed.
func funnelTotal(ctx context.Context, q *analytics.Querier) (analytics.FunnelRow, error) {
	all, err := q.Funnel(ctx, "all")
	if err != nil || len(all) == 0 {
		return analytics.FunnelRow{Group: "all"}, err
	}
	return all[0], nil
}

// groupLabel names a funnel group: a rule's title, a township's name.
func (s *Server) groupLabel(by, group string, t func(string) string) string {
	switch by {
	case "rule":
		return s.Pack.Title(group, langOf(t))
	case "region":
		return regionLabel(group, t)
	}
	return group
}

// regionLabel names a region; a township padded with zeros is where
// people outside the registry are counted, by the county of their ID.
func regionLabel(code string, t func(string) string) string {
	if n := regions.Name(code); n != "" {
		return n
	}
	if strings.HasSuffix(code, "000") && len(code) >= 9 {
		return regions.Name(code[:6]) + t("by_id_county")
	}
	return code
}

func smallNote(t func(string) string, k int) string {
	if k == 0 {
		return ""
	}
	return fmt.Sprintf(t("small_note"), k)
}

// cohortPage shows one cohort version: counts one level below a region,
// a click on a region drilling down, and the monthly series.
type cohortPage struct {
	Cohort     *analytics.Cohort
	Versions   []analytics.Cohort
	Table      *analytics.RegionTable
	Series     []analytics.MonthCount
	Path       []regions.Region
	Months     []string
	K          int
	Query      string // v=…&region=…&month=…
	Bars, Line chart
	Form       cohortForm
	Snapshot   *analytics.Manifest
}

func (s *Server) cohortPage(w http.ResponseWriter, r *http.Request, u *User) {
	c, versions, ok := s.cohortOf(w, r, u)
	if !ok {
		return
	}
	t := translator(lang(w, r))
	q, err := s.querier(r.Context(), u)
	if err != nil {
		s.fail(w, r, u, http.StatusServiceUnavailable, "e.no_snapshot")
		return
	}
	region := cohortRegion(r, u, c)
	month := r.URL.Query().Get("month")
	page := cohortPage{Cohort: c, Versions: versions, K: s.k(u), Months: c.Definition.Period.Months(q.Latest()), Snapshot: q.Manifest}
	if month != "" && !slices.Contains(page.Months, month) {
		month = ""
	}
	page.Table, err = q.CountByRegion(r.Context(), &c.Definition, region, month)
	if err == nil {
		page.Series, err = q.Series(r.Context(), &c.Definition, region)
	}
	if err != nil {
		s.fail(w, r, u, http.StatusBadRequest, "e.cohort_failed", err.Error())
		return
	}
	analytics.SuppressRegions(page.Table, page.K)
	analytics.SuppressSeries(page.Series, page.K)
	for _, p := range regions.Path(region) {
		if len(p.Code) >= len(u.RegionPrefix) {
			page.Path = append(page.Path, regions.Region{Code: p.Code, Name: regionLabel(p.Code, t)})
		}
	}
	page.Query = url.Values{"v": {strconv.Itoa(c.Version)}, "region": {region}, "month": {page.Table.Month}}.Encode()
	page.Bars = chart{Kind: "bar", Title: fmt.Sprintf("%s · %s", c.Name, page.Table.Month), Note: smallNote(t, page.K)}
	set := chartSet{Name: t("count")}
	for i, row := range page.Table.Rows {
		page.Table.Rows[i].Name = regionLabel(row.Code, t)
		page.Bars.Labels = append(page.Bars.Labels, page.Table.Rows[i].Name)
		set.Values = append(set.Values, shown(row.Count))
		link := ""
		if len(row.Code) < 12 {
			link = fmt.Sprintf("/analytics/cohorts/%d?v=%d&region=%s&month=%s", c.ID, c.Version, row.Code, page.Table.Month)
		}
		page.Bars.Links = append(page.Bars.Links, link)
	}
	page.Bars.Series = []chartSet{set}
	page.Line = chart{Kind: "line", Title: c.Name + " · " + t("by_month"), Note: smallNote(t, page.K)}
	line := chartSet{Name: t("count")}
	for _, m := range page.Series {
		page.Line.Labels = append(page.Line.Labels, m.Month)
		line.Values = append(line.Values, shown(m.Count))
	}
	page.Line.Series = []chartSet{line}
	page.Form = s.formFor(r.Context(), q, u, c.Name, c.Definition)
	page.Form.Action = fmt.Sprintf("/analytics/cohorts/%d", c.ID)
	s.audit(r.Context(), u.Name, "cohort_count", fmt.Sprintf("cohort:%d v%d", c.ID, c.Version), fmt.Sprintf("region=%s month=%s suppress=%d", region, page.Table.Month, page.K))
	s.render(w, r, "cohort", u, http.StatusOK, page)
}

// cohortRegion is the region a cohort is counted below: the request's
// (?region=), else the cohort's own, within the user's scope.
func cohortRegion(r *http.Request, u *User, c *analytics.Cohort) string {
	region := r.URL.Query().Get("region")
	if region == "" || !strings.HasPrefix(region, u.RegionPrefix) {
		region = c.Definition.Region
	}
	if !strings.HasPrefix(region, u.RegionPrefix) || len(region) >= 12 {
		region = u.RegionPrefix
	}
	return region
}

// cohortOf reads the cohort (and version, ?v=) the request names.
func (s *Server) cohortOf(w http.ResponseWriter, r *http.Request, u *User) (*analytics.Cohort, []analytics.Cohort, bool) {
	if !u.Role.Analyses() {
		s.fail(w, r, u, http.StatusForbidden, "e.analysts_only")
		return nil, nil, false
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	v, _ := strconv.Atoi(r.URL.Query().Get("v"))
	c, err := analytics.GetCohort(r.Context(), s.DB, id, v)
	if errors.Is(err, analytics.ErrNoCohort) {
		s.fail(w, r, u, http.StatusNotFound, "e.no_cohort")
		return nil, nil, false
	}
	if err != nil {
		s.internal(w, r, u, err)
		return nil, nil, false
	}
	versions, err := analytics.CohortVersions(r.Context(), s.DB, id)
	if err != nil {
		s.internal(w, r, u, err)
		return nil, nil, false
	}
	return c, versions, true
}

// regionsFor is the form's region tree for a querier: read from the
// snapshot once per snapshot and scope, not on every form.
func (s *Server) regionsFor(ctx context.Context, q *analytics.Querier, scope string) []regionChoice {
	s.queriersMu.Lock()
	list, ok := s.regionLists[q]
	s.queriersMu.Unlock()
	if ok {
		return list
	}
	list = regionChoices(ctx, q, scope)
	if list == nil { // none, or the query failed: ask again next time
		return nil
	}
	s.queriersMu.Lock()
	if s.regionLists == nil {
		s.regionLists = map[*analytics.Querier][]regionChoice{}
	}
	s.regionLists[q] = list
	s.queriersMu.Unlock()
	return list
}

// regionChoices are the regions of the snapshot in the user's scope, from
// county to village, named, in tree order: what the form offers.
func regionChoices(ctx context.Context, q *analytics.Querier, scope string) []regionChoice {
	res, err := q.Query(ctx, `SELECT DISTINCT village FROM registry_months WHERE village IS NOT NULL ORDER BY 1`)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []regionChoice
	for _, row := range res.Rows {
		v := row[0]
		for _, l := range []int{6, 9, 12} {
			if len(v) < l || seen[v[:l]] || l < len(scope) {
				continue
			}
			seen[v[:l]] = true
			out = append(out, regionChoice{Code: v[:l], Depth: l / 3, Name: regions.Name(v[:l])})
		}
	}
	return out // in code order already: the villages are, and each prefix comes before them
}

type regionChoice struct {
	Code, Name string
	Depth      int
}

// exportFunnel writes the funnel by rule, township or month (?by=), with
// its total, suppressed as on the landing page, as XLSX or CSV.
func (s *Server) exportFunnel(w http.ResponseWriter, r *http.Request, u *User) {
	if !u.Role.Analyses() {
		s.fail(w, r, u, http.StatusForbidden, "e.analysts_only")
		return
	}
	by, format := r.URL.Query().Get("by"), r.URL.Query().Get("format")
	if !slices.Contains(analytics.FunnelBy, by) || (format != "csv" && format != "xlsx") {
		s.fail(w, r, u, http.StatusBadRequest, "e.bad_format")
		return
	}
	q, err := s.querier(r.Context(), u)
	if err != nil {
		s.fail(w, r, u, http.StatusServiceUnavailable, "e.no_snapshot")
		return
	}
	t := translator(lang(w, r))
	k := s.k(u)
	all, err := funnelTotal(r.Context(), q)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	total, view, err := s.funnel(r.Context(), q, by, all, k, t)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	header := []string{t("funnel_by_" + by), t("f.raised"), t("f.dispatched"), t("f.visited"), t("f.in_time"), t("f.helped"), t("f.changed"), t("f.median_hours"), t("snapshot")}
	var rows [][]string
	for _, f := range append(view.Rows, total) {
		rows = append(rows, []string{f.Label, analytics.ShowCount(f.Raised, k), analytics.ShowCount(f.Dispatched, k), analytics.ShowCount(f.Visited, k), analytics.ShowCount(f.InTime, k),
			analytics.ShowCount(f.Helped, k), analytics.ShowCount(f.Changed, k), analytics.ShowHours(f.MedianHoursToVisit), q.Manifest.Name})
	}
	s.audit(r.Context(), u.Name, "funnel_export", "snapshot:"+q.Manifest.Name, fmt.Sprintf("by=%s format=%s suppress=%d", by, format, k))
	if err := writeTable(w, format, "funnel-"+by, header, rows); err != nil {
		s.Log.Error("funnel export", "err", err)
	}
}
