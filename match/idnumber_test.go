package match

import (
	"errors"
	"testing"
	"time"
)

func TestParseIDVectors(t *testing.T) {
	cases := []struct {
		raw  string
		want IDNumber
		err  error
	}{
		{"11010519491231002X", "11010519491231002X", nil}, // GB 11643 example
		{"11010519491231002x", "11010519491231002X", nil},
		{"110105 19491231 002X", "11010519491231002X", nil},
		{"110105-19491231-002X", "11010519491231002X", nil},
		{"１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", nil},
		{"440524188001010014", "440524188001010014", nil}, // GB 11643 second example
		{"110105491231002", "11010519491231002X", nil},    // 15-digit legacy of the first example
		{"11010519491231002Y", "", ErrChars},
		{"110105194912310021", "110105194912310021", ErrCheck},
		{"11010519491331002X", "11010519491331002X", ErrBirthDate},
		{"1101051949123100", "", ErrLength},
		{"", "", ErrEmpty},
		{"  ", "", ErrEmpty},
	}
	for _, c := range cases {
		got, err := ParseID(c.raw)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("ParseID(%q) = %q, %v; want %q, %v", c.raw, got, err, c.want, c.err)
		}
	}
}

func TestIDParts(t *testing.T) {
	id, err := ParseID("11010519491231002X")
	if err != nil {
		t.Fatal(err)
	}
	if id.Sex() != "female" || !id.BirthDate().Equal(time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC)) || id.Region() != "110105" {
		t.Errorf("parts of %s: %s %v %s", id, id.Sex(), id.BirthDate(), id.Region())
	}
	if got := id.Masked(); got != "110105********002X" {
		t.Errorf("Masked = %s", got)
	}
}

func TestNewIDRoundTrip(t *testing.T) {
	for seq := 0; seq < 1000; seq += 7 {
		id := NewID("330110", time.Date(1980+seq%40, time.Month(1+seq%12), 1+seq%28, 0, 0, 0, 0, time.UTC), seq)
		got, err := ParseID(string(id))
		if err != nil || got != id {
			t.Fatalf("NewID %s does not parse back: %v", id, err)
		}
		// Every single-digit substitution is caught by the check character.
		b := []byte(id)
		b[10] = '0' + (b[10]-'0'+1)%10
		if _, err := ParseID(string(b)); err == nil {
			t.Fatalf("typo in %s not caught", b)
		}
	}
}

func BenchmarkParseID(b *testing.B) {
	forms := []string{"11010519491231002X", "110105 19491231 002x", "１１０１０５１９４９１２３１００２Ｘ", "110105491231002"}
	for i := 0; i < b.N; i++ {
		if _, err := ParseID(forms[i%len(forms)]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRegionAndFutureBirth(t *testing.T) {
	if !IDNumber("11010519491231002X").RegionKnown() || !IDNumber("330110199001011234").RegionKnown() {
		t.Error("current county codes (东城区, 余杭区) not known")
	}
	if IDNumber("999999199001011234").RegionKnown() {
		t.Error("999999 taken for a division code")
	}
	future := time.Now().AddDate(1, 0, 0).Format("20060102")
	s17 := "110105" + future + "002"
	if _, err := ParseID(s17 + string(CheckChar(s17))); !errors.Is(err, ErrBirthDate) {
		t.Errorf("a birth date next year: %v", err)
	}
}
