package alerts

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/store"
)

var escalated = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "safetynet_alerts_escalated_total",
	Help: "Open alerts that passed their due time and went to the county queue, by rule.",
}, []string{"rule"})

// Escalation notes the move in the alert's history; the state stays.

const escalate = `UPDATE alerts SET escalated_at = $1
WHERE status IN ('new', 'dispatched', 'visited') AND due_at < $1 AND escalated_at IS NULL
RETURNING alert_id, rule_id, status`

// Escalate moves every open alert past its due time to the county queue,
// once, with a history row, and counts it. It returns how many moved.
// The chain calls it after each evaluation and the server every minute,
// so an alert is escalated within a minute of its SLA running out.
func Escalate(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	defer changed()
	byRule := map[string]int{}
	n := 0
	err := db.Tx(ctx, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, escalate, now)
		if err != nil {
			return err
		}
		type moved struct {
			id           int64
			rule, status string
		}
		var ms []moved
		for rows.Next() {
			var m moved
			if err := rows.Scan(&m.id, &m.rule, &m.status); err != nil {
				rows.Close()
				return err
			}
			ms = append(ms, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ms) == 0 {
			return nil
		}
		history, err := store.NewAppender(conn, "alert_history")
		if err != nil {
			return err
		}
		for _, m := range ms {
			if err := history.AppendRow(m.id, now, "system", m.status, m.status, nil, string(EventEscalated), []any{}); err != nil {
				return err
			}
			byRule[m.rule]++
		}
		n = len(ms)
		return history.Close()
	})
	if err != nil {
		return 0, fmt.Errorf("alerts: escalate: %w", err)
	}
	for rule, k := range byRule {
		escalated.WithLabelValues(rule).Add(float64(k))
	}
	return n, nil
}
