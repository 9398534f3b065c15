package ingest

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDateForms(t *testing.T) {
	for in, want := range map[string]string{
		"2024-03-05": "2024-03-05", "2024/3/5": "2024-03-05", "20240305": "2024-03-05", "2024年3月5日": "2024-03-05",
		"2024.03.05": "2024-03-05", "45356": "2024-03-05", "45356.75": "2024-03-05", "2024-03-05 13:45:00": "2024-03-05",
		"2024-03-05T13:45:00+08:00": "2024-03-05", " ２０２４－０３－０５ ": "2024-03-05", "2024/03/05 8:00": "2024-03-05",
	} {
		got, err := parseDate(in)
		if err != nil || got.Format("2006-01-02") != want {
			t.Errorf("parseDate(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for in, reason := range map[string]string{
		"2026-02-30": "not a real date", "2024-13-01": "not a real date", "20240230": "not a real date",
		"yesterday": "not a date", "2024-03": "not a date", "0": "not a date", "1700-01-01": "impossible year",
	} {
		if _, err := parseDate(in); err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("parseDate(%q) = %v; want an error saying %q", in, err, reason)
		}
	}
}

func TestParseMoneyForms(t *testing.T) {
	for in, want := range map[string]float64{"1234.5": 1234.5, "1,234.50": 1234.5, "¥1234": 1234, "1234元": 1234, "￥ 1,000": 1000, "０.５": 0.5, "12.345": 12.35} {
		if got, err := parseMoney(in); err != nil || got != want {
			t.Errorf("parseMoney(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-5", "abc", "12,3a", "NaN", "Inf"} {
		if _, err := parseMoney(in); err == nil {
			t.Errorf("parseMoney(%q) accepted", in)
		}
	}
}

func TestParseSexLevelID(t *testing.T) {
	for in, want := range map[string]string{"男": "male", "女": "female", "M": "male", "f": "female", "1": "male", "2": "female"} {
		if got, err := parseSex(in); err != nil || got != want {
			t.Errorf("parseSex(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := parseSex("9"); err != errBlank {
		t.Errorf("sex 9 (unspecified) should read as blank, got %v", err)
	}
	if _, err := parseSex("X"); err == nil {
		t.Error("sex X accepted")
	}
	for in, want := range map[string]int32{"一级": 1, "二级": 2, "3": 3, "4级": 4, "残疾一级": 1} {
		if got, err := parseLevel(in); err != nil || got != want {
			t.Errorf("parseLevel(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := parseLevel("五级"); err == nil {
		t.Error("level 五级 accepted")
	}
	for _, ok := range []string{"11010519491231002X", "110105 19491231 002x", "１１０１０５１９４９１２３１００２Ｘ", "110105491231002", "110105194912310021"} {
		if _, err := checkID(ok); err != nil {
			t.Errorf("checkID(%q): %v (a form departments send; match decides validity)", ok, err)
		}
	}
	for _, bad := range []string{"abc", "1101051949", "11010519491231002X1234", "张三"} {
		if _, err := checkID(bad); err == nil {
			t.Errorf("checkID(%q) accepted", bad)
		}
	}
}

func TestHeaderMatching(t *testing.T) {
	tab := TablesOf("medins")[0]
	idx := newAliasIndex(tab, nil)
	for h, want := range map[string]string{"个人自付（元）": "out_of_pocket", " 结算 日期 ": "settle_date", "ＩＤ＿ＮＵＭＢＥＲ": "id_number", "[诊断编码]": "diagnosis_code", "Out_Of_Pocket": "out_of_pocket"} {
		if got, ok := idx.lookup(h); !ok || got != want {
			t.Errorf("header %q → %q, %v; want %s", h, got, ok, want)
		}
	}
	if _, _, err := mapHeader(tab, idx, []string{"个人自付", "自付金额", "结算日期"}); err == nil {
		t.Error("two columns claiming out_of_pocket were accepted")
	}
	if !isTotalsRow([]string{"合 计", "", "1234"}) || isTotalsRow([]string{"S1", "合计", "1"}) {
		t.Error("totals row detection")
	}
}

func TestValueFormsOfficesSend(t *testing.T) {
	for in, want := range map[string]string{
		`="11010519491231002X"`: "11010519491231002X", "'11010519491231002X": "11010519491231002X", "\t11010519491231002X": "11010519491231002X",
		"\u00a011010519491231002X\u00a0": "11010519491231002X", "\u300011010519491231002X": "11010519491231002X",
		"110105\u200b19491231\u200d002X\ufeff": "11010519491231002X", `"11010519491231002X"`: "11010519491231002X",
		"１１０１０５１９４９１２３１００２Ｘ": "11010519491231002X", "“11010519491231002X”": "11010519491231002X", `'="11010519491231002X"`: "11010519491231002X",
	} {
		if got, err := checkID(in); err != nil || got != want {
			t.Errorf("checkID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"3.20812197503151E+17", "3.20812E+17", "3.20812197503151e+17", "'3.20812197503151E+17"} {
		got, err := checkID(in)
		var n *notice
		if !errors.As(err, &n) || !strings.Contains(n.Error(), "Excel stored this ID as a number") || !strings.HasPrefix(got, "3.20812") {
			t.Errorf("checkID(%q) = %q, %v; want it kept as sent with the Excel notice", in, got, err)
		}
	}
	for in, want := range map[string]float64{"6万": 60000, "1.2万元": 12000, "６万": 60000, "¥3,000元": 3000, "人民币500元": 500, "１，２３４．５": 1234.5, "0.5万": 5000} {
		if got, err := parseMoney(in); err != nil || got != want {
			t.Errorf("parseMoney(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-", "—", "/", "无", " — ", "——"} {
		if _, err := parseMoney(in); err != errBlank {
			t.Errorf("parseMoney(%q) = %v; want it read as empty", in, err)
		}
	}
	for _, in := range []string{"约6万", "6万多", "万"} {
		if _, err := parseMoney(in); err == nil || errors.Is(err, errBlank) {
			t.Errorf("parseMoney(%q) accepted", in)
		}
	}
	for in, want := range map[string]string{"20240305143000": "2024-03-05", "2024-03-05 14:30:59": "2024-03-05", "202403051430": "2024-03-05",
		"2024/3/5 8:00:00": "2024-03-05", "'2024-03-05": "2024-03-05", "2024年3月5日 14时30分": "2024-03-05"} {
		got, err := parseDate(in)
		if err != nil || got.Format("2006-01-02") != want {
			t.Errorf("parseDate(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if got := cleanText("\u200b王\u00a0芳\u3000"); got != "王 芳" {
		t.Errorf("cleanText = %q", got)
	}
}
