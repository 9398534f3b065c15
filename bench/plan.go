package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The history benchmark keeps its plan (what generate wrote, and which
// runs have ended) beside the staged deliveries, so that a stopped run
// can go on where it stopped (`bench --province --resume`): the 5M
// province takes hours, and a machine that stops in month 9 should not
// cost the eight months before it.

const planFile = "plan.json"

// place sets where each delivery is staged under root.
func (p *province) place(root string) {
	p.Registry.folder = filepath.Join(root, p.Registry.Tag)
	for i := range p.Months {
		p.Months[i].folder = filepath.Join(root, p.Months[i].Tag)
	}
}

// save writes the plan under root, whole or not at all.
func (p *province) save(root string) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(root, planFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("bench: write the plan: %w", err)
	}
	return os.Rename(tmp, filepath.Join(root, planFile))
}

// loadPlan reads the plan a run left under root.
func loadPlan(root string) (province, error) {
	var p province
	b, err := os.ReadFile(filepath.Join(root, planFile))
	if errors.Is(err, fs.ErrNotExist) {
		return p, fmt.Errorf("bench: %s has no plan of a history run to resume (the run stopped while generating, or was made by an older safetynet): run again without --resume", root)
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("bench: %s: %w", filepath.Join(root, planFile), err)
	}
	p.place(root)
	return p, nil
}

// ended marks a delivery's run as ended, with its results if it is a
// month's, and saves the plan.
func (p *province) ended(root string, s *staged, result *Month) error {
	s.Ran = true
	if result != nil {
		p.Results = append(p.Results, *result)
	}
	return p.save(root)
}
