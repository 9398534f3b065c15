package match

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mozillazg/go-pinyin"
)

// TestHanPinyinIsLazyPinyin: the table gives what LazyPinyin gives, for
// every character of its dictionary and for names mixing them with
// characters it has no pinyin for.
func TestHanPinyinIsLazyPinyin(t *testing.T) {
	var chars []rune
	for r := range pinyin.PinyinDict {
		chars = append(chars, rune(r))
		if got, want := hanPinyin(string(rune(r))), strings.Join(pinyin.LazyPinyin(string(rune(r)), pinyinArgs), ""); got != want {
			t.Fatalf("%q: %q, LazyPinyin %q", rune(r), got, want)
		}
	}
	chars = append(chars, '·', 'a', 'Z', '1', ' ', '㐀', '〇', 'é', '\U00020000')
	rng := rand.New(rand.NewPCG(2, 60))
	for range 20000 {
		name := make([]rune, 1+rng.IntN(6))
		for i := range name {
			name[i] = chars[rng.IntN(len(chars))]
		}
		if got, want := hanPinyin(string(name)), strings.Join(pinyin.LazyPinyin(string(name), pinyinArgs), ""); got != want {
			t.Fatalf("%q: %q, LazyPinyin %q", string(name), got, want)
		}
	}
}

func BenchmarkNamePinyin(b *testing.B) {
	for b.Loop() {
		namePinyin("欧阳淑华")
	}
}
