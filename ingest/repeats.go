package ingest

import "hash/maphash"

// repeats is a (blocked) Bloom filter over the record keys of one delivery: a fixed
// 16 MiB however long the file, it says for sure when no key came twice,
// so the SQL that settles repeated records runs only when one might have.
type repeats struct {
	bits  []uint64
	seed  maphash.Seed
	maybe bool // some key may have come before
}

const repeatBits = 1 << 27 // 16 MiB; about 1 false alarm in 10⁷ keys for a 600,000-row file

func newRepeats() *repeats {
	return &repeats{bits: make([]uint64, repeatBits/64), seed: maphash.MakeSeed()}
}

// add notes a key; when all its bits were set already, it may have come
// before. The four bits share one word: one cache miss a key.
func (r *repeats) add(key string) {
	h := maphash.String(r.seed, key)
	w := &r.bits[h&(repeatBits/64-1)]
	m := uint64(1)<<(h>>40&63) | uint64(1)<<(h>>46&63) | uint64(1)<<(h>>52&63) | uint64(1)<<(h>>58&63)
	if *w&m == m {
		r.maybe = true
	}
	*w |= m
}
