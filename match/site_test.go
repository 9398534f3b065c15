package match

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"safetynet/ingest"
	"safetynet/store"
)

// testSite is a database with a registry: the households and members a
// test names, then 400 other persons, so that u (how often strangers
// agree) means something.
type testSite struct {
	t   *testing.T
	db  *store.DB
	dir string
}

// newTestSite ingests households ("户编号,保障类别,行政区划代码,状态" rows) and
// members ("户编号,姓名,身份证号,出生日期" rows).
func newTestSite(t *testing.T, households, members string) *testSite {
	t.Helper()
	s := &testSite{t: t, dir: t.TempDir()}
	db, err := store.Open(context.Background(), filepath.Join(s.dir, "t.duckdb"), ingest.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.db = db
	hh := strings.Builder{}
	mm := strings.Builder{}
	hh.WriteString("户编号,保障类别,行政区划代码,状态\n" + households)
	mm.WriteString("户编号,姓名,身份证号,出生日期\n" + members)
	sur, giv := []rune("张李刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑"), []rune("伟秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚")
	for i := 0; i < 400; i++ {
		birth := time.Date(1940+i%60, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		fmt.Fprintf(&hh, "X%d,低保,110105001%03d,在保\n", i, i%50)
		fmt.Fprintf(&mm, "X%d,%c%c%c,%s,\n", i, sur[i%len(sur)], giv[(i/7)%len(giv)], giv[(i*3)%len(giv)], NewID("110105", birth, i%999))
	}
	s.ingest("registry", "h.csv", hh.String())
	s.ingest("registry", "m.csv", mm.String())
	return s
}

// ingest stores a file's text as a delivery of source.
func (s *testSite) ingest(source, name, body string) {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		s.t.Fatal(err)
	}
	if _, err := ingest.IngestFile(context.Background(), s.db, source, p, ingest.Options{}); err != nil {
		s.t.Fatal(err)
	}
}
