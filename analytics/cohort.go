package analytics

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"safetynet/alerts"
)

// Unit is what a cohort counts.
type Unit string

const (
	Persons    Unit = "person"
	Households Unit = "household" // a person outside the registry counts as a household of one
)

// Membership says whose rows a cohort reads: registry members, people
// outside the registry that the data shows (a hardship signal in the 12
// months to the month's end), or both.
type Membership string

const (
	InRegistry Membership = "registry"
	Outside    Membership = "outside"
	Both       Membership = "both"
)

// Signal kinds a cohort can ask for, as the snapshot's signals view has them.
var Signals = []string{"severe_disability", "serious_illness", "severe_mental_disorder", "dropout_child", "death"}

// Tiers of the registry, as the canonical tables have them.
var Tiers = []string{"dibao", "tekun", "edge", "expenditure", "monitor"}

// Period is the months a cohort is counted over: the last N months up to
// the snapshot's month (relative, so a saved cohort stays current), or
// fixed months From to To (YYYY-MM).
type Period struct {
	Last int    `json:"last,omitempty"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Definition is a cohort: the filters of the form, or SQL over the
// analyst views. Every filter left empty holds for everyone. Person
// filters of a household cohort ask for a member who passes them all.
type Definition struct {
	Unit        Unit       `json:"unit"`
	Membership  Membership `json:"membership"`
	Region      string     `json:"region,omitempty"` // a region-code prefix
	Tiers       []string   `json:"tiers,omitempty"`  // registry members only: setting it leaves out people outside
	Sex         string     `json:"sex,omitempty"`    // male, female
	AgeMin      *int       `json:"age_min,omitempty"`
	AgeMax      *int       `json:"age_max,omitempty"`
	SizeMin     *int       `json:"household_size_min,omitempty"`
	SizeMax     *int       `json:"household_size_max,omitempty"`
	Signals     []string   `json:"signals,omitempty"`       // any of them in the 12 months to the month's end
	OutOfPocket float64    `json:"out_of_pocket,omitempty"` // yuan at least in those 12 months (the household's for a household cohort)
	AlertRules  []string   `json:"alert_rules,omitempty"`   // an alert of one of these rules raised by the month's end
	AlertStates []string   `json:"alert_states,omitempty"`  // …in one of these states now
	Outcomes    []string   `json:"outcomes,omitempty"`      // …with one of these visit outcomes
	Period      Period     `json:"period"`
	// SQL, instead of the filters: a SELECT over the analyst views that
	// returns the columns month, village and person (or household).
	SQL string `json:"sql,omitempty"`
}

var monthForm = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// Check says what is wrong with a definition, in the words of the form.
func (d *Definition) Check() error {
	var errs []error
	if d.Unit != Persons && d.Unit != Households {
		errs = append(errs, fmt.Errorf("unit %q: count persons or households", d.Unit))
	}
	if d.SQL == "" && d.Membership != InRegistry && d.Membership != Outside && d.Membership != Both {
		errs = append(errs, fmt.Errorf("membership %q: registry, outside or both", d.Membership))
	}
	if !regionForm.MatchString(d.Region) {
		errs = append(errs, fmt.Errorf("region %q is not a region-code prefix (2 to 12 digits): pick it from the region tree", d.Region))
	}
	for _, l := range []struct {
		what        string
		got, allowd []string
	}{
		{"tier", d.Tiers, Tiers}, {"signal", d.Signals, Signals}, {"alert state", d.AlertStates, alertStates},
		{"visit outcome", d.Outcomes, alerts.Outcomes},
	} {
		for _, v := range l.got {
			if !slices.Contains(l.allowd, v) {
				errs = append(errs, fmt.Errorf("%s %q is not one of %s", l.what, v, strings.Join(l.allowd, ", ")))
			}
		}
	}
	for _, r := range d.AlertRules {
		if !ruleForm.MatchString(r) {
			errs = append(errs, fmt.Errorf("rule %q is not a rule id", r))
		}
	}
	if d.Sex != "" && d.Sex != "male" && d.Sex != "female" {
		errs = append(errs, fmt.Errorf("sex %q: male or female", d.Sex))
	}
	for _, p := range []*int{d.AgeMin, d.AgeMax, d.SizeMin, d.SizeMax} {
		if p != nil && (*p < 0 || *p > 150) {
			errs = append(errs, fmt.Errorf("age and household size are 0 to 150, not %d", *p))
		}
	}
	if d.OutOfPocket < 0 {
		errs = append(errs, errors.New("out-of-pocket is an amount of yuan, 0 or more"))
	}
	p := d.Period
	switch {
	case p.Last > 0 && (p.From != "" || p.To != ""):
		errs = append(errs, errors.New("period: the last N months, or from and to, not both"))
	case p.Last > 120:
		errs = append(errs, errors.New("period: at most the last 120 months"))
	case p.Last == 0 && !(monthForm.MatchString(p.From) && monthForm.MatchString(p.To) && p.From <= p.To):
		errs = append(errs, fmt.Errorf("period: from %q to %q: two months YYYY-MM, the first not after the second (or the last N months)", p.From, p.To))
	}
	return errors.Join(errs...)
}

var (
	ruleForm    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	alertStates = []string{alerts.StatusNew, alerts.StatusDispatched, alerts.StatusVisited, alerts.StatusResolved, alerts.StatusDismissed}
)

// Months are the period's months, oldest first; latest is the snapshot's month.
func (p Period) Months(latest string) []string {
	from, to := p.From, p.To
	if p.Last > 0 {
		end, _ := time.Parse("2006-01", latest)
		from, to = end.AddDate(0, 1-p.Last, 0).Format("2006-01"), latest
	}
	var out []string
	t, _ := time.Parse("2006-01", from)
	for ; t.Format("2006-01") <= to && len(out) < 240; t = t.AddDate(0, 1, 0) {
		out = append(out, t.Format("2006-01"))
	}
	return out
}

// unitsSQL is the cohort as rows (month, village, unit) in the given
// months: the query every count wraps.
func (d *Definition) unitsSQL(months []string) string {
	in := sqlList(months)
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
	var parts []string
	if d.Membership != Outside {
		parts = append(parts, d.registrySQL(months))
	}
	if d.Membership != InRegistry && len(d.Tiers) == 0 && d.SizeMin == nil && d.SizeMax == nil {
		parts = append(parts, d.outsideSQL(in))
	}
	if len(parts) == 0 {
		return `SELECT NULL::VARCHAR AS month, NULL::VARCHAR AS village, NULL::VARCHAR AS unit WHERE false`
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

// monthEnd is the first day after month m (a VARCHAR column), as a DATE.
const monthEnd = `CAST(strptime(%s || '-01', '%%Y-%%m-%%d') + INTERVAL 1 MONTH AS DATE)`

func (d *Definition) registrySQL(months []string) string {
	end := fmt.Sprintf(monthEnd, "r.month")
	unit, who := "r.person", "s.person = r.person"
	if d.Unit == Households {
		unit, who = "r.household", "s.household = r.household"
	}
	w := []string{"r.month IN " + sqlTuple(months)}
	w = append(w, d.commonWhere("r", end)...)
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
	if d.OutOfPocket > 0 {
		w = append(w, fmt.Sprintf(`(SELECT coalesce(sum(s.amount), 0) FROM signals s WHERE %s AND s.signal = 'out_of_pocket'
      AND s."on" < %s AND s."on" >= %s - INTERVAL 12 MONTH) >= %s`, who, end, end, strconv.FormatFloat(d.OutOfPocket, 'f', -1, 64)))
	}
	if d.hasAlertFilter() {
		w = append(w, fmt.Sprintf(`EXISTS (SELECT 1 FROM alerts a WHERE (a.person = r.person OR a.household = r.household) AND %s)`, d.alertWhere(end)))
	}
	return fmt.Sprintf("SELECT r.month, r.village, %s AS unit FROM registry_months r\nWHERE %s", unit, strings.Join(w, "\n  AND "))
}

// outsideSQL: people with a hardship signal or a medical payment in the
// 12 months to a month's end who were not registry members that month.
func (d *Definition) outsideSQL(in string) string {
	end := fmt.Sprintf(monthEnd, "m.month")
	w := []string{
		`s."on" < ` + end, `s."on" >= ` + end + ` - INTERVAL 12 MONTH`,
		`NOT EXISTS (SELECT 1 FROM registry_months r WHERE r.person = s.person AND r.month = m.month)`,
	}
	w = append(w, d.commonWhere("s", end)...)
	if d.AgeMin != nil {
		w = append(w, fmt.Sprintf("year(%s - INTERVAL 1 DAY) - s.birth_year >= %d", end, *d.AgeMin))
	}
	if d.AgeMax != nil {
		w = append(w, fmt.Sprintf("year(%s - INTERVAL 1 DAY) - s.birth_year <= %d", end, *d.AgeMax))
	}
	if d.OutOfPocket > 0 {
		w = append(w, fmt.Sprintf(`(SELECT coalesce(sum(o.amount), 0) FROM signals o WHERE o.person = s.person AND o.signal = 'out_of_pocket'
      AND o."on" < %s AND o."on" >= %s - INTERVAL 12 MONTH) >= %s`, end, end, strconv.FormatFloat(d.OutOfPocket, 'f', -1, 64)))
	}
	if d.hasAlertFilter() {
		w = append(w, fmt.Sprintf(`EXISTS (SELECT 1 FROM alerts a WHERE a.person = s.person AND %s)`, d.alertWhere(end)))
	}
	return fmt.Sprintf(`SELECT m.month, any_value(s.village) AS village, s.person AS unit
FROM unnest(%s) m(month) JOIN signals s ON true
WHERE %s
GROUP BY m.month, s.person`, in, strings.Join(w, "\n  AND "))
}

// commonWhere are the filters both kinds of rows have: region, sex and
// the signals (t is the rows' alias, their person column t.person).
func (d *Definition) commonWhere(t, end string) []string {
	var w []string
	if d.Region != "" {
		w = append(w, fmt.Sprintf("starts_with(%s.village, %s)", t, sqlString(d.Region)))
	}
	if d.Sex != "" {
		w = append(w, fmt.Sprintf("%s.sex = %s", t, sqlString(d.Sex)))
	}
	if len(d.Signals) > 0 {
		w = append(w, fmt.Sprintf(`EXISTS (SELECT 1 FROM signals g WHERE g.person = %s.person AND g.signal IN %s
      AND g."on" < %s AND g."on" >= %s - INTERVAL 12 MONTH)`, t, sqlTuple(d.Signals), end, end))
	}
	return w
}

func (d *Definition) hasAlertFilter() bool {
	return len(d.AlertRules)+len(d.AlertStates)+len(d.Outcomes) > 0
}

func (d *Definition) alertWhere(end string) string {
	w := []string{"a.raised_at < " + end}
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

func sqlTuple(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = sqlString(s)
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}
