package ingest

// repeats is a (blocked) Bloom filter over the record keys of one delivery:
// sized by the delivery's bytes, at most 16 MiB however long the file, it
// says for sure when no key came twice, so the SQL that settles repeated
// records runs only when one might have.
type repeats struct {
	bits  []uint64
	maybe bool // some key may have come before
}

const (
	// maxRepeatBits is 16 MiB: about 1 false alarm in 10⁷ keys for a
	// 600,000-row file.
	maxRepeatBits = 1 << 27
	// minRepeatBits is 8 KiB, for a small page of an API.
	minRepeatBits = 1 << 16
	// bitsPerByte sizes the filter: 32 bits a key for records of at least
	// 16 bytes. A false alarm costs one query, never a record.
	bitsPerByte = 2
)

// newRepeats sizes the filter for a delivery of size bytes (0: unknown,
// the largest). An API's page of a thousand records takes a few hundred
// KiB, where a fixed 16 MiB cleared for every page cost more than the
// page.
func newRepeats(size int64) *repeats {
	n := uint64(maxRepeatBits)
	if size > 0 {
		n = minRepeatBits
		for n < maxRepeatBits && n < uint64(size)*bitsPerByte {
			n <<= 1
		}
	}
	return &repeats{bits: make([]uint64, n/64)}
}

// add notes a key; when all its bits were set already, it may have come
// before. The four bits share one word: one cache miss a key.
func (r *repeats) add(key string) {
	h := mix(fnv64(key))
	w := &r.bits[h&uint64(len(r.bits)-1)]
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
