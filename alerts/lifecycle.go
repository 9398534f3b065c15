package alerts

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"safetynet/store"
)

// Statuses an alert can be in; the first three are open.
const (
	StatusNew        = "new"
	StatusDispatched = "dispatched"
	StatusVisited    = "visited"
	StatusResolved   = "resolved"
	StatusDismissed  = "dismissed"
)

// DismissQuiet is how long a dismissed alert stays quiet unless evidence
// of another kind arrives or its severity rises.
const DismissQuiet = 90 * 24 * time.Hour

// known is what the store already holds for one (rule, subject).
type known struct {
	openID     int64
	openSev    string
	firstSeen  time.Time
	evidence   map[Evidence]bool // of the open alert
	closedEv   map[Evidence]bool // of every closed alert
	closedSrc  map[string]bool
	dismissed  time.Time // latest dismissal
	dismissSev string
}

const loadKnown = `SELECT a.alert_id, a.rule_id, a.subject, a.severity, a.status, a.first_seen, a.closed_at, e.source, e.record_id
FROM alerts a LEFT JOIN alert_evidence e USING (alert_id) ORDER BY a.alert_id`

func isOpen(status string) bool {
	return status == StatusNew || status == StatusDispatched || status == StatusVisited
}

// record applies the lifecycle to the cases found as of asOf, at the time
// at: one open alert per rule and subject; refiring adds evidence and
// moves last_seen; a closed alert's evidence does not raise it again; a
// dismissal keeps it quiet. The SLA runs from at, when safetynet raised
// the alert, whatever day a back-filled run's evidence is as of.
func record(ctx context.Context, conn *sql.Conn, cases []Case, asOf, at time.Time, rep *Report) error {
	state := map[string]*known{}
	rows, err := conn.QueryContext(ctx, loadKnown)
	if err != nil {
		return fmt.Errorf("alerts: load: %w", err)
	}
	var nextID int64 = 1
	for rows.Next() {
		var id int64
		var rule, subject, sev, status string
		var first time.Time
		var closed sql.NullTime
		var src, rec sql.NullString
		if err := rows.Scan(&id, &rule, &subject, &sev, &status, &first, &closed, &src, &rec); err != nil {
			rows.Close()
			return err
		}
		if id >= nextID {
			nextID = id + 1
		}
		k := state[rule+"|"+subject]
		if k == nil {
			k = &known{evidence: map[Evidence]bool{}, closedEv: map[Evidence]bool{}, closedSrc: map[string]bool{}}
			state[rule+"|"+subject] = k
		}
		ev := Evidence{Source: src.String, RecordID: rec.String}
		if isOpen(status) {
			k.openID, k.openSev, k.firstSeen = id, sev, first
			if src.Valid {
				k.evidence[ev] = true
			}
			continue
		}
		if src.Valid {
			k.closedEv[ev] = true
			k.closedSrc[ev.Source] = true
		}
		if status == StatusDismissed && closed.Valid && closed.Time.After(k.dismissed) {
			k.dismissed, k.dismissSev = closed.Time, sev
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	newAlerts, err := store.NewColumnAppender(conn, "alerts", []string{"alert_id", "rule_id", "subject", "severity", "status", "household_id",
		"id_number", "region_code", "first_seen", "last_seen", "due_at", "reason", "details", "evidence_as_of"})
	if err != nil {
		return err
	}
	evidence, err := store.NewAppender(conn, "alert_evidence")
	if err != nil {
		return err
	}
	history, err := store.NewAppender(conn, "alert_history")
	if err != nil {
		return err
	}
	type refresh struct {
		id  int64
		sev string
		due time.Time
	}
	var refreshes []refresh
	for i := range cases {
		c := &cases[i]
		key := c.RuleID + "|" + c.Subject()
		k := state[key]
		if k != nil && k.openID > 0 {
			sev := k.openSev
			if SeverityRank[c.Severity] > SeverityRank[sev] {
				sev = c.Severity
			}
			refreshes = append(refreshes, refresh{id: k.openID, sev: sev, due: k.firstSeen.Add(SLA[sev])})
			for _, ev := range c.Evidence {
				if !k.evidence[ev] {
					k.evidence[ev] = true
					if err := evidence.AppendRow(k.openID, ev.Source, ev.RecordID, at); err != nil {
						return err
					}
				}
			}
			rep.Refreshed++
			continue
		}
		if k != nil && quiet(k, c, at) {
			rep.Kept++
			continue
		}
		id := nextID
		nextID++
		var details any
		if c.Details != "" {
			details = c.Details
		}
		if err := newAlerts.AppendRow(id, c.RuleID, c.Subject(), c.Severity, StatusNew, nullable(c.HouseholdID), nullable(c.IDNumber),
			nullable(c.RegionCode), at, at, at.Add(SLA[c.Severity]), c.Reason, details, asOfDate(asOf)); err != nil {
			return fmt.Errorf("alerts: store %s: %w", key, err)
		}
		seen := map[Evidence]bool{}
		for _, ev := range c.Evidence {
			if seen[ev] {
				continue
			}
			seen[ev] = true
			if err := evidence.AppendRow(id, ev.Source, ev.RecordID, at); err != nil {
				return err
			}
		}
		if err := history.AppendRow(id, at, "system", nil, StatusNew, nil, string(EventRaised), []any{c.RuleID}); err != nil {
			return err
		}
		if k == nil {
			k = &known{evidence: map[Evidence]bool{}, closedEv: map[Evidence]bool{}, closedSrc: map[string]bool{}}
			state[key] = k
		}
		k.openID, k.openSev, k.firstSeen, k.evidence = id, c.Severity, at, seen
		rep.Raised++
	}
	for _, a := range []interface{ Close() error }{newAlerts, evidence, history} {
		if err := a.Close(); err != nil {
			return fmt.Errorf("alerts: store: %w", err)
		}
	}
	if len(refreshes) == 0 {
		return nil
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _refresh (alert_id BIGINT, severity VARCHAR, due_at TIMESTAMPTZ)`); err != nil {
		return err
	}
	app, err := store.NewAppender(conn, "_refresh")
	if err != nil {
		return err
	}
	for _, r := range refreshes {
		if err := app.AppendRow(r.id, r.sev, r.due); err != nil {
			return err
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `UPDATE alerts SET last_seen = ?, severity = r.severity, due_at = least(alerts.due_at, r.due_at),
		evidence_as_of = greatest(alerts.evidence_as_of, ?::DATE) FROM _refresh r WHERE alerts.alert_id = r.alert_id`, at, asOfDate(asOf))
	if err != nil {
		return fmt.Errorf("alerts: refresh: %w", err)
	}
	_, err = conn.ExecContext(ctx, `DROP TABLE _refresh`)
	return err
}

// quiet says whether a case whose alert was closed stays silent: it does
// when it brings no evidence beyond the closed alerts', or when a recent
// dismissal covers it (no new kind of evidence, no higher severity).
func quiet(k *known, c *Case, at time.Time) bool {
	fresh, newKind := false, false
	for _, ev := range c.Evidence {
		if !k.closedEv[ev] {
			fresh = true
			if !k.closedSrc[ev.Source] {
				newKind = true
			}
		}
	}
	if !fresh && len(k.closedEv) > 0 {
		return true
	}
	if !k.dismissed.IsZero() && at.Sub(k.dismissed) < DismissQuiet {
		return !newKind && SeverityRank[c.Severity] <= SeverityRank[k.dismissSev]
	}
	return false
}

// asOfDate is the calendar day of an as-of time, as DuckDB stores a DATE.
func asOfDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
