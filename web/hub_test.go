package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/match"
)

// TestHubForwardsBetweenCounties: counties A (330101) and B (330102) each
// name one peer, the province's hub, which holds no registry. A's hospital
// settles the bills of a man registered in B (by B's region), of a man
// who moved to B from another province with the ID issued there (by B's
// directory, which the hub relays to A: no region would bring it), of a
// man of A's own region in no registry, and of a man of county C, which
// has no instance. The province's own insurance file,
// dropped at the hub, bills the first man again. B raises one alert for
// each of its households, exactly once over repeated runs; A gets nothing
// back of what it sent; the hub raises no alert and keeps C's bill; all
// three keep the trail. A county's account the hub does not pull from is
// refused.
func TestHubForwardsBetweenCounties(t *testing.T) {
	const key = "province-pseudonym-key"
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", key)
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	born := time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC)
	ownID := string(match.NewID("330101", born, 11))
	theirID := string(match.NewID("330102", born, 13))
	moverID := string(match.NewID("110101", born, 17)) // issued in another province
	strayID := string(match.NewID("330101", born, 19)) // A's region, in no registry
	strangerID := string(match.NewID("330103", born, 15))
	settled := asOf.AddDate(0, 0, -10)

	a := newInstance(t, "county-a", nil)
	hh, mm := registryOf("H330101001", "330101001001", "张建国", ownID)
	a.drop(t, "registry", "households.csv", hh)
	a.drop(t, "registry", "members.csv", mm)
	a.drop(t, "medins", "settlements.csv", settlementsHeader+bill("JS-1", ownID, "张建国", settled, 30000)+
		bill("JS-2", theirID, "李卫东", settled, 80000)+bill("JS-5", moverID, "赵迁户", settled, 70000)+
		bill("JS-6", strayID, "周无籍", settled, 60000)+bill("JS-3", strangerID, "王立新", settled, 9000))

	b := newInstance(t, "county-b", nil)
	registerB(t, b, theirID, moverID)

	h := newHub(t)
	h.drop(t, "medins", "province.csv", settlementsHeader+bill("SJ-9", theirID, "李卫东", settled.AddDate(0, 0, 2), 50000))

	// The accounts: each county's for the hub answers for the province;
	// the hub's for each county, for the county, named as it names itself.
	t.Setenv("SN_A_TOKEN_FOR_HUB", a.peerToken(t, "hub", "33"))
	t.Setenv("SN_B_TOKEN_FOR_HUB", b.peerToken(t, "hub", "33"))
	t.Setenv("SN_HUB_TOKEN_FOR_A", h.peerToken(t, "county-a", "330101"))
	t.Setenv("SN_HUB_TOKEN_FOR_B", h.peerToken(t, "county-b", "330102"))
	stranger := h.peerToken(t, "county-z", "330199")
	aWeb, bWeb := a.serve(t, key), b.serve(t, key)
	h.cfg.Peers = map[string]config.Peer{
		"county-a": {URL: aWeb.URL + "/api/forward", TokenEnv: "SN_A_TOKEN_FOR_HUB", Sources: []string{"medins"}},
		"county-b": {URL: bWeb.URL + "/api/forward", TokenEnv: "SN_B_TOKEN_FOR_HUB", Sources: []string{"medins"}},
	}
	hWeb := h.serve(t, key)
	a.cfg.Peers = map[string]config.Peer{"hub": {URL: hWeb.URL + "/api/forward", TokenEnv: "SN_HUB_TOKEN_FOR_A", Sources: []string{"medins"}}}
	b.cfg.Peers = map[string]config.Peer{"hub": {URL: hWeb.URL + "/api/forward", TokenEnv: "SN_HUB_TOKEN_FOR_B", Sources: []string{"medins"}}}

	runRounds(t, asOf, b, a, h)

	heldB := heldMedins(t, b, `record_id || '→' || coalesce(household_id, '-')`)
	if want := "hub:SJ-9→H330102001 hub:county-a:JS-2→H330102001 hub:county-a:JS-5→H330102002"; heldB != want {
		t.Errorf("B holds %q, want %q", heldB, want)
	}
	for _, hh := range []string{"H330102001", "H330102002"} {
		if n := b.count(t, `SELECT count(*) FROM alerts WHERE rule_id = 'serious_illness' AND household_id = ?`, hh); n != 1 {
			t.Errorf("%d serious-illness alerts for %s in B, want exactly 1", n, hh)
		}
	}
	list, err := alerts.List(context.Background(), b.chain.DB, alerts.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, al := range list {
		if al.RuleID == "serious_illness" && al.HouseholdID == "H330102002" && strings.Contains(fmt.Sprint(al.Evidence), "hub:county-a:JS-5") {
			named++
		}
	}
	if named != 1 {
		t.Errorf("%d of B's alerts name the mover's bill as it came through the hub, want 1", named)
	}
	if n := b.count(t, `SELECT count(*) FROM ingest_batches WHERE file_name LIKE ? AND rows_new > 0`, hWeb.URL+"/api/forward/medins%"); n == 0 {
		t.Errorf("none of B's batches is named by the hub's endpoint")
	}

	if n := a.count(t, `SELECT count(*) FROM medins`); n != 5 {
		t.Errorf("A holds %d settlements, want its own 5: nothing it sent comes back", n)
	}
	if n := h.count(t, `SELECT count(*) FROM alerts`); n != 0 {
		t.Errorf("the hub raised %d alerts, want none", n)
	}
	heldHub := heldMedins(t, h, "record_id")
	if want := "SJ-9 county-a:JS-2 county-a:JS-3 county-a:JS-5 county-a:JS-6"; heldHub != want {
		t.Errorf("the hub holds %q, want %q (its own file and A's four bills outside A's registry, once each)", heldHub, want)
	}

	// The trail: the directories each side received, and who pulled what.
	if got := strings.Join(directoriesReceived(t, h), ","); got != "people=1 resent=0,people=2 resent=0" {
		t.Errorf("the hub received directories %q, want A's of 1 person and B's of 2", got)
	}
	if got := strings.Join(directoriesReceived(t, a), ","); got != "people=3 resent=2" {
		t.Errorf("A received directories %q, want the hub's once, naming the counties' 3 people, of whom B's 2 have records in A that go again", got)
	}
	if got := strings.Join(directoriesReceived(t, b), ","); got != "people=3 resent=0" {
		t.Errorf("B received directories %q, want the hub's once, naming the counties' 3 people", got)
	}
	// A pull serves the hour before its watermark again (forward.Overlap),
	// so the most one page served is what went.
	forwarded := func(in *instance, user string) int {
		return in.count(t, `SELECT coalesce(max(CAST(regexp_extract(detail, 'records=([0-9]+)', 1) AS INTEGER)), -1) FROM audit_log WHERE action = 'forward' AND username = ?`, user)
	}
	if n := forwarded(a, "hub"); n != 4 {
		t.Errorf("A's audit log says it served the hub %d records at most, want 4", n)
	}
	if n := forwarded(h, "county-b"); n != 3 {
		t.Errorf("the hub's audit log says it served B %d records at most, want 3", n)
	}
	if n := forwarded(h, "county-a"); n != 0 {
		t.Errorf("the hub's audit log says it served A %d records at most, want none (and that A pulled)", n)
	}

	if code, msg := getWithToken(t, hWeb.URL+"/api/forward/medins", stranger); code != http.StatusForbidden || !strings.Contains(msg, "county-z") {
		t.Errorf("an account the hub does not pull from: %d %s; want 403 naming it", code, msg)
	}
}

// TestHubDoesNotRelayWhatComesDirectly: county B pulls from the hub and
// from county A directly. A's bills of B's people reach B once, from A
// under A's name; the hub, told whom B pulls directly, leaves them out,
// and still relays the province's own file. A name in the direct
// parameter that is not an instance's is refused.
func TestHubDoesNotRelayWhatComesDirectly(t *testing.T) {
	const key = "province-pseudonym-key"
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", key)
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	born := time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC)
	theirID := string(match.NewID("330102", born, 13))
	moverID := string(match.NewID("110101", born, 17))
	settled := asOf.AddDate(0, 0, -10)

	a := newInstance(t, "county-a", nil)
	a.drop(t, "medins", "settlements.csv", settlementsHeader+bill("JS-2", theirID, "李卫东", settled, 80000)+bill("JS-5", moverID, "赵迁户", settled, 70000))
	b := newInstance(t, "county-b", nil)
	registerB(t, b, theirID, moverID)
	h := newHub(t)
	h.drop(t, "medins", "province.csv", settlementsHeader+bill("SJ-9", theirID, "李卫东", settled.AddDate(0, 0, 2), 50000))

	t.Setenv("SN_A_TOKEN_FOR_HUB", a.peerToken(t, "hub", "33"))
	t.Setenv("SN_A_TOKEN_FOR_B", a.peerToken(t, "county-b", "330102"))
	t.Setenv("SN_B_TOKEN_FOR_HUB", b.peerToken(t, "hub", "33"))
	t.Setenv("SN_HUB_TOKEN_FOR_A", h.peerToken(t, "county-a", "330101"))
	hubForB := h.peerToken(t, "county-b", "330102")
	t.Setenv("SN_HUB_TOKEN_FOR_B", hubForB)
	aWeb, bWeb := a.serve(t, key), b.serve(t, key)
	h.cfg.Peers = map[string]config.Peer{
		"county-a": {URL: aWeb.URL + "/api/forward", TokenEnv: "SN_A_TOKEN_FOR_HUB", Sources: []string{"medins"}},
		"county-b": {URL: bWeb.URL + "/api/forward", TokenEnv: "SN_B_TOKEN_FOR_HUB", Sources: []string{"medins"}},
	}
	hWeb := h.serve(t, key)
	a.cfg.Peers = map[string]config.Peer{"hub": {URL: hWeb.URL + "/api/forward", TokenEnv: "SN_HUB_TOKEN_FOR_A", Sources: []string{"medins"}}}
	b.cfg.Peers = map[string]config.Peer{
		"hub":      {URL: hWeb.URL + "/api/forward", TokenEnv: "SN_HUB_TOKEN_FOR_B", Sources: []string{"medins"}},
		"county-a": {URL: aWeb.URL + "/api/forward", TokenEnv: "SN_A_TOKEN_FOR_B", Sources: []string{"medins"}},
	}
	runRounds(t, asOf, b, a, h)

	heldB := heldMedins(t, b, `record_id || '→' || coalesce(household_id, '-')`)
	if want := "county-a:JS-2→H330102001 county-a:JS-5→H330102002 hub:SJ-9→H330102001"; heldB != want {
		t.Errorf("B holds %q, want %q: A's bills from A only, the province's from the hub", heldB, want)
	}
	heldHub := heldMedins(t, h, "record_id")
	if want := "SJ-9 county-a:JS-2 county-a:JS-5"; heldHub != want {
		t.Errorf("the hub holds %q, want %q (it still receives A's bills, for counties that pull only from it)", heldHub, want)
	}

	if code, msg := getWithToken(t, hWeb.URL+"/api/forward/medins?direct=county-a,../etc", hubForB); code != http.StatusBadRequest || !strings.Contains(msg, "../etc") {
		t.Errorf("a direct parameter naming no instance: %d %s; want 400 naming it", code, msg)
	}
}

// newHub is an instance named hub: no registry, a province's hub.
func newHub(t *testing.T) *instance {
	t.Helper()
	h := newInstance(t, "hub", nil)
	off := false
	registry := h.cfg.Sources["registry"]
	registry.Enabled = &off
	h.cfg.Sources["registry"], h.cfg.Hub = registry, true
	return h
}

// registerB drops county B's registry: the households of the man with
// theirID and of the mover, in one village.
func registerB(t *testing.T, b *instance, theirID, moverID string) {
	t.Helper()
	hh, mm := registryOf("H330102001", "330102001001", "李卫东", theirID)
	hh2, mm2 := registryOf("H330102002", "330102001001", "赵迁户", moverID)
	b.drop(t, "registry", "households.csv", hh+hh2[strings.Index(hh2, "\n")+1:])
	b.drop(t, "registry", "members.csv", mm+mm2[strings.Index(mm2, "\n")+1:])
}

// runRounds runs the instances in turn, three rounds an hour apart (the
// first carries the directories, the second the records, the third adds
// nothing), then B once more.
func runRounds(t *testing.T, asOf time.Time, b *instance, others ...*instance) {
	t.Helper()
	for i := range 3 {
		at := asOf.Add(time.Duration(i) * time.Hour)
		for _, in := range append([]*instance{b}, others...) {
			if rep := in.run(t, at); len(rep.SourceErrors) > 0 {
				t.Fatalf("round %d, %s's run: %v", i+1, in.cfg.Instance, rep.SourceErrors)
			}
		}
	}
	b.run(t, asOf.Add(3*time.Hour))
}

// heldMedins lists the instance's settlements, each as expr says, by record ID.
func heldMedins(t *testing.T, in *instance, expr string) string {
	t.Helper()
	var held string
	if err := in.chain.DB.QueryRow(`SELECT string_agg(` + expr + `, ' ' ORDER BY record_id) FROM linked_medins`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	return held
}

// getWithToken is a GET with a bearer token: its status and body.
func getWithToken(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}
