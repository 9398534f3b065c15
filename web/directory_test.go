package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"safetynet/config"
	"safetynet/forward"
	"safetynet/match"
)

// TestMoverReachesTheCountyThatRegistersHim: a man whose ID county C
// (330103) issued lives and is registered in county B (330102). County A's
// hospital settles his bill. By the ID's region alone A would forward it
// to C, and B would never learn of it; with B's directory (the keyed
// hashes of B's registry IDs, sent before each pull) A forwards it to B,
// which raises its alert there, and no longer to C. A bill of someone in
// no registry still goes by the ID's region. A directory hashed with
// another key, or holding a line that is not a hash, is refused whole,
// and the one A holds stays.
func TestMoverReachesTheCountyThatRegistersHim(t *testing.T) {
	ctx := context.Background()
	const key = "province-pseudonym-key"
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", key)
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	born := time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC)
	ownID := string(match.NewID("330101", born, 11))
	moverID := string(match.NewID("330103", born, 17))
	strangerID := string(match.NewID("330103", born, 15))

	a := newInstance(t, "county-a", nil)
	hh, mm := registryOf("H330101001", "330101001001", "张建国", ownID)
	a.drop(t, "registry", "households.csv", hh)
	a.drop(t, "registry", "members.csv", mm)
	settled := asOf.AddDate(0, 0, -10)
	a.drop(t, "medins", "settlements.csv", settlementsHeader+bill("JS-5", moverID, "赵迁户", settled, 80000)+bill("JS-3", strangerID, "王立新", settled, 9000))
	a.run(t, asOf)
	tokens := map[string]string{"county-b": a.peerToken(t, "county-b", "330102"), "county-c": a.peerToken(t, "county-c", "330103")}
	web := a.serve(t, key)

	forC := func() []string { // the record numbers A would forward to C
		page, err := forward.Read(ctx, a.chain.DB, forward.Request{Source: "medins", Peer: "county-c", Region: "330103", Key: key, Instance: "county-a", Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range page.Records {
			ids = append(ids, r["record_id"])
		}
		return ids
	}
	if got := strings.Join(forC(), " "); got != "county-a:JS-3 county-a:JS-5" {
		t.Fatalf("before B's directory A forwards %q to C, want both bills (by the IDs' region)", got)
	}

	t.Setenv("SN_TEST_PEER_TOKEN", tokens["county-b"])
	b := newInstance(t, "county-b", map[string]config.Peer{"county-a": {URL: web.URL + "/api/forward", TokenEnv: "SN_TEST_PEER_TOKEN", Sources: []string{"medins"}}})
	hh, mm = registryOf("H330102001", "330102001001", "赵迁户", moverID)
	b.drop(t, "registry", "households.csv", hh)
	b.drop(t, "registry", "members.csv", mm)
	if rep := b.run(t, asOf); len(rep.SourceErrors) > 0 {
		t.Fatalf("B's run: %v", rep.SourceErrors)
	}

	var recordID, household string
	if err := b.chain.DB.QueryRow(`SELECT coalesce(string_agg(record_id, ' '), ''), coalesce(string_agg(coalesce(household_id, '-'), ' '), '') FROM linked_medins`).Scan(&recordID, &household); err != nil {
		t.Fatal(err)
	}
	if recordID != "county-a:JS-5" || household != "H330102001" {
		t.Errorf("B holds records %q of households %q; want the mover's bill county-a:JS-5 in H330102001", recordID, household)
	}
	if n := b.count(t, `SELECT count(*) FROM alerts WHERE rule_id = 'serious_illness' AND household_id = 'H330102001'`); n != 1 {
		t.Errorf("%d serious-illness alerts for the mover's household in B, want 1", n)
	}
	if got := strings.Join(forC(), " "); got != "county-a:JS-3" {
		t.Errorf("after B's directory A forwards %q to C, want only the bill of the man in no registry", got)
	}
	held, err := forward.Directories(ctx, a.chain.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || held[0].Peer != "county-b" || held[0].People != 1 {
		t.Fatalf("A holds the directories %+v, want county-b's of 1 person", held)
	}
	entries, err := ReadAudit(ctx, a.chain.DB, AuditFilter{Action: "forward_directory"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].User != "county-b" || entries[0].Detail != "people=1 resent=1" {
		t.Errorf("A's audit log of directories: %+v, want county-b's of one person", entries)
	}

	// Sent again only when it changed: another run with the same registry
	// sends nothing; a member more in B's registry sends it.
	received := func() []string { return directoriesReceived(t, a) }
	b.run(t, asOf.Add(10*time.Minute))
	if got := received(); len(got) != 1 {
		t.Errorf("after B's second run with the same registry A received directories %q, want still the one", got)
	}
	daughter := string(match.NewID("330102", time.Date(1990, 7, 7, 0, 0, 0, 0, time.UTC), 22))
	b.drop(t, "registry", "members-2.csv", "户编号,姓名,公民身份号码,性别,出生日期,与户主关系,联系电话\nH330102001,赵小迁,"+daughter+",女,1990-07-07,女儿,13800000001\n")
	b.run(t, asOf.Add(20*time.Minute))
	if got := strings.Join(received(), ","); got != "people=1 resent=1,people=2 resent=0 added=1 removed=0" {
		t.Errorf("after a member more in B's registry A received directories %q, want people=1 and then the change adding her (her records: none)", got)
	}
	if held, err = forward.Directories(ctx, a.chain.DB); err != nil || len(held) != 1 || held[0].People != 2 {
		t.Fatalf("A holds %+v (%v), want county-b's of 2 people", held, err)
	}

	// Refused whole, and the directory A holds stays.
	put := func(body, check string) (int, string) {
		req, _ := http.NewRequest("PUT", web.URL+"/api/forward"+forward.DirectoryPath, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokens["county-b"])
		req.Header.Set(forward.KeyCheckHeader, check)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(msg)
	}
	if code, msg := put("0123456789abcdef\nnot-a-hash\n", forward.KeyCheck(key)); code != http.StatusBadRequest || !strings.Contains(msg, "line 2") {
		t.Errorf("a directory with a bad line: %d %s; want 400 naming line 2", code, msg)
	}
	if code, _ := put("0123456789abcdef\n", forward.KeyCheck("another-key")); code != http.StatusConflict {
		t.Errorf("a directory hashed with another key: %d, want 409", code)
	}
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", "another-key")
	rep := b.run(t, asOf.Add(time.Hour))
	if len(rep.SourceErrors) != 1 || !strings.Contains(rep.SourceErrors[0], "directory@county-a") || !strings.Contains(rep.SourceErrors[0], "409") {
		t.Errorf("B's run with another key: source errors %q, want the directory refused with 409", rep.SourceErrors)
	}
	if after, _ := forward.Directories(ctx, a.chain.DB); len(after) != 1 || after[0] != held[0] {
		t.Errorf("after the refusals A holds %+v, want county-b's directory as it was, %+v", after, held[0])
	}
	if got := strings.Join(forC(), " "); got != "county-a:JS-3" {
		t.Errorf("after the refusals A forwards %q to C, want still only JS-3", got)
	}
}

// TestBillLinkedBeforeTheDirectoryNamedHim: county A linked the bill of a
// man whose ID county C issued a day ago; county B has pulled from A since,
// past that bill, when he registers in B. B's next directory names him
// anew, so A serves his bill to B again, whatever B's watermark: B links
// it to his household and raises its alert, once. A bill B already held
// (it went by the ID's region) comes again when its man registers in B,
// and B keeps it as it was. A's audit log says whose records went again.
func TestBillLinkedBeforeTheDirectoryNamedHim(t *testing.T) {
	const key = "province-pseudonym-key"
	t.Setenv("SAFETYNET_PSEUDONYM_KEY", key)
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	born := time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC)
	moverID := string(match.NewID("330103", born, 17))
	localID := string(match.NewID("330102", born, 19)) // issued in B, in no registry yet
	settled := asOf.AddDate(0, 0, -10)

	a := newInstance(t, "county-a", nil)
	hh, mm := registryOf("H330101001", "330101001001", "张建国", string(match.NewID("330101", born, 11)))
	a.drop(t, "registry", "households.csv", hh)
	a.drop(t, "registry", "members.csv", mm)
	a.drop(t, "medins", "settlements.csv", settlementsHeader+bill("JS-5", moverID, "赵迁户", settled, 80000))
	a.run(t, asOf)
	// Linked a day ago: far behind what B's pull below reaches.
	if _, err := a.chain.DB.Exec(`UPDATE match_links SET linked_at = linked_at - INTERVAL 1 DAY WHERE source = 'medins'`); err != nil {
		t.Fatal(err)
	}
	a.drop(t, "medins", "settlements-2.csv", settlementsHeader+bill("JS-7", localID, "钱本地", settled, 90000))
	a.run(t, asOf.Add(time.Hour))
	t.Setenv("SN_TEST_PEER_TOKEN", a.peerToken(t, "county-b", "330102"))
	web := a.serve(t, key)

	b := newInstance(t, "county-b", map[string]config.Peer{"county-a": {URL: web.URL + "/api/forward", TokenEnv: "SN_TEST_PEER_TOKEN", Sources: []string{"medins"}}})
	hh, mm = registryOf("H330102001", "330102001001", "孙本户", string(match.NewID("330102", born, 21)))
	b.drop(t, "registry", "households.csv", hh)
	b.drop(t, "registry", "members.csv", mm)
	b.run(t, asOf.Add(2*time.Hour))
	held := func() string {
		var ids string
		if err := b.chain.DB.QueryRow(`SELECT coalesce(string_agg(record_id || '→' || coalesce(household_id, '-'), ' ' ORDER BY record_id), '') FROM linked_medins`).Scan(&ids); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := held(); got != "county-a:JS-7→-" {
		t.Fatalf("before they register in B, B holds %q; want only JS-7 (by its ID's region), linked to no household", got)
	}

	for i, p := range []struct{ household, name, id string }{{"H330102002", "赵迁户", moverID}, {"H330102003", "钱本地", localID}} {
		hh, mm := registryOf(p.household, "330102001001", p.name, p.id)
		b.drop(t, "registry", fmt.Sprintf("households-%d.csv", i+2), hh)
		b.drop(t, "registry", fmt.Sprintf("members-%d.csv", i+2), mm)
	}
	for i := range 2 { // the second run pulls nothing more
		if rep := b.run(t, asOf.Add(time.Duration(3+i)*time.Hour)); len(rep.SourceErrors) > 0 {
			t.Fatalf("B's run: %v", rep.SourceErrors)
		}
	}
	if got := held(); got != "county-a:JS-5→H330102002 county-a:JS-7→H330102003" {
		t.Errorf("after they register in B, B holds %q; want JS-5 in the mover's household and JS-7 in the local man's", got)
	}
	for _, h := range []string{"H330102002", "H330102003"} {
		if n := b.count(t, `SELECT count(*) FROM alerts WHERE rule_id = 'serious_illness' AND household_id = ?`, h); n != 1 {
			t.Errorf("%d serious-illness alerts for %s in B, want 1", n, h)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM canon_medins WHERE record_id = 'county-a:JS-7'`); n != 1 {
		t.Errorf("B keeps %d versions of JS-7, which came again unchanged; want 1", n)
	}
	if n := b.count(t, `SELECT coalesce(sum(rows_new), 0) FROM ingest_batches WHERE source = 'medins'`); n != 2 {
		t.Errorf("B's batches stored %d records new, want 2 (JS-7 once, JS-5 once)", n)
	}
	if got := directoriesReceived(t, a); strings.Join(got, ",") != "people=1 resent=0,people=3 resent=2 added=2 removed=0" {
		t.Errorf("A's audit log of B's directories: %q; want the first (nobody with records here) and the one naming both men anew", got)
	}
}

// directoriesReceived are the details of the directories an instance's
// audit log says it received, sorted.
func directoriesReceived(t *testing.T, in *instance) []string {
	t.Helper()
	entries, err := ReadAudit(context.Background(), in.chain.DB, AuditFilter{Action: "forward_directory"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Detail)
	}
	slices.Sort(out)
	return out
}
