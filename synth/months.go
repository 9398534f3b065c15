package synth

import (
	"path/filepath"
	"strings"
	"time"
)

// WriteRegistry writes the registry's files only (households, members),
// as the first delivery of a history that departments then add to month
// by month (WriteDepartments).
func (g *County) WriteRegistry(inbox string) error {
	return g.writeFiles(inbox, g.registryFiles())
}

// WriteDepartments writes one delivery of each department: the records
// dated in [from, to), under their usual names with tag before the
// extension (settlements-2025-07.csv), and says how many rows it wrote.
// A department's file without a record that month is not written.
func (g *County) WriteDepartments(inbox string, from, to time.Time, tag string) (int, error) {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	m := *g
	m.medins = keep(g.medins, func(r medinsRec) bool { return in(r.date) })
	m.health = keep(g.health, func(r healthRec) bool { return in(r.date) })
	m.edu = keep(g.edu, func(r eduRec) bool { return in(r.date) })
	m.dis = keep(g.dis, func(r disRec) bool { return in(r.issued) })
	m.disUpdate = keep(g.disUpdate, func(r disRec) bool { return in(r.issued) })
	counts := map[string]int{EducationFile: len(m.edu), HealthFile: len(m.health), MedinsFile: len(m.medins),
		DisabilityFile: len(m.dis), DisUpdateFile: len(m.disUpdate)}
	var files []file
	for _, f := range m.departmentFiles() {
		if counts[f.name] == 0 {
			continue
		}
		ext := filepath.Ext(f.name)
		files = append(files, file{strings.TrimSuffix(f.name, ext) + "-" + tag + ext, f.fn})
	}
	return m.Rows(), m.writeFiles(inbox, files)
}

func keep[T any](rs []T, ok func(T) bool) []T {
	var out []T
	for _, r := range rs {
		if ok(r) {
			out = append(out, r)
		}
	}
	return out
}
