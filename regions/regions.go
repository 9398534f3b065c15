package regions

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"io"
	"sort"
	"strings"
	"sync"
)

var (
	//go:embed data/provinces.csv
	provincesCSV []byte
	//go:embed data/cities.csv
	citiesCSV []byte
	//go:embed data/areas.csv
	areasCSV []byte
	//go:embed data/streets.csv.gz
	streetsGz []byte
)

// Region is one division: its code and, when known, its name.
type Region struct {
	Code, Name string
}

// Levels are the code lengths of the hierarchy, from province to village.
var Levels = []int{2, 4, 6, 9, 12}

var (
	loadOnce sync.Once
	names    map[string]string
	children map[string][]string
)

func load() {
	names, children = map[string]string{}, map[string][]string{}
	for _, data := range [][]byte{provincesCSV, citiesCSV, areasCSV, gunzip(streetsGz)} {
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			panic("regions: embedded division list: " + err.Error()) // built into the binary: a broken one is a build error
		}
		for _, r := range rows[1:] {
			names[r[0]] = r[1]
			if p := Parent(r[0]); p != "" {
				children[p] = append(children[p], r[0])
			}
		}
	}
	for _, c := range children {
		sort.Strings(c)
	}
}

func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		panic("regions: " + err.Error())
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		panic("regions: " + err.Error())
	}
	return out
}

// Name is the division's name, or "" when the code names none known
// (a village, a code that no longer exists, or padding such as 330110000).
func Name(code string) string {
	loadOnce.Do(load)
	return names[code]
}

// Label is the name with the code, or the code alone when no name is known.
func Label(code string) string {
	if n := Name(code); n != "" {
		return n
	}
	return code
}

// Parent is the code one level up ("" for a province or a code of no level).
func Parent(code string) string {
	for i := len(Levels) - 1; i > 0; i-- {
		if len(code) == Levels[i] {
			return code[:Levels[i-1]]
		}
	}
	return ""
}

// Next is the code length one level below a code of this length (2 for "").
func Next(length int) int {
	for _, l := range Levels {
		if l > length {
			return l
		}
	}
	return 0
}

// Children are the known divisions one level below code.
func Children(code string) []Region {
	loadOnce.Do(load)
	var out []Region
	for _, c := range children[code] {
		out = append(out, Region{c, names[c]})
	}
	return out
}

// Path is the code's chain from its province down to itself, each named
// where a name is known.
func Path(code string) []Region {
	var out []Region
	for _, l := range Levels {
		if l <= len(code) {
			out = append(out, Region{code[:l], Name(code[:l])})
		}
	}
	return out
}

// FullName joins the known names of the code's path (浙江省杭州市余杭区五常街道).
func FullName(code string) string {
	var b strings.Builder
	for _, r := range Path(code) {
		b.WriteString(r.Name)
	}
	return b.String()
}
