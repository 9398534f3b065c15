// Package icd10 owns the Chinese names of ICD-10 diagnoses, so that a
// page shows 胆石症 next to K80 instead of a bare code. The names are the
// 3-character categories and the blocks above them, from the public
// ICD-10-CN list (MIT licence, data/LICENSE.ICD-10-CN), built into the
// binary. There are no names for codes past T98 (V–Z).
package icd10

import (
	"bufio"
	"bytes"
	_ "embed"
	"sort"
	"strings"
	"sync"
)

var (
	//go:embed data/disease.csv
	diseaseTSV []byte
	//go:embed data/disease_catalog.csv
	catalogTSV []byte
)

type block struct{ from, to, name string }

var (
	once       sync.Once
	categories map[string]string
	blocks     []block // level-2 blocks, by their first code
)

func load() {
	categories = map[string]string{}
	for _, f := range rows(diseaseTSV) {
		if len(f) >= 2 {
			categories[f[0]] = f[1]
		}
	}
	for _, f := range rows(catalogTSV) {
		if len(f) >= 4 && f[2] == "2" {
			blocks = append(blocks, block{from: f[0], to: f[1], name: f[3]})
		}
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].from < blocks[j].from })
}

// rows reads a tab-separated file past its header.
func rows(b []byte) [][]string {
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for first := true; sc.Scan(); first = false {
		if !first {
			out = append(out, strings.Split(strings.TrimSpace(sc.Text()), "\t"))
		}
	}
	return out
}

// Name is the Chinese name of a diagnosis code ("K80.1", "k80", "N18.5"):
// its 3-character category's, else its block's, else "".
func Name(code string) string {
	once.Do(load)
	c := strings.ToUpper(strings.TrimSpace(code))
	if len(c) < 3 {
		return ""
	}
	c = c[:3]
	if n, ok := categories[c]; ok {
		return n
	}
	i := sort.Search(len(blocks), func(i int) bool { return blocks[i].from > c }) - 1
	for ; i >= 0; i-- {
		if blocks[i].from <= c && c <= blocks[i].to {
			return blocks[i].name
		}
	}
	return ""
}
