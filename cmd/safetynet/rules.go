package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"safetynet/alerts"
	"safetynet/match"
)

const rulesUsage = `usage:
  safetynet rules list --config FILE                                  the rule pack: each rule, its severity, parameters, on or off
  safetynet rules test --config FILE [--as-of YYYY-MM-DD] [--sample N] [RULE...]
                                                                      what each rule would raise now, and a sample; writes nothing`

func cmdRules(c *cli, args []string) error {
	ctx := c.ctx
	if len(args) == 0 || (args[0] != "list" && args[0] != "test") {
		return fmt.Errorf("%s", rulesUsage)
	}
	verb := args[0]
	fs := c.flags("rules " + verb)
	file := fs.String("config", "", "safetynet.yaml")
	asOfText := fs.String("as-of", "", "evaluate as of this day (default today)")
	sample := fs.Int("sample", 3, "test: cases shown per rule")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	pack := chain.Pack
	if verb == "list" {
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tSEVERITY\tSTATE\tPARAMETERS\tTITLE")
		for _, r := range pack.Rules {
			state := "on"
			switch {
			case r.Err != nil:
				state = "broken: " + r.Err.Error()
			case !r.Enabled:
				state = "off"
			case r.Custom:
				state = "on (config)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, state, params(r.Params), r.Title["zh"])
		}
		return tw.Flush()
	}
	asOf := time.Now().In(chain.Cfg.Location)
	if *asOfText != "" {
		if asOf, err = parseAsOf(*asOfText); err != nil {
			return err
		}
	}
	only := map[string]bool{}
	for _, id := range fs.Args() {
		found := false
		for _, r := range pack.Rules {
			found = found || r.ID == id
		}
		if !found {
			return fmt.Errorf("no rule %q (see `safetynet rules list`)", id)
		}
		only[id] = true
	}
	ev := &alerts.Evaluator{DB: chain.DB, Pack: pack, Standards: chain.Cfg.Standards, SeriousIllness: chain.Cfg.SeriousIllness}
	found, rep, err := ev.DryRun(ctx, asOf)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "dry run as of %s (nothing is written)\n\n", asOf.Format("2006-01-02"))
	failed := 0
	for _, rr := range rep.Rules {
		if len(only) > 0 && !only[rr.RuleID] {
			continue
		}
		if rr.Err != nil {
			failed++
			fmt.Fprintf(c.out, "%s: FAILED: %v\n\n", rr.RuleID, rr.Err)
			continue
		}
		fmt.Fprintf(c.out, "%s: %d\n", rr.RuleID, rr.Cases)
		cs := found[rr.RuleID]
		sort.Slice(cs, func(i, j int) bool { return cs[i].Subject() < cs[j].Subject() })
		for i, cs := range cs {
			if i == *sample {
				break
			}
			subject := "household " + cs.HouseholdID
			if cs.HouseholdID == "" {
				subject = "person " + match.Mask(cs.IDNumber)
			}
			fmt.Fprintf(c.out, "  %-8s %-30s %s  %s\n", cs.Severity, subject, cs.RegionCode, cs.Reason)
		}
		fmt.Fprintln(c.out)
	}
	if failed > 0 {
		return fmt.Errorf("%d rule(s) failed", failed)
	}
	return nil
}

func params(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, p[k]))
	}
	return strings.Join(parts, " ")
}
