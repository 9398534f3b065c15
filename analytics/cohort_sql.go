package analytics

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// unitsSQL is the cohort as rows (month, village, unit) in the given
// months: the query every count wraps.
//
// A filter that looks back over time (a signal or out-of-pocket costs in
// the 12 months to a month's end, an alert raised by then) is made once
// into a small set of (unit, month) pairs, and the registry's person-
// months are joined to it on equal keys: the snapshot's tens of millions
// of person-months are scanned once, never compared with each signal.
func (d *Definition) unitsSQL(months []string) string {
	if d.SQL != "" {
		col := "person"
		if d.Unit == Households {
			col = "household"
		}
		return fmt.Sprintf(`SELECT CAST(month AS VARCHAR) AS month, CAST(village AS VARCHAR) AS village, CAST(%s AS VARCHAR) AS unit
FROM (
%s
) c WHERE CAST(month AS VARCHAR) IN %s`, col, d.SQL, sqlTuple(months))
	}
	win := newWindow(months)
	in := win.in
	var with, parts []string
	if len(d.Signals) > 0 {
		with = append(with, fmt.Sprintf(`sig AS MATERIALIZED (
  SELECT DISTINCT g.person, g.month FROM (%s) g)`, win.activeMonths(fmt.Sprintf("signal IN %s", sqlTuple(d.Signals)), "person")))
	}
	outside := d.Membership != InRegistry && len(d.Tiers) == 0 && d.SizeMin == nil && d.SizeMax == nil
	if d.OutOfPocket > 0 {
		if d.Membership != Outside {
			with = append(with, d.outOfPocketSQL("oop", d.Unit, win))
		}
		if outside {
			with = append(with, d.outOfPocketSQL("oop_person", Persons, win))
		}
	}
	if d.hasAlertFilter() {
		with = append(with, fmt.Sprintf(`alerted AS MATERIALIZED (
  SELECT k, min(strftime(raised_at, '%%Y-%%m')) AS since FROM (
    SELECT person AS k, raised_at FROM alerts a WHERE person IS NOT NULL AND %[1]s
    UNION ALL SELECT household, raised_at FROM alerts a WHERE household IS NOT NULL AND %[1]s) GROUP BY k)`, d.alertWhere()))
	}
	if d.Membership != Outside {
		parts = append(parts, d.registrySQL(in))
	}
	if outside {
		with = append(with, d.outsideSQL(win)...)
		parts = append(parts, `SELECT o.month, o.village, o.person AS unit FROM outside o
WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.person = o.person AND m.month = o.month)`+d.lookBack("o", "oop_person", "o.person"))
	}
	if len(parts) == 0 {
		return `SELECT NULL::VARCHAR AS month, NULL::VARCHAR AS village, NULL::VARCHAR AS unit WHERE false`
	}
	body := strings.Join(parts, "\nUNION ALL\n")
	if len(with) == 0 {
		return body
	}
	return "WITH " + strings.Join(with, ",\n") + "\n" + body
}

// window is the months a query counts and, for each, the 12 months to
// its end that a look-back filter reads.
type window struct {
	in     string // the months, as an SQL tuple
	values string // (month, first month looked back at), as SQL VALUES
	from   string // the first month any look-back reads
	to     string // the last month
}

func newWindow(months []string) window {
	w := window{in: sqlTuple(months), to: months[len(months)-1]}
	rows := make([]string, len(months))
	for i, m := range months {
		t, _ := time.Parse("2006-01", m)
		since := t.AddDate(0, -11, 0).Format("2006-01")
		rows[i] = fmt.Sprintf("(%s, %s)", sqlString(m), sqlString(since))
		if i == 0 {
			w.from = since
		}
	}
	w.values = "(VALUES " + strings.Join(rows, ", ") + ")"
	return w
}

// activeMonths are the rows of the signals view matching where, each
// once for every month counted in whose 12 months to the month's end it
// falls. Only the signals partitions of those months are read.
func (w window) activeMonths(where, cols string) string {
	return fmt.Sprintf(`SELECT %s, t.month FROM signals s JOIN %s t(month, since) ON s.month BETWEEN t.since AND t.month
    WHERE s.month BETWEEN %s AND %s AND %s`, cols, w.values, sqlString(w.from), sqlString(w.to), where)
}

// outOfPocketSQL is the CTE name of the units (persons, or households:
// a person outside the registry is their own household) whose
// out-of-pocket costs in the 12 months to a month's end reach the amount.
func (d *Definition) outOfPocketSQL(name string, u Unit, win window) string {
	unit := "s.person"
	if u == Households {
		unit = "coalesce(s.household, s.person)"
	}
	return fmt.Sprintf(`%s AS MATERIALIZED (
  SELECT unit, month FROM (%s) g
  GROUP BY unit, month HAVING sum(amount) >= %s)`, name, win.activeMonths("signal = 'out_of_pocket'", unit+" AS unit, s.amount"),
		strconv.FormatFloat(d.OutOfPocket, 'f', -1, 64))
}

// lookBack joins rows of alias t (person: its person column) to the
// look-back sets the cohort asks for: oop names the out-of-pocket set
// and unit the column it is keyed by.
func (d *Definition) lookBack(t, oop, unit string) string {
	person := t + ".person"
	var w []string
	if len(d.Signals) > 0 {
		w = append(w, fmt.Sprintf("EXISTS (SELECT 1 FROM sig WHERE sig.person = %s AND sig.month = %s.month)", person, t))
	}
	if d.OutOfPocket > 0 {
		w = append(w, fmt.Sprintf("EXISTS (SELECT 1 FROM %[1]s x WHERE x.unit = %[2]s AND x.month = %[3]s.month)", oop, unit, t))
	}
	if d.hasAlertFilter() {
		household := t + ".household"
		if t == "o" { // outside the registry: the person's own alerts only
			household = "NULL"
		}
		w = append(w, fmt.Sprintf(`(EXISTS (SELECT 1 FROM alerted a WHERE a.k = %[1]s AND a.since <= %[3]s.month)
    OR EXISTS (SELECT 1 FROM alerted a WHERE a.k = %[2]s AND a.since <= %[3]s.month))`, person, household, t))
	}
	if len(w) == 0 {
		return ""
	}
	return "\n  AND " + strings.Join(w, "\n  AND ")
}

func (d *Definition) registrySQL(in string) string {
	unit := "r.person"
	if d.Unit == Households {
		unit = "r.household"
	}
	w := []string{"r.month IN " + in}
	w = append(w, d.staticWhere("r")...)
	if len(d.Tiers) > 0 {
		w = append(w, "r.tier IN "+sqlTuple(d.Tiers))
	}
	if d.AgeMin != nil {
		w = append(w, fmt.Sprintf("r.age >= %d", *d.AgeMin))
	}
	if d.AgeMax != nil {
		w = append(w, fmt.Sprintf("r.age <= %d", *d.AgeMax))
	}
	if d.SizeMin != nil {
		w = append(w, fmt.Sprintf("r.household_size >= %d", *d.SizeMin))
	}
	if d.SizeMax != nil {
		w = append(w, fmt.Sprintf("r.household_size <= %d", *d.SizeMax))
	}
	return fmt.Sprintf("SELECT r.month, r.village, %s AS unit FROM registry_months r\nWHERE %s", unit, strings.Join(w, "\n  AND ")) +
		d.lookBack("r", "oop", unit)
}

// outsideSQL are the CTEs of people with a hardship signal or a medical
// payment in the 12 months to a month's end (outside, one row a person
// and month), and those of them who were registry members in a month
// (members): the registry is read for these people only.
func (d *Definition) outsideSQL(win window) []string {
	w := append([]string{"true"}, d.staticWhere("s")...)
	switch {
	case len(d.Signals) > 0: // they must have one of these: read only those
		w = append(w, "s.signal IN "+sqlTuple(d.Signals))
	case d.OutOfPocket > 0: // they must have paid: read only payments
		w = append(w, "s.signal = 'out_of_pocket'")
	}
	age := ""
	if d.AgeMin != nil {
		age += fmt.Sprintf(" AND CAST(left(month, 4) AS INTEGER) - birth_year >= %d", *d.AgeMin)
	}
	if d.AgeMax != nil {
		age += fmt.Sprintf(" AND CAST(left(month, 4) AS INTEGER) - birth_year <= %d", *d.AgeMax)
	}
	return []string{
		fmt.Sprintf(`outside AS MATERIALIZED (
  SELECT month, person, min(village) AS village FROM (%s) g
  WHERE true%s GROUP BY month, person)`, win.activeMonths(strings.Join(w, " AND "), "s.person, s.village, s.birth_year"), age),
		fmt.Sprintf(`members AS MATERIALIZED (
  SELECT DISTINCT r.month, r.person FROM registry_months r
  WHERE r.month IN %s AND r.person IN (SELECT person FROM outside))`, win.in),
	}
}

// staticWhere are the filters that do not change with the month, on
// rows of alias t: region (also on the partition column, so that other
// counties' files are not opened) and sex.
func (d *Definition) staticWhere(t string) []string {
	var w []string
	if d.Region != "" {
		w = append(w, fmt.Sprintf("starts_with(%s.region, %s) AND starts_with(%s.village, %s)", t, sqlString(d.Region[:min(len(d.Region), countyDigits)]), t, sqlString(d.Region)))
	}
	if d.Sex != "" {
		w = append(w, fmt.Sprintf("%s.sex = %s", t, sqlString(d.Sex)))
	}
	return w
}

func (d *Definition) hasAlertFilter() bool {
	return len(d.AlertRules)+len(d.AlertStates)+len(d.Outcomes) > 0
}

// alertWhere filters the alerts view (alias a) by rule, state and outcome.
func (d *Definition) alertWhere() string {
	w := []string{"true"}
	if len(d.AlertRules) > 0 {
		w = append(w, "a.rule IN "+sqlTuple(d.AlertRules))
	}
	if len(d.AlertStates) > 0 {
		w = append(w, "a.status IN "+sqlTuple(d.AlertStates))
	}
	if len(d.Outcomes) > 0 {
		w = append(w, "a.outcome IN "+sqlTuple(d.Outcomes))
	}
	return strings.Join(w, " AND ")
}
