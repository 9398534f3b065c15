package match

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"safetynet/ingest"
	"safetynet/store"
)

// village is a registry of 30 households (83 persons): the smallest place
// safetynet runs, where the model has next to nothing to train on.
func village(t *testing.T) (*store.DB, func(source, name, body string), []string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "v.duckdb"), ingest.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	put := func(source, name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.IngestFile(context.Background(), db, source, p, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	var hh, mm strings.Builder
	hh.WriteString("户编号,保障类别,行政区划代码,状态\n")
	mm.WriteString("户编号,姓名,身份证号,性别,出生日期\n")
	sur, giv := []rune("张李王陈刘杨黄赵周吴"), []rune("伟秀英敏静丽强磊军洋勇艳杰娟涛明")
	var ids []string
	n := 0
	for h := 0; h < 30; h++ {
		fmt.Fprintf(&hh, "V%02d,低保,330110005%03d,在保\n", h, h%4)
		for m := 0; m < 2+h%3+h%2; m++ {
			birth := time.Date(1950+n%50, time.Month(1+n%12), 1+(n*7)%28, 0, 0, 0, 0, time.UTC)
			sex := n % 2
			id := NewID("330110", birth, 100+2*n+1-sex)
			name := fmt.Sprintf("%c%c%c", sur[h%len(sur)], giv[n%len(giv)], giv[(n*5+3)%len(giv)])
			fmt.Fprintf(&mm, "V%02d,%s,%s,%s,%s\n", h, name, id, map[int]string{0: "女", 1: "男"}[1-sex], birth.Format("2006-01-02"))
			ids = append(ids, string(id)+"|"+name)
			n++
		}
	}
	put("registry", "households.csv", hh.String())
	put("registry", "members.csv", mm.String())
	return db, put, ids
}

// TestVillageLinksWithoutIDs: in a village where most hospital records
// carry no ID, a record links when exactly one person agrees on the name
// (as written, folded from traditional characters, or by sound) and the
// birth date; never a namesake born years apart; two candidates alike
// wait for review. The same holds outside the registry.
func TestVillageLinksWithoutIDs(t *testing.T) {
	ctx := context.Background()
	db, put, ids := village(t)
	person := func(i int) (id, name, birth string) {
		id, name, _ = strings.Cut(ids[i], "|")
		b := id[6:14]
		return id, name, b[:4] + "-" + b[4:6] + "-" + b[6:]
	}
	trad := func(s string) string {
		return strings.NewReplacer("陈", "陳", "张", "張", "刘", "劉", "杨", "楊", "黄", "黃", "赵", "趙", "吴", "吳", "伟", "偉", "丽", "麗", "强", "強", "军", "軍", "艳", "艷", "杰", "傑", "娟", "娟", "涛", "濤").Replace(s)
	}
	var body strings.Builder
	body.WriteString("结算编号,身份证号,姓名,性别,出生日期,结算日期,个人自付\n")
	want := map[string]string{}
	for i := 0; i < 12; i++ { // a dozen members, no ID: name, sex and birth date
		id, name, birth := person(i * 7)
		sex := map[bool]string{true: "男", false: "女"}[(id[16]-'0')%2 == 1]
		written := name
		switch i % 4 {
		case 1:
			written = trad(name)
		case 2:
			written = string([]rune(name)[:1]) + " " + string([]rune(name)[1:])
		}
		fmt.Fprintf(&body, "N%02d,,%s,%s,%s,2026-06-01,100\n", i, written, sex, birth)
		want[fmt.Sprintf("N%02d", i)] = "probabilistic:" + id
	}
	_, name, birth := person(3)
	later := fmt.Sprint(atoi(birth[:4])+9) + birth[4:]
	fmt.Fprintf(&body, "M01,,%s,,%s,2026-06-01,100\n", name, later) // a namesake born nine years later
	want["M01"] = "unlinked"
	fmt.Fprintf(&body, "M02,,%s,,,2026-06-01,100\n", name) // a name alone
	want["M02"] = "unlinked"
	// Someone outside the registry: known by ID to the disability
	// federation, at the hospital without one, written in traditional characters.
	outsider := NewID("330110", time.Date(1966, 4, 9, 0, 0, 0, 0, time.UTC), 23)
	put("disability", "d.csv", "残疾证号,身份证号,姓名,残疾等级,发证日期\nD1,"+string(outsider)+",陈淑华,一级,2026-05-01\n")
	fmt.Fprintf(&body, "O01,,陳淑華,女,1966-04-09,2026-06-01,25000\n")
	want["O01"] = "probabilistic_outside:" + string(outsider)
	put("medins", "m.csv", body.String())

	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	for key, w := range want {
		var method, id string
		if err := db.QueryRow(`SELECT method, coalesce(id_number, '') FROM match_links WHERE source = 'medins' AND record_key = ?`, key).Scan(&method, &id); err != nil {
			t.Fatal(err)
		}
		got := method
		if id != "" {
			got += ":" + id
		}
		if got != w {
			var weights string
			db.QueryRow(`SELECT coalesce(weights, '') || ' ' || coalesce(CAST(score AS VARCHAR), '') FROM match_links WHERE record_key = ?`, key).Scan(&weights)
			t.Errorf("%s: %s, want %s (%s)", key, got, w, weights)
		}
	}
	// Confident, not just over the line: a few dozen pairs fit the prior.
	var lowest float64
	db.QueryRow(`SELECT min(score) FROM match_links WHERE method IN ('probabilistic', 'probabilistic_outside')`).Scan(&lowest)
	if lowest < 0.999 {
		t.Errorf("the least sure link in the village has p = %.4f; a clear name-and-birth-date match should be sure", lowest)
	}
}

// TestIDNotEnoughWhenAllElseDisagrees: an exact registry ID under another
// person's name, or with the other sex, waits in review with the reason
// and links nothing; the same ID under the member's name written in
// traditional characters, or with a middle dot or space, links. An ID
// Excel stored as a number links only through the model, on what it left.
func TestIDNotEnoughWhenAllElseDisagrees(t *testing.T) {
	ctx := context.Background()
	db, put, ids := village(t)
	id0, name0, _ := strings.Cut(ids[0], "|")
	id1, name1, _ := strings.Cut(ids[1], "|")
	id2, name2, _ := strings.Cut(ids[2], "|")
	sex0 := map[bool]string{true: "男", false: "女"}[(id0[16]-'0')%2 == 1]
	other := map[string]string{"男": "女", "女": "男"}[sex0]
	excel := id2[:1] + "." + id2[1:15] + "E+17"
	put("medins", "m.csv", "结算编号,身份证号,姓名,性别,出生日期,结算日期,个人自付\n"+
		"C1,"+id0+",李建国,"+other+",,2026-06-01,9000\n"+ // the ID typed into a stranger's row
		"C2,"+id0+","+name0+","+other+",,2026-06-01,9000\n"+ // the right name, the wrong sex
		"C3,"+id0+","+name0+","+sex0+",,2026-06-01,9000\n"+ // all agree
		"C4,"+id1+","+strings.NewReplacer("张", "張", "陈", "陳", "刘", "劉").Replace(name1)+",,,2026-06-01,9000\n"+
		"C5,"+id1+",,,,2026-06-01,9000\n"+ // no name to contradict
		"E1,"+excel+","+name2+",,,2026-06-01,9000\n"+ // Excel's number form: name and what is left of the ID
		"E2,"+excel+",赵某某,,,2026-06-01,9000\n") // the same digits, another name: nothing links
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"C1": "review", "C2": "review", "C3": "id_exact:" + id0, "C4": "id_exact:" + id1, "C5": "id_exact:" + id1,
		"E1": "probabilistic:" + id2, "E2": "unlinked"}
	for key, w := range want {
		var method, id, problem string
		db.QueryRow(`SELECT method, coalesce(id_number, ''), coalesce(problem, '') FROM match_links WHERE record_key = ?`, key).Scan(&method, &id, &problem)
		got := method
		if id != "" {
			got += ":" + id
		}
		if got != w {
			t.Errorf("%s: %s, want %s (%s)", key, got, w, problem)
		}
	}
	items, err := ReviewQueue(ctx, db, ReviewFilter{Key: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Reason != "the ID is "+name0+"'s; the record says 李建国, "+map[string]string{"男": "male", "女": "female"}[other] ||
		items[0].Candidate.IDNumber != Mask(id0) {
		t.Errorf("review of C1: %+v", items)
	}
	var problem string
	db.QueryRow(`SELECT problem FROM match_ids WHERE id_raw = ?`, excel).Scan(&problem)
	if !strings.Contains(problem, "Excel stored this ID as a number") {
		t.Errorf("Excel's number form: problem %q", problem)
	}
	// A person decides: C1 is not her; the decision holds on the next run.
	if err := Decide(ctx, db, "medins", "C1", false, "op1", "another person's ID"); err != nil {
		t.Fatal(err)
	}
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	var method string
	db.QueryRow(`SELECT method FROM match_links WHERE record_key = 'C1'`).Scan(&method)
	if method != "unlinked" {
		t.Errorf("after the rejection and a new run, C1 is %s", method)
	}
}

func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{"陳淑華": "陈淑华", "艾力•买买提": "艾力·买买提", "艾力・买买提": "艾力·买买提", "艾力．买买提": "艾力·买买提",
		"王 芳": "王芳", "王\u3000芳": "王芳", "歐陽娜娜": "欧阳娜娜", "ＡＢＣ": "abc", "陈淑华": "陈淑华"} {
		if got := FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
	if namePinyin(FoldName("张伟")) != namePinyin(FoldName("章玮")) {
		t.Error("张伟 and 章玮 sound the same")
	}
}

// TestModelKeptBetweenRuns: a stage's trained model is kept, and a later
// run too small to train starts from it instead of the starting values.
func TestModelKeptBetweenRuns(t *testing.T) {
	ctx := context.Background()
	db, put, ids := village(t)
	id, name, _ := strings.Cut(ids[4], "|")
	birth := id[6:10] + "-" + id[10:12] + "-" + id[12:14]
	put("medins", "m.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nK1,,"+name+","+birth+",2026-06-01,100\n")
	weightsOf := func() string {
		var w string
		db.QueryRow(`SELECT coalesce(weights, '') FROM match_links WHERE record_key = 'K1'`).Scan(&w)
		return w
	}
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	before := weightsOf()
	// A model kept from a larger run: a name that agrees is rarer among true matches than the starting value says.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(Comparisons(false), []Person{{Name: "张三"}, {Name: "李四"}}, 0, rand.New(rand.NewPCG(1, 2)))
	m.M[comparisonIndex(m, "name")] = []float64{0.2, 0.2, 0.2, 0.2, 0.2}
	m.Lambda = 0.3
	if err := saveModel(ctx, conn, "registry", m, 5000, time.Now()); err != nil {
		t.Fatal(err)
	}
	k, err := loadModel(ctx, conn, "registry")
	conn.Close()
	if err != nil || k == nil || k.Lambda != 0.3 || len(k.M["name"]) != 5 {
		t.Fatalf("kept model %+v, %v", k, err)
	}
	put("medins", "m2.csv", "结算编号,身份证号,姓名,出生日期,结算日期,个人自付\nK1,,"+name+","+birth+",2026-06-01,101\n") // changed: compared again
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	if after := weightsOf(); after == before || !strings.Contains(before, "name") {
		t.Errorf("the kept model was not used: weights %s, then %s", before, after)
	}
}

// TestRegistryIDExcelBroke: the registry holds a member's ID in Excel's
// number form; a department record with her whole ID and her name is
// hers (id_completed), not someone outside the registry; the same digits
// under another name stay outside.
func TestRegistryIDExcelBroke(t *testing.T) {
	ctx := context.Background()
	db, put, _ := village(t)
	whole := string(NewID("330110", time.Date(1971, 8, 9, 0, 0, 0, 0, time.UTC), 46))
	put("registry", "h99.csv", "户编号,保障类别,行政区划代码,状态\nV99,低保,330110005001,在保\n")
	put("registry", "m99.csv", "户编号,姓名,身份证号\nV99,钟秀兰,"+excelNumber(whole)+"\n")
	put("medins", "m.csv", "结算编号,身份证号,姓名,结算日期,个人自付\nX1,"+whole+",鍾秀蘭,2026-06-01,100\nX2,"+whole+",王大力,2026-06-01,100\n")
	if _, err := Link(ctx, db); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"X1": "id_completed V99", "X2": "id_outside_registry "} {
		var method, hh string
		db.QueryRow(`SELECT method, coalesce(household_id, '') FROM match_links WHERE record_key = ?`, key).Scan(&method, &hh)
		if got := method + " " + hh; got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
}

func excelNumber(id string) string { return id[:1] + "." + id[1:15] + "E+17" }
