package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"safetynet/i18n"
	"safetynet/ingest"
)

const quarantineUsage = `usage:
  safetynet quarantine list   --config FILE [--source S] [--released]
  safetynet quarantine show   --config FILE [--source S] [--batch N] [--file NAME] [--released] [--limit N]
  safetynet quarantine export --config FILE [--source S] [--batch N] [--file NAME] --out FIX.xlsx`

func cmdQuarantine(c *cli, args []string) error {
	ctx := c.ctx
	if len(args) == 0 {
		return fmt.Errorf("%s", quarantineUsage)
	}
	verb := args[0]
	fs := c.flags("quarantine " + verb)
	file := fs.String("config", "", "safetynet.yaml")
	var f ingest.QuarantineFilter
	fs.StringVar(&f.Source, "source", "", "only this source")
	fs.Int64Var(&f.Batch, "batch", 0, "only this batch")
	fs.StringVar(&f.File, "file", "", "only this file name, as the department sent it")
	fs.BoolVar(&f.Released, "released", false, "include rows settled by a fixed file sent again")
	fs.IntVar(&f.Limit, "limit", 200, "show: at most this many rows (0: all)")
	out := fs.String("out", "", "export: the workbook to write")
	lang := fs.String("lang", "zh", "export: the workbook's language, zh (the default, for the department) or en")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	db := chain.DB
	switch verb {
	case "list":
		files, err := ingest.QuarantinedFiles(ctx, db, f)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			fmt.Fprintln(c.out, "nothing in quarantine")
			return nil
		}
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BATCH\tSOURCE\tFILE\tINGESTED\tROWS\tKEPT\tRELEASED\tCOMMONEST REASONS")
		for _, q := range files {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", q.Batch, q.Source, q.File, q.At.In(chain.Cfg.Location).Format("2006-01-02 15:04"),
				q.Rows, q.Kept, q.Released, strings.Join(q.TopReasons, " | "))
		}
		tw.Flush()
		fmt.Fprintln(c.out, "\nSee the rows with `safetynet quarantine show --batch N`; hand them to the department with `safetynet quarantine export --batch N --out fix.xlsx`.")
		return nil
	case "show":
		rows, err := ingest.QuarantinedRows(ctx, db, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BATCH\tFILE\tSHEET\tLINE\tCOLUMN\tVALUE\tROW\tREASON")
		for _, r := range rows {
			state := "not stored"
			if r.Kept {
				state = "stored"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.Batch, r.File, r.Sheet, r.Line, r.Col, clip(r.Raw, 40), state, r.Reason)
		}
		tw.Flush()
		if f.Limit > 0 && len(rows) == f.Limit {
			fmt.Fprintf(c.out, "\n(first %d rows; --limit 0 shows all)\n", f.Limit)
		}
		return nil
	case "export":
		if *out == "" {
			return fmt.Errorf("export needs --out FILE.xlsx")
		}
		f.Limit = 0
		rows, err := ingest.QuarantinedRows(ctx, db, f)
		if err != nil {
			return err
		}
		w, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := ingest.WriteQuarantineXLSX(w, rows, i18n.Parse(*lang)); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "wrote %d rows to %s: send it to the department; when they send the fixed file again, its rows are released\n", len(rows), *out)
		return nil
	}
	return fmt.Errorf("unknown verb %q\n%s", verb, quarantineUsage)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
