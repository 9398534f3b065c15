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
	raising    *raising // the alert this run raises, before it has a number
}

// raising is a new alert of this run: its case, merged with any later case
// of the same rule and subject, and the evidence it starts with.
type raising struct {
	c        *Case
	severity string
	evidence []Evidence
	seen     map[Evidence]bool
}

// gained is evidence an open alert gains in this run.
type gained struct {
	alertID int64
	ev      Evidence
}

// refresh is what a run changes on an open alert that fires again.
type refresh struct {
	id  int64
	sev string
	due time.Time
}

// loadKnown reads what the store holds for the (rule, subject) pairs of
// this run's cases only (the _cases table): a run costs what its cases
// cost, however many alerts years of runs have left behind.
const loadKnown = `SELECT a.alert_id, a.rule_id, a.subject, a.severity, a.status, a.first_seen, a.closed_at, e.source, e.record_id
FROM alerts a SEMI JOIN _cases c ON c.rule_id = a.rule_id AND c.subject = a.subject
LEFT JOIN alert_evidence e USING (alert_id) ORDER BY a.alert_id`

// drawIDs takes alert numbers from alert_seq, in increasing order.
const drawIDs = `SELECT nextval('alert_seq') AS id FROM range(?) ORDER BY id`

const refreshAlerts = `UPDATE alerts SET last_seen = ?, severity = r.severity, due_at = least(alerts.due_at, r.due_at),
	evidence_as_of = greatest(alerts.evidence_as_of, ?::DATE) FROM _refresh r WHERE alerts.alert_id = r.alert_id`

func isOpen(status string) bool {
	return status == StatusNew || status == StatusDispatched || status == StatusVisited
}

// record applies the lifecycle to the cases found as of asOf, at the time
// at: one open alert per rule and subject; refiring adds evidence and
// moves last_seen; a closed alert's evidence does not raise it again; a
// dismissal keeps it quiet. The SLA runs from at, when safetynet raised
// the alert, whatever day a back-filled run's evidence is as of.
func record(ctx context.Context, conn *sql.Conn, cases []Case, asOf, at time.Time, rep *Report) error {
	state, err := knownFor(ctx, conn, cases)
	if err != nil {
		return err
	}
	var raised []*raising
	var refreshes []refresh
	var added []gained
	for i := range cases {
		c := &cases[i]
		key := c.RuleID + "|" + c.Subject()
		k := state[key]
		switch {
		case k != nil && k.raising != nil:
			// A second case of the same rule and subject in one run joins
			// the alert the first one raises.
			k.raising.merge(c)
			rep.Refreshed++
		case k != nil && k.openID > 0:
			sev := k.openSev
			if SeverityRank[c.Severity] > SeverityRank[sev] {
				sev = c.Severity
			}
			refreshes = append(refreshes, refresh{id: k.openID, sev: sev, due: k.firstSeen.Add(SLA[sev])})
			for _, ev := range c.Evidence {
				if !k.evidence[ev] {
					k.evidence[ev] = true
					added = append(added, gained{k.openID, ev})
				}
			}
			rep.Refreshed++
		case k != nil && quiet(k, c, at):
			rep.Kept++
		default:
			if k == nil {
				k = &known{}
				state[key] = k
			}
			k.raising = &raising{c: c, seen: map[Evidence]bool{}}
			k.raising.merge(c)
			raised = append(raised, k.raising)
			rep.Raised++
		}
	}
	if err := raise(ctx, conn, raised, asOf, at); err != nil {
		return err
	}
	if err := addEvidence(conn, added, at); err != nil {
		return err
	}
	return refreshOpen(ctx, conn, refreshes, asOf, at)
}

func (r *raising) merge(c *Case) {
	if SeverityRank[c.Severity] > SeverityRank[r.severity] {
		r.severity = c.Severity
	}
	for _, ev := range c.Evidence {
		if !r.seen[ev] {
			r.seen[ev] = true
			r.evidence = append(r.evidence, ev)
		}
	}
}

// knownFor loads the store's alerts of the cases' (rule, subject) pairs.
func knownFor(ctx context.Context, conn *sql.Conn, cases []Case) (map[string]*known, error) {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _cases (rule_id VARCHAR, subject VARCHAR)`); err != nil {
		return nil, err
	}
	defer conn.ExecContext(ctx, `DROP TABLE IF EXISTS _cases`)
	app, err := store.NewAppender(conn, "_cases")
	if err != nil {
		return nil, err
	}
	for i := range cases {
		if err := app.AppendRow(cases[i].RuleID, cases[i].Subject()); err != nil {
			app.Close()
			return nil, err
		}
	}
	if err := app.Close(); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, loadKnown)
	if err != nil {
		return nil, fmt.Errorf("alerts: load: %w", err)
	}
	defer rows.Close()
	state := map[string]*known{}
	for rows.Next() {
		var id int64
		var rule, subject, sev, status string
		var first time.Time
		var closed sql.NullTime
		var src, rec sql.NullString
		if err := rows.Scan(&id, &rule, &subject, &sev, &status, &first, &closed, &src, &rec); err != nil {
			return nil, err
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
	return state, rows.Err()
}

// raise stores the run's new alerts, numbered from alert_seq, with their
// evidence and the first line of their history.
func raise(ctx context.Context, conn *sql.Conn, raised []*raising, asOf, at time.Time) error {
	if len(raised) == 0 {
		return nil
	}
	ids, err := draw(ctx, conn, len(raised))
	if err != nil {
		return err
	}
	alerts, err := store.NewColumnAppender(conn, "alerts", []string{"alert_id", "rule_id", "subject", "severity", "status", "household_id",
		"id_number", "region_code", "first_seen", "last_seen", "due_at", "reason", "details", "evidence_as_of"})
	if err != nil {
		return err
	}
	evidence, err := store.NewColumnAppender(conn, "alert_evidence", []string{"alert_id", "source", "record_id", "added_at"})
	if err != nil {
		return err
	}
	history, err := store.NewColumnAppender(conn, "alert_history", []string{"alert_id", "changed_at", "actor", "from_status", "to_status", "note", "event", "args"})
	if err != nil {
		return err
	}
	for i, r := range raised {
		id, c := ids[i], r.c
		var details any
		if c.Details != "" {
			details = c.Details
		}
		if err := alerts.AppendRow(id, c.RuleID, c.Subject(), r.severity, StatusNew, nullable(c.HouseholdID), nullable(c.IDNumber),
			nullable(c.RegionCode), at, at, at.Add(SLA[r.severity]), c.Reason, details, asOfDate(asOf)); err != nil {
			return fmt.Errorf("alerts: store %s|%s: %w", c.RuleID, c.Subject(), err)
		}
		for _, ev := range r.evidence {
			if err := evidence.AppendRow(id, ev.Source, ev.RecordID, at); err != nil {
				return err
			}
		}
		if err := history.AppendRow(id, at, "system", nil, StatusNew, nil, string(EventRaised), []any{c.RuleID}); err != nil {
			return err
		}
	}
	for _, a := range []interface{ Close() error }{alerts, evidence, history} {
		if err := a.Close(); err != nil {
			return fmt.Errorf("alerts: store: %w", err)
		}
	}
	return nil
}

// draw takes n alert numbers from alert_seq.
func draw(ctx context.Context, conn *sql.Conn, n int) ([]int64, error) {
	rows, err := conn.QueryContext(ctx, drawIDs, n)
	if err != nil {
		return nil, fmt.Errorf("alerts: number new alerts: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("alerts: alert_seq gave %d numbers for %d new alerts", len(ids), n)
	}
	return ids, nil
}

// addEvidence stores the evidence open alerts gained in this run.
func addEvidence(conn *sql.Conn, added []gained, at time.Time) error {
	if len(added) == 0 {
		return nil
	}
	app, err := store.NewColumnAppender(conn, "alert_evidence", []string{"alert_id", "source", "record_id", "added_at"})
	if err != nil {
		return err
	}
	for _, g := range added {
		if err := app.AppendRow(g.alertID, g.ev.Source, g.ev.RecordID, at); err != nil {
			app.Close()
			return err
		}
	}
	return app.Close()
}

// refreshOpen moves last_seen, severity and the SLA of the open alerts
// that fired again.
func refreshOpen(ctx context.Context, conn *sql.Conn, refreshes []refresh, asOf, at time.Time) error {
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
			app.Close()
			return err
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, refreshAlerts, at, asOfDate(asOf)); err != nil {
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
