package alerts

import (
	"context"
	"database/sql"
	"time"

	"safetynet/store"
)

// Task is a visit a grid worker is asked to make.
type Task struct {
	TaskID, AlertID int64
	RuleID          string
	Severity        string
	Reason          string // what to check, and why
	HouseholdID     string
	RegionCode      string
	GridCode        string
	Status          string // open, done, cancelled
	Outcome         string
	DueAt           time.Time
	Overdue         bool
}

const tasksQuery = `SELECT t.task_id, t.alert_id, a.rule_id, a.severity, a.reason, coalesce(a.household_id, ''), coalesce(a.region_code, ''),
	coalesce(t.grid_code, ''), t.status, coalesce(t.outcome, ''), t.due_at, t.status = 'open' AND t.due_at < now()
	FROM tasks t JOIN alerts a USING (alert_id)`

// GridTasks lists a grid's tasks: open ones first, the most urgent first.
func GridTasks(ctx context.Context, db *store.DB, grid string) ([]Task, error) {
	rows, err := db.QueryContext(ctx, tasksQuery+` WHERE t.grid_code = ? ORDER BY t.status <> 'open', t.due_at, t.task_id LIMIT 200`, grid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// GetTask returns one task, or sql.ErrNoRows.
func GetTask(ctx context.Context, db *store.DB, id int64) (*Task, error) {
	rows, err := db.QueryContext(ctx, tasksQuery+` WHERE t.task_id = ?`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, sql.ErrNoRows
	}
	t, err := scanTask(rows)
	return &t, err
}

func scanTask(rows *sql.Rows) (Task, error) {
	var t Task
	err := rows.Scan(&t.TaskID, &t.AlertID, &t.RuleID, &t.Severity, &t.Reason, &t.HouseholdID, &t.RegionCode, &t.GridCode, &t.Status, &t.Outcome, &t.DueAt, &t.Overdue)
	return t, err
}
