package alerts

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"safetynet/config"
	"safetynet/i18n"
	"safetynet/store"
)

// Evidence names one source record behind an alert.
type Evidence struct {
	Source   string `json:"source"`
	RecordID string `json:"record_id"`
}

// Case is one row a rule's query returned: an alert to raise or refresh.
type Case struct {
	RuleID      string
	HouseholdID string
	IDNumber    string
	RegionCode  string
	Severity    string
	Reason      string
	Details     string // JSON
	Evidence    []Evidence
}

// Subject is what one open alert per rule is kept for: the household, or
// the person when outside the registry.
func (c *Case) Subject() string {
	if c.HouseholdID != "" {
		return "household:" + c.HouseholdID
	}
	return "person:" + c.IDNumber
}

// Evaluator runs the rule pack against the store.
type Evaluator struct {
	DB             *store.DB
	Pack           *Pack
	Standards      config.Standards
	SeriousIllness []string
}

// RuleResult is what one rule found, or why it failed.
type RuleResult struct {
	RuleID string
	Cases  int
	Err    error
	Took   time.Duration
}

// Report is what one evaluation did.
type Report struct {
	Rules                   []RuleResult
	Raised, Refreshed, Kept int           // Kept: cases quiet because already closed or dismissed
	Recording               time.Duration // the lifecycle: raising, refreshing and closing alerts
	Shared                  time.Duration // computing the views several rules read, once (shared_views.go)
}

// Failed lists the rules that failed.
func (r *Report) Failed() []RuleResult {
	var out []RuleResult
	for _, rr := range r.Rules {
		if rr.Err != nil {
			out = append(out, rr)
		}
	}
	return out
}

// Prepare creates the helpers every rule may use on conn: standard_of(region),
// is_serious(code) and the pack's views (hardship_signals), all temporary.
// The analytic snapshot calls it too, so its signals are the rules' own.
// Prepared names what Prepare defines, the time aside: the rule pack's
// shared views and the lists they read. The analytic snapshot computes
// whole again the months it would otherwise keep when this changes.
func (e *Evaluator) Prepared() string {
	h := sha256.New()
	for _, n := range slices.Sorted(maps.Keys(e.Pack.Views)) {
		fmt.Fprintf(h, "view %s\x00%s\x00", n, e.Pack.Views[n])
	}
	fmt.Fprintf(h, "serious %q\x00standard %v\x00", e.SeriousIllness, e.Standards.DefaultMonthly)
	for _, p := range slices.Sorted(maps.Keys(e.Standards.ByRegion)) {
		fmt.Fprintf(h, "%s %v\x00", p, e.Standards.ByRegion[p])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (e *Evaluator) Prepare(ctx context.Context, conn *sql.Conn, asOf time.Time) error {
	stmts := []string{
		"CREATE OR REPLACE TEMP MACRO standard_of(rc) AS (" + standardOf(e.Standards) + ")",
		"CREATE OR REPLACE TEMP MACRO is_serious(code) AS (" + seriousTest(e.SeriousIllness) + ")",
	}
	names := make([]string, 0, len(e.Pack.Views))
	for n := range e.Pack.Views {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		q, err := e.viewStatement(n, asOf)
		if err != nil {
			return err
		}
		stmts = append(stmts, q)
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("alerts: prepare: %w", err)
		}
	}
	return nil
}

// standardOf is standard_of's body: the monthly standard of the longest
// configured prefix of the region code, else the default. An expression
// for the same reason as seriousTest: a lookup was a subquery per row.
func standardOf(st config.Standards) string {
	prefixes := slices.Collect(maps.Keys(st.ByRegion))
	slices.SortFunc(prefixes, func(a, b string) int { // longest first; one order
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	if len(prefixes) == 0 {
		return fmt.Sprintf("%v::DOUBLE", st.DefaultMonthly)
	}
	var b strings.Builder
	b.WriteString("CASE")
	for _, p := range prefixes {
		fmt.Fprintf(&b, " WHEN starts_with(coalesce(rc, ''), %s) THEN %v::DOUBLE", store.Quote(p), st.ByRegion[p])
	}
	fmt.Fprintf(&b, " ELSE %v::DOUBLE END", st.DefaultMonthly)
	return b.String()
}

// seriousTest is is_serious's body: the code, without spaces and in
// capitals, cut to the length of each range's bounds, within one of the
// ranges ("C00-C97", "N18.5"). An expression, not a lookup in a table:
// DuckDB then filters a department's rows by it before joining them to
// their links (a subquery it joined after: 16 s against 1.3 s for a
// year of settlements at 5,000,000 persons).
func seriousTest(ranges []string) string {
	var or []string
	for _, c := range ranges {
		lo, hi, ok := strings.Cut(c, "-")
		if !ok {
			hi = lo
		}
		or = append(or, fmt.Sprintf("left(upper(replace(code, ' ', '')), %d) BETWEEN %s AND %s", len(lo), store.Quote(lo), store.Quote(hi)))
	}
	if len(or) == 0 {
		return "false"
	}
	return "code IS NOT NULL AND (" + strings.Join(or, " OR ") + ")"
}

// viewStatement creates the pack's view n as of a date.
func (e *Evaluator) viewStatement(n string, asOf time.Time) (string, error) {
	q, err := render(e.Pack.Views[n], nil, asOf)
	if err != nil {
		return "", fmt.Errorf("alerts: view %s: %w", n, err)
	}
	return fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS %s", n, q), nil
}

// caseColumns are what a rule's rows become; a rule may leave out all
// but household_id or id_number, and the rest fall back to the rule's own
// severity and title, no details and no evidence.
var caseColumns = []struct{ name, fallback string }{
	{"household_id", "NULL"}, {"id_number", "NULL"}, {"region_code", "NULL"},
	{"severity", ""}, {"reason", ""}, {"details", "NULL"}, {"evidence", "NULL"},
}

var lineInError = regexp.MustCompile(`\s+`)

// caseQuery wraps a rule's query so that it returns caseColumns in order.
func caseQuery(ctx context.Context, conn *sql.Conn, r *Rule, q string) (string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT * FROM ("+q+") LIMIT 0")
	if err != nil {
		return "", err
	}
	names, err := rows.Columns()
	rows.Close()
	if err != nil {
		return "", err
	}
	has := map[string]bool{}
	for _, n := range names {
		has[strings.ToLower(n)] = true
	}
	if !has["household_id"] && !has["id_number"] {
		return "", fmt.Errorf("the query returns neither household_id nor id_number (it returns %s)", strings.Join(names, ", "))
	}
	var cols []string
	for _, c := range caseColumns {
		expr := c.fallback
		switch {
		case has[c.name] && c.name == "evidence":
			expr = "to_json(evidence)"
		case has[c.name]:
			expr = `"` + c.name + `"`
		case c.name == "severity":
			expr = store.Quote(r.Severity)
		case c.name == "reason":
			expr = store.Quote(r.Title["zh"])
		}
		cols = append(cols, "CAST("+expr+" AS VARCHAR)")
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM (" + q + ") ORDER BY ALL", nil
}

// cases runs one rule and returns what it found.
func (e *Evaluator) cases(ctx context.Context, conn *sql.Conn, r *Rule, asOf time.Time) ([]Case, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	q, err := render(r.SQL, r.Params, asOf)
	if err != nil {
		return nil, err
	}
	q, err = caseQuery(ctx, conn, r, q)
	if err != nil {
		return nil, fmt.Errorf("%s", lineInError.ReplaceAllString(err.Error(), " "))
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s", lineInError.ReplaceAllString(err.Error(), " "))
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		var hh, id, region, sev, reason, details, ev sql.NullString
		if err := rows.Scan(&hh, &id, &region, &sev, &reason, &details, &ev); err != nil {
			return nil, err
		}
		c := Case{RuleID: r.ID, HouseholdID: hh.String, IDNumber: id.String, RegionCode: region.String,
			Severity: sev.String, Reason: reason.String, Details: details.String}
		if _, ok := SLA[c.Severity]; !ok {
			return nil, fmt.Errorf("severity %q is not one of critical, high, medium, low", c.Severity)
		}
		if c.HouseholdID == "" && c.IDNumber == "" {
			return nil, fmt.Errorf("a row has neither household_id nor id_number")
		}
		if ev.Valid {
			if err := json.Unmarshal([]byte(ev.String), &c.Evidence); err != nil {
				return nil, fmt.Errorf("evidence: %w", err)
			}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DryRun evaluates the enabled rules and returns their cases without
// writing anything.
func (e *Evaluator) DryRun(ctx context.Context, asOf time.Time) (map[string][]Case, *Report, error) {
	conn, err := e.DB.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	if err := e.Prepare(ctx, conn, asOf); err != nil {
		return nil, nil, err
	}
	found, rep := e.all(ctx, conn, asOf)
	return found, rep, nil
}

// all runs every enabled rule; a rule's failure is kept in the Report.
func (e *Evaluator) all(ctx context.Context, conn *sql.Conn, asOf time.Time) (map[string][]Case, *Report) {
	rep := &Report{}
	found := map[string][]Case{}
	t := time.Now()
	shared := e.shareViews(ctx, conn, asOf)
	defer e.unshareViews(ctx, conn, shared, asOf)
	rep.Shared = time.Since(t)
	for _, r := range e.Pack.Rules {
		if !r.Enabled {
			continue
		}
		t := time.Now()
		cs, err := e.cases(ctx, conn, r, asOf)
		if err != nil {
			err = fmt.Errorf("rule %s: %w", r.ID, err)
		}
		rep.Rules = append(rep.Rules, RuleResult{RuleID: r.ID, Cases: len(cs), Err: err, Took: time.Since(t)})
		found[r.ID] = cs
	}
	return found, rep
}

// Run evaluates the pack as of a date and records the alerts: new cases
// raise alerts, cases of an open alert refresh it. at is the time the
// evaluation counts as (first_seen, last_seen). A rule that fails is
// reported in the Report and the others still run: the rules run before
// the transaction that records their cases, so one rule's error cannot
// abort the others' work.
func (e *Evaluator) Run(ctx context.Context, asOf, at time.Time) (*Report, error) {
	conn, err := e.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := e.Prepare(ctx, conn, asOf); err != nil {
		return nil, err
	}
	found, rep := e.all(ctx, conn, asOf)
	for _, rr := range rep.Rules {
		if rr.Err != nil {
			ruleErrors.WithLabelValues(rr.RuleID).Inc()
		}
	}
	var all []Case
	for _, id := range e.Pack.IDs() {
		for _, c := range found[id] {
			// Stored in the default language, as the rule words it (the
			// query's own text when it has no wording).
			c.Reason = e.Pack.Reason(c.RuleID, c.Reason, []byte(c.Details), i18n.ZH)
			all = append(all, c)
		}
	}
	t := time.Now()
	err = store.InTx(ctx, conn, func(conn *sql.Conn) error {
		return record(ctx, conn, all, asOf, at, rep)
	})
	rep.Recording = time.Since(t)
	changed()
	if err != nil {
		return nil, err
	}
	return rep, nil
}
