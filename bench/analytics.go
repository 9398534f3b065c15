package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"safetynet/alerts"
	"safetynet/analytics"
	"safetynet/config"
	"safetynet/flight"
	"safetynet/jobs"
	"safetynet/store"
	"safetynet/web"
)

// AnalyticsOptions size the analysts' benchmark.
type AnalyticsOptions struct {
	Dir         string
	Persons     int // registry persons
	Rows        int // department rows
	Months      int // months of registry history
	MemoryLimit string
	Requests    int // per query kind
	// Reuse runs the query half only, on the store and snapshot a
	// previous run left in Dir (to measure a change to the queries
	// without building a province again).
	Reuse bool
	Out   io.Writer
}

// historyFill gives the registry Months of history: every version starts
// before the first month; one household in twenty changed tier and
// benefit a year ago, one in fifty left the registry half a year ago.
// First the households are spread as a province's are: 90 counties of 15
// townships of 20 villages (the match files' codes are one township per
// county, 300 of them).
var historyFill = []string{
	`UPDATE canon_households SET region_code = '3301' || lpad(CAST(1 + hash(household_id) % 90 AS VARCHAR), 2, '0')
		|| lpad(CAST(1 + (hash(household_id) // 90) % 15 AS VARCHAR), 3, '0') || lpad(CAST(1 + (hash(household_id) // 1350) % 20 AS VARCHAR), 3, '0')`,
	`UPDATE canon_households SET valid_from = now() - INTERVAL (? + 1) MONTH`,
	`UPDATE canon_members SET valid_from = now() - INTERVAL (? + 1) MONTH`,
	`CREATE OR REPLACE TEMP TABLE _changed AS SELECT * FROM canon_households WHERE valid_to IS NULL AND hash(household_id) % 20 = 0`,
	`CREATE OR REPLACE TEMP TABLE _left AS SELECT * FROM canon_households WHERE valid_to IS NULL AND hash(household_id) % 50 = 1`,
	`UPDATE canon_households SET valid_to = now() - INTERVAL 12 MONTH WHERE valid_to IS NULL AND hash(household_id) % 20 = 0`,
	`UPDATE canon_households SET valid_to = now() - INTERVAL 6 MONTH WHERE valid_to IS NULL AND hash(household_id) % 50 = 1`,
	`INSERT INTO canon_households BY NAME SELECT * REPLACE (now() - INTERVAL 12 MONTH AS valid_from,
		CASE WHEN tier = 'dibao' THEN 'tekun' ELSE 'dibao' END AS tier, monthly_benefit + 100 AS monthly_benefit) FROM _changed`,
	`INSERT INTO canon_households BY NAME SELECT * REPLACE (now() - INTERVAL 6 MONTH AS valid_from, 'terminated' AS status) FROM _left`,
}

// RunAnalytics measures what issue 11 asks of the analysts' side at
// province scale: publishing the snapshot next to DuckDB's own COPY of
// the same views, cohort counts by region and 24-month series from a
// loopback client next to the same queries run in-process, and Flight
// SQL's stream next to DuckDB's own Arrow reader.
func RunAnalytics(ctx context.Context, opt AnalyticsOptions) error {
	if opt.Reuse {
		return reuseAnalytics(ctx, opt)
	}
	t := time.Now()
	db, rows, _, err := scaleStore(ctx, filepath.Join(opt.Dir, "analytics"), RulesOptions{Persons: opt.Persons, Rows: opt.Rows, MemoryLimit: opt.MemoryLimit})
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range historyFill {
		args := []any{}
		if strings.Contains(q, "?") {
			args = append(args, opt.Months)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("bench: history: %w", err)
		}
	}
	cfg := config.Default()
	pack, _ := alerts.LoadPack(nil)
	ev := &alerts.Evaluator{DB: db, Pack: pack, Standards: cfg.Standards, SeriousIllness: cfg.SeriousIllness}
	now := time.Now()
	rep, err := ev.Run(ctx, now, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(opt.Out, "\nanalytics at scale: %d registry persons with %d months of history, %d department rows, %d alerts; made in %s\n",
		opt.Persons, opt.Months, rows, rep.Raised, time.Since(t).Round(time.Second))

	dir := filepath.Join(opt.Dir, "analytics", "snapshot")
	key := "bench-pseudonym-key-0123456789"
	prepare := func(ctx context.Context, conn *sql.Conn) error { return ev.Prepare(ctx, conn, now) }
	base, err := measureStage("baseline: DuckDB COPY of the same views (one file each)", func() (int, error) {
		return copyViews(ctx, db, filepath.Join(opt.Dir, "analytics", "baseline"), key, opt.Months, now, prepare)
	})
	if err != nil {
		return err
	}
	var man *analytics.Manifest
	pub, err := measureStage("publish: Hive partitions, pseudonyms, manifest, rename", func() (int, error) {
		man, err = analytics.Publish(ctx, db, analytics.Options{Dir: dir, Key: key, Months: opt.Months, Now: now, Prepare: prepare})
		n := 0
		if man != nil {
			for _, v := range man.Views {
				n += int(v)
			}
		}
		return n, err
	})
	if err != nil {
		return err
	}
	tw := newTable(opt.Out)
	for _, s := range []Stage{base, pub} {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f×\t%d\t\n", s.Name, s.Rows, s.Elapsed.Seconds(), s.rate(), s.Elapsed.Seconds()/base.Elapsed.Seconds(), s.PeakRSS>>20)
	}
	tw.Flush()
	fmt.Fprintf(opt.Out, "rows per view: %v; target: publish ≤ 2× the baseline\n", man.Views)
	return queryLatencies(ctx, opt, db, pack, dir)
}

// reuseAnalytics opens the store and snapshot of a previous run and
// measures the queries only.
func reuseAnalytics(ctx context.Context, opt AnalyticsOptions) error {
	dir := filepath.Join(opt.Dir, "analytics")
	if _, _, err := analytics.Current(filepath.Join(dir, "snapshot")); err != nil {
		return fmt.Errorf("bench: --reuse needs a previous --analytics run in %s: %w", opt.Dir, err)
	}
	db, err := jobs.OpenStore(ctx, filepath.Join(dir, "store.duckdb"), web.Migrations())
	if err != nil {
		return err
	}
	defer db.Close()
	pack, _ := alerts.LoadPack(nil)
	return queryLatencies(ctx, opt, db, pack, filepath.Join(dir, "snapshot"))
}

// copyViews is the baseline: each view's query copied by DuckDB to one
// Parquet file, nothing else.
func copyViews(ctx context.Context, db *store.DB, out, key string, months int, now time.Time, prepare func(context.Context, *sql.Conn) error) (int, error) {
	os.RemoveAll(out)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := prepare(ctx, conn); err != nil {
		return 0, err
	}
	total := 0
	for _, v := range analytics.Views {
		q := v.Render(key, months, now, analytics.Span{})
		var n int
		file := filepath.Join(out, v.Name+".parquet")
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", q, file)); err != nil {
			return 0, fmt.Errorf("baseline %s: %w", v.Name, err)
		}
		if err := conn.QueryRowContext(ctx, "SELECT sum(num_rows) FROM parquet_file_metadata(?)", file).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// queryLatencies times cohort counts by region and 24-month series, in
// process and over HTTP on loopback, and a Flight SQL stream.
func queryLatencies(ctx context.Context, opt AnalyticsOptions, db *store.DB, pack *alerts.Pack, dir string) error {
	for _, u := range [][2]string{{"ana", "analyst"}, {"rec", "record_analyst"}} {
		if err := web.CreateUser(ctx, db, web.NewUser{Name: u[0], Password: "bench-password", Role: web.Role(u[1])}); err != nil && !opt.Reuse { // a reused store has them
			return err
		}
	}
	q, err := analytics.Open(ctx, dir, "", analytics.Limits{Rows: 10_000, Timeout: 5 * time.Minute, Memory: "4GB"})
	if err != nil {
		return err
	}
	defer q.Close()
	var county string
	res, err := q.Query(ctx, `SELECT left(village, 6) FROM registry_months GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`)
	if err != nil || len(res.Rows) == 0 {
		return fmt.Errorf("bench: no county in the snapshot: %v", err)
	}
	county = res.Rows[0][0]
	cohorts := []analytics.Definition{
		{Unit: analytics.Persons, Membership: analytics.InRegistry, Tiers: []string{"dibao", "tekun"}, Period: analytics.Period{Last: opt.Months}},
		{Unit: analytics.Households, Membership: analytics.InRegistry, SizeMin: ptr(3), Period: analytics.Period{Last: opt.Months}},
		{Unit: analytics.Persons, Membership: analytics.Both, Signals: []string{"serious_illness", "severe_disability"}, Period: analytics.Period{Last: opt.Months}},
	}
	ids := make([]int64, len(cohorts))
	for i, d := range cohorts {
		c, err := analytics.SaveCohort(ctx, db, 0, "bench "+strconv.Itoa(i), d, "ana", time.Now())
		if err != nil {
			return err
		}
		ids[i] = c.ID
	}
	srv := &web.Server{DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: web.NewRegistry(),
		Analytics: web.AnalyticsConfig{Dir: dir, SmallCell: 5, Limits: analytics.Limits{Rows: 10_000, Timeout: 5 * time.Minute, Memory: "4GB"}}}
	h, err := srv.Handler()
	if err != nil {
		return err
	}
	// Closed after the HTTP server's, deferred below.
	defer srv.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()
	ana, err := loopbackLogin(ts.URL, "ana", "bench-password")
	if err != nil {
		return err
	}
	fmt.Fprintf(opt.Out, "\ncohort queries over the snapshot, county %s: the first request of a cohort on a querier counts it by month and village\n"+
		"(one pass over the snapshot, its time under \"first\"); then %d requests each, which add those counts up\n", county, opt.Requests)
	tw := tabwriter.NewWriter(opt.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\tfirst ms\trequests\tp50 ms\tp95 ms\tp99 ms\t")
	worst, worstFirst := map[string]time.Duration{}, time.Duration(0)
	for i, d := range cohorts {
		d := d
		kinds := []struct {
			name string
			run  func() error
		}{
			{"in process (DuckDB over the files): by township", func() error { _, err := q.CountByRegion(ctx, &d, county, ""); return err }},
			{"loopback HTTP, suppressed: by township", func() error {
				return httpGet(ana, fmt.Sprintf("%s/analytics/cohorts/%d/export?what=regions&format=csv&region=%s", ts.URL, ids[i], county))
			}},
			{"in process: " + strconv.Itoa(opt.Months) + "-month series", func() error { _, err := q.Series(ctx, &d, ""); return err }},
			{"loopback HTTP, suppressed: " + strconv.Itoa(opt.Months) + "-month series", func() error {
				return httpGet(ana, fmt.Sprintf("%s/analytics/cohorts/%d/export?what=series&format=csv", ts.URL, ids[i]))
			}},
		}
		for _, k := range kinds {
			first, lat, err := latencies(opt.Requests, k.run)
			if err != nil {
				return fmt.Errorf("bench: cohort %d %s: %w", i, k.name, err)
			}
			p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
			fmt.Fprintf(tw, "cohort %d, %s\t%.0f\t%d\t%.0f\t%.0f\t%.0f\t\n", i+1, k.name, ms(first), len(lat), ms(p(0.5)), ms(p(0.95)), ms(p(0.99)))
			worst[k.name] = max(worst[k.name], p(0.95))
			worstFirst = max(worstFirst, first)
		}
	}
	tw.Flush()
	fmt.Fprintf(opt.Out, "worst p95 over loopback: by township %.0f ms (target < 300), %d-month series %.0f ms (target < 1000)\n",
		ms(worst["loopback HTTP, suppressed: by township"]), opt.Months, ms(worst["loopback HTTP, suppressed: "+strconv.Itoa(opt.Months)+"-month series"]))
	fmt.Fprintf(opt.Out, "slowest first count of a cohort: %.0f ms\n", ms(worstFirst))
	return flightThroughput(ctx, opt, db, q, dir)
}

// flightThroughput streams every registry month over Flight SQL, next to
// DuckDB's own Arrow reader on the same query in process.
func flightThroughput(ctx context.Context, opt AnalyticsOptions, db *store.DB, q *analytics.Querier, dir string) error {
	const query = `SELECT * FROM registry_months`
	var direct int64
	base, err := measureStage("baseline: the same query as Arrow batches in process", func() (int, error) {
		err := q.Records(ctx, query, func(rr array.RecordReader) error {
			for rr.Next() {
				direct += rr.RecordBatch().NumRows()
			}
			return nil
		})
		return int(direct), err
	})
	if err != nil {
		return err
	}
	token, err := web.NewToken(ctx, db, "rec")
	if err != nil {
		return err
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fs := &flight.Server{DB: db, Dir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: analytics.Limits{Rows: 1, Timeout: 30 * time.Minute, Memory: "4GB"}}
	addrs := make(chan net.Addr, 1)
	go fs.Serve(fctx, "127.0.0.1:0", func(a net.Addr) { addrs <- a })
	addr := (<-addrs).String()
	client, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer client.Close()
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	st, err := measureStage("Flight SQL: loopback gRPC, token, audit", func() (int, error) {
		info, err := client.Execute(authed, query)
		if err != nil {
			return 0, err
		}
		rd, err := client.DoGet(authed, info.Endpoint[0].Ticket)
		if err != nil {
			return 0, err
		}
		defer rd.Release()
		var n int64
		for rd.Next() {
			n += rd.RecordBatch().NumRows()
		}
		return int(n), rd.Err()
	})
	if err != nil {
		return err
	}
	tw := newTable(opt.Out)
	for _, s := range []Stage{base, st} {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f×\t%d\t\n", s.Name, s.Rows, s.Elapsed.Seconds(), s.rate(), base.rate()/s.rate(), s.PeakRSS>>20)
	}
	tw.Flush()
	fmt.Fprintf(opt.Out, "target: Flight SQL ≥ 1,000,000 rows/s\n")
	return nil
}

// latencies times run n times after a first run, whose time it returns
// apart: the first of a cohort on a querier is the one that counts it.
func latencies(n int, run func() error) (first time.Duration, lat []time.Duration, err error) {
	t := time.Now()
	if err := run(); err != nil {
		return 0, nil, err
	}
	first = time.Since(t)
	lat = make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := run(); err != nil {
			return 0, nil, err
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	return first, lat, nil
}

func httpGet(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		detail := regexp.MustCompile(`<p class="detail">([^<]*)`).FindSubmatch(b)
		return fmt.Errorf("%s: %s %s", u, resp.Status, detail)
	}
	return nil
}

// csrfValue is a form's token in a page.
var csrfValue = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// loopbackLogin logs a user in through the login form.
func loopbackLogin(base, user, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfValue.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("bench: no login form")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"username": {user}, "password": {password}, "csrf": {string(m[1])}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return c, nil
}

func ptr(n int) *int { return &n }
