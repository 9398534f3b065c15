package alerts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"safetynet/store"
)

// Action is a person's move on an alert.
type Action string

const (
	Dispatch Action = "dispatch" // new → dispatched: a visit task for the household's grid
	Visit    Action = "visit"    // dispatched → visited: the visit's outcome
	Resolve  Action = "resolve"  // visited → resolved
	Dismiss  Action = "dismiss"  // open → dismissed, with a reason; quiet for 90 days
	Reopen   Action = "reopen"   // resolved or dismissed → new
)

// Outcomes a visit can have.
var Outcomes = []string{"assisted_application", "already_receiving", "not_eligible", "not_found", "refused", "other"}

// Refusals an action can meet, each one the user can act on; callers
// tell them apart with errors.Is and say them in the user's language.
var (
	ErrTransition    = errors.New("not allowed from this state") // the alert's state does not allow the action
	ErrOpenTwin      = errors.New("the same rule has an open alert for this subject already")
	ErrNeedsReason   = errors.New("a dismissal needs a reason")
	ErrBadOutcome    = errors.New("not one of the visit outcomes")
	ErrNeedsNote     = errors.New(`the outcome "other" needs a note`)
	ErrNoAlert       = errors.New("no such alert")
	ErrUnknownAction = errors.New("not an action on alerts")
	ErrNoOpenTask    = errors.New("no such open task")
)

// from lists the states each action may start from.
var from = map[Action][]string{
	Dispatch: {StatusNew},
	Visit:    {StatusDispatched},
	Resolve:  {StatusVisited},
	Dismiss:  {StatusNew, StatusDispatched, StatusVisited},
	Reopen:   {StatusResolved, StatusDismissed},
}

var to = map[Action]string{Dispatch: StatusDispatched, Visit: StatusVisited, Resolve: StatusResolved, Dismiss: StatusDismissed, Reopen: StatusNew}

// Allowed lists the actions an alert in this state can take.
func Allowed(status string) []Action {
	var out []Action
	for _, a := range []Action{Dispatch, Visit, Resolve, Dismiss, Reopen} {
		for _, s := range from[a] {
			if s == status {
				out = append(out, a)
			}
		}
	}
	return out
}

// Move is one person's action on one alert.
type Move struct {
	AlertID int64
	Action  Action
	Actor   string
	Outcome string // a visit's: one of Outcomes
	Note    string // what the person wrote; a dismissal's reason
	// VisitedBy and VisitedOn are who visited and when, as a task sheet
	// says (the actor is who uploaded it).
	VisitedBy, VisitedOn string
	// Submission is the token of the form a visit comes from: the same
	// form sent again records nothing more.
	Submission string
	At         time.Time
}

// Act moves an alert on, in one transaction with its history row (who,
// when, from what to what, why). Dismissal needs a reason, a visit an
// outcome (and a note for "other"). Dispatching creates the visit task
// for the household's grid, or the township queue when it has none.
func Act(ctx context.Context, db *store.DB, m Move) error {
	alertID, action, actor, outcome, now := m.AlertID, m.Action, m.Actor, m.Outcome, m.At
	target, ok := to[action]
	if !ok {
		return fmt.Errorf("alerts: %q: %w", action, ErrUnknownAction)
	}
	note := strings.TrimSpace(m.Note)
	switch {
	case action == Dismiss && note == "":
		return fmt.Errorf("alerts: %w", ErrNeedsReason)
	case action == Visit && !validOutcome(outcome):
		return fmt.Errorf("alerts: outcome %q (want one of %s): %w", outcome, strings.Join(Outcomes, ", "), ErrBadOutcome)
	case action == Visit && outcome == "other" && note == "":
		return fmt.Errorf("alerts: %w", ErrNeedsNote)
	}
	var mv move // what the counts beside the inbox must take in
	defer func() { logChange(mv) }()
	return db.Tx(ctx, func(conn *sql.Conn) error {
		if m.Submission != "" {
			var seen int
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM tasks WHERE submission = ?`, m.Submission).Scan(&seen); err != nil {
				return err
			}
			if seen > 0 {
				return nil // recorded when it first came
			}
		}
		var status, rule, subject string
		var household sql.NullString
		var due time.Time
		err := conn.QueryRowContext(ctx, `SELECT status, rule_id, subject, household_id, due_at FROM alerts WHERE alert_id = ?`, alertID).
			Scan(&status, &rule, &subject, &household, &due)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("alerts: alert %d: %w", alertID, ErrNoAlert)
		}
		if err != nil {
			return err
		}
		allowed := false
		for _, s := range from[action] {
			allowed = allowed || s == status
		}
		if !allowed {
			return fmt.Errorf("alerts: %s alert %d: it is %s: %w", action, alertID, status, ErrTransition)
		}
		if action == Reopen {
			var other int
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE rule_id = ? AND subject = ? AND alert_id <> ? AND status IN ('new', 'dispatched', 'visited')`,
				rule, subject, alertID).Scan(&other); err != nil {
				return err
			}
			if other > 0 {
				return fmt.Errorf("alerts: reopen alert %d: %w", alertID, ErrOpenTwin)
			}
		}
		var closed any
		if target == StatusResolved || target == StatusDismissed {
			closed = now
		}
		if _, err := conn.ExecContext(ctx, `UPDATE alerts SET status = ?, closed_at = ? WHERE alert_id = ?`, target, closed, alertID); err != nil {
			return err
		}
		if action != Reopen { // which also moves the due time and the queue
			mv = move{from: status, to: target}
		}
		if action == Reopen {
			// A reopened alert starts its SLA again, out of the county queue.
			if _, err := conn.ExecContext(ctx, `UPDATE alerts SET due_at = ?::TIMESTAMPTZ + to_seconds(CASE severity
				WHEN 'critical' THEN ? WHEN 'high' THEN ? WHEN 'medium' THEN ? ELSE ? END), escalated_at = NULL WHERE alert_id = ?`,
				now, SLA["critical"].Seconds(), SLA["high"].Seconds(), SLA["medium"].Seconds(), SLA["low"].Seconds(), alertID); err != nil {
				return err
			}
		}
		var event Event
		var args []string
		if action == Visit {
			event, args = EventVisited, []string{outcome, m.VisitedBy, m.VisitedOn}
		}
		if err := addHistory(ctx, conn, Change{At: now, Actor: actor, From: status, To: target, Event: event, Args: args, Note: note}, alertID); err != nil {
			return err
		}
		switch action {
		case Dispatch:
			var grid sql.NullString
			if household.Valid {
				conn.QueryRowContext(ctx, `SELECT grid_code FROM households WHERE household_id = ?`, household.String).Scan(&grid)
			}
			_, err = conn.ExecContext(ctx, `INSERT INTO tasks (task_id, alert_id, grid_code, status, due_at, created_at)
				VALUES (nextval('task_seq'), ?, ?, 'open', ?, ?)`, alertID, nullable(grid.String), due, now)
		case Visit:
			_, err = conn.ExecContext(ctx, `UPDATE tasks SET status = 'done', outcome = ?, note = ?, done_at = ?, assignee = coalesce(assignee, ?), submission = ?
				WHERE alert_id = ? AND status = 'open'`, outcome, nullable(note), now, actor, nullable(m.Submission), alertID)
		case Dismiss, Reopen:
			_, err = conn.ExecContext(ctx, `UPDATE tasks SET status = 'cancelled', done_at = ? WHERE alert_id = ? AND status = 'open'`, now, alertID)
		}
		return err
	})
}

func validOutcome(o string) bool { return slices.Contains(Outcomes, o) }

// Change is one row of an alert's history.
type Change struct {
	At       time.Time
	Actor    string
	From, To string
	Event    Event    // what the system did, if it was the system
	Args     []string // the event's arguments: a rule, a task and worker, an outcome
	Note     string   // what the person wrote
}

// Event is a change the system made or recorded; its words are the
// catalogues' "h.<event>".
type Event string

const (
	EventRaised    Event = "raised"    // args: rule id
	EventEscalated Event = "escalated" // overdue: to the county queue
	EventAssigned  Event = "assigned"  // args: task id, grid worker
	EventVisited   Event = "visited"   // args: outcome, and who visited and when from a task sheet ("" otherwise)
)

// addHistory writes one change of an alert's history.
func addHistory(ctx context.Context, conn *sql.Conn, c Change, alertID int64) error {
	var event, args any
	if c.Event != "" {
		b, _ := json.Marshal(c.Args)
		event, args = string(c.Event), string(b)
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO alert_history (alert_id, changed_at, actor, from_status, to_status, note, event, args)
		VALUES (?, ?, ?, ?, ?, ?, ?, CAST(CAST(? AS JSON) AS VARCHAR[]))`, alertID, c.At, c.Actor, nullable(c.From), c.To, nullable(c.Note), event, args)
	return err
}

// History lists an alert's state changes, oldest first.
func History(ctx context.Context, db *store.DB, alertID int64) ([]Change, error) {
	rows, err := db.QueryContext(ctx, `SELECT changed_at, actor, coalesce(from_status, ''), to_status, coalesce(event, ''),
		coalesce(CAST(to_json(args) AS VARCHAR), '[]'), coalesce(note, '') FROM alert_history
		WHERE alert_id = ? ORDER BY changed_at, to_status`, alertID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var args string
		if err := rows.Scan(&c.At, &c.Actor, &c.From, &c.To, &c.Event, &args, &c.Note); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(args), &c.Args); err != nil {
			return nil, fmt.Errorf("alerts: history of %d: %w", alertID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
