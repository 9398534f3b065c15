package match

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// An IDNumber is a normalised 18-character resident ID (GB 11643).
type IDNumber string

var (
	weights   = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	checkChar = "10X98765432"
)

// Problems an ID can have. They are reasons a person can read.
var (
	ErrEmpty     = errors.New("no ID number")
	ErrChars     = errors.New("ID number has characters other than digits and a final X")
	ErrLength    = errors.New("ID number is neither 18 nor 15 characters")
	ErrCheck     = errors.New("ID number check character does not match (a typo?)")
	ErrBirthDate = errors.New("ID number holds an impossible birth date")
	// ErrExcelNumber: the ID went through a number cell, which keeps 15
	// significant digits; the rest are gone and no one can tell them.
	ErrExcelNumber = errors.New("Excel stored this ID as a number and dropped its last digits: format the column as text and send the file again")
)

// ExcelPrefix says whether raw is an ID that Excel turned into a number
// (3.20812197503151E+17, or 18 digits ending in 000 whose check fails)
// and returns what survives of it that can be trusted: the 6-digit region
// and the 8-digit birth date. The 15th digit Excel shows is rounded.
func ExcelPrefix(raw string) (string, bool) { return excelPrefix(Clean(raw)) }

// excelPrefix is ExcelPrefix of an ID already cleaned; it allocates
// nothing for the IDs that are not Excel's numbers, which is nearly all.
func excelPrefix(s string) (string, bool) {
	if i := strings.IndexAny(s, "Ee"); i > 0 {
		mant, exp := s[:i], strings.TrimPrefix(s[i+1:], "+")
		if len(mant) < 2 || mant[1] != '.' || exp != "17" || !allDigits(mant[:1]) || !allDigits(mant[2:]) {
			return "", false
		}
		digits := mant[:1] + mant[2:]
		if len(digits) < 14 {
			return "", true // a number, but too little of it is left to place anyone
		}
		return digits[:14], true
	}
	if len(s) == 18 && s[15:] == "000" && allDigits(s) && CheckChar(s) != s[17] {
		return s[:14], true
	}
	return "", false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// CheckChar computes the ISO 7064 MOD 11-2 check character of the first
// 17 digits of an ID.
func CheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * weights[i]
	}
	return checkChar[sum%11]
}

// Clean folds the forms departments send into plain ASCII: full-width
// digits and letters, lowercase x, spaces and hyphens. It does not validate.
func Clean(raw string) string {
	var b strings.Builder
	b.Grow(len(raw))
	for _, r := range raw {
		switch {
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		case r == 'x' || r == 'Ｘ' || r == 'ｘ':
			b.WriteByte('X')
		case r == ' ' || r == '-' || r == '\u3000' || r == '\t' || r == '－' || r == '\'':
			// separators and Excel's text-forcing apostrophe
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseID normalises a raw ID and validates it: 15-digit legacy IDs become
// 18 characters (born 19xx), the check character and birth date must be
// right. On ErrCheck the cleaned 18 characters are still returned, so a
// caller can try to repair them.
func ParseID(raw string) (IDNumber, error) {
	s := Clean(raw)
	if s == "" {
		return "", ErrEmpty
	}
	if _, ok := excelPrefix(s); ok {
		return "", ErrExcelNumber
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			if !(c == 'X' && i == len(s)-1 && len(s) == 18) {
				return "", ErrChars
			}
		}
	}
	switch len(s) {
	case 15:
		s17 := s[:6] + "19" + s[6:]
		s = s17 + string(CheckChar(s17))
	case 18:
	default:
		return "", ErrLength
	}
	if _, ok := birthDate(s); !ok {
		return IDNumber(s), ErrBirthDate
	}
	if CheckChar(s) != s[17] {
		return IDNumber(s), ErrCheck
	}
	return IDNumber(s), nil
}

func birthDate(s string) (time.Time, bool) {
	t, err := time.Parse("20060102", s[6:14])
	if err != nil || t.Year() < 1880 || t.After(time.Now()) {
		return time.Time{}, false
	}
	return t, true
}

// BirthDate is the birth date the ID holds.
func (id IDNumber) BirthDate() time.Time { t, _ := birthDate(string(id)); return t }

// Sex is "male" or "female", from the parity of the sequence number.
func (id IDNumber) Sex() string {
	if (id[16]-'0')%2 == 1 {
		return "male"
	}
	return "female"
}

// Region is the 6-digit address code.
func (id IDNumber) Region() string { return string(id[:6]) }

// Masked shows the region and the last four characters only:
// 110105********002X.
func (id IDNumber) Masked() string { return Mask(string(id)) }

// Mask masks any ID-like string the same way, leaving short ones starred out.
func Mask(s string) string {
	if len(s) < 10 {
		return strings.Repeat("*", len(s))
	}
	return s[:6] + strings.Repeat("*", len(s)-10) + s[len(s)-4:]
}

// NewID builds a valid ID from a region code, a birth date and a 3-digit
// sequence number (odd for men).
func NewID(region string, birth time.Time, seq int) IDNumber {
	s := fmt.Sprintf("%s%s%03d", region[:6], birth.Format("20060102"), seq%1000)
	return IDNumber(s + string(CheckChar(s)))
}
