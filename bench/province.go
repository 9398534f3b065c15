package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"safetynet/regions"
	"safetynet/synth"
)

// A province is made county by county: the generator holds a county in
// Go's heap (about 8 GiB at a million persons), so a registry larger than
// one county is several, each with its own division code, and each is
// written out and dropped before the next is made. Nothing of the
// generator stays in the process while the runs are measured: kept, the
// county would be scanned by Go's collector through every run, beyond
// Go's 512 MiB soft limit, and the peaks would count it.

// generateMemory is Go's soft limit while a county is generated.
const generateMemory = 8 << 30

// staged is a delivery written ahead of its run, as
// <folder>/<county>/<source>/<file>; deliver moves it into the inbox.
type staged struct {
	Tag    string    `json:"tag"`  // the month (2025-07), or "registry"
	To     time.Time `json:"to"`   // a month's end: the day after its last
	Rows   int       `json:"rows"` // department rows
	Ran    bool      `json:"ran"`  // its run ended
	folder string
}

// province is what generate wrote, and which of its runs have ended: the
// history benchmark's plan (plan.go).
type province struct {
	Counties []string `json:"counties"`
	Persons  int      `json:"persons"`
	Rows     int      `json:"rows"`
	Registry staged   `json:"registry"`
	Months   []staged `json:"months"`
	// Results are the months run so far, in every process of the run,
	// so a resumed run prints the growth over all of them.
	Results []Month `json:"results,omitempty"`
}

// generate writes so's registry and records as counties of at most
// perCounty registry persons (one county when perCounty is 0): the
// registry to stage under root/registry, and each month from first to
// last to root/<month>.
func generate(so synth.Options, perCounty int, root string, first, last time.Time) (province, error) {
	// Generating is not measured: a soft limit a county fits in, and the
	// default pace of collection (at main's 400% the heap grows to five
	// times the county, past this machine's memory at a million persons).
	defer debug.FreeOSMemory()
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(generateMemory))
	n := 1
	if perCounty > 0 {
		n = max(1, (so.Households*3+perCounty-1)/perCounty)
	}
	areas, err := counties(n)
	if err != nil {
		return province{}, err
	}
	p := province{Counties: areas, Registry: staged{Tag: "registry", To: first}}
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		p.Months = append(p.Months, staged{Tag: m.Format("2006-01"), To: m.AddDate(0, 1, 0)})
	}
	p.place(root)
	whole := so
	for i, area := range areas {
		so := whole
		so.Area, so.Seed = area, whole.Seed+uint64(i)
		so.Households, so.Outsiders, so.Records = whole.Households/n, whole.Outsiders/n, whole.Records/n
		if err := p.add(so); err != nil {
			return province{}, err
		}
	}
	return p, nil
}

// add generates one county and writes its deliveries.
func (p *province) add(so synth.Options) error {
	county, err := synth.Generate(so)
	if err != nil {
		return err
	}
	if err := county.WriteRegistry(filepath.Join(p.Registry.folder, so.Area)); err != nil {
		return fmt.Errorf("bench: write county %s's registry: %w", so.Area, err)
	}
	for i := range p.Months {
		m := &p.Months[i]
		from := m.To.AddDate(0, -1, 0)
		if i == 0 {
			from = time.Time{} // the first delivery carries anything older too
		}
		n, err := county.WriteDepartments(filepath.Join(m.folder, so.Area), from, m.To, m.Tag)
		if err != nil {
			return fmt.Errorf("bench: write county %s's month %s: %w", so.Area, m.Tag, err)
		}
		m.Rows += n
	}
	p.Persons += county.Persons()
	p.Rows += county.Rows()
	return nil
}

// counties are n county codes of the default county's province, the
// default county first.
func counties(n int) ([]string, error) {
	areas := []string{synth.DefaultArea}
	for _, city := range regions.Children(synth.DefaultArea[:2]) {
		for _, a := range regions.Children(city.Code) {
			if a.Code != synth.DefaultArea && len(a.Code) == 6 && len(regions.Children(a.Code)) > 0 {
				areas = append(areas, a.Code)
			}
		}
	}
	if n > len(areas) {
		return nil, fmt.Errorf("bench: a registry of %d counties; the province has %d: raise the persons a county holds", n, len(areas))
	}
	return areas[:n], nil
}

// deliver moves a staged delivery's files into the inbox's drop folders,
// each named with its county first (330110-settlements-2025-07.csv). A
// delivery whose folder is gone was delivered before: a resumed run's
// month that was stopped, whose files not yet read wait in the inbox.
func (s staged) deliver(inbox string) error {
	areas, err := os.ReadDir(s.folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, area := range areas {
		sources, err := os.ReadDir(filepath.Join(s.folder, area.Name()))
		if err != nil {
			return err
		}
		for _, src := range sources {
			files, err := os.ReadDir(filepath.Join(s.folder, area.Name(), src.Name()))
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(inbox, src.Name()), 0o755); err != nil {
				return err
			}
			for _, f := range files {
				from := filepath.Join(s.folder, area.Name(), src.Name(), f.Name())
				if err := os.Rename(from, filepath.Join(inbox, src.Name(), area.Name()+"-"+f.Name())); err != nil {
					return fmt.Errorf("bench: deliver %s: %w", s.Tag, err)
				}
			}
		}
	}
	return os.RemoveAll(s.folder)
}
