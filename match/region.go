package match

import (
	_ "embed"
	"strings"
)

//go:embed data/regions.txt
var regionList string

// knownRegions are the current GB/T 2260 codes of counties, cities and provinces.
var knownRegions = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(regionList) {
		m[c] = true
	}
	return m
}()

// RegionKnown reports whether the ID's first six digits are a current
// division code. An unknown one may be historical (codes change when
// counties merge), so it is worth a warning, not a rejection.
func (id IDNumber) RegionKnown() bool { return len(id) >= 6 && knownRegions[string(id[:6])] }
