package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/alerts"
	"safetynet/ingest"
	"safetynet/jobs"
	"safetynet/notify"
	"safetynet/web"
)

// exported is every metric the server's /metrics has, with its labels.
func exported() map[string][]string {
	var cs []prometheus.Collector
	cs = append(cs, ingest.Collectors(nil, nil)...)
	cs = append(cs, alerts.Collectors(nil)...)
	cs = append(cs, jobs.Collectors()...)
	cs = append(cs, notify.Collectors()...)
	cs = append(cs, web.Collectors()...)
	desc := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	out := map[string][]string{}
	for _, c := range cs {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := desc.FindStringSubmatch(d.String())
			var labels []string
			for _, l := range strings.Split(m[2], ",") {
				if l = strings.TrimSpace(l); l != "" {
					labels = append(labels, l)
				}
			}
			out[m[1]] = labels
		}
	}
	return out
}

// TestGrafanaDashboard: every query of the dashboard parses as PromQL
// (promtool checks them as recording rules), names only metrics /metrics
// exports, and groups or filters only by labels those metrics have.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/safetynet.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana/safetynet.json: %v", err)
	}
	metrics := exported()
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	name := regexp.MustCompile(`safetynet_[a-z_]+`)
	labelUse := regexp.MustCompile(`(?:by|without) \(([^)]*)\)|([a-z_]+)(?:=~|!=|=)"`)
	n := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			n++
			fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %q\n", n, q.Expr)
			used := name.FindAllString(q.Expr, -1)
			if len(used) == 0 {
				t.Errorf("panel %q: %q names no safetynet metric", p.Title, q.Expr)
			}
			var labels []string
			for _, m := range used {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
				ls, ok := metrics[base]
				if !ok {
					t.Errorf("panel %q uses %s, which /metrics does not export", p.Title, m)
				}
				labels = append(labels, ls...)
				if base != m {
					labels = append(labels, "le")
				}
			}
			for _, g := range labelUse.FindAllStringSubmatch(q.Expr, -1) {
				for _, l := range strings.Split(g[1]+g[2], ",") {
					if l = strings.TrimSpace(l); l != "" && !contains(labels, l) {
						t.Errorf("panel %q uses the label %q, which %v do not have", p.Title, l, used)
					}
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("%d queries", n)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is missing: make deps installs Debian's prometheus")
	}
	file := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	os.WriteFile(file, []byte(rules.String()), 0o644)
	if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("the dashboard's queries are not valid PromQL: %v\n%s", err, out)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
