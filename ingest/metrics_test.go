package ingest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The per-source metrics come from the ledger: after two deliveries with
// drift and a failed pull they say so, and promtool accepts them.
func TestMetricsPerSource(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte("结算编号,身份证号,结算日期,个人自付,医疗总费用\nS1,11010519491231002X,2024-03-05,1,2\nS2,x,2024-03-05,1,2\n"), 0o644)
	if _, err := IngestFile(ctx, db, "medins", p, Options{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte("结算编号,身份证号,结算日期,自付金额\nS1,11010519491231002X,2024-03-05,1\n"), 0o644)
	if _, err := IngestFile(ctx, db, "medins", p, Options{}); err != nil {
		t.Fatal(err)
	}
	db.Exec(`INSERT INTO ingest_pulls (source, connector, last_error) VALUES ('health', 'http', 'connection refused')`)

	reg := prometheus.NewPedanticRegistry()
	// medins delivered just now; health never (its pull failed): stale.
	reg.MustRegister(Collectors(db, map[string]time.Duration{"medins": time.Hour, "health": time.Hour})...)
	for metric, want := range map[string]float64{
		`safetynet_ingest_rows_read_total`:                3,
		`safetynet_ingest_rows_sql_total`:                 2, // S1 twice; S2's ID "x" is left to Go
		`safetynet_ingest_batches_total`:                  2,
		`safetynet_ingest_schema_drift_total`:             2, // renamed out_of_pocket, missing total_cost
		`safetynet_ingest_pull_failing`:                   1,
		`safetynet_ingest_last_success_timestamp_seconds`: 1,
		`safetynet_ingest_batch_duration_seconds`:         1,
		`safetynet_ingest_rows_total`:                     4,
		`safetynet_ingest_bytes_total`:                    1,
		`safetynet_ingest_last_batch_timestamp_seconds`:   1,
		`safetynet_ingest_values_unknown_total`:           1, // S2's ID "x": the row is stored, its ID unknown
		`safetynet_ingest_source_stale`:                   1, // health, of medins and health
	} {
		n, err := testutil.GatherAndCount(reg, metric)
		if err != nil {
			t.Fatal(err)
		}
		if metric == "safetynet_ingest_rows_read_total" || metric == "safetynet_ingest_rows_sql_total" || metric == "safetynet_ingest_batches_total" || metric == "safetynet_ingest_values_unknown_total" || metric == "safetynet_ingest_source_stale" {
			v := sumOf(t, reg, metric)
			if v != want {
				t.Errorf("%s = %v, want %v", metric, v, want)
			}
			continue
		}
		if float64(n) != want {
			t.Errorf("%s: %d series, want %v", metric, n, want)
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		var b strings.Builder
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			writeText(&b, mf)
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(b.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool: %v\n%s", err, out)
		}
	}
}

func writeText(b *strings.Builder, mf *dto.MetricFamily) { expfmt.MetricFamilyToText(b, mf) }

func sumOf(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return v
}
