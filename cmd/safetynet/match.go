package main

import (
	"fmt"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"safetynet/match"
)

const matchUsage = `usage:
  safetynet match review --config FILE [--source S] [--limit N]                 pairs waiting for a decision, side by side
  safetynet match review --config FILE --accept SOURCE:KEY|--reject SOURCE:KEY [--by NAME] [--note TEXT]
  safetynet match eval --left A.csv --right B.csv --truth COLUMN [--id COLUMN] [--threshold 0.95]   linkage
  safetynet match eval --left A.csv --truth COLUMN [--id COLUMN] [--threshold 0.95]                 deduplication
The truth column holds the entity each record belongs to (FEBRL's rec-N-org/rec-N-dup-K give N).`

func cmdMatch(c *cli, args []string) error {
	if len(args) > 0 && args[0] == "review" {
		return cmdMatchReview(c, args[1:])
	}
	if len(args) == 0 || args[0] != "eval" {
		return fmt.Errorf("%s", matchUsage)
	}
	fs := c.flags("match eval")
	leftFile := fs.String("left", "", "CSV of the left records (the registry), or the one file to deduplicate")
	rightFile := fs.String("right", "", "CSV of the right records (a department's); empty to deduplicate --left")
	truth := fs.String("truth", "", "column holding the true entity of each record")
	id := fs.String("id", "", "column holding each record's id (default: the truth column)")
	threshold := fs.Float64("threshold", match.DefaultThresholds.Link, "match probability at or above which a pair is linked (the pipeline's match.link_threshold by default)")
	seed := fs.Uint64("seed", 1, "seed of the random pairs u is estimated from")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *leftFile == "" || *truth == "" {
		return fmt.Errorf("%s", matchUsage)
	}
	left, err := match.ReadDataset(*leftFile, *truth, *id)
	if err != nil {
		return err
	}
	var right *match.Dataset
	if *rightFile != "" {
		if right, err = match.ReadDataset(*rightFile, *truth, *id); err != nil {
			return err
		}
	}
	ev := match.Evaluate(left, right, *threshold, *seed)
	mode := "deduplication"
	if right != nil {
		mode = "linkage (each right record to its best left one)"
	}
	fmt.Fprintf(c.out, "%s: %d records, %d candidate pairs from blocking, holding %d of %d true pairs (blocking recall %.4f)\n",
		mode, ev.Records, ev.Candidates, ev.Found, ev.TruePairs, float64(ev.Found)/math.Max(1, float64(ev.TruePairs)))
	fmt.Fprintf(c.out, "at threshold %.3f: precision %.4f  recall %.4f  F1 %.4f\n\n", ev.Threshold, ev.Precision, ev.Recall, ev.F1)
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "threshold\tlinked\tright\tprecision\trecall\tF1\t")
	for _, r := range ev.Table {
		fmt.Fprintf(tw, "%.3f\t%d\t%d\t%.4f\t%.4f\t%.4f\t\n", r.Threshold, r.Predicted, r.TP, r.Precision, r.Recall, r.F1)
	}
	tw.Flush()
	fmt.Fprintln(c.out, "\nthe model (m: share of true matches at the level, u: of random pairs; weight = log2 m/u):")
	tw = tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "comparison\tlevel\tm\tu\tweight")
	m := ev.Model
	for c, cmp := range m.Comparisons {
		for l, name := range cmp.Levels {
			fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.6f\t%+.2f\n", cmp.Name, name, m.M[c][l], m.U[c][l], math.Log2(m.M[c][l]/m.U[c][l]))
		}
	}
	return tw.Flush()
}

func cmdMatchReview(c *cli, args []string) error {
	ctx := c.ctx
	fs := c.flags("match review")
	file := fs.String("config", "", "safetynet.yaml")
	source := fs.String("source", "", "only this source")
	limit := fs.Int("limit", 20, "at most this many pairs (0: all)")
	accept := fs.String("accept", "", "SOURCE:KEY: link the record to its candidate")
	reject := fs.String("reject", "", "SOURCE:KEY: the record is not its candidate")
	by := fs.String("by", os.Getenv("USER"), "who decides (kept with the decision)")
	note := fs.String("note", "", "why, for the record")
	if err := fs.Parse(args); err != nil {
		return err
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	if *accept != "" || *reject != "" {
		target, link := *reject, false
		if *accept != "" {
			target, link = *accept, true
		}
		src, key, ok := strings.Cut(target, ":")
		if !ok {
			return fmt.Errorf("want SOURCE:KEY (as the review list prints it), got %q", target)
		}
		if err := match.Decide(ctx, chain.DB, src, key, link, *by, *note); err != nil {
			return err
		}
		verb := "rejected"
		if link {
			verb = "linked"
		}
		fmt.Fprintf(c.out, "%s:%s %s by %s; the decision is kept and applied on every run\n", src, key, verb, *by)
		return nil
	}
	items, err := match.ReviewQueue(ctx, chain.DB, match.ReviewFilter{Source: *source, Limit: *limit})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		fmt.Fprintln(c.out, "nothing waits for review")
		return nil
	}
	for _, it := range items {
		r, cand := it.Record, it.Candidate
		if it.ContradictsID {
			fmt.Fprintf(c.out, "%s:%s  %s\n", r.Source, r.Key, it.Reason)
		} else {
			fmt.Fprintf(c.out, "%s:%s  match probability %.3f\n", r.Source, r.Key, it.Score)
		}
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "\trecord\tregistry person\t\n")
		fmt.Fprintf(tw, "\tname\t%s\t%s\t\n", r.Name, cand.Name)
		fmt.Fprintf(tw, "\tsex\t%s\t%s\t\n", r.Sex, cand.Sex)
		fmt.Fprintf(tw, "\tbirth date\t%s\t%s\t\n", r.Birth, cand.Birth)
		fmt.Fprintf(tw, "\tID\t%s\t%s\t\n", r.IDNumber, cand.IDNumber)
		fmt.Fprintf(tw, "\thousehold\t\t%s\t\n", cand.Household)
		for _, t := range it.Terms {
			fmt.Fprintf(tw, "\t  %s\t%s\t%+.2f bits\t\n", t.Comparison, t.Level, t.Weight)
		}
		tw.Flush()
		fmt.Fprintln(c.out)
	}
	fmt.Fprintln(c.out, "decide with --accept SOURCE:KEY or --reject SOURCE:KEY")
	return nil
}
