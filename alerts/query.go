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
	Reason      string          `json:"reason"`
	Details     json.RawMessage `json:"details"`
	Evidence    []Evidence      `json:"evidence"`
}

// Filter narrows a listing; empty fields match everything.
type Filter struct {
	Rule, Severity, Status string
	RegionPrefix           string
	Limit                  int // 0: no limit
}

const listAlerts = `SELECT a.alert_id, a.rule_id, a.severity, a.status, coalesce(a.household_id, ''), coalesce(a.id_number, ''),
	coalesce(a.region_code, ''), a.first_seen, a.last_seen, a.due_at,
	a.status IN ('new', 'dispatched', 'visited') AND a.due_at < now() AS overdue, a.reason, coalesce(a.details, 'null'),
	coalesce((SELECT CAST(to_json(list({'source': e.source, 'record_id': e.record_id} ORDER BY e.source, e.record_id)) AS VARCHAR)
	          FROM alert_evidence e WHERE e.alert_id = a.alert_id), '[]')
FROM alerts a
WHERE (? = '' OR a.rule_id = ?) AND (? = '' OR a.severity = ?) AND (? = '' OR a.status = ?)
  AND (? = '' OR starts_with(coalesce(a.region_code, ''), ?)) AND (? = 0 OR a.alert_id = ?)
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
	rows, err := db.QueryContext(ctx, q, f.Rule, f.Rule, f.Severity, f.Severity, f.Status, f.Status,
		f.RegionPrefix, f.RegionPrefix, id, id)
	if err != nil {
		return nil, fmt.Errorf("alerts: list: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var details, ev string
		if err := rows.Scan(&a.AlertID, &a.RuleID, &a.Severity, &a.Status, &a.HouseholdID, &a.IDNumber, &a.RegionCode,
			&a.FirstSeen, &a.LastSeen, &a.DueAt, &a.Overdue, &a.Reason, &details, &ev); err != nil {
			return nil, err
		}
		a.Details = json.RawMessage(details)
		if err := json.Unmarshal([]byte(ev), &a.Evidence); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
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
