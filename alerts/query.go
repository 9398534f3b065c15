package alerts

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"safetynet/store"
)

// Alert is an alert as operators, tasks and exports see it.
type Alert struct {
	AlertID     int64     `json:"alert_id"`
	RuleID      string    `json:"rule_id"`
	Severity    string    `json:"severity"`
	Status      string    `json:"status"`
	HouseholdID string    `json:"household_id"`
	IDNumber    string    `json:"id_number"`
	RegionCode  string    `json:"region_code"`
	FirstSeen   time.Time `json:"first_seen"`
	// EvidenceAsOf is the day the alert's evidence counts up to: the run's
	// as-of date, earlier than FirstSeen for a back-filled run.
	EvidenceAsOf string          `json:"evidence_as_of,omitempty"`
	LastSeen     time.Time       `json:"last_seen"`
	DueAt        time.Time       `json:"due_at"`
	Overdue      bool            `json:"overdue"`
	EscalatedAt  *time.Time      `json:"escalated_at,omitempty"` // to the county queue`
	Reason       string          `json:"reason"`
	Details      json.RawMessage `json:"details"`
	Evidence     []Evidence      `json:"evidence"`
}

// StatusOpen in a filter stands for the three open states.
const StatusOpen = "open"

// open is an alert a being in one of them, in SQL.
const open = "a.status IN ('new', 'dispatched', 'visited')"

// Filter narrows a listing; empty fields match everything.
type Filter struct {
	Rule, Severity, Status string
	RegionPrefix           string
	// Due: "overdue" (open, past due), "24h" or "7d" (open, due within),
	// or "" for any.
	Due string
	// Queue: "county" for the open alerts escalated to the county queue.
	Queue string
	// Notable: only the open alerts worth pushing to people's phones and
	// pagers, the critical ones and those past due.
	Notable bool
	Limit   int // 0: no limit
	Offset  int // alerts skipped first, for paging
}

// Dues and Queues are the values Filter.Due and Filter.Queue accept.
var (
	Dues   = []string{"overdue", "24h", "7d"}
	Queues = []string{"county"}
)

// where is the filter as SQL over alerts a, with only the conditions the
// filter sets (so DuckDB can push them into the scan); now is the time
// "overdue" is counted from.
func (f Filter) where(id int64, now time.Time) (string, []any) {
	conds := []string{"true"}
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Rule != "" {
		add("a.rule_id = ?", f.Rule)
	}
	if f.Severity != "" {
		add("a.severity = ?", f.Severity)
	}
	switch f.Status {
	case "":
	case StatusOpen:
		add(open)
	default:
		add("a.status = ?", f.Status)
	}
	if f.RegionPrefix != "" {
		add("starts_with(coalesce(a.region_code, ''), ?)", f.RegionPrefix)
	}
	if id != 0 {
		add("a.alert_id = ?", id)
	}
	switch f.Due {
	case "overdue":
		add(open+" AND a.due_at < ?::TIMESTAMPTZ", now)
	case "24h":
		add(open+" AND a.due_at < ?::TIMESTAMPTZ + INTERVAL 1 DAY", now)
	case "7d":
		add(open+" AND a.due_at < ?::TIMESTAMPTZ + INTERVAL 7 DAY", now)
	}
	if f.Queue != "" {
		add(open + " AND a.escalated_at IS NOT NULL")
	}
	if f.Notable {
		add(open+" AND (a.severity = 'critical' OR a.due_at < ?::TIMESTAMPTZ)", now)
	}
	return strings.Join(conds, " AND "), args
}

// Valid says what is wrong with a filter a person typed, if anything.
func (f Filter) Valid() error {
	switch {
	case f.Due != "" && !slices.Contains(Dues, f.Due):
		return fmt.Errorf("due %q is not one of %s", f.Due, strings.Join(Dues, ", "))
	case f.Queue != "" && !slices.Contains(Queues, f.Queue):
		return fmt.Errorf("queue %q is not one of %s", f.Queue, strings.Join(Queues, ", "))
	}
	return nil
}

// listAlerts picks the alerts first (top-N by the inbox order, on the
// sort keys only) and only then reads their text and gathers their
// evidence: doing that for every alert before the limit took seconds with
// a million alerts in the store.
const listAlerts = `WITH top AS (
	SELECT a.alert_id, a.rule_id, a.severity, a.status, coalesce(a.household_id, '') AS household_id, coalesce(a.id_number, '') AS id_number,
		coalesce(a.region_code, '') AS region_code, a.first_seen, a.last_seen, a.due_at, a.evidence_as_of,
		` + open + ` AND a.due_at < ?::TIMESTAMPTZ AS overdue, a.escalated_at, a.reason,
		coalesce(a.details, 'null') AS details,
		CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END AS sev_order
	FROM alerts a
	WHERE %s
	ORDER BY overdue DESC, sev_order, a.due_at, a.alert_id
	%s),
ev AS (
	SELECT alert_id, CAST(to_json(list({'source': e.source, 'record_id': e.record_id} ORDER BY e.source, e.record_id)) AS VARCHAR) AS evidence
	FROM alert_evidence e WHERE alert_id IN (SELECT alert_id FROM top) GROUP BY alert_id)
SELECT top.alert_id, rule_id, severity, status, household_id, id_number, region_code, first_seen, last_seen, due_at, evidence_as_of, overdue,
	escalated_at, reason, details, coalesce(ev.evidence, '[]')
FROM top LEFT JOIN ev USING (alert_id)
ORDER BY overdue DESC, sev_order, due_at, top.alert_id`

// List returns alerts, overdue first, then by severity and due time.
func List(ctx context.Context, db *store.DB, f Filter) ([]Alert, error) {
	return list(ctx, db, f, 0)
}

// Get returns one alert, or sql.ErrNoRows.
func Get(ctx context.Context, db *store.DB, id int64) (*Alert, error) {
	as, err := list(ctx, db, Filter{}, id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, sql.ErrNoRows
	}
	return &as[0], nil
}

func list(ctx context.Context, db *store.DB, f Filter, id int64) ([]Alert, error) {
	limit := ""
	if f.Limit > 0 {
		limit = fmt.Sprintf("LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	now := time.Now()
	where, args := f.where(id, now)
	q := fmt.Sprintf(listAlerts, where, limit)
	rows, err := db.QueryContext(ctx, q, append([]any{now}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("alerts: list: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var details, ev string
		var esc, asOf sql.NullTime
		if err := rows.Scan(&a.AlertID, &a.RuleID, &a.Severity, &a.Status, &a.HouseholdID, &a.IDNumber, &a.RegionCode,
			&a.FirstSeen, &a.LastSeen, &a.DueAt, &asOf, &a.Overdue, &esc, &a.Reason, &details, &ev); err != nil {
			return nil, err
		}
		if esc.Valid {
			a.EscalatedAt = &esc.Time
		}
		if asOf.Valid {
			a.EvidenceAsOf = asOf.Time.Format("2006-01-02")
		}
		a.Details = json.RawMessage(details)
		if err := json.Unmarshal([]byte(ev), &a.Evidence); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Count is how many alerts a filter finds in one group.
type Count struct {
	Key     string // a rule id or a region code prefix
	Total   int
	Open    int
	Overdue int
}

// Counts groups what a filter finds by rule and by region: the region
// one level below the filter's prefix (county, township, village), so an
// office sees where its alerts are. One scan, two groupings.
func Counts(ctx context.Context, db *store.DB, f Filter) (byRule, byRegion []Count, err error) {
	level := 6
	switch n := len(f.RegionPrefix); {
	case n >= 9:
		level = 12
	case n >= 6:
		level = 9
	}
	now := time.Now()
	where, args := f.where(0, now)
	q := fmt.Sprintf(`SELECT a.rule_id IS NOT NULL AND GROUPING(a.rule_id) = 0 AS by_rule,
		CASE WHEN GROUPING(a.rule_id) = 0 THEN a.rule_id ELSE left(coalesce(a.region_code, ''), %d) END AS k,
		count(*), count(*) FILTER (WHERE `+open+`),
		count(*) FILTER (WHERE `+open+` AND a.due_at < ?::TIMESTAMPTZ)
		FROM alerts a WHERE %s
		GROUP BY GROUPING SETS ((a.rule_id), (left(coalesce(a.region_code, ''), %d)))
		ORDER BY 1, 5 DESC, 4 DESC, 2`, level, where, level)
	rows, err := db.QueryContext(ctx, q, append([]any{now}, args...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("alerts: counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Count
		var isRule bool
		if err := rows.Scan(&isRule, &c.Key, &c.Total, &c.Open, &c.Overdue); err != nil {
			return nil, nil, err
		}
		if isRule {
			byRule = append(byRule, c)
		} else {
			byRegion = append(byRegion, c)
		}
	}
	return byRule, byRegion, rows.Err()
}

// Title is a rule's title in a language ("zh" or "en"), or its id.
func (p *Pack) Title(rule, lang string) string {
	for _, r := range p.Rules {
		if r.ID == rule {
			if t := r.Title[lang]; t != "" {
				return t
			}
		}
	}
	return strings.ReplaceAll(rule, "_", " ")
}
