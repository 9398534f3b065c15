package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"safetynet/alerts"
	"safetynet/jobs"
	"safetynet/web"
)

// InboxOptions size the inbox benchmark.
type InboxOptions struct {
	Dir      string
	Alerts   int // alerts in the store
	Requests int // requests per view
	Out      io.Writer
}

// fillAlerts writes n alerts with one evidence row each straight into the
// alert tables, as the rules would have after years of running: spread
// over 8 rules, 4 severities, 5 states, 200 townships of 10 counties, due
// times from a year ago to a year ahead. The harness writes the tables
// itself because raising a million alerts through the rules would need
// tens of millions of department rows.
const fillAlerts = `
INSERT INTO alerts (alert_id, rule_id, subject, severity, status, household_id, id_number, region_code,
    first_seen, last_seen, due_at, reason, details, closed_at, escalated_at)
SELECT nextval('alert_seq'), (['expenditure_hardship', 'temporary_assistance', 'severe_disability', 'serious_illness',
            'school_dropout', 'recipient_death', 'discovery', 'multiple_hardship'])[1 + i % 8],
       'household:H' || i, (['critical', 'high', 'medium', 'low'])[1 + (i // 8) % 4],
       (['new', 'dispatched', 'visited', 'resolved', 'dismissed'])[1 + (i // 32) % 5],
       'H' || i, NULL, printf('3301%02d%03d%03d', i % 10, (i // 10) % 20, i % 97),
       now() - INTERVAL 400 DAY + to_seconds(i % 31536000), now() - INTERVAL 1 DAY,
       now() - INTERVAL 365 DAY + to_seconds((i * 7919) % 63072000),
       '单笔医疗自付为人均年收入的2.50倍：建议临时救助不超过5000元，县级审批', '{"ratio": 2.5}',
       CASE WHEN (i // 32) % 5 IN (3, 4) THEN now() ELSE NULL END, NULL
FROM range(1, ? + 1) t(i)`

const fillEvidence = `INSERT INTO alert_evidence (alert_id, source, record_id, added_at) SELECT alert_id, 'medins', 'S' || alert_id, now() FROM alerts`

// RunInbox times the operator's inbox page served over loopback with
// Alerts alerts in the store, for the default view, a filter and an
// operator's region, next to the health check's round trip and the list
// query alone.
func RunInbox(ctx context.Context, opt InboxOptions) error {
	dir := filepath.Join(opt.Dir, "inbox")
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db, err := jobs.OpenStore(ctx, filepath.Join(dir, "inbox.duckdb"), web.Migrations())
	if err != nil {
		return err
	}
	defer db.Close()
	t := time.Now()
	if _, err := db.ExecContext(ctx, fillAlerts, opt.Alerts); err != nil {
		return fmt.Errorf("bench: fill alerts: %w", err)
	}
	if _, err := db.ExecContext(ctx, fillEvidence); err != nil {
		return fmt.Errorf("bench: fill alert evidence: %w", err)
	}
	for _, u := range [][3]string{{"admin", "admin", ""}, {"op", "operator", "330103"}} {
		if err := web.CreateUser(ctx, db, web.NewUser{Name: u[0], Password: "bench-password", Role: web.Role(u[1]), Region: u[2], Replace: true}); err != nil {
			return err
		}
	}
	pack, _ := alerts.LoadPack(nil)
	srv := &web.Server{DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: web.NewRegistry()}
	h, err := srv.Handler()
	if err != nil {
		return err
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	fmt.Fprintf(opt.Out, "\ninbox: %d alerts written in %s; %d requests per view from a loopback client\n", opt.Alerts, time.Since(t).Round(time.Second), opt.Requests)

	login := func(user string) (*http.Client, error) { return loopbackLogin(ts.URL, user, "bench-password") }
	admin, err := login("admin")
	if err != nil {
		return err
	}
	op, err := login("op")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(opt.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "view\trequests\tp50 ms\tp95 ms\tp99 ms\tbytes\t")
	rules := pack.IDs()
	sevs := []string{"critical", "high", "medium", "low"}
	states := []string{"open", "", "new", "dispatched", "visited", "resolved"}
	views := []struct {
		name string
		c    *http.Client
		path string
	}{
		{"baseline: GET /healthz", admin, "/healthz"},
		{"inbox, default: open alerts (admin)", admin, "/alerts"},
		{"inbox, every state (admin)", admin, "/alerts?status="},
		{"inbox, critical and overdue", admin, "/alerts?severity=critical&due=overdue"},
		{"inbox, one rule, new", admin, "/alerts?rule=discovery&status=new"},
		{"inbox, an operator's county (330103)", op, "/alerts"},
		{"inbox, county queue", admin, "/alerts?queue=county"},
		// Each request a filter not seen before: the counts beside the
		// page are computed, not taken from the cache.
		{"inbox, a new filter each time (counts not cached)", admin, ""},
	}
	var worst time.Duration
	for _, v := range views {
		var lat []time.Duration
		size := 0
		for i := 0; i < opt.Requests+3; i++ {
			path := v.path
			if path == "" {
				path = fmt.Sprintf("/alerts?rule=%s&severity=%s&status=%s", rules[i%len(rules)], sevs[(i/len(rules))%len(sevs)],
					states[(i/(len(rules)*len(sevs)))%len(states)])
			}
			start := time.Now()
			resp, err := v.c.Get(ts.URL + path)
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("bench: %s: %s", path, resp.Status)
			}
			if i >= 3 { // the first requests warm DuckDB's caches
				lat = append(lat, time.Since(start))
			}
			size = len(b)
		}
		slices.Sort(lat)
		p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%d\t\n", v.name, len(lat), ms(p(0.5)), ms(p(0.95)), ms(p(0.99)), size)
		if v.path != "/healthz" {
			worst = max(worst, p(0.95))
		}
	}
	tw.Flush()
	fmt.Fprintf(opt.Out, "worst inbox p95: %.1f ms (target < 100 ms)\n", ms(worst))
	// What a nightly backup of this store costs, while it serves.
	b, err := db.Backup(ctx, filepath.Join(dir, "backups"), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(opt.Out, "backup of %d alerts, the server up: %d MiB in %.1f s (copied, read back whole, checksummed)\n",
		b.Tables["alerts"], b.Bytes>>20, b.Elapsed.Seconds())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
