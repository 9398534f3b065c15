package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"safetynet/alerts"
	"safetynet/spreadsheet"
)

func cmdAlerts(c *cli, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return fmt.Errorf("usage: safetynet alerts list --config FILE [--format table|jsonl|csv]")
	}
	return cmdAlertsList(c, args[1:])
}

func cmdAlertsList(c *cli, args []string) error {
	ctx := c.ctx
	fs := c.flags("alerts list")
	file := fs.String("config", "", "safetynet.yaml")
	format := fs.String("format", "table", "table, jsonl or csv")
	rule := fs.String("rule", "", "only this rule")
	status := fs.String("status", "", "only this status")
	if err := fs.Parse(args); err != nil {
		return err
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	cfg := chain.Cfg
	list, err := alerts.List(ctx, chain.DB, alerts.Filter{Rule: *rule, Status: *status})
	if err != nil {
		return err
	}
	switch *format {
	case "jsonl":
		enc := json.NewEncoder(c.out)
		enc.SetEscapeHTML(false)
		for _, a := range list {
			if a.Evidence == nil {
				a.Evidence = []alerts.Evidence{}
			}
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
	case "csv":
		w := spreadsheet.NewWriter(c.out)
		w.Write([]string{"alert_id", "rule_id", "severity", "status", "household_id", "id_number", "region_code", "first_seen", "due_at", "overdue", "reason", "details", "evidence"})
		for _, a := range list {
			var ev []string
			for _, e := range a.Evidence {
				ev = append(ev, e.Source+":"+e.RecordID)
			}
			w.Write([]string{fmt.Sprint(a.AlertID), a.RuleID, a.Severity, a.Status, a.HouseholdID, a.IDNumber, a.RegionCode,
				a.FirstSeen.Format(time.RFC3339), a.DueAt.Format(time.RFC3339), fmt.Sprint(a.Overdue), a.Reason, string(a.Details), strings.Join(ev, " ")})
		}
		w.Flush()
		return w.Error()
	case "table":
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRULE\tSEVERITY\tSTATUS\tSUBJECT\tREGION\tDUE\tREASON")
		for _, a := range list {
			subject := a.HouseholdID
			if subject == "" {
				subject = "person " + a.IDNumber
			}
			due := a.DueAt.In(cfg.Location).Format("2006-01-02 15:04")
			if a.Overdue {
				due += " OVERDUE"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.AlertID, a.RuleID, a.Severity, a.Status, subject, a.RegionCode, due, a.Reason)
		}
		return tw.Flush()
	default:
		return fmt.Errorf("--format %q: want table, jsonl or csv", *format)
	}
	return nil
}
