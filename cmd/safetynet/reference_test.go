package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/config"
)

// configKeys are every key of the config file, dotted, with <name> for
// the key of a map (a source's, a rule's).
func configKeys(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		*out = append(*out, key)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft.String() != "time.Duration":
			configKeys(ft, key+".", out)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			configKeys(ft.Elem(), key+".<name>.", out)
		}
	}
}

// metricNames are the names of every metric the server registers.
func metricNames() []string {
	cs := collectors(nil, nil)
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	var out []string
	for _, c := range cs {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			out = append(out, name.FindStringSubmatch(d.String())[1])
		}
	}
	return out
}

// TestReference: docs/reference.md names every config key and metric
// there is, and nothing else.
func TestReference(t *testing.T) {
	b, err := os.ReadFile("../../docs/reference.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var keys []string
	configKeys(reflect.TypeOf(config.Config{}), "", &keys)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.<>]+)` \\|").FindAllStringSubmatch(doc, -1) {
		documented[m[1]] = true
	}
	metrics := metricNames()
	for _, k := range append(append([]string(nil), keys...), metrics...) {
		if !documented[k] {
			t.Errorf("%s is not in docs/reference.md", k)
		}
	}
	for k := range documented {
		if !slices.Contains(keys, k) && !slices.Contains(metrics, k) {
			t.Errorf("docs/reference.md names %s, which is neither a config key nor a metric", k)
		}
	}
	// Any metric named anywhere in the docs exists.
	for _, f := range []string{"../../README.md", "../../docs/running.md", "../../docs/analytics.md", "../../docs/design.md", "../../docs/benchmarks.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`safetynet_[a-z_]+`).FindAllString(string(b), -1) {
			if !slices.Contains(metrics, m) && !strings.HasSuffix(m, "_") {
				t.Errorf("%s names the metric %s, which /metrics does not have", f, m)
			}
		}
	}
}

// TestPrometheusRules: the alerting rules that ship pass promtool's check
// and their unit tests (each rule fires when it should, and not before),
// and name only metrics the server exports (node_exporter's aside).
func TestPrometheusRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed; `make test` installs it")
		}
		t.Skip("promtool not installed (make test installs it)")
	}
	dir := "../../deploy/prometheus"
	for _, args := range [][]string{{"check", "rules", "safetynet.rules.yml"}, {"test", "rules", "safetynet.rules.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "safetynet.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	metrics := metricNames()
	named := regexp.MustCompile(`safetynet_[a-z_]+`).FindAllString(string(b), -1)
	if len(named) < 6 {
		t.Fatalf("the rules name %d metrics", len(named))
	}
	for _, m := range named {
		base := strings.TrimSuffix(strings.TrimSuffix(m, "_count"), "_bucket")
		if !slices.Contains(metrics, m) && !slices.Contains(metrics, base) {
			t.Errorf("the rules use %s, which /metrics does not have", m)
		}
	}
}
