package match

import (
	"strings"
	"sync"
	"unicode"

	"github.com/longbridgeapp/opencc"
	"github.com/mozillazg/go-pinyin"
	"golang.org/x/text/width"
)

// Names are kept as sent for display and compared folded: traditional
// characters to simplified (OpenCC's t2s tables, as maintained upstream),
// full-width forms to their plain ones, the middle-dot variants of
// minority names (艾力·买买提) to one dot, and spaces inside a name dropped.
// 陳淑華 and 陈淑华 are then the same name.

var (
	t2sOnce sync.Once
	t2s     *opencc.OpenCC
)

// nameDots are the characters offices type between the parts of a
// transliterated name.
var nameDots = strings.NewReplacer("•", "·", "・", "·", "．", "·", "‧", "·", "∙", "·", "●", "·", "。", "·", ".", "·", "･", "·")

// FoldName is a name as it is compared.
func FoldName(s string) string {
	s = width.Fold.String(s)
	if !hasHan(s) {
		return strings.ToLower(strings.Join(strings.Fields(s), " "))
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' || r == '\u200d' {
			return -1
		}
		return r
	}, s)
	s = nameDots.Replace(s)
	t2sOnce.Do(func() {
		cc, err := opencc.New("t2s")
		if err != nil {
			panic("match: the embedded t2s tables do not load: " + err.Error())
		}
		t2s = cc
	})
	if out, err := t2s.Convert(s); err == nil {
		s = out
	}
	return s
}

// namePinyin is a folded name in toneless pinyin, the dots left out, so
// that homophones written with other characters compare equal.
func namePinyin(folded string) string {
	if !hasHan(folded) {
		return strings.ReplaceAll(folded, "·", "")
	}
	return hanPinyin(folded)
}

// hanPinyin is pinyin.LazyPinyin of s joined: each character's toneless
// pinyin, nothing for a character without one. It reads the characters
// from a table made once, since LazyPinyin styles every character with
// regular expressions on each call, which was most of linking's time
// for the names of a county (0.8 s of 1.7 s for 280,000 of them).
func hanPinyin(s string) string {
	table := hanPinyinTable()
	var b strings.Builder
	for _, r := range s {
		b.WriteString(table[r])
	}
	return b.String()
}

// hanPinyinTable is every character of pinyin's dictionary with its
// toneless pinyin, as LazyPinyin gives it.
var hanPinyinTable = sync.OnceValue(func() map[rune]string {
	table := make(map[rune]string, len(pinyin.PinyinDict))
	for r := range pinyin.PinyinDict {
		table[rune(r)] = strings.Join(pinyin.LazyPinyin(string(rune(r)), pinyinArgs), "")
	}
	return table
})

// surnameOf is a folded Chinese name's surname: two characters for the
// compound surnames, else the first.
func surnameOf(folded string) string {
	r := []rune(folded)
	if len(r) > 2 && compoundSurnames[string(r[:2])] {
		return string(r[:2])
	}
	if len(r) > 0 {
		return string(r[:1])
	}
	return ""
}
