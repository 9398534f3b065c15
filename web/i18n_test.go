package web

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"safetynet/i18n"
)

// Every message a template asks for exists in both catalogues, so no page
// shows a bare key.
func TestCatalogues(t *testing.T) {
	files, _ := filepath.Glob("templates/*.html")
	key := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			for _, l := range i18n.Langs {
				if !l.Has(m[1]) {
					t.Errorf("%s: %q missing from the %s catalogue", filepath.Base(f), m[1], l)
				}
			}
		}
	}
}
