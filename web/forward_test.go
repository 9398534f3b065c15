package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/jobs"
	"safetynet/match"
)

// instance is one safetynet installation of the forwarding test: its
// own directory, store and registry.
type instance struct {
	cfg   *config.Config
	chain *jobs.Chain
}

func newInstance(t *testing.T, name string, peers map[string]config.Peer) *instance {
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
	cfg.Instance, cfg.Peers = name, peers
	db, err := jobs.OpenStore(context.Background(), cfg.Database, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pack, _ := alerts.LoadPack(nil)
	log := slog.New(slog.NewTextHandler(testLog(), nil))
	return &instance{cfg: cfg, chain: &jobs.Chain{Cfg: cfg, DB: db, Pack: pack, Log: log}}
}

// drop puts a file in the instance's inbox for a source.
func (in *instance) drop(t *testing.T, source, file, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(in.cfg.Inbox, source, file), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (in *instance) run(t *testing.T, asOf time.Time) *jobs.Report {
	t.Helper()
	rep, err := in.chain.Run(context.Background(), "test", asOf)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (in *instance) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := in.chain.DB.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// settlementsHeader is the medical-insurance file's header the tests write.
const settlementsHeader = "结算流水号,身份证号,姓名,性别,出生日期,医疗类别,结算日期,医疗总费用,统筹支付,个人自付,诊断编码\n"

// bill is one line of a settlements file: a stay in hospital for lung
// cancer, settled that day, a third of it out of pocket.
func bill(no, id, name string, settled time.Time, total int) string {
	return fmt.Sprintf("%s,%s,%s,男,1960-03-01,住院,%s,%d.00,%d.00,%d.00,C34.1\n", no, id, name, settled.Format("2006-01-02"), total, total*2/3, total-total*2/3)
}

// peerToken creates a peer account for another instance answering for
// region, and the token it pulls with.
func (in *instance) peerToken(t *testing.T, name, region string) string {
	t.Helper()
	ctx := context.Background()
	if err := CreateUser(ctx, in.chain.DB, NewUser{Name: name, Password: "peer-password-" + name, Role: Peer, Region: region}); err != nil {
		t.Fatal(err)
	}
	token, err := NewToken(ctx, in.chain.DB, name)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// serve serves the instance's web on loopback, with a pseudonym key.
func (in *instance) serve(t *testing.T, key string) *httptest.Server {
	t.Helper()
	srv := &Server{DB: in.chain.DB, Pack: in.chain.Pack, Log: in.chain.Log, Registry: NewRegistry(), Instance: in.cfg.Instance, PseudonymKey: key,
		HubOf: in.cfg.HubOf(), Analytics: AnalyticsConfig{Dir: in.cfg.Analytics.Dir}, PhotoDir: t.TempDir()}
	h, err := srv.Handler()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	web := httptest.NewServer(h)
	t.Cleanup(web.Close)
	return web
}

// registryOf writes a registry of one household with one member.
func registryOf(household, region, name, id string) (households, members string) {
	return fmt.Sprintf("户编号,保障类别,行政区划代码,家庭年收入,家庭人口,月保障金额,状态\n%s,低保,%s,6000,1,600,在保\n", household, region),
		fmt.Sprintf("户编号,姓名,公民身份号码,性别,出生日期,与户主关系,联系电话\n%s,%s,%s,男,1960-03-01,户主,13800000000\n", household, name, id)
}

// TestRecordCrossesToTheResponsibleInstance: two instances on loopback,
// county A (330101) and county B (330102). A's hospital settles a bill of
// a man registered in B; B pulls what A forwards to its region, links the
// record to his household and raises its alert there, exactly once over
// repeated pulls; A forwards neither its own registry's records nor those
// of another county, and both sides keep the trail (A's audit log, B's
// batch lineage and the alert's evidence).
func TestRecordCrossesToTheResponsibleInstance(t *testing.T) {
	ctx := context.Background()
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	born := time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC)
	ownID := string(match.NewID("330101", born, 11))
	theirID := string(match.NewID("330102", born, 13))
	elsewhereID := string(match.NewID("330103", born, 15))

	a := newInstance(t, "county-a", nil)
	hh, mm := registryOf("H330101001", "330101001001", "张建国", ownID)
	a.drop(t, "registry", "households.csv", hh)
	a.drop(t, "registry", "members.csv", mm)
	settled := asOf.AddDate(0, 0, -10)
	a.drop(t, "medins", "settlements.csv", settlementsHeader+bill("JS-1", ownID, "张建国", settled, 30000)+
		bill("JS-2", theirID, "李卫东", settled, 80000)+bill("JS-3", elsewhereID, "王立新", settled, 9000))
	a.run(t, asOf)
	token := a.peerToken(t, "county-b", "330102")
	web := a.serve(t, "")

	// Only a peer's token opens the endpoint.
	for _, bad := range []string{"", "sn_not-a-token"} {
		req, _ := http.NewRequest("GET", web.URL+"/api/forward/medins", nil)
		req.Header.Set("Authorization", "Bearer "+bad)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", bad, resp.StatusCode)
		}
	}

	t.Setenv("SN_TEST_PEER_TOKEN", token)
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "") // no directory: the records go by the ID's region
	b := newInstance(t, "county-b", map[string]config.Peer{"county-a": {URL: web.URL + "/api/forward", TokenEnv: "SN_TEST_PEER_TOKEN", Sources: []string{"medins"}}})
	hh, mm = registryOf("H330102001", "330102001001", "李卫东", theirID)
	b.drop(t, "registry", "households.csv", hh)
	b.drop(t, "registry", "members.csv", mm)
	for i := range 3 { // the same record pulled again adds nothing
		if rep := b.run(t, asOf.Add(time.Duration(i)*time.Hour)); len(rep.SourceErrors) > 0 {
			t.Fatalf("run %d: %v", i+1, rep.SourceErrors)
		}
	}

	if n := b.count(t, `SELECT count(*) FROM medins`); n != 1 {
		t.Errorf("B holds %d medical-insurance records, want the one forwarded", n)
	}
	var recordID, person, household string
	if err := b.chain.DB.QueryRow(`SELECT record_id, coalesce(person_id, ''), coalesce(household_id, '') FROM linked_medins`).Scan(&recordID, &person, &household); err != nil {
		t.Fatal(err)
	}
	if recordID != "county-a:JS-2" || person != theirID || household != "H330102001" {
		t.Errorf("B's record %q about %q in household %q; want county-a:JS-2 about %s in H330102001", recordID, person, household, theirID)
	}
	list, err := alerts.List(ctx, b.chain.DB, alerts.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	raised := 0
	for _, al := range list {
		if al.RuleID == "serious_illness" && al.HouseholdID == "H330102001" {
			raised++
			if !strings.Contains(fmt.Sprint(al.Evidence), "county-a:JS-2") {
				t.Errorf("the alert's evidence %v does not name the forwarded record", al.Evidence)
			}
		}
	}
	if raised != 1 {
		t.Errorf("%d serious-illness alerts for the household in B, want exactly 1 (alerts: %+v)", raised, list)
	}
	if n := b.count(t, `SELECT count(*) FROM ingest_batches WHERE source = 'medins' AND file_name LIKE ? AND rows_new = 1`, web.URL+"/api/forward/medins%"); n != 1 {
		t.Errorf("%d of B's batches stored the forwarded record new from A's endpoint, want 1", n)
	}

	entries, err := ReadAudit(ctx, a.chain.DB, AuditFilter{Action: "forward"})
	if err != nil {
		t.Fatal(err)
	}
	served := 0
	for _, e := range entries {
		if e.User != "county-b" || e.Subject != "medins" || !strings.Contains(e.Detail, "region=330102") {
			t.Errorf("A's audit entry %+v", e)
		}
		if strings.Contains(e.Detail, "records=1 ") {
			served++
		}
	}
	if len(entries) != 3 || served != 3 {
		t.Errorf("A's audit log has %d forward entries, %d with the one record; want one a pull, each with it: %+v", len(entries), served, entries)
	}

	// A later bill in A reaches B on the next pull; the alert is the same one.
	a.drop(t, "medins", "later.csv", settlementsHeader+bill("JS-4", theirID, "李卫东", asOf.AddDate(0, 0, -2), 2000))
	a.run(t, asOf.Add(3*time.Hour))
	b.run(t, asOf.Add(3*time.Hour))
	if n := b.count(t, `SELECT count(*) FROM linked_medins WHERE household_id = 'H330102001'`); n != 2 {
		t.Errorf("after A's later bill B holds %d of the family's records, want 2", n)
	}
	if n := b.count(t, `SELECT count(*) FROM alerts WHERE rule_id = 'serious_illness' AND household_id = 'H330102001'`); n != 1 {
		t.Errorf("%d serious-illness alerts for the household after the later bill, want still 1", n)
	}

	// A token A no longer honours: B's run goes on, partial, and says which
	// peer's pull failed (safetynet_ingest_pull_failing{source="medins@county-a"}).
	t.Setenv("SN_TEST_PEER_TOKEN", "sn_revoked")
	rep := b.run(t, asOf.Add(4*time.Hour))
	if len(rep.SourceErrors) != 1 || !strings.Contains(rep.SourceErrors[0], "medins@county-a") || !strings.Contains(rep.SourceErrors[0], "401") {
		t.Errorf("a refused pull: source errors %q, want one naming medins@county-a and the 401", rep.SourceErrors)
	}
	if n := b.count(t, `SELECT count(*) FROM ingest_pulls WHERE source = 'medins@county-a' AND last_error IS NOT NULL`); n != 1 {
		t.Errorf("the refused pull is not noted against medins@county-a")
	}
}
