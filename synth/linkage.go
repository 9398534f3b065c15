package synth

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mozillazg/go-pinyin"
)

// LinkageOptions size a record-linkage test set in Chinese: registry
// persons on the left, department records on the right.
type LinkageOptions struct {
	Seed       uint64
	Persons    int     // registry persons
	Records    int     // department records, most of them about registry persons
	Outsiders  float64 // share of records about people outside the registry
	NoisyIDs   float64 // share of records whose ID has a typo (one digit wrong, or two swapped)
	MissingIDs float64 // share of records without an ID
	ExcelIDs   float64 // share of records whose ID Excel stored as a number
	Namesakes  int     // records about people with a registry person's name but another birth date
}

// DefaultLinkage is the set the match tests use: 5% noisy, 5% missing and
// 3% Excel-number IDs; 3% of names in traditional characters, 1% with a
// space inside, 3% homophones, 2% with day and month swapped.
func DefaultLinkage() LinkageOptions {
	return LinkageOptions{Seed: 7, Persons: 5000, Records: 5000, Outsiders: 0.1, NoisyIDs: 0.05, MissingIDs: 0.05, ExcelIDs: 0.03, Namesakes: 300}
}

// Linkage files: both carry person_id, the truth (the same person has the same id).
const (
	LinkageRegistry = "linkage_registry.csv"
	LinkageRecords  = "linkage_records.csv"
)

var linkageHeader = []string{"record_id", "person_id", "姓名", "性别", "出生日期", "联系电话", "区划代码", "地址", "身份证号"}

// WriteLinkage writes the two files into dir.
func WriteLinkage(dir string, opt LinkageOptions) error {
	c, err := newCounty(opt.Seed, DefaultArea)
	if err != nil {
		return err
	}
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	type resident struct {
		p       *person
		village string
		address string
		key     string
	}
	// Given-name characters grouped by sound, for homophone typos.
	bySound := map[string][]rune{}
	for _, r := range c.givens {
		py := pinyin.LazyPinyin(string(r), pinyin.NewArgs())
		if len(py) == 1 {
			bySound[py[0]] = append(bySound[py[0]], r)
		}
	}
	homophone := func(name string) string {
		rs := []rune(name)
		i := len(rs) - 1
		py := pinyin.LazyPinyin(string(rs[i]), pinyin.NewArgs())
		if len(py) == 1 {
			if alts := bySound[py[0]]; len(alts) > 1 {
				for _, a := range alts {
					if a != rs[i] {
						rs[i] = a
						return string(rs)
					}
				}
			}
		}
		return name
	}
	newResident := func(n int) resident {
		p := c.person("", "户主", 0, 90, asOf)
		v := c.village()
		return resident{p: p, village: v, address: fmt.Sprintf("%s%d号", c.streetName(v), 1+c.rng.IntN(300)), key: "P" + strconv.Itoa(n)}
	}
	reg := make([]resident, opt.Persons)
	for i := range reg {
		reg[i] = newResident(i)
	}
	row := func(id string, r resident, name, birth, phone, region, address, idText string) []string {
		sex := "女"
		if r.p.Male {
			sex = "男"
		}
		return []string{id, r.key, name, sex, birth, phone, region, address, idText}
	}
	left := [][]string{linkageHeader}
	for i, r := range reg {
		left = append(left, row(fmt.Sprintf("R%05d", i), r, r.p.Name, r.p.Birth.Format("2006-01-02"), r.p.Phone, r.village, r.address, string(r.p.ID)))
	}
	right := [][]string{linkageHeader}
	outsider := opt.Persons
	trad := toTraditional()
	for i := 0; i < opt.Records; i++ {
		var r resident
		if c.rng.Float64() < opt.Outsiders {
			r = newResident(outsider)
			outsider++
		} else {
			r = reg[c.rng.IntN(len(reg))]
		}
		name, birth := r.p.Name, r.p.Birth
		switch x := c.rng.Float64(); {
		case x < 0.03:
			name = homophone(name)
		case x < 0.05 && birth.Day() <= 12 && birth.Day() != int(birth.Month()):
			birth = time.Date(birth.Year(), time.Month(birth.Day()), int(birth.Month()), 0, 0, 0, 0, time.UTC)
		case x < 0.08: // written in traditional characters
			name = trad(name)
		case x < 0.09: // a space typed inside the name
			rs := []rune(name)
			name = string(rs[:1]) + " " + string(rs[1:])
		}
		idText := string(r.p.ID)
		switch x := c.rng.Float64(); {
		case x < opt.MissingIDs:
			idText = ""
		case x < opt.MissingIDs+opt.NoisyIDs:
			idText = typo(c, idText)
		case x < opt.MissingIDs+opt.NoisyIDs+opt.ExcelIDs:
			idText = ExcelNumber(idText)
		}
		phone := ""
		if c.rng.IntN(2) == 0 {
			phone = r.p.Phone
			if c.rng.IntN(10) == 0 {
				phone = c.phone() // a new number
			}
		}
		address := ""
		if c.rng.IntN(2) == 0 {
			address = r.address
		}
		right = append(right, row(fmt.Sprintf("D%05d", i), r, name, birth.Format("2006-01-02"), phone, r.village, address, idText))
	}
	// Namesakes: another person with a registry person's name, born more
	// than a year apart, often in the same township.
	for i := 0; i < opt.Namesakes; i++ {
		src := reg[c.rng.IntN(len(reg))]
		ns := newResident(outsider)
		outsider++
		ns.p.Name = src.p.Name
		shift := 2 + c.rng.IntN(30)
		if c.rng.IntN(2) == 0 {
			shift = -shift
		}
		ns.p.Birth = src.p.Birth.AddDate(shift, 0, c.rng.IntN(60)-30)
		ns.p.ID = c.id(ns.p.Birth, ns.p.Male)
		ns.village = src.village[:9] + ns.village[9:]
		idText := string(ns.p.ID)
		if c.rng.Float64() < 0.3 {
			idText = "" // the hard case: no ID to tell them apart
		}
		right = append(right, row(fmt.Sprintf("N%05d", i), ns, ns.p.Name, ns.p.Birth.Format("2006-01-02"), "", ns.village, "", idText))
	}
	if err := writeCSV(filepath.Join(dir, LinkageRegistry), left); err != nil {
		return err
	}
	return writeCSV(filepath.Join(dir, LinkageRecords), right)
}

// typo changes one digit of the first 17, or swaps two neighbours.
func typo(c *county, id string) string {
	b := []byte(id)
	i := c.rng.IntN(16)
	if c.rng.IntN(2) == 0 && b[i] != b[i+1] {
		b[i], b[i+1] = b[i+1], b[i]
	} else {
		b[i] = byte('0' + (int(b[i]-'0')+1+c.rng.IntN(9))%10)
	}
	return string(b)
}

func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
