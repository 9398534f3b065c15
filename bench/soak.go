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
	"slices"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"safetynet/alerts"
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
	Users    int           // simulated users working at once
	Duration time.Duration // how long they work
	RunEvery time.Duration // a pipeline run, with a new delivery, this often
	Think    time.Duration // a user's average pause between two requests
	Out      io.Writer
}

// soakUser is what one simulated user did.
type soakUser struct {
	lat    map[string][]time.Duration // by page
	errors []string
	acted  int // dispatches the server confirmed
}

// RunSoak serves a store of opt.Alerts alerts and a synthetic county on
// loopback while a run (with a small new delivery) happens every
// opt.RunEvery and opt.Users operators work for opt.Duration: filtering
// the inbox, opening alerts, dispatching (each from a pool of new alerts
// of their own, so that every dispatch should succeed) and exporting. It
// prints p50/p95/p99 per page, the errors, the memory at start and end,
// and checks every confirmed dispatch is recorded once in the history and
// once in the audit log. Grid workers and analysts are not simulated.
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
	so := synth.DefaultOptions(asOf)
	county, err := synth.Generate(so)
	if err != nil {
		return err
	}
	if err := county.Write(cfg.Inbox, dir); err != nil {
		return err
	}
	pack, _ := alerts.LoadPack(nil)
	chain := &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := chain.Run(ctx, "bench", asOf); err != nil {
		return err
	}
	names := make([]string, opt.Users)
	for i := range names {
		names[i] = fmt.Sprintf("op%02d", i)
		if err := web.CreateUser(ctx, db, web.NewUser{Name: names[i], Password: "bench-password", Role: web.Operator, Region: "3301", Replace: true}); err != nil {
			return err
		}
	}
	pools, err := dispatchPools(ctx, db, opt.Users)
	if err != nil {
		return err
	}
	srv := &web.Server{DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: web.NewRegistry(), Chain: chain}
	h, err := srv.Handler()
	if err != nil {
		return err
	}
	ts := httptest.NewServer(h)
	defer ts.Close()

	fmt.Fprintf(opt.Out, "\nsoak: %d alerts, %d operators pausing %s on average for %s, a run every %s\n",
		opt.Alerts, opt.Users, opt.Think, opt.Duration, opt.RunEvery)
	sctx, cancel := context.WithTimeout(ctx, opt.Duration)
	defer cancel()
	rss := sampleRSS(sctx, opt.Duration/20)
	runs, runErrs := soakRuns(sctx, chain, opt.RunEvery)
	users := make([]*soakUser, opt.Users)
	var wg sync.WaitGroup
	for i := range users {
		users[i] = &soakUser{lat: map[string][]time.Duration{}}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			soakWork(sctx, ts.URL, names[i], pools[i], opt.Think, rand.New(rand.NewPCG(uint64(i), 1)), users[i])
		}(i)
	}
	wg.Wait()
	return soakReport(ctx, opt.Out, db, users, names, <-runs, <-runErrs, <-rss)
}

// dispatchPools gives each user new alerts of their own to dispatch.
func dispatchPools(ctx context.Context, db *store.DB, n int) ([][]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT alert_id FROM alerts WHERE status = 'new' AND region_code LIKE '3301%' ORDER BY alert_id LIMIT ?`, n*2000)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	pools := make([][]int64, n)
	for i := 0; rows.Next(); i++ {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		pools[i%n] = append(pools[i%n], id)
	}
	return pools, rows.Err()
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

// soakWork is one operator's day, compressed: mostly the inbox with
// filters, an alert now and then, a dispatch one time in ten, an export
// one time in five hundred (about every quarter of an hour).
func soakWork(ctx context.Context, base, name string, pool []int64, think time.Duration, rng *rand.Rand, u *soakUser) {
	c, err := loopbackLogin(base, name, "bench-password")
	if err != nil {
		u.errors = append(u.errors, "login: "+err.Error())
		return
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rules := []string{"expenditure_hardship", "temporary_assistance", "severe_disability", "serious_illness", "discovery"}
	get := func(page, path string) []byte {
		t := time.Now()
		resp, err := c.Get(base + path)
		if err != nil {
			u.errors = append(u.errors, page+": "+err.Error())
			return nil
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		u.lat[page] = append(u.lat[page], time.Since(t))
		if resp.StatusCode != 200 {
			u.errors = append(u.errors, fmt.Sprintf("%s %s: %d", page, path, resp.StatusCode))
		}
		return b
	}
	for ctx.Err() == nil {
		if think > 0 {
			select { // a pause of 0 to twice the average, as people read
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(rng.Int64N(int64(2 * think)))):
			}
		}
		switch k := rng.IntN(50); {
		case k == 0 && rng.IntN(10) == 0:
			get("export", "/alerts.xlsx?rule="+rules[rng.IntN(len(rules))]+"&status=new")
		case k < 6 && len(pool) > 0:
			page := get("inbox, new", "/alerts?status=new")
			m := csrfValue.FindSubmatch(page)
			if m == nil {
				continue
			}
			id := pool[0]
			pool = pool[1:]
			t := time.Now()
			resp, err := c.PostForm(base+"/alerts/act", url.Values{"csrf": {string(m[1])}, "action": {"dispatch"}, "id": {fmt.Sprint(id)}})
			if err != nil {
				u.errors = append(u.errors, "dispatch: "+err.Error())
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			u.lat["dispatch"] = append(u.lat["dispatch"], time.Since(t))
			if resp.StatusCode == http.StatusSeeOther {
				u.acted++
			} else {
				u.errors = append(u.errors, fmt.Sprintf("dispatch %d: %d", id, resp.StatusCode))
			}
		case k < 16:
			get("alert", fmt.Sprintf("/alerts/%d", 1+rng.IntN(1000)))
		default:
			get("inbox, filtered", fmt.Sprintf("/alerts?rule=%s&severity=%s", rules[rng.IntN(len(rules))],
				[]string{"critical", "high", "medium", "low"}[rng.IntN(4)]))
		}
	}
}

func soakReport(ctx context.Context, out io.Writer, db *store.DB, users []*soakUser, names []string, runs int, runErrs []string, rss []int64) error {
	all := map[string][]time.Duration{}
	var errs []string
	acted := 0
	for _, u := range users {
		for p, l := range u.lat {
			all[p] = append(all[p], l...)
		}
		errs = append(errs, u.errors...)
		acted += u.acted
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page	requests	p50 ms	p95 ms	p99 ms	")
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
	var history, audit int
	if err := db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM alert_history WHERE to_status = 'dispatched' AND from_status = 'new' AND actor LIKE 'op%'),
		(SELECT count(*) FROM audit_log WHERE action = 'alert_dispatch' AND username LIKE 'op%')`).Scan(&history, &audit); err != nil {
		return err
	}
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
	verdict := "each once"
	if history != acted || audit != acted {
		verdict = "NOT each once"
	}
	fmt.Fprintf(out, "dispatches confirmed: %d; in the history: %d; in the audit log: %d (%s)\n", acted, history, audit, verdict)
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
