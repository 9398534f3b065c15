package ingest

// repeats is a (blocked) Bloom filter over the record keys of one delivery: a fixed
// 16 MiB however long the file, it says for sure when no key came twice,
// so the SQL that settles repeated records runs only when one might have.
type repeats struct {
	bits  []uint64
	maybe bool // some key may have come before
}

const repeatBits = 1 << 27 // 16 MiB; about 1 false alarm in 10⁷ keys for a 600,000-row file

func newRepeats() *repeats {
	return &repeats{bits: make([]uint64, repeatBits/64)}
}

// add notes a key; when all its bits were set already, it may have come
// before. The four bits share one word: one cache miss a key.
func (r *repeats) add(key string) {
	h := mix(fnv64(key))
	w := &r.bits[h&(repeatBits/64-1)]
	m := uint64(1)<<(h>>40&63) | uint64(1)<<(h>>46&63) | uint64(1)<<(h>>52&63) | uint64(1)<<(h>>58&63)
	if *w&m == m {
		r.maybe = true
	}
	*w |= m
}

// fnv64 is FNV-1a: deterministic, so the filter behaves the same on every run.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix spreads FNV's bits (SplitMix64's finaliser), as the filter takes
// its word and its bits from different parts of the hash.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
