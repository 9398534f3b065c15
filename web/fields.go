package web

import (
	"sort"
	"strconv"
	"strings"

	"safetynet/i18n"
	"safetynet/icd10"
	"safetynet/ingest"
	"safetynet/match"
	"safetynet/regions"
)

// fieldView is one labelled value as a reader reads it: 结算日期
// 2026-06-29, 诊断 K80 胆石症, 就诊类型 住院.
type fieldView struct {
	Label, Value string
}

// recordFields are a department record's fields, labelled and with
// their values in the reader's language; an ID is masked.
func recordFields(l i18n.Lang, rec *ingest.Record) []fieldView {
	t := ingest.TableNamed(rec.Source)
	out := make([]fieldView, 0, len(rec.Fields))
	for _, f := range rec.Fields {
		kind := ingest.Text
		if t != nil {
			if c := t.Column(f.Name); c != nil {
				kind = c.Kind
			}
		}
		out = append(out, fieldView{Label: ingest.ColumnLabel(l, rec.Source, f.Name), Value: valueText(l, f.Name, f.Value, kind)})
	}
	return out
}

// valueText shows one stored value: money in yuan, a diagnosis with its
// disease's name, a division with its name, an ID masked, a coded value
// (住院, 辍学, 新办) in words.
func valueText(l i18n.Lang, column, value string, kind ingest.Kind) string {
	switch {
	case kind == ingest.ID || column == "id_number":
		return match.Mask(value)
	case kind == ingest.Money:
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			return l.F("yuan", strconv.FormatFloat(v, 'f', 2, 64))
		}
	case column == "diagnosis_code":
		if n := icd10.Name(value); n != "" {
			return value + " " + n
		}
	case column == "region_code":
		return regionText(value)
	}
	if k := "v." + column + "." + value; l.Has(k) {
		return l.T(k)
	}
	return value
}

// regionText is a division code with the names of the divisions it is
// in, down to the township (villages have no names in the list).
func regionText(code string) string {
	names := regionNames(code)
	if names == "" {
		return code
	}
	return names + "（" + code + "）"
}

// regionNames are the names of the county and township a code is in.
func regionNames(code string) string {
	var names []string
	for _, r := range regions.Path(code) {
		if r.Name != "" && len(r.Code) >= 6 {
			names = append(names, r.Name)
		}
	}
	return strings.Join(names, " ")
}

// detailViews are a rule's details, labelled and in words, in key order;
// "reason" names the reason's wording and is not shown.
func detailViews(l i18n.Lang, details map[string]any) []fieldView {
	keys := make([]string, 0, len(details))
	for k := range details {
		if k != "reason" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]fieldView, 0, len(keys))
	for _, k := range keys {
		out = append(out, fieldView{Label: l.T("d." + k), Value: l.Value(k, details[k])})
	}
	return out
}
