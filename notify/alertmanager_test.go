package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/jobs"
	"safetynet/notify"
	"safetynet/synth"
)

// alertmanager starts Debian's prometheus-alertmanager on a free loopback
// port, for the test only, and returns its URL.
func alertmanager(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		bin, err = exec.LookPath("alertmanager")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus-alertmanager is not installed: `make deps` installs it")
		}
		t.Skip("prometheus-alertmanager is not installed (make deps)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "alertmanager.yml")
	os.WriteFile(conf, []byte("route:\n  receiver: office\n  group_by: [county, rule]\nreceivers:\n  - name: office\n"), 0o644)
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.path="+dir, "--web.listen-address="+addr, "--cluster.listen-address=")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if i == 100 {
			t.Fatalf("alertmanager did not start: %s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gettable is an alert as Alertmanager's v2 API lists it.
type gettable struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func listAM(t *testing.T, url string) map[string]gettable {
	t.Helper()
	resp, err := http.Get(url + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var as []gettable
	if err := json.NewDecoder(resp.Body).Decode(&as); err != nil {
		t.Fatal(err)
	}
	out := map[string]gettable{}
	for _, a := range as {
		if a.Labels["source"] == "safetynet" && a.EndsAt.After(time.Now()) {
			out[a.Labels["alert_id"]] = a
		}
	}
	return out
}

// A county's run pushes its critical and overdue alerts to a real
// Alertmanager with rule, severity and region labels; an alert dismissed
// in safetynet is resolved there on the next push; Alertmanager being
// down fails no run and the next push catches up.
func TestPushToAlertmanager(t *testing.T) {
	ctx := context.Background()
	am := alertmanager(t)
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	chain := countySite(t, am, asOf)
	cfg, db, pack := chain.Cfg, chain.DB, chain.Pack
	// The clock is the county's evaluation day, so the alerts are not yet due.
	chain.Now = func() time.Time { return asOf.Add(12 * time.Hour) }
	if _, err := chain.Run(ctx, "test", asOf); err != nil {
		t.Fatal(err)
	}
	notable, _ := alerts.List(ctx, db, alerts.Filter{Notable: true})
	if len(notable) == 0 {
		t.Fatal("the county raised nothing notable")
	}
	got := listAM(t, am)
	if len(got) != len(notable) {
		t.Fatalf("alertmanager has %d safetynet alerts, want %d", len(got), len(notable))
	}
	a := notable[0]
	g := got[itoa(a.AlertID)]
	if g.Labels["alertname"] != a.RuleID || g.Labels["severity"] != a.Severity || g.Labels["region"] != a.RegionCode ||
		g.Labels["county"] != a.RegionCode[:6] || g.Annotations["url"] != "http://safetynet.test/alerts/"+itoa(a.AlertID) ||
		g.Annotations["description"] != a.Reason || g.Status.State != "active" {
		t.Errorf("alert %d in alertmanager: %+v", a.AlertID, g)
	}
	for id, g := range got {
		for _, v := range g.Labels {
			if len(v) == 18 && strings.ContainsAny(v[17:], "0123456789X") && strings.Trim(v, "0123456789X") == "" {
				t.Errorf("alert %s carries an ID number in its labels: %v", id, g.Labels)
			}
		}
	}

	// Dismissed in safetynet: resolved in Alertmanager at the next push.
	if err := alerts.Act(ctx, db, alerts.Move{AlertID: a.AlertID, Action: alerts.Dismiss, Actor: "op1", Note: "already helped", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	push := &notify.Alertmanager{Conf: cfg.Alertmanager, DB: db, Pack: pack}
	res, err := push.Push(ctx, time.Now())
	if err != nil || res.Resolved != 1 || res.Firing != len(notable)-1 {
		t.Fatalf("push after a dismissal: %+v %v", res, err)
	}
	after := listAM(t, am)
	if _, ok := after[itoa(a.AlertID)]; ok || len(after) != len(notable)-1 {
		t.Errorf("after the dismissal alertmanager has %d alerts, alert %d active: %t", len(after), a.AlertID, ok)
	}

	// Alertmanager down: the run goes on; the push says what to check.
	down := &notify.Alertmanager{Conf: config.Alertmanager{URL: "http://127.0.0.1:1", Resend: time.Minute}, DB: db, Pack: pack}
	if _, err := down.Push(ctx, time.Now()); err == nil || !strings.Contains(err.Error(), "alertmanager.url") {
		t.Errorf("push to nothing: %v", err)
	}
	chain.Cfg.Alertmanager.URL = "http://127.0.0.1:1"
	if _, err := chain.Run(ctx, "test", asOf); err != nil {
		t.Errorf("a run with alertmanager down failed: %v", err)
	}
}

// countySite is a synthetic county's site, its deliveries in the inbox,
// pushing to the Alertmanager at amURL: a chain not yet run.
func countySite(t *testing.T, amURL string, asOf time.Time) *jobs.Chain {
	t.Helper()
	dir := t.TempDir()
	file, err := config.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Alertmanager = config.Alertmanager{URL: amURL, ExternalURL: "http://safetynet.test", Resend: time.Minute}
	opt := synth.DefaultOptions(asOf)
	opt.Households, opt.Records, opt.Outsiders = 300, 2000, 300
	county, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := county.Write(cfg.Inbox, dir); err != nil {
		t.Fatal(err)
	}
	db, err := jobs.OpenStore(context.Background(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pack, err := alerts.LoadPack(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
