package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"safetynet/alerts"
	"safetynet/analytics"
	"safetynet/config"
	"safetynet/jobs"
	"safetynet/store"
	"safetynet/synth"
	"safetynet/web"
)

// SoakOptions size the load soak.
type SoakOptions struct {
	Dir      string
	Alerts   int           // alerts in the store before it starts
	Users    int           // simulated users working at once: 7 in 10 operators, 2 grid workers, 1 analyst
	Duration time.Duration // how long they work
	RunEvery time.Duration // a pipeline run, with a new delivery, this often
	Think    time.Duration // a user's average pause between two requests
	Out      io.Writer
}

// soakUser is one simulated user and what they did.
type soakUser struct {
	name   string
	role   web.Role
	pool   []int64 // operators: new alerts to dispatch; grid workers: their open tasks
	lat    map[string][]time.Duration
	errors []string
	acted  int   // dispatches or visit outcomes the server confirmed
	cohort int64 // analysts: the saved cohort they open
}

// soakPassword is every simulated user's.
const soakPassword = "bench-password"

// RunSoak serves a store of opt.Alerts alerts and a synthetic county on
// loopback while a run (with a small new delivery) happens every
// opt.RunEvery, and opt.Users people work for opt.Duration: operators
// filter the inbox, open alerts, dispatch (each from a pool of new alerts
// of their own, so that every dispatch should succeed) and export; grid
// workers open their task list and tasks and record visit outcomes (on
// tasks assigned to them alone); analysts open the funnel and a cohort
// and export both. It prints p50/p95/p99 per page, the errors, the memory
// at start and end, and checks every confirmed dispatch and outcome is
// recorded once in the history and once in the audit log.
func RunSoak(ctx context.Context, opt SoakOptions) error {
	dir := filepath.Join(opt.Dir, "soak")
	os.RemoveAll(dir)
	cfgFile, err := config.Init(dir)
	if err != nil {
		return err
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		return err
	}
	if os.Getenv(cfg.Analytics.PseudonymKeyEnv) == "" { // the analysts' snapshot is published on every run
		os.Setenv(cfg.Analytics.PseudonymKeyEnv, "soak-pseudonym-key-0123456789")
	}
	db, err := jobs.OpenStore(ctx, cfg.Database, web.Migrations())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetMemoryLimit(ctx, "2GB"); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, fillAlerts, opt.Alerts); err != nil {
		return fmt.Errorf("bench: fill alerts: %w", err)
	}
	if _, err := db.ExecContext(ctx, fillEvidence); err != nil {
		return err
	}
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	county, err := synth.Generate(synth.DefaultOptions(asOf))
	if err != nil {
		return err
	}
	if err := county.Write(cfg.Inbox, dir); err != nil {
		return err
	}
	pack, _ := alerts.LoadPack(nil)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	chain := &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: quiet}
	if _, err := chain.Run(ctx, "bench", asOf); err != nil {
		return err
	}
	users, err := soakUsers(ctx, db, opt.Users)
	if err != nil {
		return err
	}
	serverLog, err := os.Create(filepath.Join(dir, "server.log")) // why a request failed, for the report's errors
	if err != nil {
		return err
	}
	defer serverLog.Close()
	srv := &web.Server{DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(serverLog, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Registry: web.NewRegistry(), Chain: chain, PhotoDir: cfg.PhotoDir(),
		Analytics: web.AnalyticsConfig{Dir: cfg.Analytics.Dir, SmallCell: cfg.Analytics.SmallCell}}
	h, err := srv.Handler()
	if err != nil {
		return err
	}
	// Closed after the HTTP server's, deferred below.
	defer srv.Close()
	chain.Published = func(string) { go srv.WarmCohorts(ctx) } // as serve does
	ts := httptest.NewServer(h)
	defer ts.Close()

	fmt.Fprintf(opt.Out, "\nsoak: %d alerts, %s pausing %s on average for %s, a run every %s\n",
		opt.Alerts, soakCast(users), opt.Think, opt.Duration, opt.RunEvery)
	sctx, cancel := context.WithTimeout(ctx, opt.Duration)
	defer cancel()
	rss := sampleRSS(sctx, opt.Duration/20)
	runs, runErrs := soakRuns(sctx, chain, opt.RunEvery)
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakWork(sctx, ts.URL, opt.Think, rand.New(rand.NewPCG(uint64(i), 1)), u)
		}()
	}
	wg.Wait()
	if err := soakReport(ctx, opt.Out, db, users, <-runs, <-runErrs, <-rss); err != nil {
		return err
	}
	fmt.Fprintf(opt.Out, "the server's warnings and errors: %s\n", serverLog.Name())
	return nil
}

// soakUsers makes the users of the soak: 7 in 10 operators of the
// county, each with new alerts of their own to dispatch; 2 in 10 grid
// workers, each with open visits assigned to them alone; 1 in 10
// analysts, with a saved cohort to open.
func soakUsers(ctx context.Context, db *store.DB, n int) ([]*soakUser, error) {
	workers, analysts := max(n/5, 1), max(n/10, 1)
	operators := max(n-workers-analysts, 1)
	ids, err := newAlerts(ctx, db, operators*2000+workers*200)
	if err != nil {
		return nil, err
	}
	var users []*soakUser
	add := func(prefix string, i int, n web.NewUser) error {
		u := &soakUser{name: fmt.Sprintf("%s%02d", prefix, i), role: n.Role, lat: map[string][]time.Duration{}}
		users = append(users, u)
		n.Name, n.Password, n.Replace = u.name, soakPassword, true
		return web.CreateUser(ctx, db, n)
	}
	for i := range operators {
		if err := add("op", i, web.NewUser{Role: web.Operator, Region: "3301"}); err != nil {
			return nil, err
		}
		users[i].pool, ids = ids[:2000], ids[2000:]
	}
	for i := range workers {
		if err := add("gw", i, web.NewUser{Role: web.GridWorker, Grid: fmt.Sprintf("330100001%03d-01", i)}); err != nil {
			return nil, err
		}
		u := users[len(users)-1]
		if u.pool, err = assignVisits(ctx, db, u.name, ids[:200]); err != nil {
			return nil, err
		}
		ids = ids[200:]
	}
	for i := range analysts {
		if err := add("an", i, web.NewUser{Role: web.Analyst}); err != nil {
			return nil, err
		}
	}
	d := analytics.Definition{Unit: analytics.Households, Membership: analytics.Both, OutOfPocket: 1000, Period: analytics.Period{Last: 12}}
	c, err := analytics.SaveCohort(ctx, db, 0, "大额自付家庭", d, "an00", time.Now())
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		u.cohort = c.ID
	}
	return users, nil
}

// soakCast says who works in the soak.
func soakCast(users []*soakUser) string {
	n := map[web.Role]int{}
	for _, u := range users {
		n[u.role]++
	}
	return fmt.Sprintf("%d operators, %d grid workers and %d analysts", n[web.Operator], n[web.GridWorker], n[web.Analyst])
}

// newAlerts are n new alerts of the county's region, oldest first.
func newAlerts(ctx context.Context, db *store.DB, n int) ([]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT alert_id FROM alerts WHERE status = 'new' AND region_code LIKE '3301%' ORDER BY alert_id LIMIT ?`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) < n {
		return nil, fmt.Errorf("bench: %d new alerts in the store, the soak needs %d", len(ids), n)
	}
	return ids, rows.Err()
}

// assignVisits dispatches the alerts as an operator would and assigns
// each visit to worker, as the township queue does; it returns the tasks.
func assignVisits(ctx context.Context, db *store.DB, worker string, ids []int64) ([]int64, error) {
	now := time.Now()
	var tasks []int64
	for _, id := range ids {
		if err := alerts.Act(ctx, db, alerts.Move{AlertID: id, Action: alerts.Dispatch, Actor: "soak-setup", At: now}); err != nil {
			return nil, err
		}
		var task int64
		if err := db.QueryRowContext(ctx, `SELECT task_id FROM tasks WHERE alert_id = ? AND status = 'open'`, id).Scan(&task); err != nil {
			return nil, err
		}
		if err := alerts.Assign(ctx, db, task, worker, "soak-setup", now); err != nil {
			return nil, err
		}
		tasks = append(tasks, task)
	}
	return tasks, nil
}

// soakRuns runs the chain every `every` with a small new delivery until
// ctx ends, and says how many runs there were and which failed.
func soakRuns(ctx context.Context, chain *jobs.Chain, every time.Duration) (<-chan int, <-chan []string) {
	runs, errs := make(chan int, 1), make(chan []string, 1)
	go func() {
		n, failed := 0, []string(nil)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				runs <- n
				errs <- failed
				return
			case <-tick.C:
			}
			path := filepath.Join(chain.Cfg.InboxDir("medins"), fmt.Sprintf("soak-%03d.csv", n))
			var b []byte
			b = append(b, "结算编号,身份证号,结算日期,个人自付,诊断编码\n"...)
			for i := 0; i < 500; i++ {
				b = fmt.Appendf(b, "SOAK%03d%04d,11010519491231002X,2026-06-2%d,%d.00,J18.9\n", n, i, i%9, 100+i)
			}
			os.WriteFile(path, b, 0o644)
			if _, err := chain.Run(context.WithoutCancel(ctx), "bench", time.Time{}); err != nil {
				failed = append(failed, err.Error())
			}
			n++
		}
	}()
	return runs, errs
}

// soakClient is one user's browser: a logged-in client that times each
// request by page and keeps what went wrong.
type soakClient struct {
	c    *http.Client
	base string
	u    *soakUser
}

// get fetches path and says whether it answered 200 with the wanted
// content type ("" for any); an export answered with a page is an error.
func (sc soakClient) get(page, path, contentType string) []byte {
	t := time.Now()
	resp, err := sc.c.Get(sc.base + path)
	if err != nil {
		sc.u.errors = append(sc.u.errors, page+": "+err.Error())
		return nil
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sc.u.lat[page] = append(sc.u.lat[page], time.Since(t))
	switch ct := resp.Header.Get("Content-Type"); {
	case resp.StatusCode != http.StatusOK:
		sc.u.errors = append(sc.u.errors, fmt.Sprintf("%s %s: %d", page, path, resp.StatusCode))
	case contentType != "" && !strings.HasPrefix(ct, contentType):
		sc.u.errors = append(sc.u.errors, fmt.Sprintf("%s %s: %s, not %s", page, path, ct, contentType))
	}
	return b
}

// post sends a form and says whether the server confirmed it with its
// redirect.
func (sc soakClient) post(page, path string, form url.Values) bool {
	t := time.Now()
	resp, err := sc.c.PostForm(sc.base+path, form)
	if err != nil {
		sc.u.errors = append(sc.u.errors, page+": "+err.Error())
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sc.u.lat[page] = append(sc.u.lat[page], time.Since(t))
	if resp.StatusCode != http.StatusSeeOther {
		sc.u.errors = append(sc.u.errors, fmt.Sprintf("%s %s: %d", page, path, resp.StatusCode))
		return false
	}
	return true
}

// soakWork is one user's day, compressed, until ctx ends.
func soakWork(ctx context.Context, base string, think time.Duration, rng *rand.Rand, u *soakUser) {
	c, err := loopbackLogin(base, u.name, soakPassword)
	if err != nil {
		u.errors = append(u.errors, "login: "+err.Error())
		return
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	sc := soakClient{c: c, base: base, u: u}
	for ctx.Err() == nil {
		if think > 0 {
			select { // a pause of 0 to twice the average, as people read
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(rng.Int64N(int64(2 * think)))):
			}
		}
		switch u.role {
		case web.Operator:
			operatorStep(sc, rng)
		case web.GridWorker:
			gridWorkerStep(sc, rng)
		case web.Analyst:
			analystStep(sc, rng)
		}
	}
}

// soakRules are the rules the operators filter by.
var soakRules = []string{"expenditure_hardship", "temporary_assistance", "severe_disability", "serious_illness", "discovery"}

// operatorStep: mostly the inbox with filters, an alert now and then, a
// dispatch one time in ten, an export one time in five hundred (about
// every quarter of an hour).
func operatorStep(sc soakClient, rng *rand.Rand) {
	u := sc.u
	switch k := rng.IntN(50); {
	case k == 0 && rng.IntN(10) == 0:
		sc.get("export", "/alerts.xlsx?rule="+soakRules[rng.IntN(len(soakRules))]+"&status=new", xlsxType)
	case k < 6 && len(u.pool) > 0:
		m := csrfValue.FindSubmatch(sc.get("inbox, new", "/alerts?status=new", ""))
		if m == nil {
			return
		}
		id := u.pool[0]
		u.pool = u.pool[1:]
		if sc.post("dispatch", "/alerts/act", url.Values{"csrf": {string(m[1])}, "action": {"dispatch"}, "id": {fmt.Sprint(id)}}) {
			u.acted++
		}
	case k < 16:
		sc.get("alert", fmt.Sprintf("/alerts/%d", 1+rng.IntN(1000)), "")
	default:
		sc.get("inbox, filtered", fmt.Sprintf("/alerts?rule=%s&severity=%s", soakRules[rng.IntN(len(soakRules))],
			[]string{"critical", "high", "medium", "low"}[rng.IntN(4)]), "")
	}
}

// submissionValue is the outcome form's own token in a task page.
var submissionValue = regexp.MustCompile(`name="submission" value="([0-9a-f]+)"`)

// gridWorkerStep: the task list, or a task of theirs and, one time in
// three, its visit's outcome.
func gridWorkerStep(sc soakClient, rng *rand.Rand) {
	u := sc.u
	if rng.IntN(2) == 0 || len(u.pool) == 0 {
		sc.get("tasks", "/tasks", "")
		return
	}
	task := u.pool[0]
	page := sc.get("task", fmt.Sprintf("/tasks/%d", task), "")
	if rng.IntN(3) != 0 {
		return
	}
	csrf, sub := csrfValue.FindSubmatch(page), submissionValue.FindSubmatch(page)
	if csrf == nil || sub == nil {
		u.errors = append(u.errors, fmt.Sprintf("task %d: no outcome form", task))
		return
	}
	u.pool = u.pool[1:]
	form := url.Values{"csrf": {string(csrf[1])}, "submission": {string(sub[1])},
		"outcome": {alerts.Outcomes[rng.IntN(len(alerts.Outcomes))]}, "note": {"入户核实"}}
	if sc.post("visit outcome", fmt.Sprintf("/tasks/%d/outcome", task), form) {
		u.acted++
	}
}

// analystStep: the funnel, the saved cohort, and one time in five an
// export of either.
func analystStep(sc soakClient, rng *rand.Rand) {
	cohort := fmt.Sprintf("/analytics/cohorts/%d", sc.u.cohort)
	switch k := rng.IntN(10); {
	case k == 0:
		sc.get("cohort export", cohort+"/export?format=xlsx", xlsxType)
	case k == 1:
		sc.get("funnel export", "/analytics/funnel/export?by=rule&format=csv", "text/csv")
	case k < 6:
		sc.get("analytics", "/analytics", "")
	default:
		sc.get("cohort", cohort, "")
	}
}

// xlsxType is a workbook's content type.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func soakReport(ctx context.Context, out io.Writer, db *store.DB, users []*soakUser, runs int, runErrs []string, rss []int64) error {
	all := map[string][]time.Duration{}
	var errs []string
	acted := map[web.Role]int{}
	for _, u := range users {
		for p, l := range u.lat {
			all[p] = append(all[p], l...)
		}
		errs = append(errs, u.errors...)
		acted[u.role] += u.acted
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page\trequests\tp50 ms\tp95 ms\tp99 ms\t")
	pages := make([]string, 0, len(all))
	for p := range all {
		pages = append(pages, p)
	}
	sort.Strings(pages)
	for _, p := range pages {
		l := all[p]
		slices.Sort(l)
		q := func(f float64) float64 { return ms(l[int(f*float64(len(l)-1))]) }
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t\n", p, len(l), q(0.5), q(0.95), q(0.99))
	}
	tw.Flush()
	fmt.Fprintf(out, "runs: %d (%d failed); errors: %d (target 0)", runs, len(runErrs), len(errs))
	for i, e := range errs {
		if i == 5 {
			fmt.Fprintf(out, " …")
			break
		}
		fmt.Fprintf(out, "\n  %s", e)
	}
	for _, e := range runErrs {
		fmt.Fprintf(out, "\n  run: %s", e)
	}
	if len(rss) >= 4 {
		// The first quarter warms DuckDB's buffers and the caches: flat is
		// judged from there on.
		warm := rss[len(rss)/4]
		fmt.Fprintf(out, "\nRSS: %d MiB at the start, %d MiB once warm (a quarter in), %d MiB at the end, %d MiB at most (target: flat once warm)\n",
			rss[0]>>20, warm>>20, rss[len(rss)-1]>>20, slices.Max(rss)>>20)
	}
	for _, c := range []struct {
		what, to, prefix, audit string
		confirmed               int
	}{
		{"dispatches", "dispatched", "op%", "alert_dispatch", acted[web.Operator]},
		{"visit outcomes", "visited", "gw%", "task_outcome", acted[web.GridWorker]},
	} {
		var history, audit int
		if err := db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM alert_history WHERE to_status = ? AND actor LIKE ?),
			(SELECT count(*) FROM audit_log WHERE action = ? AND username LIKE ?)`, c.to, c.prefix, c.audit, c.prefix).Scan(&history, &audit); err != nil {
			return err
		}
		verdict := "each once"
		if history != c.confirmed || audit != c.confirmed {
			verdict = "NOT each once"
		}
		fmt.Fprintf(out, "%s confirmed: %d; in the history: %d; in the audit log: %d (%s)\n", c.what, c.confirmed, history, audit, verdict)
	}
	return nil
}

// sampleRSS reads the resident memory every `every` until ctx ends.
func sampleRSS(ctx context.Context, every time.Duration) <-chan []int64 {
	out := make(chan []int64, 1)
	go func() {
		samples := []int64{currentRSS()}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				out <- append(samples, currentRSS())
				return
			case <-tick.C:
				samples = append(samples, currentRSS())
			}
		}
	}()
	return out
}
