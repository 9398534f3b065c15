package alerts

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"safetynet/ingest"
	"safetynet/match"
	"safetynet/store"
)

// TestAlertNumbersCarryOn: a store whose alerts were numbered in Go, with
// alert_seq left at 1, numbers its next alert after the highest one.
func TestAlertNumbersCarryOn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	db, err := store.Open(ctx, path, ingest.Migrations(), match.Migrations(), migrationsBefore(t, 9))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{3, 40} {
		if _, err := db.ExecContext(ctx, `INSERT INTO alerts (alert_id, rule_id, subject, severity, status, first_seen, last_seen, due_at, reason)
			VALUES (?, 'discovery', 'person:' || ?, 'high', 'new', now(), now(), now(), 'r')`, id, id); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db, err = store.Open(ctx, path, ingest.Migrations(), match.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	cases := []Case{
		{RuleID: "discovery", IDNumber: "110101199003074518", Severity: "high", Reason: "r"},
		{RuleID: "discovery", IDNumber: "110101199003075555", Severity: "low", Reason: "r", Evidence: []Evidence{{Source: "medins", RecordID: "S1"}}},
		{RuleID: "discovery", IDNumber: "110101199003075555", Severity: "critical", Reason: "r", Evidence: []Evidence{{Source: "health", RecordID: "H1"}}},
	}
	rep := &Report{}
	if err := db.Tx(ctx, func(conn *sql.Conn) error { return record(ctx, conn, cases, at, at, rep) }); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT alert_id, severity, (SELECT count(*) FROM alert_evidence e WHERE e.alert_id = a.alert_id)
		FROM alerts a WHERE alert_id > 40 ORDER BY alert_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][3]any
	for rows.Next() {
		var id, n int64
		var sev string
		rows.Scan(&id, &sev, &n)
		got = append(got, [3]any{id, sev, n})
	}
	// The second case of a subject joins the first's alert: the higher
	// severity and both pieces of evidence.
	want := [][3]any{{int64(41), "high", int64(0)}, {int64(42), "critical", int64(2)}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("new alerts %v, want %v", got, want)
	}
	if rep.Raised != 2 || rep.Refreshed != 1 {
		t.Errorf("report %+v, want 2 raised and 1 refreshed", rep)
	}
}

// TestRunReadsOnlyItsSubjects: what a run loads of the store's alerts is
// those of its own cases' rules and subjects, not every alert ever raised.
func TestRunReadsOnlyItsSubjects(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "", ingest.Migrations(), match.Migrations(), Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO alerts (alert_id, rule_id, subject, severity, status, first_seen, last_seen, due_at, reason, closed_at)
		SELECT nextval('alert_seq'), 'discovery', 'person:P' || i, 'high', CASE WHEN i % 2 = 0 THEN 'dismissed' ELSE 'new' END,
			now(), now(), now(), 'r', CASE WHEN i % 2 = 0 THEN now() END FROM range(5000) t(i)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO alert_evidence (alert_id, source, record_id, added_at) SELECT alert_id, 'medins', 'S' || alert_id, now() FROM alerts`); err != nil {
		t.Fatal(err)
	}
	cases := []Case{{RuleID: "discovery", IDNumber: "P7"}, {RuleID: "discovery", IDNumber: "P8"}, {RuleID: "serious_illness", IDNumber: "P9"}}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	state, err := knownFor(ctx, conn, cases)
	if err != nil {
		t.Fatal(err)
	}
	if len(state) != 2 || state["discovery|person:P7"] == nil || state["discovery|person:P8"] == nil {
		t.Fatalf("loaded %d subjects, want discovery's P7 and P8 only", len(state))
	}
	if k := state["discovery|person:P7"]; k.openID == 0 || len(k.evidence) != 1 {
		t.Errorf("P7's open alert: %+v", k)
	}
	if k := state["discovery|person:P8"]; k.dismissed.IsZero() || len(k.closedEv) != 1 {
		t.Errorf("P8's dismissal: %+v", k)
	}
}
