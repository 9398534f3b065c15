package regions

import "testing"

func TestNames(t *testing.T) {
	for code, want := range map[string]string{"33": "浙江省", "3301": "杭州市", "330110": "余杭区", "330110005": "五常街道", "330110005001": "", "330110000": ""} {
		if got := Name(code); got != want {
			t.Errorf("Name(%s) = %q, want %q", code, got, want)
		}
	}
	if got := Label("330110005001"); got != "330110005001" {
		t.Errorf("a village is labelled by its code, got %q", got)
	}
	if got := FullName("330110005"); got != "浙江省杭州市余杭区五常街道" {
		t.Errorf("FullName = %q", got)
	}
	if p := Parent("330110005001"); p != "330110005" {
		t.Errorf("Parent = %q", p)
	}
	kids := Children("330110")
	if len(kids) < 5 || kids[0].Code[:6] != "330110" || kids[0].Name == "" {
		t.Fatalf("Children(330110) = %v", kids)
	}
	for i := 1; i < len(kids); i++ {
		if kids[i-1].Code >= kids[i].Code {
			t.Fatalf("children not in code order: %v", kids)
		}
	}
}
