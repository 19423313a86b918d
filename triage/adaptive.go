package triage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"smista/mail"
)

// ErrBadAdaptive is returned by UnmarshalBinary for data it cannot read.
var ErrBadAdaptive = errors.New("adaptive layer: bad data")

// ErrUnknownIntent is returned by Learn for an intent outside Intents.
var ErrUnknownIntent = errors.New("unknown intent")

// Adaptive is a store's adaptive layer: incremental naive-Bayes counts
// learned from human corrections, over the words of an email's own text
// that the offline model does not know — a product's own jargon, its
// module and screen names — read the way the model reads words (the same
// tokenizer, stems, subject and quotes). The base model's weights already
// carry thousands of emails' evidence about the words it knows; the
// corrections teach it the words it lacks, so a correction cannot make a
// common word ("please", "error") pull every email towards one intent.
//
// For an email, each learned word w it contains adds to intent c the
// log-ratio log(P(w|c)/p0), with P(w|c) = (k(w,c) + β·p0)/(K(c) + β): k
// the corrected emails of intent c that contain w, K the corrections of
// intent c, p0 the rate of a word the model lacks, β the weight of that
// prior. An intent nobody corrected to gets nothing. The sum, capped, is
// weighed by n/(n+k0) (n corrections in all) and added to the model's
// log-probabilities: a weight that grows with the corrections.
//
// Storage: MarshalBinary is the whole layer as a compact blob (a magic
// line, then varints: the corrections per intent and each learned stem
// with its six counts, stems sorted): a store keeps it in one row and
// replaces it after each correction; Reset forgets everything.
//
// An Adaptive is safe for concurrent use: Learn and Reset publish an
// immutable snapshot that classifications read without locking.
type Adaptive struct {
	lx     *lexicon // the vocabulary whose unknown words it learns
	mu     sync.Mutex
	counts map[string]*[nIntents]uint32 // stem → corrected emails per intent
	n      [nIntents]uint32             // corrections per intent
	snap   atomic.Pointer[adaptiveSnap]
}

// adaptiveSnap is what a classification reads: the counts by stem hash.
type adaptiveSnap struct {
	total uint32
	n     [nIntents]uint32
	words map[uint64][nIntents]uint32
}

// The adaptive layer's constants (see Adaptive).
const (
	adaptiveP0      = 2e-3 // rate of a word the model lacks, in any email
	adaptiveBeta    = 10   // prior weight, in emails
	adaptiveK0      = 10   // corrections at which the layer weighs half
	adaptiveWordCap = 4.0  // most one word may move an intent, in nats
	adaptiveCap     = 12.0 // most all words together may
	adaptiveMagic   = "SMISTA-ADAPTIVE-1\n"
	// minAdaptiveWord: shorter stems (initials, "ok") are no jargon.
	minAdaptiveWord = 3
)

// NewAdaptive returns an empty adaptive layer for the words o's model
// lacks: it changes nothing until it learns. Plug it in with
// o.WithAdaptive.
func NewAdaptive(o *Offline) *Adaptive {
	a := &Adaptive{lx: o.lx, counts: map[string]*[nIntents]uint32{}}
	a.snap.Store(&adaptiveSnap{words: map[uint64][nIntents]uint32{}})
	return a
}

// Learn records a human correction: m is of intent in. The words of m's
// own text that the offline model lacks are counted for in (each once per
// email), and from the next classification on they weigh. It fails with
// ErrUnknownIntent.
func (a *Adaptive) Learn(m *mail.Message, in Intent) error {
	c := indexOf(in)
	if c < 0 {
		return fmt.Errorf("adaptive learn %q: %w", in, ErrUnknownIntent)
	}
	words := a.lx.unknownStems(m)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range words {
		k := a.counts[w]
		if k == nil {
			k = new([nIntents]uint32)
			a.counts[w] = k
		}
		k[c]++
	}
	a.n[c]++
	a.publish()
	return nil
}

// Reset forgets every correction.
func (a *Adaptive) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.counts)
	a.n = [nIntents]uint32{}
	a.publish()
}

// Corrections returns how many corrections the layer learned, per intent
// in the order of Intents.
func (a *Adaptive) Corrections() [nIntents]int {
	s := a.snap.Load()
	var out [nIntents]int
	for c, v := range s.n {
		out[c] = int(v)
	}
	return out
}

// Words returns how many distinct words the layer learned.
func (a *Adaptive) Words() int { return len(a.snap.Load().words) }

// publish rebuilds the snapshot; a.mu is held.
func (a *Adaptive) publish() {
	s := &adaptiveSnap{n: a.n, words: make(map[uint64][nIntents]uint32, len(a.counts))}
	for c := range a.n {
		s.total += a.n[c]
	}
	for w, k := range a.counts {
		s.words[fnv64([]byte(w))] = *k
	}
	a.snap.Store(s)
}

// MarshalBinary returns the layer as a compact, deterministic blob. It
// never fails.
func (a *Adaptive) MarshalBinary() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := []byte(adaptiveMagic)
	for _, v := range a.n {
		b = binary.AppendUvarint(b, uint64(v))
	}
	keys := make([]string, 0, len(a.counts))
	for w := range a.counts {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, w := range keys {
		b = binary.AppendUvarint(b, uint64(len(w)))
		b = append(b, w...)
		for _, v := range a.counts[w] {
			b = binary.AppendUvarint(b, uint64(v))
		}
	}
	return b, nil
}

// UnmarshalBinary replaces the layer with one MarshalBinary wrote. It
// fails with ErrBadAdaptive and then leaves the layer as it was.
func (a *Adaptive) UnmarshalBinary(data []byte) error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrBadAdaptive, what) }
	if !bytes.HasPrefix(data, []byte(adaptiveMagic)) {
		return bad("magic")
	}
	p := data[len(adaptiveMagic):]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	var n [nIntents]uint32
	for c := range n {
		v, ok := next()
		if !ok || v > math.MaxUint32 {
			return bad("corrections")
		}
		n[c] = uint32(v)
	}
	words, ok := next()
	if !ok || words > uint64(len(p)) {
		return bad("word count")
	}
	counts := make(map[string]*[nIntents]uint32, words)
	for range words {
		l, ok := next()
		if !ok || l == 0 || l > uint64(len(p)) {
			return bad("word")
		}
		w := string(p[:l])
		p = p[l:]
		k := new([nIntents]uint32)
		for c := range k {
			v, ok := next()
			if !ok || v > math.MaxUint32 {
				return bad("counts")
			}
			k[c] = uint32(v)
		}
		counts[w] = k
	}
	if len(p) != 0 {
		return bad("trailing bytes")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counts, a.n = counts, n
	a.publish()
	return nil
}

// evidence adds the layer's weighed log-ratios for the unknown stems of a
// scan to logp, and returns how many of those stems the layer knows (they
// are no longer unfamiliar to the calibrator). It reads one snapshot.
func (s *adaptiveSnap) evidence(stems []uint64, logp *[nIntents]float64) int {
	if s.total == 0 {
		return 0
	}
	var sum [nIntents]float64
	known := 0
	for _, h := range stems {
		k, ok := s.words[h]
		if !ok {
			continue
		}
		known++
		for c := range nIntents {
			if s.n[c] == 0 {
				continue
			}
			pw := (float64(k[c]) + adaptiveBeta*adaptiveP0) / (float64(s.n[c]) + adaptiveBeta)
			sum[c] += min(max(math.Log(pw/adaptiveP0), -adaptiveWordCap), adaptiveWordCap)
		}
	}
	if known == 0 {
		return 0
	}
	w := float64(s.total) / (float64(s.total) + adaptiveK0)
	for c := range nIntents {
		logp[c] += w * min(max(sum[c], -adaptiveCap), adaptiveCap)
	}
	return known
}

// unknownStems returns the distinct stems of m's own words that the model
// lacks, as the scan finds them, without stop words, short stems and
// numbers.
func (lx *lexicon) unknownStems(m *mail.Message) []string {
	body := m.Text
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	var out []string
	var t tokenizer
	for _, text := range [...]string{m.Subject, body} {
		t.reset(text)
		for t.next() {
			if t.inQuote {
				continue
			}
			st := stem(t.buf)
			if id, ok := lx.words[string(st)]; ok && int(id) < lx.nModel {
				continue
			}
			w := string(st)
			if len(w) < minAdaptiveWord || stopWords[w] || allDigits(st) || slices.Contains(out, w) {
				continue
			}
			out = append(out, w)
		}
	}
	return out
}
