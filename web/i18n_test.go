package web

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
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
			for lang, cat := range messages {
				if _, ok := cat[m[1]]; !ok {
					t.Errorf("%s: %q missing from the %s catalogue", filepath.Base(f), m[1], lang)
				}
			}
		}
	}
	for _, prefix := range []string{"o.", "a.", "t.", "m."} {
		for k := range messages["zh"] {
			if len(k) > 2 && k[:2] == prefix {
				if _, ok := messages["en"][k]; !ok {
					t.Errorf("%q in zh but not en", k)
				}
			}
		}
	}
}
