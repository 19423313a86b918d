package triage

import "math/bits"

// wordTable is the lexicon's word → id map for the hot path: open
// addressing over one flat array of slots, keyed by the word's FNV-1a
// hash, which the scan computes on bytes it already holds (a stem is the
// start of its word, a word pair continues its first stem's hash). A
// slot's full hash rejects almost every other word before its bytes are
// compared; the bytes are always compared, so the table answers exactly
// as a map would. It is read-only once built.
type wordTable struct {
	slots []wordSlot
	shift uint8
	// arena holds every word once, each after a byte with its length.
	arena []byte
}

// wordSlot is one entry: id is -1 in an empty slot.
type wordSlot struct {
	h   uint64
	off uint32
	id  int32
}

// maxTableWord is the longest word the table stores: every key it is
// asked for is a token (maxTokenLen bytes at most), a stem of one or a
// pair of stems, so a longer word could never be found.
const maxTableWord = 255

// fnvOffset and fnvPrime are FNV-1a's constants (fnv64).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvMore continues the FNV-1a hash h over b.
func fnvMore(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func newWordTable(words map[string]int32) *wordTable {
	size := 16
	for size < 2*len(words) {
		size *= 2
	}
	t := &wordTable{slots: make([]wordSlot, size), shift: uint8(64 - bits.TrailingZeros(uint(size)))}
	for i := range t.slots {
		t.slots[i].id = -1
	}
	for w, id := range words {
		if len(w) > maxTableWord {
			continue
		}
		h := fnvMore(fnvOffset, []byte(w))
		i := t.index(h)
		for t.slots[i].id >= 0 {
			i = (i + 1) & (len(t.slots) - 1)
		}
		t.slots[i] = wordSlot{h: h, off: uint32(len(t.arena)), id: id}
		t.arena = append(t.arena, byte(len(w)))
		t.arena = append(t.arena, w...)
	}
	return t
}

// index is h's home slot (Fibonacci hashing: FNV's low bits alone are
// poorly mixed for short words).
func (t *wordTable) index(h uint64) int {
	return int((h * 0x9E3779B97F4A7C15) >> t.shift)
}

// get returns the id of word w, whose FNV-1a hash is h.
func (t *wordTable) get(w []byte, h uint64) (int32, bool) {
	mask := len(t.slots) - 1
	for i := t.index(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.id < 0 {
			return -1, false
		}
		if s.h != h {
			continue
		}
		n := int(t.arena[s.off])
		if n == len(w) && string(t.arena[s.off+1:int(s.off)+1+n]) == string(w) {
			return s.id, true
		}
	}
}

// hashFilter is a one-hash Bloom filter over word hashes: has is false
// for every hash never added, so a lookup it rules out would have missed
// (and missing in the table costs a cache miss; the filter, 32 KiB,
// stays in the first-level cache).
type hashFilter [1 << 12]uint64

func (f *hashFilter) bit(h uint64) (int, uint64) {
	b := (h * 0x9E3779B97F4A7C15) >> (64 - 18)
	return int(b >> 6), 1 << (b & 63)
}

func (f *hashFilter) add(h uint64) {
	i, m := f.bit(h)
	f[i] |= m
}

func (f *hashFilter) has(h uint64) bool {
	i, m := f.bit(h)
	return f[i]&m != 0
}
