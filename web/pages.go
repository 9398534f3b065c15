package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"safetynet/alerts"
	"safetynet/analytics"
	"safetynet/i18n"
	"safetynet/match"
)

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"mask": match.Mask,
		"when": func(t time.Time) string { return t.In(shanghai).Format("2006-01-02 15:04") },
		"day": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.Format("2006-01-02")
		},
		"yuan":  func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
		"base":  filepath.Base,
		"list4": func(a, b, c, d string) []string { return []string{a, b, c, d} },
		"add":   func(a, b, c int) int { return a + b + c },
		"list5": func(a, b, c, d, e string) []string { return []string{a, b, c, d, e} },
		"count": analytics.ShowCount,
		"list2": func(a, b any) []any { return []any{a, b} },
		"list3": func(a, b, c string) []string { return []string{a, b, c} },
		"hours": analytics.ShowHours,
		"has":   slices.Contains[[]string],
		"deref": func(p *int) string {
			if p == nil {
				return ""
			}
			return strconv.Itoa(*p)
		},
		"indent": func(n int) string { return strings.Repeat("\u00a0\u00a0", max(n-2, 0)) },
	}
	s.pages = map[string]*template.Template{}
	for _, p := range []string{"login", "inbox", "alert", "review", "tasks", "task", "audit", "queue", "sheet", "error", "analytics", "cohort", "cohort_form", "sql", "deliveries"} {
		files := []string{"templates/layout.html", "templates/" + p + ".html"}
		if p == "cohort" || p == "cohort_form" { // both hold the cohort form
			files = append(files, "templates/cohort_fields.html")
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return err
		}
		s.pages[p] = t
	}
	return nil
}

var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// page is what every template gets.
type page struct {
	Lang  string
	User  *User
	Title string
	Flash *flashView // what the last action did, shown once
	Data  any
	pack  *alerts.Pack
}

// Why is an alert's reason in the page's language.
func (p page) Why(rule, stored string, details []byte) string {
	if p.pack == nil {
		return stored
	}
	return p.pack.Reason(rule, stored, details, i18n.Parse(p.Lang))
}

// RuleTitle is a rule's title in the page's language.
func (p page) RuleTitle(id string) string {
	if p.pack == nil {
		return id
	}
	return p.pack.Title(id, p.Lang)
}

// Word is the catalogue's message for key when it has one, else fallback
// (a view's own description, say).
func (p page) Word(key, fallback string) string {
	if l := i18n.Parse(p.Lang); l.Has(key) {
		return l.T(key)
	}
	return fallback
}

// Msg is a message in the page's language ("" for none).
func (p page) Msg(m i18n.Message) string {
	if m.Key == "" {
		return ""
	}
	return m.In(i18n.Parse(p.Lang))
}

// Region is a division code with its names.
func (p page) Region(code string) string { return regionText(code) }

// T translates a message key into the page's language.
func (p page) T(key string) string { return translator(p.Lang)(key) }

// render executes a page into a buffer first, so a template that fails
// answers 500 with the error page and never half a page with 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, u *User, status int, data any) {
	l := lang(w, r)
	p := page{Lang: l, User: u, Data: data, pack: s.Pack}
	if status == http.StatusOK {
		p.Flash = takeFlash(w, r, i18n.Parse(l))
	}
	var buf bytes.Buffer
	tmpl, ok := s.pages[name]
	if !ok { // a page without its template: a bug, answered as a fault
		tmpl = s.pages["error"]
		p.Data, status = errorPage{Status: http.StatusInternalServerError, Message: translator(l)("e.internal"), Home: "/"}, http.StatusInternalServerError
		s.Log.Error("render: no template", "page", name)
	}
	if err := tmpl.Execute(&buf, p); err != nil {
		s.Log.Error("render", "page", name, "err", err)
		buf.Reset()
		status = http.StatusInternalServerError
		t := translator(l)
		if err := s.pages["error"].Execute(&buf, page{Lang: l, User: u, Data: errorPage{Status: status, Message: t("e.internal"), Home: "/"}}); err != nil {
			http.Error(w, t("e.internal"), status)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	data := map[string]string{"Next": r.URL.Query().Get("next"), "CSRF": loginCSRF(w, r)}
	if r.URL.Query().Get("expired") != "" {
		data["Error"] = "e.session_expired"
	}
	s.render(w, r, "login", nil, http.StatusOK, data)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, nil, http.StatusBadRequest, "e.bad_form")
		return
	}
	if !loginCSRFOK(r) {
		s.render(w, r, "login", nil, http.StatusForbidden, map[string]string{"Next": r.PostForm.Get("next"), "Error": "form_expired", "CSRF": loginCSRF(w, r)})
		return
	}
	next := r.PostForm.Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/" // the role's home
	}
	name := r.PostForm.Get("username")
	keys := limiterKeys(r, name)
	if wait := s.limiter().wait(keys); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.audit(r.Context(), name, "login_refused", "", "too many failed attempts from "+keys[1])
		s.render(w, r, "login", nil, http.StatusTooManyRequests, map[string]string{"Next": next, "Error": "too_many_attempts", "CSRF": loginCSRF(w, r)})
		return
	}
	err := s.login(w, r, name, r.PostForm.Get("password"))
	if errors.Is(err, errBadLogin) {
		s.limiter().fail(keys)
		s.audit(r.Context(), name, "login_failed", "", keys[1])
		s.render(w, r, "login", nil, http.StatusUnauthorized, map[string]string{"Next": next, "Error": "bad_login", "CSRF": loginCSRF(w, r)})
		return
	}
	if err != nil {
		s.internal(w, r, nil, fmt.Errorf("login: %w", err))
		return
	}
	s.limiter().succeed(keys)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// scope narrows a filter to what the user may see.
func scope(u *User, f *alerts.Filter) bool {
	switch u.Role {
	case Admin:
	case Operator:
		if !strings.HasPrefix(f.RegionPrefix, u.RegionPrefix) {
			f.RegionPrefix = u.RegionPrefix
		}
	default:
		return false
	}
	return true
}

type inboxRow struct {
	alerts.Alert
	Title string
}

type inboxData struct {
	CanAct   bool   // bulk actions shown
	Back     string // where a bulk action returns to: this very filter
	Query    string // the filter as a query string, for the export links
	Filter   alerts.Filter
	Rules    []struct{ ID, Title string }
	Rows     []inboxRow
	Shown    int
	Limit    int
	ByRule   []countRow
	ByRegion []countRow
	Total    int    // what the filter finds in all
	From     int    // the first row shown, counting from 1
	Prev     string // links to the neighbouring pages, if any
	Next     string
}

// countRow is one line of the counts beside the inbox, with the link that
// narrows the inbox to it.
type countRow struct {
	alerts.Count
	Label, Href string
}

// inboxLimit is one page of the inbox: enough to work through, small
// enough to render fast with a million alerts in the store.
const inboxLimit = 100

// filterFrom reads an alert filter from the query string and narrows it
// to the user's scope. It answers the request itself when it cannot.
func (s *Server) filterFrom(w http.ResponseWriter, r *http.Request, u *User) (alerts.Filter, bool) {
	q := r.URL.Query()
	status := alerts.StatusOpen // the work to do, unless the filter says otherwise
	if q.Has("status") {
		status = q.Get("status")
	}
	f := alerts.Filter{Rule: q.Get("rule"), Severity: q.Get("severity"), Status: status,
		RegionPrefix: strings.TrimSpace(q.Get("region")), Due: q.Get("due"), Queue: q.Get("queue")}
	if !scope(u, &f) {
		s.fail(w, r, u, http.StatusForbidden, "e.operators_only")
		return f, false
	}
	if err := f.Valid(); err != nil {
		s.failBack(w, r, u, http.StatusBadRequest, "e.bad_filter_plain", "/alerts", err.Error())
		return f, false
	}
	return f, true
}

// query is the filter as a query string.
func query(f alerts.Filter) url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"rule": f.Rule, "severity": f.Severity, "region": f.RegionPrefix, "due": f.Due, "queue": f.Queue} {
		if x != "" {
			v.Set(k, x)
		}
	}
	v.Set("status", f.Status) // empty is "all", which is not the default
	return v
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request, u *User) {
	f, ok := s.filterFrom(w, r, u)
	if !ok {
		return
	}
	f.Limit = inboxLimit
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	f.Offset = (page - 1) * inboxLimit
	// The page and the counts are two queries; run them side by side.
	var byRule, byRegion []alerts.Count
	var countErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		byRule, byRegion, countErr = alerts.CachedCounts(r.Context(), s.DB, f)
	}()
	list, err := alerts.List(r.Context(), s.DB, f)
	<-done
	if err == nil {
		err = countErr
	}
	if err != nil {
		s.internal(w, r, u, fmt.Errorf("inbox: %w", err))
		return
	}
	l := lang(w, r)
	d := inboxData{Filter: f, Shown: len(list), Limit: inboxLimit, CanAct: canAct(u), Back: r.URL.RequestURI(), Query: query(f).Encode(), From: f.Offset + 1}
	for _, c := range byRule {
		d.Total += c.Total
	}
	if page > 1 {
		v := query(f)
		v.Set("page", strconv.Itoa(page-1))
		d.Prev = "/alerts?" + v.Encode()
	}
	if f.Offset+len(list) < d.Total {
		v := query(f)
		v.Set("page", strconv.Itoa(page+1))
		d.Next = "/alerts?" + v.Encode()
	}
	for _, id := range s.Pack.IDs() {
		d.Rules = append(d.Rules, struct{ ID, Title string }{id, s.Pack.Title(id, l)})
	}
	for _, a := range list {
		d.Rows = append(d.Rows, inboxRow{Alert: a, Title: s.Pack.Title(a.RuleID, l)})
	}
	for _, c := range byRule {
		v := query(f)
		v.Set("rule", c.Key)
		d.ByRule = append(d.ByRule, countRow{Count: c, Label: s.Pack.Title(c.Key, l), Href: "/alerts?" + v.Encode()})
	}
	for _, c := range byRegion {
		v := query(f)
		v.Set("region", c.Key)
		d.ByRegion = append(d.ByRegion, countRow{Count: c, Label: regionText(c.Key), Href: "/alerts?" + v.Encode()})
	}
	s.render(w, r, "inbox", u, http.StatusOK, d)
}
