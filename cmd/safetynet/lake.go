package main

import (
	"cmp"
	"fmt"
	"os"

	"safetynet/web"
)

const lakeUsage = `usage:
  safetynet lake --config FILE
      write the saved cohorts' counts over the latest analytic snapshot to the shared lake
      (analytics.lake): by township and month, counts below analytics.small_cell withheld,
      as Hive Parquet under this instance's name; a run does it after every snapshot`

func cmdLake(c *cli, args []string) error {
	fs := c.flags("lake")
	file := fs.String("config", "", "safetynet.yaml")
	as := fs.String("as", os.Getenv("USER"), "who exports, for the audit log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%s", lakeUsage)
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	if chain.Cfg.Analytics.Lake == "" {
		return fmt.Errorf("%s: analytics.lake is not set: name the shared folder the province's analysts read (docs/scale.md)", *file)
	}
	exp, err := chain.ExportLake(c.ctx)
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("files=%d counts=%d suppressed=%d removed=%d", exp.Files, exp.Rows, exp.Suppressed, exp.Removed)
	if err := web.Audit(c.ctx, chain.DB, cmp.Or(*as, "cli"), "lake export", "snapshot:"+exp.Snapshot, detail); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "snapshot %s → %s: %d files, %d counts (%d withheld), %d files no longer current removed\n",
		exp.Snapshot, chain.Cfg.Analytics.Lake, exp.Files, exp.Rows, exp.Suppressed, exp.Removed)
	return nil
}
