package analytics

import (
	"fmt"
	"strconv"
	"strings"
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
	in := sqlTuple(months)
	var with, parts []string
	if len(d.Signals) > 0 {
		with = append(with, fmt.Sprintf(`sig AS MATERIALIZED (
  SELECT DISTINCT g.person, g.month FROM (%s) g WHERE g.month IN %s)`, activeMonths(fmt.Sprintf("signal IN %s", sqlTuple(d.Signals)), "person"), in))
	}
	outside := d.Membership != InRegistry && len(d.Tiers) == 0 && d.SizeMin == nil && d.SizeMax == nil
	if d.OutOfPocket > 0 {
		if d.Membership != Outside {
			with = append(with, d.outOfPocketSQL("oop", d.Unit, in))
		}
		if outside {
			with = append(with, d.outOfPocketSQL("oop_person", Persons, in))
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
		with = append(with, d.outsideSQL(in)...)
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

// activeMonths are the rows of the signals view matching where, each
// once for every month (YYYY-MM) in whose 12 months to the month's end
// it falls: its own month and the eleven after it.
func activeMonths(where, cols string) string {
	return fmt.Sprintf(`SELECT %s, strftime(date_trunc('month', s."on") + to_months(t.k), '%%Y-%%m') AS month
    FROM signals s CROSS JOIN range(12) t(k) WHERE %s`, cols, where)
}

// outOfPocketSQL is the CTE name of the units (persons, or households:
// a person outside the registry is their own household) whose
// out-of-pocket costs in the 12 months to a month's end reach the amount.
func (d *Definition) outOfPocketSQL(name string, u Unit, in string) string {
	unit := "s.person"
	if u == Households {
		unit = "coalesce(s.household, s.person)"
	}
	return fmt.Sprintf(`%s AS MATERIALIZED (
  SELECT unit, month FROM (%s) g WHERE g.month IN %s
  GROUP BY unit, month HAVING sum(amount) >= %s)`, name, activeMonths("signal = 'out_of_pocket'", unit+" AS unit, s.amount"), in,
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
func (d *Definition) outsideSQL(in string) []string {
	w := append([]string{"true"}, d.staticWhere("s")...)
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
  WHERE month IN %s%s GROUP BY month, person)`, activeMonths(strings.Join(w, " AND "), "s.person, s.village, s.birth_year"), in, age),
		fmt.Sprintf(`members AS MATERIALIZED (
  SELECT DISTINCT r.month, r.person FROM registry_months r
  WHERE r.month IN %s AND r.person IN (SELECT person FROM outside))`, in),
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
