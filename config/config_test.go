package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStarterConfigLoads(t *testing.T) {
	dir := t.TempDir()
	file, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database != filepath.Join(dir, "safetynet.duckdb") || c.Location.String() != "Asia/Shanghai" || c.Standards.DefaultMonthly != 480 {
		t.Errorf("defaults: %+v", c)
	}
	for _, s := range Sources {
		if fi, err := os.Stat(c.InboxDir(s)); err != nil || !fi.IsDir() {
			t.Errorf("inbox/%s not made: %v", s, err)
		}
	}
	// Init again keeps an edited file.
	os.WriteFile(file, []byte("timezone: UTC\n"), 0o644)
	if _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	if c, _ := Load(file); c.Timezone != "UTC" {
		t.Error("init overwrote an existing config")
	}
}

func TestValidationNamesKeyAndLine(t *testing.T) {
	cases := []struct {
		yaml, want string
	}{
		{"timezone: Mars/Olympus\n", "x.yaml:1: timezone:"},
		{"standards:\n  default_monthly: -3\n", "x.yaml:2: standards.default_monthly:"},
		{"standards:\n  by_region:\n    33x: 500\n", "x.yaml:3: standards.by_region.33x:"},
		{"sources:\n  medins:\n    schedule: every hour\n", "x.yaml:3: sources.medins.schedule: \"every hour\" is not a schedule"},
		{"sources:\n  weather:\n    schedule: \"@every 1h\"\n", "x.yaml:2: sources.weather: unknown source"},
		{"serious_illness_codes: [C00-C97, cancer]\n", "x.yaml:1: serious_illness_codes: item 2"},
		{"databse: x.duckdb\n", "field databse not found"},
		{"web: [1, 2]\n", "x.yaml"},
		{"sources:\n  medins:\n    kind: ftp\n", "x.yaml:3: sources.medins.kind: \"ftp\" is not a kind"},
		{"sources:\n  medins:\n    kind: http\n", "sources.medins.http: kind: http needs an http section"},
		{"sources:\n  medins:\n    kind: http\n    http:\n      url: ftp://x\n", "x.yaml:5: sources.medins.http.url:"},
		{"sources:\n  medins:\n    kind: http\n    http:\n      url: https://u:p@x/api\n", "no credentials in the URL"},
		{"sources:\n  medins:\n    kind: http\n    http:\n      url: https://x/api\n      token: abc\n", "field token not found"},
		{"sources:\n  medins:\n    kind: http\n    http:\n      url: https://x/api\n      pagination: offset\n", "x.yaml:6: sources.medins.http.pagination:"},
		{"sources:\n  medins:\n    kind: postgres\n    postgres:\n      query: SELECT 1\n", "needs a postgres section with dsn_env and query"},
		{"sources:\n  medins:\n    encoding: latin1\n", "x.yaml:3: sources.medins.encoding:"},
		{"sources:\n  medins:\n    http:\n      url: https://x/api\n", "need kind: http"},
		{"match:\n  link_threshold: 0.4\n  review_threshold: 0.6\n", "x.yaml:1: match: want 0 ≤ review_threshold ≤ link_threshold ≤ 1"},
		{"alertmanager:\n  url: 127.0.0.1:9093\n", "x.yaml:2: alertmanager.url: \"127.0.0.1:9093\" is not an http(s) URL"},
		{"alertmanager:\n  url: http://127.0.0.1:9093\n  resend: 1s\n", "x.yaml:3: alertmanager.resend: must be at least 10s"},
		{"web:\n  tls_cert: /etc/ssl/x.pem\n", "x.yaml:1: web: tls_cert and tls_key go together"},
		{"web:\n  trusted_proxies: [127.0.0.1, 10.0.0.0/33]\n", "x.yaml:2: web.trusted_proxies: entry 2, \"10.0.0.0/33\""},
		{"instance: county a\n", "x.yaml:1: instance: \"county a\" is not an instance name"},
		{"peers:\n  county-a:\n    url: county-a.example/api/forward\n    token_env: T\n", "x.yaml:3: peers.county-a.url: \"county-a.example/api/forward\" is not an http(s) URL"},
		{"peers:\n  county-a:\n    url: https://a.example/api/forward\n", "peers.county-a.token_env: name the environment variable"},
		{"peers:\n  county-a:\n    url: https://a.example/api/forward\n    token_env: T\n    sources: [registry]\n", "x.yaml:5: peers.county-a.sources: \"registry\" is not a department source"},
		{"hub: true\n", "x.yaml:1: hub: a hub pulls from the counties it joins"},
		{"hub: true\npeers:\n  county-a:\n    url: https://a.example/api/forward\n    token_env: T\n", "x.yaml:1: hub: a hub holds no registry"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
	var ce *Error
	_, err := Parse([]byte("timezone: nowhere\n"), "x.yaml")
	if !errors.As(err, &ce) || ce.Line != 1 || ce.Key != "timezone" {
		t.Errorf("want a *config.Error with line and key, got %#v", err)
	}
}

func TestStandardsAndSourceDefaults(t *testing.T) {
	c, err := Parse([]byte("standards:\n  default_monthly: 480\n  by_region:\n    \"33\": 700\n    \"330110\": 1150\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Standards.ByRegion["330110"] != 1150 || c.Standards.ByRegion["33"] != 700 {
		t.Errorf("by_region: %v", c.Standards.ByRegion)
	}
	if c.Sources["medins"].Schedule == "" {
		t.Error("a source left out of the file lost its default schedule")
	}
}

func TestConnectorKinds(t *testing.T) {
	c, err := Parse([]byte(`sources:
  medins:
    kind: http
    http:
      url: https://medins.example/api/settlements
      token_env: MEDINS_TOKEN
      records: data
      pagination: cursor
      timeout: 45s
  disability:
    kind: postgres
    postgres:
      dsn_env: DISABILITY_PG
      query: exchange.disability_v
      incremental: updated_at
  education:
    encoding: gbk
    delimiter: tab
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := c.Sources["medins"].HTTP.WithDefaults()
	if h.Timeout.Seconds() != 45 || h.PageSize != 1000 || h.NextCursor != "next_cursor" || h.SinceParam != "updated_since" {
		t.Errorf("http: %+v", h)
	}
	if c.Sources["medins"].Schedule == "" || c.Sources["disability"].Postgres.Incremental != "updated_at" || c.Sources["education"].Delimiter != "tab" {
		t.Errorf("sources: %+v", c.Sources)
	}
}

// TestHubConfig: a hub names its counties and keeps no registry.
func TestHubConfig(t *testing.T) {
	c, err := Parse([]byte("hub: true\nsources:\n  registry:\n    enabled: false\npeers:\n  county-a:\n    url: https://a.example/api/forward\n    token_env: T\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Hub || c.Sources["registry"].On() || !c.Sources["medins"].On() {
		t.Errorf("hub %v, registry on %v, medins on %v: want a hub that takes department files but no registry", c.Hub, c.Sources["registry"].On(), c.Sources["medins"].On())
	}
}
