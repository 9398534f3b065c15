package web

import (
	"bytes"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/xuri/excelize/v2"
)

func postForm(t *testing.T, c *http.Client, u string, v url.Values) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// smallCount finds a count from 1 to 4 in a cell of a page or file.
var smallCount = regexp.MustCompile(`<td class="num">([1-4])</td>|<b id="kpi-[a-z-]+">([1-4])</b>`)

// TestAnalystPages: an aggregates-only analyst lands on the funnel,
// builds a cohort in the form, drills from county to village and exports
// the counts, never seeing a count below k; record-level SQL and row
// exports are refused to them and work for a record-level analyst, whose
// Arrow and Parquet files read back; every query is audited.
func TestAnalystPages(t *testing.T) {
	s := newSite(t)
	an := s.login(t, "analyst")
	code, home := get(t, an, s.srv.URL+"/")
	if code != http.StatusSeeOther {
		t.Fatalf("/ for an analyst: %d", code)
	}
	code, home = get(t, an, s.srv.URL+"/analytics")
	if code != 200 || !strings.Contains(home, `id="chart-funnel"`) || !strings.Contains(home, "/static/echarts/echarts.min.js") {
		t.Fatalf("analytics home: %d\n%s", code, home)
	}
	if m := smallCount.FindString(home); m != "" {
		t.Errorf("the landing page shows a count below 5: %s", m)
	}
	if !strings.Contains(home, "<5") && !strings.Contains(home, "×") {
		t.Log("no cell needed suppression on the landing page")
	}
	token := csrf(t, home)
	// A cohort from the form: persons of the registry aged 60 or more, the last 3 months.
	resp, body := postForm(t, an, s.srv.URL+"/analytics/cohorts", url.Values{"csrf": {token}, "name": {"60岁以上低保、特困人员"},
		"unit": {"person"}, "membership": {"registry"}, "region": {""}, "tier": {"dibao", "tekun"}, "age_min": {"60"}, "period": {"last"}, "last": {"3"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/analytics/cohorts/1?v=1") {
		t.Fatalf("save cohort: %d %s\n%s", resp.StatusCode, loc, body)
	}
	_, page := get(t, an, s.srv.URL+loc)
	if !strings.Contains(page, `id="made-by"`) || !strings.Contains(page, "v1") || !strings.Contains(page, `id="chart-series"`) {
		t.Fatalf("cohort page:\n%s", page)
	}
	// Drill down: the first region link, then the next level.
	drill := regexp.MustCompile(`class="drill" href="([^"]+)"`)
	levels := 0
	for path := loc; ; levels++ {
		_, page = get(t, an, s.srv.URL+strings.ReplaceAll(path, "&amp;", "&"))
		if m := smallCount.FindString(page); m != "" {
			t.Errorf("%s shows a count below 5: %s", path, m)
		}
		m := drill.FindStringSubmatch(page)
		if m == nil || levels > 5 {
			break
		}
		path = m[1]
	}
	if levels < 3 { // county → township → village
		t.Errorf("drilled %d levels, want county, township and village", levels)
	}
	// Counts export: suppressed as on the page.
	code, x := get(t, an, s.srv.URL+"/analytics/cohorts/1/export?what=regions&format=xlsx")
	if code != 200 {
		t.Fatalf("export: %d", code)
	}
	f, err := excelize.OpenReader(strings.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Sheet1")
	if len(rows) < 2 {
		t.Fatalf("export rows: %v", rows)
	}
	for _, r := range rows[1:] {
		if n, err := strconv.Atoi(r[3]); err == nil && n >= 1 && n < 5 {
			t.Errorf("the export shows %d", n)
		}
	}
	// The funnel export: suppressed too.
	code, fx := get(t, an, s.srv.URL+"/analytics/funnel/export?by=rule&format=csv")
	if code != 200 || !strings.Contains(fx, "合计") {
		t.Fatalf("funnel export: %d %s", code, fx)
	}
	for _, line := range strings.Split(strings.TrimSpace(fx), "\n")[1:] {
		cells := strings.Split(line, ",")
		if len(cells) < 8 {
			t.Fatalf("funnel export line %q", line)
		}
		for _, cell := range cells[1:7] {
			if n, err := strconv.Atoi(cell); err == nil && n >= 1 && n < 5 {
				t.Errorf("the funnel export shows %d: %s", n, line)
			}
		}
	}
	// An edit keeps version 1.
	resp, _ = postForm(t, an, s.srv.URL+"/analytics/cohorts/1", url.Values{"csrf": {token}, "name": {"70岁以上低保、特困人员"},
		"unit": {"person"}, "membership": {"registry"}, "tier": {"dibao", "tekun"}, "age_min": {"70"}, "period": {"last"}, "last": {"3"}})
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/analytics/cohorts/1?v=2") {
		t.Errorf("edit: %s", loc)
	}
	_, v1 := get(t, an, s.srv.URL+"/analytics/cohorts/1?v=1")
	if !strings.Contains(v1, "60岁以上") || !strings.Contains(v1, `href="/analytics/cohorts/1?v=2"`) {
		t.Error("version 1 is not kept beside version 2")
	}
	// A bad form says what is wrong and keeps what was typed.
	resp, body = postForm(t, an, s.srv.URL+"/analytics/cohorts", url.Values{"csrf": {token}, "name": {"坏的"}, "unit": {"person"}, "membership": {"registry"}, "age_min": {"abc"}, "period": {"last"}, "last": {"3"}})
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte(`id="form-error"`)) || !bytes.Contains(body, []byte(`value="坏的"`)) {
		t.Errorf("a bad form: %d", resp.StatusCode)
	}
	// Record-level things are refused to the aggregates-only analyst.
	if code, _ := get(t, an, s.srv.URL+"/analytics/sql"); code != http.StatusForbidden {
		t.Errorf("SQL page for an aggregates-only analyst: %d", code)
	}
	resp, _ = postForm(t, an, s.srv.URL+"/analytics/sql", url.Values{"csrf": {token}, "q": {"SELECT person FROM registry_months"}, "format": {"csv"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a row export by an aggregates-only analyst: %d", resp.StatusCode)
	}
	resp, _ = postForm(t, an, s.srv.URL+"/analytics/cohorts", url.Values{"csrf": {token}, "name": {"x"}, "unit": {"person"}, "sql": {"SELECT month, village, person FROM registry_months"}, "period": {"last"}, "last": {"1"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a SQL cohort by an aggregates-only analyst: %d", resp.StatusCode)
	}

	// The record-level analyst: SQL in the page, then every format.
	rec := s.login(t, "records")
	_, sqlPage := get(t, rec, s.srv.URL+"/analytics/sql")
	rt := csrf(t, sqlPage)
	query := "SELECT person, tier, age FROM registry_months ORDER BY person, month"
	_, body = postForm(t, rec, s.srv.URL+"/analytics/sql", url.Values{"csrf": {rt}, "q": {query}})
	if !bytes.Contains(body, []byte(`id="sql-result"`)) {
		t.Fatalf("SQL page:\n%s", body)
	}
	var want int
	s.chain.DB.QueryRow(`SELECT count(*) FROM audit_log WHERE username = 'records' AND action = 'sql' AND detail LIKE '%rows: SELECT person, tier, age%'`).Scan(&want)
	if want != 1 {
		t.Errorf("the query is audited %d times with its rows and text", want)
	}
	resp, arrowBody := postForm(t, rec, s.srv.URL+"/analytics/sql", url.Values{"csrf": {rt}, "q": {query}, "format": {"arrow"}})
	if resp.Header.Get("Content-Type") != "application/vnd.apache.arrow.stream" {
		t.Fatalf("arrow export: %s %s", resp.Header.Get("Content-Type"), arrowBody)
	}
	rd, err := ipc.NewReader(bytes.NewReader(arrowBody))
	if err != nil {
		t.Fatal(err)
	}
	var arrowRows int64
	for rd.Next() {
		arrowRows += rd.RecordBatch().NumRows()
	}
	if rd.Schema().Field(0).Name != "person" || arrowRows == 0 {
		t.Errorf("arrow stream: %v, %d rows", rd.Schema(), arrowRows)
	}
	_, parquetBody := postForm(t, rec, s.srv.URL+"/analytics/sql", url.Values{"csrf": {rt}, "q": {query}, "format": {"parquet"}})
	pq := filepath.Join(t.TempDir(), "q.parquet")
	os.WriteFile(pq, parquetBody, 0o644)
	db, _ := sql.Open("duckdb", "")
	defer db.Close()
	var parquetRows int64
	var person string
	if err := db.QueryRow(`SELECT count(*), min(person) FROM read_parquet(?)`, pq).Scan(&parquetRows, &person); err != nil || parquetRows != arrowRows || !strings.HasPrefix(person, "p") {
		t.Errorf("parquet export: %d rows (arrow %d), %q, %v", parquetRows, arrowRows, person, err)
	}
	_, csvBody := postForm(t, rec, s.srv.URL+"/analytics/sql", url.Values{"csrf": {rt}, "q": {query}, "format": {"csv"}})
	if lines := bytes.Count(csvBody, []byte("\n")); int64(lines) != arrowRows+1 {
		t.Errorf("csv export: %d lines for %d rows", lines, arrowRows)
	}
	resp, body = postForm(t, rec, s.srv.URL+"/analytics/sql", url.Values{"csrf": {rt}, "q": {"DROP VIEW alerts"}})
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte(`id="sql-error"`)) {
		t.Errorf("a statement that is not a SELECT: %d", resp.StatusCode)
	}
	// A scoped analyst sees their county's townships only.
	scoped := s.login(t, "analyst-yuhang")
	_, sp := get(t, scoped, s.srv.URL+"/analytics/cohorts/1")
	for _, m := range regexp.MustCompile(`<td>(\d{9,12})</td>`).FindAllStringSubmatch(sp, -1) {
		if !strings.HasPrefix(m[1], "330110") {
			t.Errorf("an analyst of 330110 sees %s", m[1])
		}
	}
}

// TestXLSXSplitsPastExcelsLimit: a row export larger than one sheet goes
// on in the next, and the workbook says so.
func TestXLSXSplitsPastExcelsLimit(t *testing.T) {
	defer func(n int) { sheetRows = n }(sheetRows)
	sheetRows = 1000
	var buf bytes.Buffer
	err := streamXLSX(&buf, []string{"n"}, func(yield func([]string) error) error {
		for i := 0; i < 2500; i++ {
			if err := yield([]string{strconv.Itoa(i)}); err != nil {
				return err
			}
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, name := range []string{"Sheet1", "Sheet2", "Sheet3"} {
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		total += len(rows) - 1
		if rows[0][0] != "n" || rows[1][0] != strconv.Itoa(i*1000) {
			t.Errorf("%s starts %v", name, rows[:2])
		}
	}
	note, _ := f.GetCellValue("README", "A1")
	if total != 2500 || !strings.Contains(note, "2500 rows in 3 sheets") {
		t.Errorf("%d rows; README says %q", total, note)
	}
}

// TestServerCloseRemovesQuerierSpools: the queriers a server keeps for
// analysts are closed with it, so a serve that stops leaves no spool
// folder behind in the temporary directory.
func TestServerCloseRemovesQuerierSpools(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := newSite(t)
	an := s.login(t, "analyst")
	if code, _ := get(t, an, s.srv.URL+"/analytics"); code != 200 {
		t.Fatalf("analytics home: %d", code)
	}
	spools, _ := filepath.Glob(filepath.Join(tmp, "safetynet-query-*"))
	if len(spools) == 0 {
		t.Fatal("no querier spool while the server runs: the test sees nothing")
	}
	s.srv.Close()
	if err := s.server.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "safetynet-query-*")); len(left) > 0 {
		t.Errorf("spools left after Close: %v", left)
	}
}
