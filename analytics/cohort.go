package analytics

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
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

func sqlTuple(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = sqlString(s)
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}
