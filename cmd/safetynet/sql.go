package main

import (
	"cmp"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"safetynet/analytics"
	"safetynet/spreadsheet"
	"safetynet/web"
)

const sqlUsage = `usage:
  safetynet sql --config FILE [--region PREFIX] [--limit N] [--timeout 30s] [--format table|csv] [--as NAME] "SELECT …"
      one SELECT over the analyst views of the latest analytic snapshot (registry_months, alerts;
      people as pseudonyms), in the townships under PREFIX; audited`

func cmdSQL(c *cli, args []string) error {
	ctx := c.ctx
	fs := c.flags("sql")
	file := fs.String("config", "", "safetynet.yaml")
	region := fs.String("region", "", "only the townships under this region-code prefix")
	lim := analytics.DefaultLimits
	fs.IntVar(&lim.Rows, "limit", lim.Rows, "rows shown at most")
	fs.DurationVar(&lim.Timeout, "timeout", lim.Timeout, "the query is stopped past this")
	format := fs.String("format", "table", "table or csv")
	as := fs.String("as", os.Getenv("USER"), "who runs the query, for the audit log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (*format != "table" && *format != "csv") {
		return fmt.Errorf("%s", sqlUsage)
	}
	query := fs.Arg(0)
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	q, err := analytics.Open(ctx, chain.Cfg.Analytics.Dir, *region, lim)
	if err != nil {
		return err
	}
	defer q.Close()
	res, err := q.Query(ctx, query)
	who := *as
	if who == "" {
		who = "cli"
	}
	outcome := "refused: " + fmt.Sprint(err)
	if err == nil {
		outcome = fmt.Sprintf("%d rows", len(res.Rows))
	}
	if aerr := web.Audit(ctx, chain.DB, who, "sql", "snapshot:"+q.Manifest.Name, fmt.Sprintf("region=%s %s: %s", *region, outcome, query)); aerr != nil {
		return fmt.Errorf("the query was not run: its audit entry could not be written: %w", aerr)
	}
	if err != nil {
		return err
	}
	switch *format {
	case "csv":
		w := spreadsheet.NewWriter(c.out)
		w.Write(res.Columns)
		w.WriteAll(res.Rows)
	default:
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(res.Columns, "\t"))
		for _, r := range res.Rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		tw.Flush()
	}
	if res.Truncated {
		fmt.Fprintf(c.errOut, "(the first %d rows; --limit N shows more)\n", lim.Rows)
	}
	return nil
}

const funnelUsage = `usage:
  safetynet funnel --config FILE [--region PREFIX] [--by all|rule|region|month] [--suppress K]
      the 政策找人 funnel of the latest analytic snapshot: alerts raised, dispatched, visited
      (within the SLA), helped to apply, and then enrolled or their benefit changed in a later month;
      counts below K (analytics.small_cell) show as <K and those that would give them away as ×
      (--suppress 0: exact counts, for record-level use)`

func cmdFunnel(c *cli, args []string) error {
	ctx := c.ctx
	fs := c.flags("funnel")
	file := fs.String("config", "", "safetynet.yaml")
	region := fs.String("region", "", "only the townships under this region-code prefix")
	by := fs.String("by", "rule", "group by all, rule, region (township) or month")
	as := fs.String("as", os.Getenv("USER"), "who asks, for the audit log")
	suppress := fs.Int("suppress", -1, "counts below this show as <K (default analytics.small_cell; 0: exact)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%s", funnelUsage)
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	q, err := analytics.Open(ctx, chain.Cfg.Analytics.Dir, *region, analytics.DefaultLimits)
	if err != nil {
		return err
	}
	defer q.Close()
	rows, err := q.Funnel(ctx, *by)
	if err != nil {
		return err
	}
	if *by != "all" { // the total beneath the groups, as suppression reckons with it
		total, err := q.Funnel(ctx, "all")
		if err != nil {
			return err
		}
		rows = append(rows, total...)
	}
	k := *suppress
	if k < 0 {
		k = chain.Cfg.Analytics.SmallCell
	}
	analytics.SuppressFunnel(rows, k)
	if err := web.Audit(ctx, chain.DB, cmp.Or(*as, "cli"), "funnel", "snapshot:"+q.Manifest.Name, fmt.Sprintf("region=%s by=%s suppress=%d", *region, *by, k)); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.ToUpper(*by)+"\tRAISED\tDISPATCHED\tVISITED\tIN TIME\tHELPED\tENROLLED OR CHANGED\tMEDIAN HOURS TO VISIT\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Group, analytics.ShowCount(r.Raised, k), analytics.ShowCount(r.Dispatched, k), analytics.ShowCount(r.Visited, k),
			analytics.ShowCount(r.InTime, k), analytics.ShowCount(r.Helped, k), analytics.ShowCount(r.Changed, k), analytics.ShowHours(r.MedianHoursToVisit))
	}
	tw.Flush()
	fmt.Fprintf(c.out, "\nsnapshot %s; ENROLLED OR CHANGED: a person found outside the registry is a member in a later month, or a household's tier or benefit changed after the alert\n", q.Manifest.Name)
	return nil
}
