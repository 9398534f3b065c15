package alerts

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"safetynet/config"
)

//go:embed rules.yaml
var builtin []byte

// Rule is one rule of the pack: data, not code.
type Rule struct {
	ID    string            `yaml:"id"`
	Title map[string]string `yaml:"title"` // zh, en
	// Reasons word why an alert was raised, per variant and language,
	// from its details (see Pack.Reason).
	Reasons  map[string]map[string]string `yaml:"reasons"`
	Severity string                       `yaml:"severity"`
	Params   map[string]any               `yaml:"params"`
	SQL      string                       `yaml:"sql"`
	Enabled  bool                         `yaml:"-"`
	Custom   bool                         `yaml:"-"` // added by the config, not shipped
	// Err is what is wrong with the rule as configured; a broken rule is
	// reported on every evaluation and the others still run.
	Err error `yaml:"-"`
}

// Pack is the rule pack with its shared views.
type Pack struct {
	Views map[string]string `yaml:"views"`
	// ViewWindows names a view's date column: the view may then be
	// computed once per evaluation for the rules reading it, as far back
	// as the longest of their window_days (shared_views.go).
	ViewWindows map[string]string `yaml:"view_windows"`
	Rules       []*Rule           `yaml:"rules"`
}

// SLA is how long an alert of each severity may stay open.
var SLA = map[string]time.Duration{
	"critical": 48 * time.Hour,
	"high":     7 * 24 * time.Hour,
	"medium":   30 * 24 * time.Hour,
	"low":      90 * 24 * time.Hour,
}

// SeverityRank orders severities, higher is worse.
var SeverityRank = map[string]int{"low": 1, "medium": 2, "high": 3, "critical": 4}

// LoadPack reads the built-in pack and applies the config's overrides:
// switching rules off, changing parameters or a query, adding rules. Only
// a broken built-in pack is an error; a rule the config gets wrong keeps
// its Err, is reported with its id on every evaluation, and does not stop
// the others.
func LoadPack(rules map[string]config.RuleConf) (*Pack, error) {
	var p Pack
	if err := yaml.Unmarshal(builtin, &p); err != nil {
		return nil, fmt.Errorf("alerts: built-in rules: %w", err)
	}
	for view, col := range p.ViewWindows {
		if _, ok := p.Views[view]; !ok || !ruleID.MatchString(col) {
			return nil, fmt.Errorf("alerts: built-in rules: view_windows.%s: a view of the pack and its date column", view)
		}
	}
	builtinIDs := p.IDs()
	byID := map[string]*Rule{}
	for _, r := range p.Rules {
		r.Enabled = true
		byID[r.ID] = r
	}
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		conf := rules[id]
		r, ok := byID[id]
		if !ok {
			r = &Rule{ID: id, Title: conf.Title, Severity: conf.Severity, Params: conf.Params, SQL: conf.SQL, Enabled: true, Custom: true}
			if r.Params == nil {
				r.Params = map[string]any{}
			}
			p.Rules = append(p.Rules, r)
			byID[id] = r
			r.Err = checkCustom(r, builtinIDs)
		} else {
			r.Err = override(r, conf)
		}
		if conf.Enabled != nil {
			r.Enabled = *conf.Enabled
		}
		if r.Err == nil {
			if _, err := render(r.SQL, r.Params, time.Time{}); err != nil {
				r.Err = fmt.Errorf("config: rules.%s.sql: %w", id, err)
			}
		}
	}
	return &p, nil
}

var ruleID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// checkCustom says what is wrong with a rule the config adds.
func checkCustom(r *Rule, known []string) error {
	switch {
	case !ruleID.MatchString(r.ID):
		return fmt.Errorf("config: rules.%s: a rule id is lower-case letters, digits and _", r.ID)
	case strings.TrimSpace(r.SQL) == "":
		return fmt.Errorf("config: rules.%s: no such built-in rule (known: %s); a rule of your own needs sql:", r.ID, strings.Join(known, ", "))
	}
	if r.Severity == "" {
		r.Severity = "medium"
	}
	if _, ok := SLA[r.Severity]; !ok {
		return fmt.Errorf("config: rules.%s.severity: %q is not one of critical, high, medium, low", r.ID, r.Severity)
	}
	for _, k := range keys(r.Params) {
		if _, err := literal(r.Params[k]); err != nil {
			return fmt.Errorf("config: rules.%s.params.%s: %v", r.ID, k, err)
		}
	}
	return nil
}

// override applies the config to a built-in rule.
func override(r *Rule, conf config.RuleConf) error {
	for k, v := range conf.Params {
		if _, ok := r.Params[k]; !ok {
			return fmt.Errorf("config: rules.%s.params.%s: no such parameter (known: %s)", r.ID, k, strings.Join(keys(r.Params), ", "))
		}
		if _, err := literal(v); err != nil {
			return fmt.Errorf("config: rules.%s.params.%s: %v", r.ID, k, err)
		}
		r.Params[k] = v
	}
	if conf.Severity != "" {
		if _, ok := SLA[conf.Severity]; !ok {
			return fmt.Errorf("config: rules.%s.severity: %q is not one of critical, high, medium, low", r.ID, conf.Severity)
		}
		r.Severity = conf.Severity
	}
	for lang, t := range conf.Title {
		r.Title[lang] = t
	}
	if strings.TrimSpace(conf.SQL) != "" {
		r.SQL = conf.SQL
	}
	return nil
}

// IDs lists the rule ids in pack order.
func (p *Pack) IDs() []string {
	var ids []string
	for _, r := range p.Rules {
		ids = append(ids, r.ID)
	}
	return ids
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var placeholder = regexp.MustCompile(`\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}`)

// render replaces {{as_of}} and {{param}} with SQL literals.
func render(sql string, params map[string]any, asOf time.Time) (string, error) {
	var firstErr error
	out := placeholder.ReplaceAllStringFunc(sql, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		if name == "as_of" {
			return "DATE '" + asOf.Format("2006-01-02") + "'"
		}
		v, ok := params[name]
		if !ok {
			if firstErr == nil {
				firstErr = fmt.Errorf("the query uses {{%s}} but the rule has no such parameter", name)
			}
			return m
		}
		lit, err := literal(v)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("parameter %s: %v", name, err)
		}
		return lit
	})
	return out, firstErr
}

// literal turns a parameter value into SQL: numbers as numbers, strings quoted.
func literal(v any) (string, error) {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("%v is not a number, text or true/false", v)
}
