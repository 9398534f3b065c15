package i18n

import (
	"regexp"
	"strings"
	"testing"
)

// TestCatalogues: both catalogues have the same keys, the same %-verbs
// in each message, and no message left empty.
func TestCatalogues(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	for _, l := range Langs {
		for _, other := range Langs {
			for _, k := range l.Keys() {
				if !other.Has(k) {
					t.Errorf("%q is in the %s catalogue but not in %s", k, l, other)
				}
			}
		}
		for _, k := range l.Keys() {
			if strings.TrimSpace(l.T(k)) == "" && k != "none" {
				t.Errorf("%s: %q is empty", l, k)
			}
		}
	}
	for _, k := range ZH.Keys() {
		a, b := verbs.FindAllString(ZH.T(k), -1), verbs.FindAllString(EN.T(k), -1)
		if strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("%q: zh has %v, en %v", k, a, b)
		}
	}
}
