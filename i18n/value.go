package i18n

import (
	"fmt"
	"strconv"
	"strings"
)

// Value is a coded value in words: the catalogue's "v.<kind>.<value>"
// (v.approval.county is 县级审批), a list's items each so and joined, a
// number plainly, and anything the catalogue does not know as it is.
func (l Lang) Value(kind string, v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = l.Value(kind, e)
		}
		return strings.Join(parts, l.T("list_sep"))
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = l.Value(kind, e)
		}
		return strings.Join(parts, l.T("list_sep"))
	case float64:
		return l.word(kind, strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		return l.word(kind, x)
	}
	return fmt.Sprint(v)
}

// sameWords are kinds of value worded as another kind is: a rule's
// hardship types are signals.
var sameWords = map[string]string{"types": "signals"}

func (l Lang) word(kind, value string) string {
	if k, ok := sameWords[kind]; ok {
		kind = k
	}
	if k := "v." + kind + "." + value; l.Has(k) {
		return l.T(k)
	}
	return value
}
