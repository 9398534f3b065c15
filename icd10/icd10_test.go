package icd10

import "testing"

func TestName(t *testing.T) {
	for code, want := range map[string]string{
		"K80": "胆石症", "k80.1": "胆石症", "C34.1": "支气管和肺恶性肿瘤", "N18.5": "慢性肾病", "Z94": "", "": "", "I2": "",
	} {
		if got := Name(code); got != want {
			t.Errorf("Name(%q) = %q, want %q", code, got, want)
		}
	}
}
