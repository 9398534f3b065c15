package synth

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Files a written county holds, relative to the inbox.
const (
	HouseholdsFile = "registry/households.xlsx"
	MembersFile    = "registry/members.csv"
	EducationFile  = "education/education.xlsx"
	HealthFile     = "health/health.jsonl"
	MedinsFile     = "medins/settlements.csv"
	DisabilityFile = "disability/disability.csv"
	DisUpdateFile  = "disability/disability_update.csv"
)

// Write puts the county's files into inbox/<source>/ and the expected
// alerts and near misses into dir/expected_alerts.jsonl and
// dir/near_misses.jsonl.
func (g *County) Write(inbox, dir string) error {
	if err := g.writeFiles(inbox, g.registryFiles()); err != nil {
		return err
	}
	if err := g.writeFiles(inbox, g.departmentFiles()); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(dir, "expected_alerts.jsonl"), g.Expected); err != nil {
		return err
	}
	return writeJSONL(filepath.Join(dir, "near_misses.jsonl"), g.NearMisses)
}

// file is one file of a delivery and the writer that makes it.
type file struct {
	name string
	fn   func(string) error
}

func (g *County) registryFiles() []file {
	return []file{{HouseholdsFile, g.writeHouseholds}, {MembersFile, g.writeMembers}}
}

func (g *County) departmentFiles() []file {
	return []file{{EducationFile, g.writeEducation}, {HealthFile, g.writeHealth}, {MedinsFile, g.writeMedins},
		{DisabilityFile, func(p string) error { return g.writeDisability(p, g.dis, true) }},
		{DisUpdateFile, func(p string) error { return g.writeDisability(p, g.disUpdate, false) }}}
}

func (g *County) writeFiles(inbox string, files []file) error {
	for _, f := range files {
		p := filepath.Join(inbox, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := f.fn(p); err != nil {
			return fmt.Errorf("synth: write %s: %w", f.name, err)
		}
	}
	return nil
}

// Rows counts the department rows written (registry members excluded).
func (g *County) Rows() int {
	return len(g.medins) + len(g.health) + len(g.edu) + len(g.dis) + len(g.disUpdate)
}

// Persons counts registry members.
func (g *County) Persons() int {
	n := 0
	for _, h := range g.Households {
		n += len(h.Members)
	}
	return n
}

func writeJSONL(path string, v []Expected) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, e := range v {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

var tierNames = map[string]string{"dibao": "城乡低保", "tekun": "特困供养", "edge": "低保边缘家庭", "expenditure": "支出型困难家庭", "monitor": "防止返贫监测"}

func sexText(male bool) string {
	if male {
		return "男"
	}
	return "女"
}

// streamSheet writes rows to the first sheet of a new workbook with a
// title row (merged across) above the header, as department exports do.
func streamSheet(path, title string, header []any, rows func(add func([]any) error) error, totals []any) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	last, _ := excelize.CoordinatesToCellName(len(header), 1)
	if err := sw.MergeCell("A1", last); err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{title}); err != nil {
		return err
	}
	if err := sw.SetRow("A2", header); err != nil {
		return err
	}
	r := 3
	err = rows(func(vals []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		r++
		return sw.SetRow(cell, vals)
	})
	if err != nil {
		return err
	}
	if totals != nil {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		if err := sw.SetRow(cell, totals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

func (g *County) writeHouseholds(path string) error {
	header := []any{"户编号", "保障类别", "行政区划代码", "网格编号", "家庭住址", "家庭年收入（元）", "家庭人口", "月保障金额", "状态", "纳入日期"}
	title := fmt.Sprintf("%s低收入人口家庭信息表（截至%s）", g.c.called, g.opt.AsOf.Format("2006年1月2日"))
	return streamSheet(path, title, header, func(add func([]any) error) error {
		for _, h := range g.Households {
			status := "在保"
			if h.Status == "terminated" {
				status = "停保"
			}
			var income any = h.Income
			if h.IncomeText != "" {
				income = h.IncomeText
			}
			if err := add([]any{h.ID, tierNames[h.Tier], h.Village, h.Grid, h.Address, income, len(h.Members), h.Benefit, status, h.Enrolled.Format("2006/1/2")}); err != nil {
				return err
			}
		}
		return nil
	}, nil)
}

// csvFile writes a CSV file: in GB18030 when gb is set, else UTF-8 (with
// a BOM when bom is set, as Excel saves it).
func csvFile(path string, gb, bom bool, rows func(w *csv.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var out io.Writer = f
	if gb {
		out = simplifiedchinese.GB18030.NewEncoder().Writer(f)
	}
	bw := bufio.NewWriterSize(out, 1<<16)
	if bom {
		bw.Write([]byte{0xEF, 0xBB, 0xBF})
	}
	w := csv.NewWriter(bw)
	rows(w)
	w.Flush()
	err = w.Error()
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeMembers writes the registry's members in GB18030, as the registry system exports them.
func (g *County) writeMembers(path string) error {
	return csvFile(path, true, false, func(w *csv.Writer) {
		w.Write([]string{"户编号", "姓名", "公民身份号码", "性别", "出生日期", "与户主关系", "联系电话"})
		for _, h := range g.Households {
			for _, p := range h.Members {
				w.Write([]string{h.ID, p.Name, string(p.ID), sexText(p.Male), p.Birth.Format("20060102"), p.Relation, p.Phone})
			}
		}
	})
}

func (g *County) writeEducation(path string) error {
	header := []any{"学籍号", "姓名", "身份证号", "性别", "出生日期", "学校名称", "年级", "学籍状态", "变动日期", "资助金额"}
	aid := 0.0
	err := streamSheet(path, "义务教育阶段学生学籍变动情况", header, func(add func([]any) error) error {
		for i, e := range g.edu {
			a := 0.0
			if i%7 == 0 {
				a = 500
			}
			aid += a
			if err := add([]any{e.id, nameText(e.p, e.written), g.idText(e.p, e.written), sexOf(e.p, e.written), e.p.Birth.Format("2006-01-02"),
				g.c.called + "第" + strconv.Itoa(1+i%9) + "小学", e.grade, e.status, excelize.Cell{Value: e.date, StyleID: 0}, a}); err != nil {
				return err
			}
		}
		return nil
	}, []any{"合计", "", "", "", "", "", "", "", "", aid})
	return err
}

func (g *County) writeHealth(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	enc := json.NewEncoder(bw)
	for _, h := range g.health {
		rec := map[string]any{"病案号": h.id, "身份证号": g.idText(h.p, h.written), "姓名": nameText(h.p, h.written), "性别": sexOf(h.p, h.written),
			"出生日期": h.p.Birth.Format("20060102"), "事件类型": h.kind, "日期": h.date.Format("20060102"), "医疗机构": g.c.called + "第一人民医院"}
		if h.diag != "" {
			rec["诊断编码"], rec["诊断名称"] = h.diag, h.diagName
		}
		if err := enc.Encode(rec); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeMedins writes settlements in GB18030 (UTF-8 for benchmarks) with the money forms departments use.
func (g *County) writeMedins(path string) error {
	return csvFile(path, !g.opt.UTF8, false, func(w *csv.Writer) {
		w.Write([]string{"结算流水号", "身份证号", "姓名", "性别", "出生日期", "医疗类别", "结算日期", "医疗总费用", "统筹支付", "个人自付", "诊断编码"})
		for i, m := range g.medins {
			oop := strconv.FormatFloat(m.oop, 'f', 2, 64)
			if i%5 == 0 {
				oop = "¥" + oop
			}
			w.Write([]string{m.id, g.idText(m.p, m.written), nameText(m.p, m.written), sexOf(m.p, m.written), m.p.Birth.Format("2006/1/2"), m.visit, m.date.Format("2006/1/2"),
				strconv.FormatFloat(m.total, 'f', 2, 64), strconv.FormatFloat(m.total-m.oop, 'f', 2, 64), oop, m.diag})
		}
	})
}

var levelNames = []string{"", "一级", "二级", "三级", "四级"}

// writeDisability writes UTF-8 CSV, with a BOM as Excel saves it when bom is set.
func (g *County) writeDisability(path string, recs []disRec, bom bool) error {
	return csvFile(path, false, bom, func(w *csv.Writer) {
		w.Write([]string{"残疾证号", "姓名", "身份证号", "性别", "出生日期", "残疾类别", "残疾等级", "发证日期", "变动类型"})
		for _, d := range recs {
			w.Write([]string{d.id, nameText(d.p, d.written), g.idText(d.p, d.written), sexOf(d.p, d.written), d.p.Birth.Format("2006年1月2日"),
				d.kind, levelNames[d.level], d.issued.Format("2006年1月2日"), d.change})
		}
	})
}
