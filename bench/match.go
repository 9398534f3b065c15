package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/longbridgeapp/opencc"

	"safetynet/config"
	"safetynet/ingest"
	"safetynet/jobs"
	"safetynet/match"
	"safetynet/synth"
)

// MatchOptions size the province-scale linking benchmark.
type MatchOptions struct {
	Dir      string
	Persons  int     // registry persons
	Records  int     // department records
	Unusable float64 // share of records whose ID is missing or has a typo
	Out      io.Writer
}

// RunMatch loads a registry of Persons and Records department records
// (through ingest, not timed), then times the whole match stage next to
// DuckDB joining the same records to the registry on the raw ID text.
func RunMatch(ctx context.Context, opt MatchOptions) ([]Stage, error) {
	dir := filepath.Join(opt.Dir, "match")
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	t := time.Now()
	files, err := writeMatchFiles(dir, opt)
	if err != nil {
		return nil, err
	}
	db, err := jobs.OpenStore(ctx, filepath.Join(dir, "match.duckdb"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.SetMemoryLimit(ctx, config.Default().MemoryLimit); err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := ingest.IngestFile(ctx, db, f[0], f[1], ingest.Options{}); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(opt.Out, "\nmatch at scale: %d registry persons, %d department records (%.0f%% without a usable ID: missing, a digit wrong or in Excel's number form;"+
		" 2%% escaped as Excel text, 0.1%% with another registry person's ID, 3%% of names in traditional characters), generated and ingested in %s\n",
		opt.Persons, opt.Records, opt.Unusable*100, time.Since(t).Round(time.Second))
	var stages []Stage
	measure := func(name string, fn func() (int, error)) error {
		st, err := measureStage(name, fn)
		if err == nil {
			stages = append(stages, st)
		}
		return err
	}
	if err := measure("baseline: DuckDB join on the raw ID", func() (int, error) {
		var n int
		_, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE bench_join AS SELECT d.record_key, m.household_id FROM medins d JOIN members m ON m.id_number = d.id_number`)
		if err == nil {
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM medins`).Scan(&n)
		}
		return n, err
	}); err != nil {
		return nil, err
	}
	var st *match.Stats
	if err := measure("match: normalise, exact, repair, probabilistic", func() (int, error) {
		var err error
		st, err = match.Link(ctx, db)
		if err != nil {
			return 0, err
		}
		return opt.Records, nil
	}); err != nil {
		return nil, err
	}
	// How right the links are that did not come from an exact ID: the
	// generator wrote down whom each record is about.
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT l.method, count(*), count(*) FILTER (l.id_number = t.person),
		count(*) FILTER (t.person IS NOT NULL) FROM match_links l
		JOIN read_csv(%s, header = false, columns = {'record_key': 'VARCHAR', 'person': 'VARCHAR'}) t USING (record_key)
		WHERE l.source = 'medins' AND l.method IN ('id_exact', 'id_repaired', 'probabilistic') GROUP BY ALL ORDER BY 1`, "'"+filepath.Join(dir, "truth.csv")+"'"))
	if err != nil {
		return nil, err
	}
	var precision []string
	for rows.Next() {
		var method string
		var n, right, inRegistry int
		if err := rows.Scan(&method, &n, &right, &inRegistry); err != nil {
			rows.Close()
			return nil, err
		}
		precision = append(precision, fmt.Sprintf("%s: %d links, %d to the right person (precision %.4f)", method, n, right, float64(right)/float64(max(n, 1))))
	}
	rows.Close()
	var review, contradicted int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (weights IS NULL) FROM match_links WHERE source = 'medins' AND method = 'review'`).
		Scan(&review, &contradicted); err != nil {
		return nil, err
	}
	precision = append(precision, fmt.Sprintf("sent to review: %d records (%.2f%%), of which %d because the record contradicts its exact ID (name or sex of someone else)",
		review, 100*float64(review)/float64(opt.Records), contradicted))
	if err := measure("match again, nothing new (incremental)", func() (int, error) {
		again, err := match.Link(ctx, db)
		if err != nil {
			return 0, err
		}
		if again.Scored != 0 {
			return 0, fmt.Errorf("a run with nothing new compared %d records again", again.Scored)
		}
		return opt.Records, nil
	}); err != nil {
		return nil, err
	}
	tw := newTable(opt.Out)
	for _, s := range stages {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f×\t%d\t\n", s.Name, s.Rows, s.Elapsed.Seconds(), s.rate(), stages[0].rate()/s.rate(), s.PeakRSS>>20)
	}
	tw.Flush()
	fmt.Fprintf(opt.Out, "match steps (first run): %s\nlinks by method: %v\n%s\ntargets: the match stage under 60 s and 4 GiB\n",
		stepTimes(st.Steps), st.Linked, strings.Join(precision, "\n"))
	return stages, nil
}

// writeMatchFiles writes registry households and members and a
// medical-insurance file in which most people are registry persons.
func writeMatchFiles(dir string, opt MatchOptions) ([][2]string, error) {
	rng := rand.New(rand.NewPCG(3, 4))
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	givens := []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰玉萍红华建国志文辉鹏飞燕丹宇浩凯亮成春梅琳雪梅婷欣怡晨阳佳")
	type person struct {
		id, name, birth string
	}
	newPerson := func(seq int) person {
		birth := time.Date(1930+rng.IntN(90), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		name := string(surnames[rng.IntN(len(surnames))]) + string(givens[rng.IntN(len(givens))])
		if rng.IntN(2) == 0 {
			name += string(givens[rng.IntN(len(givens))])
		}
		region := fmt.Sprintf("33%04d", 100+seq%900)
		return person{id: string(match.NewID(region, birth, seq%1000)), name: name, birth: birth.Format("2006-01-02")}
	}
	create := func(name string) (*os.File, *bufio.Writer, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, err
		}
		return f, bufio.NewWriterSize(f, 1<<20), nil
	}
	hf, hw, err := create("households.csv")
	if err != nil {
		return nil, err
	}
	mf, mw, err := create("members.csv")
	if err != nil {
		return nil, err
	}
	hw.WriteString("户编号,保障类别,行政区划代码,状态\n")
	mw.WriteString("户编号,姓名,身份证号,出生日期\n")
	reg := make([]person, opt.Persons)
	for i := range reg {
		reg[i] = newPerson(i)
		if i%3 == 0 {
			fmt.Fprintf(hw, "H%08d,低保,33%04d%06d,在保\n", i/3, 100+i%900, i%1000)
		}
		fmt.Fprintf(mw, "H%08d,%s,%s,%s\n", i/3, reg[i].name, reg[i].id, reg[i].birth)
	}
	df, dw, err := create("settlements.csv")
	if err != nil {
		return nil, err
	}
	dw.WriteString("结算编号,身份证号,姓名,出生日期,结算日期,个人自付\n")
	tf, tw, err := create("truth.csv")
	if err != nil {
		return nil, err
	}
	trad, err := opencc.New("s2t")
	if err != nil {
		return nil, err
	}
	for i := 0; i < opt.Records; i++ {
		var p person
		truth := ""
		if rng.IntN(10) < 8 {
			p = reg[rng.IntN(len(reg))]
			truth = p.id
		} else {
			p = newPerson(opt.Persons + i)
		}
		fmt.Fprintf(tw, "JS%09d,%s\n", i, truth)
		id, name := p.id, p.name
		switch u := rng.Float64(); {
		case u < opt.Unusable*0.4: // no ID
			id = ""
		case u < opt.Unusable*0.75: // one digit wrong
			b := []byte(id)
			k := rng.IntN(17)
			b[k] = byte('0' + (int(b[k]-'0')+1+rng.IntN(9))%10)
			id = string(b)
		case u < opt.Unusable: // kept in a number cell: Excel's 15 digits
			id = synth.ExcelNumber(id)
		case u < opt.Unusable+0.02: // escaped so that Excel keeps it as text
			id = map[bool]string{true: "'" + id, false: `"=""` + id + `"""`}[rng.IntN(2) == 0]
		case u < opt.Unusable+0.021: // another registry person's ID typed into this row
			id = reg[rng.IntN(len(reg))].id
		}
		if rng.IntN(100) < 3 { // written in traditional characters
			name, _ = trad.Convert(name)
		}
		fmt.Fprintf(dw, "JS%09d,%s,%s,%s,2026-0%d-1%d,%d\n", i, id, name, p.birth, 1+i%6, i%9, 10+i%500)
	}
	for _, c := range []struct {
		f *os.File
		w *bufio.Writer
	}{{hf, hw}, {mf, mw}, {df, dw}, {tf, tw}} {
		if err := c.w.Flush(); err != nil {
			return nil, err
		}
		if err := c.f.Close(); err != nil {
			return nil, err
		}
	}
	return [][2]string{{"registry", filepath.Join(dir, "households.csv")}, {"registry", filepath.Join(dir, "members.csv")},
		{"medins", filepath.Join(dir, "settlements.csv")}}, nil
}

func newTable(w io.Writer) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\trows\tseconds\trows/s\tvs baseline\tpeak RSS MiB\t")
	return tw
}

// stepTimes is linking's steps and their times on one line.
func stepTimes(steps []match.Step) string {
	var parts []string
	for _, s := range steps {
		parts = append(parts, fmt.Sprintf("%s %.2f s", s.Name, s.Took.Seconds()))
	}
	return strings.Join(parts, ", ")
}
