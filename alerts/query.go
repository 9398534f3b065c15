package alerts

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"safetynet/store"
)

// Alert is an alert as operators, tasks and exports see it.
type Alert struct {
	AlertID     int64           `json:"alert_id"`
	RuleID      string          `json:"rule_id"`
	Severity    string          `json:"severity"`
	Status      string          `json:"status"`
	HouseholdID string          `json:"household_id"`
	IDNumber    string          `json:"id_number"`
	RegionCode  string          `json:"region_code"`
	FirstSeen   time.Time       `json:"first_seen"`
	LastSeen    time.Time       `json:"last_seen"`
	DueAt       time.Time       `json:"due_at"`
	Overdue     bool            `json:"overdue"`
	EscalatedAt *time.Time      `json:"escalated_at,omitempty"` // to the county queue`
	Reason      string          `json:"reason"`
	Details     json.RawMessage `json:"details"`
	Evidence    []Evidence      `json:"evidence"`
}

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
}

// Dues and Queues are the values Filter.Due and Filter.Queue accept.
var (
	Dues   = []string{"overdue", "24h", "7d"}
	Queues = []string{"county"}
)

// where is the filter as SQL over alerts a; now is the time "overdue" is
// counted from.
const where = `(? = '' OR a.rule_id = ?) AND (? = '' OR a.severity = ?) AND (? = '' OR a.status = ?)
  AND (? = '' OR starts_with(coalesce(a.region_code, ''), ?)) AND (? = 0 OR a.alert_id = ?)
  AND (? = '' OR (a.status IN ('new', 'dispatched', 'visited') AND CASE ?
        WHEN 'overdue' THEN a.due_at < ?::TIMESTAMPTZ
        WHEN '24h' THEN a.due_at < ?::TIMESTAMPTZ + INTERVAL 1 DAY
        WHEN '7d' THEN a.due_at < ?::TIMESTAMPTZ + INTERVAL 7 DAY END))
  AND (? = '' OR (a.status IN ('new', 'dispatched', 'visited') AND a.escalated_at IS NOT NULL))
  AND (NOT ? OR (a.status IN ('new', 'dispatched', 'visited') AND (a.severity = 'critical' OR a.due_at < ?::TIMESTAMPTZ)))`

func (f Filter) args(id int64, now time.Time) []any {
	return []any{f.Rule, f.Rule, f.Severity, f.Severity, f.Status, f.Status, f.RegionPrefix, f.RegionPrefix, id, id,
		f.Due, f.Due, now, now, now, f.Queue, f.Notable, now}
}

// Valid says what is wrong with a filter a person typed, if anything.
func (f Filter) Valid() error {
	in := func(v string, vs []string) bool {
		for _, x := range vs {
			if v == x {
				return true
			}
		}
		return v == ""
	}
	switch {
	case !in(f.Due, Dues):
		return fmt.Errorf("due %q is not one of %s", f.Due, strings.Join(Dues, ", "))
	case !in(f.Queue, Queues):
		return fmt.Errorf("queue %q is not one of %s", f.Queue, strings.Join(Queues, ", "))
	}
	return nil
}

const listAlerts = `SELECT a.alert_id, a.rule_id, a.severity, a.status, coalesce(a.household_id, ''), coalesce(a.id_number, ''),
	coalesce(a.region_code, ''), a.first_seen, a.last_seen, a.due_at,
	a.status IN ('new', 'dispatched', 'visited') AND a.due_at < ?::TIMESTAMPTZ AS overdue, a.escalated_at, a.reason, coalesce(a.details, 'null'),
	coalesce((SELECT CAST(to_json(list({'source': e.source, 'record_id': e.record_id} ORDER BY e.source, e.record_id)) AS VARCHAR)
	          FROM alert_evidence e WHERE e.alert_id = a.alert_id), '[]')
FROM alerts a
WHERE ` + where + `
ORDER BY overdue DESC, CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, a.due_at, a.alert_id`

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
	q := listAlerts
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	now := time.Now()
	rows, err := db.QueryContext(ctx, q, append([]any{now}, f.args(id, now)...)...)
	if err != nil {
		return nil, fmt.Errorf("alerts: list: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var details, ev string
		var esc sql.NullTime
		if err := rows.Scan(&a.AlertID, &a.RuleID, &a.Severity, &a.Status, &a.HouseholdID, &a.IDNumber, &a.RegionCode,
			&a.FirstSeen, &a.LastSeen, &a.DueAt, &a.Overdue, &esc, &a.Reason, &details, &ev); err != nil {
			return nil, err
		}
		if esc.Valid {
			a.EscalatedAt = &esc.Time
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
// office sees where its alerts are.
func Counts(ctx context.Context, db *store.DB, f Filter) (byRule, byRegion []Count, err error) {
	level := 6
	switch n := len(f.RegionPrefix); {
	case n >= 9:
		level = 12
	case n >= 6:
		level = 9
	}
	now := time.Now()
	for _, g := range []struct {
		key string
		out *[]Count
	}{{"a.rule_id", &byRule}, {fmt.Sprintf("left(coalesce(a.region_code, ''), %d)", level), &byRegion}} {
		q := `SELECT ` + g.key + ` AS k, count(*), count(*) FILTER (WHERE a.status IN ('new', 'dispatched', 'visited')),
			count(*) FILTER (WHERE a.status IN ('new', 'dispatched', 'visited') AND a.due_at < ?::TIMESTAMPTZ)
			FROM alerts a WHERE ` + where + ` GROUP BY k ORDER BY 4 DESC, 3 DESC, k`
		rows, err := db.QueryContext(ctx, q, append([]any{now}, f.args(0, now)...)...)
		if err != nil {
			return nil, nil, fmt.Errorf("alerts: counts: %w", err)
		}
		for rows.Next() {
			var c Count
			if err := rows.Scan(&c.Key, &c.Total, &c.Open, &c.Overdue); err != nil {
				rows.Close()
				return nil, nil, err
			}
			*g.out = append(*g.out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return byRule, byRegion, nil
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
