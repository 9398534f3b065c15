// Package web owns the HTTP side: login and sessions, the operator's
// alert inbox and alert page (server-rendered, embedded templates, zh-CN
// by default), /metrics and /healthz, and the audit log of who viewed
// which person's record. It reads through the packages that own the data
// (alerts, match, ingest) and owns only the users, sessions and
// audit_log tables.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"safetynet/alerts"
	"safetynet/analytics"
	"safetynet/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Migrations are web's tables.
func Migrations() store.MigrationSet { return store.Migrations("web", schemaFS, "schema") }

// Server serves the UI, the metrics and the health check.
type Server struct {
	DB       *store.DB
	Pack     *alerts.Pack
	Log      *slog.Logger
	Registry *prometheus.Registry // what /metrics shows; see NewRegistry
	// Analytics is the analytic snapshot the analyst pages read.
	Analytics AnalyticsConfig
	// Chain runs every source now when an administrator asks from the
	// deliveries page (nil: the page cannot start runs).
	Chain Starter
	// StaleAfter is each source's allowance before the deliveries page
	// calls it stale.
	StaleAfter map[string]time.Duration
	// PhotoDir is where visit photos are kept (beside the database).
	PhotoDir string
	// Proxies are the reverse proxies whose forwarding headers count.
	Proxies Proxies
	// Instance is this installation's name, put before the IDs of the
	// records it forwards to peers (config instance).
	Instance string
	// PseudonymKey hashes the directories peers send (package forward);
	// without it none is taken and records go by the ID's region.
	PseudonymKey string
	// HubOf, on a hub (config hub), are the instances it pulls from
	// (config peers). It serves only their accounts, named as they name
	// themselves, so that what a county forwarded never goes back to it.
	HubOf []string

	pages       map[string]*template.Template
	queriersMu  sync.Mutex
	queriers    map[string]*analytics.Querier
	querierKeys []string // oldest first
	regionLists map[*analytics.Querier][]regionChoice
	limiterMu   sync.Mutex
	logins      *loginLimiter
}

// Starter starts a run of the chain in the background, or says that one
// is in progress (jobs.ErrBusy): *jobs.Chain.
type Starter interface {
	Start(ctx context.Context, trigger string) error
}

// limiter is the server's failed-login counter.
func (s *Server) limiter() *loginLimiter {
	s.limiterMu.Lock()
	defer s.limiterMu.Unlock()
	if s.logins == nil {
		s.logins = newLoginLimiter()
	}
	return s.logins
}

// NewRegistry returns a registry with the process and Go collectors and the given ones.
func NewRegistry(cs ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(cs...)
	return reg
}

var requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "safetynet_http_request_duration_seconds",
	Help:    "Time to answer HTTP requests, by route.",
	Buckets: prometheus.DefBuckets,
}, []string{"route"})

// Collectors are web's metrics.
func Collectors() []prometheus.Collector { return []prometheus.Collector{requestDuration} }

// Handler returns the server's routes.
func (s *Server) Handler() (http.Handler, error) {
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /sw.js", serviceWorker) // at the root, so that it may keep /tasks
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", s.notFound)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.Handle("POST /login", limitBody(maxForm, http.HandlerFunc(s.loginSubmit)))
	mux.Handle("POST /logout", s.posted(func(w http.ResponseWriter, r *http.Request, u *User) {
		s.logout(w, r)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}))
	mux.Handle("GET /{$}", s.authed(func(w http.ResponseWriter, r *http.Request, u *User) {
		http.Redirect(w, r, u.Role.Home(), http.StatusSeeOther)
	}))
	mux.Handle("GET /alerts", s.timed("inbox", s.authed(s.inbox)))
	mux.Handle("GET /alerts/{id}", s.timed("alert", s.authed(s.alertPage)))
	mux.Handle("GET /alerts.xlsx", s.timed("export", s.authed(s.exportAlerts)))
	mux.Handle("GET /api/alerts", s.timed("api_alerts", s.authed(s.apiAlerts)))
	mux.Handle("GET /api/forward/{source}", s.timed("forward", http.HandlerFunc(s.apiForward)))
	mux.Handle("PUT /api/forward/directory", s.timed("forward_directory", http.HandlerFunc(s.apiDirectory)))
	mux.Handle("GET /api/forward/directory", s.timed("forward_directory", http.HandlerFunc(s.apiDirectoryHeld)))
	mux.Handle("PATCH /api/forward/directory", s.timed("forward_directory", http.HandlerFunc(s.apiDirectoryChange)))
	mux.Handle("GET /audit", s.timed("audit", s.authed(s.auditPage)))
	mux.Handle("GET /audit.xlsx", s.timed("audit_export", s.authed(s.exportAudit)))
	mux.Handle("POST /alerts/act", s.timed("act", s.posted(s.act)))
	mux.Handle("GET /review", s.timed("review", s.authed(s.reviewPage)))
	mux.Handle("GET /tasks", s.timed("tasks", s.authed(s.myTasks)))
	mux.Handle("GET /tasks/{id}", s.timed("task", s.authed(s.taskPage)))
	mux.Handle("GET /tasks/sheet.xlsx", s.timed("task_sheet", s.authed(s.taskSheet)))
	mux.Handle("POST /tasks/sheet", s.timed("task_sheet_upload", limitBody(maxSheet+1<<20, s.posted(s.uploadSheet))))
	mux.Handle("GET /queue", s.timed("queue", s.authed(s.queuePage)))
	mux.Handle("POST /queue/assign", s.timed("assign", s.posted(s.assign)))
	mux.Handle("POST /tasks/{id}/outcome", s.timed("task_outcome", limitBody(alerts.MaxPhotos*alerts.MaxPhotoBytes+1<<20, s.posted(s.taskOutcome))))
	mux.Handle("GET /photos/{id}", s.timed("photo", s.authed(s.photo)))
	mux.Handle("POST /review/{source}/{key}", s.timed("review_decide", s.posted(s.reviewDecide)))
	mux.Handle("GET /deliveries", s.timed("deliveries", s.authed(s.deliveriesPage)))
	mux.Handle("GET /deliveries/quarantine.xlsx", s.timed("quarantine_export", s.authed(s.quarantineExport)))
	mux.Handle("POST /deliveries/run", s.timed("run_now", s.posted(s.runNow)))
	mux.Handle("GET /analytics", s.timed("analytics", s.authed(s.analyticsHome)))
	mux.Handle("GET /analytics/funnel/export", s.timed("funnel_export", s.authed(s.exportFunnel)))
	mux.Handle("GET /analytics/cohorts/new", s.timed("cohort_new", s.authed(s.newCohort)))
	mux.Handle("POST /analytics/cohorts", s.timed("cohort_save", s.posted(s.saveCohort)))
	mux.Handle("GET /analytics/cohorts/{id}", s.timed("cohort", s.authed(s.cohortPage)))
	mux.Handle("POST /analytics/cohorts/{id}", s.timed("cohort_save", s.posted(s.saveCohort)))
	mux.Handle("GET /analytics/cohorts/{id}/export", s.timed("cohort_export", s.authed(s.exportCohort)))
	mux.Handle("GET /analytics/sql", s.timed("sql", s.authed(s.sqlForm)))
	mux.Handle("POST /analytics/sql", s.timed("sql_run", s.posted(s.sqlRun)))
	return s.Proxies.behind(securityHeaders(mux)), nil
}

func (s *Server) timed(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		h.ServeHTTP(w, r)
		requestDuration.WithLabelValues(route).Observe(time.Since(t).Seconds())
	})
}

// authed sends anyone not logged in to the login page.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := s.user(r)
		if u == nil {
			s.toLogin(w, r, r.URL.RequestURI())
			return
		}
		h(w, r, u)
	})
}

// toLogin sends a visitor with no session to the login page, to come
// back to next; one whose session cookie no longer opens a session is
// told that it expired.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request, next string) {
	to := "/login?next=" + template.URLQueryEscaper(next)
	if _, err := r.Cookie(sessionCookie); err == nil {
		to += "&expired=1"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// limitBody refuses a request body past n bytes (a form with photos).
func limitBody(n int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyLimitKey{}, n)))
	})
}

// bodyLimitKey marks a request whose route set its own body limit.
type bodyLimitKey struct{}

// maxForm is the most a form without files may send (a bulk action on
// every alert of a page is a few kilobytes).
const maxForm = 1 << 20

// notFound is every path no page has.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, s.user(r), http.StatusNotFound, "e.not_found_page")
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		if isHTTPS(r) {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// serviceWorker is the grid worker's offline pages (static/sw.js).
func serviceWorker(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/sw.js")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.PingContext(ctx); err != nil {
		http.Error(w, "not ok: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}
