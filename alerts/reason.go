package alerts

import (
	"encoding/json"
	"regexp"
	"strconv"

	"safetynet/i18n"
)

// A rule's reasons are its wording per variant and language, made from
// the alert's details: {key} is a detail as it is, {key:yuan} an amount,
// {key:v} a coded detail in words (v.<key>.<value> in the catalogues),
// {key:n} how many items a list detail has, {key:.2} a number with two
// decimals. The details' "reason" names
// the variant; without one it is "default".
var reasonSlot = regexp.MustCompile(`\{([a-z0-9_]+)(?::(yuan|v|n|\.2))?\}`)

// Reason is why an alert was raised, in language l: the rule's wording
// filled in from the details, or the text the rule's query wrote when
// the rule has no wording for it (a rule of one's own, say).
func (p *Pack) Reason(ruleID, stored string, details []byte, l i18n.Lang) string {
	r := p.rule(ruleID)
	if r == nil || len(r.Reasons) == 0 {
		return stored
	}
	var d map[string]any
	if len(details) > 0 {
		if err := json.Unmarshal(details, &d); err != nil {
			return stored
		}
	}
	variant, _ := d["reason"].(string)
	if variant == "" {
		variant = "default"
	}
	words, ok := r.Reasons[variant][string(l)]
	if !ok {
		return stored
	}
	missing := false
	out := reasonSlot.ReplaceAllStringFunc(words, func(m string) string {
		g := reasonSlot.FindStringSubmatch(m)
		v, ok := d[g[1]]
		if !ok {
			missing = true
			return m
		}
		switch g[2] {
		case "yuan":
			f, ok := v.(float64)
			if !ok {
				missing = true
				return m
			}
			return l.F("yuan", strconv.FormatFloat(f, 'f', 0, 64))
		case ".2":
			f, ok := v.(float64)
			if !ok {
				missing = true
				return m
			}
			return strconv.FormatFloat(f, 'f', 2, 64)
		case "n":
			list, _ := v.([]any)
			return strconv.Itoa(len(list))
		case "v":
			return l.Value(g[1], v)
		}
		return l.Value("", v)
	})
	if missing { // details from an older version of the rule
		return stored
	}
	return out
}

func (p *Pack) rule(id string) *Rule {
	for _, r := range p.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}
