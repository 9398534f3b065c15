package alerts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"safetynet/store"
)

// Task is a visit a grid worker is asked to make.
type Task struct {
	TaskID, AlertID int64
	RuleID          string
	Severity        string
	Reason          string // what to check, and why, as stored (Chinese)
	Details         []byte // the alert's details, JSON: to word the reason in another language
	HouseholdID     string
	RegionCode      string
	GridCode        string
	Assignee        string // a named grid worker, when assigned
	Status          string // open, done, cancelled
	Outcome         string
	DueAt           time.Time
	Overdue         bool
}

const tasksQuery = `SELECT t.task_id, t.alert_id, a.rule_id, a.severity, a.reason, coalesce(a.household_id, ''), coalesce(a.region_code, ''),
	coalesce(t.grid_code, ''), coalesce(t.assignee, ''), t.status, coalesce(t.outcome, ''), t.due_at, t.status = 'open' AND t.due_at < now(),
	coalesce(a.details, '{}')
	FROM tasks t JOIN alerts a USING (alert_id)`

// WorkerTasks lists a grid worker's tasks: their grid's and those
// assigned to them by name; open ones first, the most urgent first.
func WorkerTasks(ctx context.Context, db *store.DB, grid, worker string) ([]Task, error) {
	return queryTasks(ctx, db, tasksQuery+` WHERE (t.grid_code = ? AND ? <> '') OR t.assignee = ?
		ORDER BY t.status <> 'open', t.due_at, t.task_id LIMIT 500`, grid, grid, worker)
}

// QueueTasks lists the open tasks of a region (by the alert's region code
// prefix), the township queue (no grid, no one assigned) first.
func QueueTasks(ctx context.Context, db *store.DB, regionPrefix string) ([]Task, error) {
	return queryTasks(ctx, db, tasksQuery+` WHERE t.status = 'open' AND starts_with(coalesce(a.region_code, ''), ?)
		ORDER BY t.grid_code IS NOT NULL OR t.assignee IS NOT NULL, t.due_at, t.task_id LIMIT 1000`, regionPrefix)
}

func queryTasks(ctx context.Context, db *store.DB, q string, args ...any) ([]Task, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("alerts: tasks: %w", err)
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

// Assign gives an open task to a named grid worker, with a history row on
// its alert.
func Assign(ctx context.Context, db *store.DB, taskID int64, worker, actor string, now time.Time) error {
	defer changed()
	return db.Tx(ctx, func(conn *sql.Conn) error {
		var alertID int64
		var status string
		err := conn.QueryRowContext(ctx, `SELECT t.alert_id, a.status FROM tasks t JOIN alerts a USING (alert_id) WHERE t.task_id = ? AND t.status = 'open'`, taskID).
			Scan(&alertID, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("alerts: task %d: %w", taskID, ErrNoOpenTask)
		}
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `UPDATE tasks SET assignee = ? WHERE task_id = ?`, worker, taskID); err != nil {
			return err
		}
		return addHistory(ctx, conn, Change{At: now, Actor: actor, From: status, To: status, Event: EventAssigned,
			Args: []string{strconv.FormatInt(taskID, 10), worker}}, alertID)
	})
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
	var details string
	err := rows.Scan(&t.TaskID, &t.AlertID, &t.RuleID, &t.Severity, &t.Reason, &t.HouseholdID, &t.RegionCode, &t.GridCode, &t.Assignee, &t.Status, &t.Outcome, &t.DueAt, &t.Overdue, &details)
	t.Details = []byte(details)
	return t, err
}
