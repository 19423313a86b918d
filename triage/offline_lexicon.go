package triage

import (
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"smista/mail"
)

// cue bits: words the rules look at, besides the learned weights
const (
	cueEN uint16 = 1 << iota
	cueIT
	cueUrgent
	cueHigh
	cueDown
	cueDownBefore // "is down", "server down": the word before "down"
	cueGreeting
	cueWorks   // "funziona", "works"
	cueNothing // "niente", "nothing"
	cuePrice   // "price", "discount", "sconto": asked about, a commercial question
	cueOffer   // "quote", "demo", "preventivo": a commercial request
	cueRise    // "increase", "aumento": a price that goes up
	cueFault   // "error", "crash", "guasto": something broken
	cueReply   // "reply", "risposta", "chiedo": maybe "no need to reply", "non vi chiedo niente"
	cueThank   // "thank", "ringraziare": maybe a thank-you note (thanksNote)
	// cueThankWhy: "wanted", "writing", "ringraziare": with cueThank, a
	// thanks maybe stated as the purpose (thanksNote)
	cueThankWhy
)

var cueWords = []struct {
	bit   uint16
	words string
}{
	{cueEN, "the and is to of you i it my for this that with have not please can we are on be your was but what when there would could should our me do does did hello hi thanks thank"},
	{cueIT, "il lo la di che non è per un una mi ho con sono del della delle le gli ci ciao grazie buongiorno buonasera questo questa come si al ma nel più anche ancora vorrei potete può essere abbiamo avete salve cordiali saluti gentile"},
	{cueUrgent, "urgent urgently urgente urgenti urgentissimo urgenza asap emergency emergenza immediately immediatamente subito critical critico critica"},
	{cueHigh, "outage outages production produzione blocked bloccato bloccati bloccata crash crashes crashed crasha broken disservizio downtime"},
	{cueDown, "down giù"},
	{cueDownBefore, "is are was went site server service website app api system è sono sito servizio server piattaforma"},
	{cueGreeting, "hi hello dear hey ciao salve buongiorno buonasera gentile gentili egregio egregi spett spettabile good morning"},
	{cueWorks, "works work working funziona funzionano funziono va"},
	{cueNothing, "nothing niente nulla più"},
	{cuePrice, `price prices pricing priced cost costs discount discounts listino prezzo prezzi costo costi sconto
sconti scontistica`},
	{cueOffer, "quote quotation quotations demo preventivo preventivi quotazione"},
	{cueRise, "increase increases increased increasing rise rises aumento aumenti aumentato aumentare rincaro rincari"},
	{cueReply, "reply answer respond response rispondere rispondiate risposta rispondermi asking chiedo"},
	{cueThank, "thank thanks grazie ringraziare ringraziarvi ringraziarti ringraziarla ringraziarli ringraziarle"},
	{cueThankWhy, "wanted want writing write note line like just dire ringraziare ringraziarvi ringraziarti ringraziarla ringraziarli ringraziarle"},
	{cueFault, `error errors crash crashes crashed broken bug bugs fails failed failing failure fault faulty wrong
incorrect old errore errori guasto guasta guasti rotto rotta difetto difettoso malfunzionamento sbagliato
sbagliata sbagliati sbagliate errato errata errati vecchi vecchio vecchia vecchie`},
}

// lexicon maps every word the offline classifier knows to an id: model
// words first (ids below nModel carry weights), then rule words.
type lexicon struct {
	words map[string]int32
	// table holds words for the scan's lookups; known filters their
	// hashes first (most word pairs of an email, and many of its words,
	// are not the lexicon's).
	table  *wordTable
	known  *hashFilter
	nModel int
	flagID []int32 // id in flagLex, or -1
	cue    []uint16
	// longRule marks stems shared by a longer rule word (flag or cue).
	longRule []bool
	// pairStart marks the stems that begin a word pair of the model: only
	// after one of them is a pair looked up.
	pairStart []bool
	// question is the id of questionWord, -1 when the model lacks it.
	question int32
	closing  *closingLexicon
	shape    shape
}

// questionWord is the model's feature for "the sender's own text asks a
// question" (a '?' before any quote): no token can be spelled like it.
const questionWord = "?"

func newLexicon(modelWords []string, sh shape) *lexicon {
	fl := flagLex()
	lx := &lexicon{words: make(map[string]int32, len(modelWords)+len(fl.words)+256), nModel: len(modelWords),
		closing: newClosingLexicon(), shape: sh}
	add := func(w string) int32 {
		if id, ok := lx.words[w]; ok {
			return id
		}
		id := int32(len(lx.flagID))
		lx.words[w] = id
		lx.flagID = append(lx.flagID, -1)
		lx.cue = append(lx.cue, 0)
		lx.longRule = append(lx.longRule, false)
		lx.pairStart = append(lx.pairStart, false)
		return id
	}
	for _, w := range modelWords {
		add(w)
	}
	for _, w := range modelWords {
		if first, _, ok := strings.Cut(w, string(bigramSep)); ok {
			lx.pairStart[add(first)] = true
		}
	}
	lx.question = -1
	if id, ok := lx.words[questionWord]; ok {
		lx.question = id
	}
	for w, fid := range fl.words {
		lx.flagID[add(w)] = fid
	}
	for _, c := range cueWords {
		for _, w := range strings.Fields(c.words) {
			id := add(w)
			lx.cue[id] |= c.bit
		}
	}
	// a long rule word is looked up only when its stem says one may match
	var long []string
	for w := range lx.words {
		if len(w) > stemLen && !strings.ContainsRune(w, bigramSep) {
			long = append(long, w)
		}
	}
	for _, w := range long {
		lx.longRule[add(string(stem([]byte(w))))] = true
	}
	lx.table = newWordTable(lx.words)
	lx.known = new(hashFilter)
	for w := range lx.words {
		lx.known.add(fnv64([]byte(w)))
	}
	return lx
}

// stemLen is how many bytes of a word the model sees: cutting words
// short merges inflections ("rimborso", "rimborsi"; "invoice", "invoices")
// and the two languages' cognates ("support", "supporto") without a stemmer.
const stemLen = 6

// stem returns the model's form of a lowercased word: its first stemLen
// bytes, cut back to a character boundary.
func stem(w []byte) []byte {
	if len(w) <= stemLen {
		return w
	}
	n := stemLen
	for n > 0 && !utf8.RuneStart(w[n]) {
		n--
	}
	return w[:n]
}

// feature is one known word of an email with its value.
type feature struct {
	id int32
	v  float32
}

// scan is everything one pass over an email yields.
type scan struct {
	feats     []feature // unique model words, unquoted text only
	norm      float64   // L2 norm of the feature vector, unknown words included
	oov       int       // distinct words of the sender's own text the model does not know
	oovStems  []uint64  // their stems' hashes (fnv64), in order of first use
	bodyWords int       // words of the body's own (unquoted) text
	flagIDs   []int32   // every word as a flag-lexicon id (-1: none), quotes included
	quoted    []int32   // model words of quoted text, while the own text is short
	flagBits  uint8
	asks      bool // the sender's own text asks a question (a '?' before any quote)
	en, it    int
	cues      uint16
	subjCues  uint16 // the cues of the subject alone
	prevCue   uint16
	downAfter bool // "is down", "server down"
	// nothingWorks: "non funziona niente", "nothing works"
	nothingWorks bool
}

// scratch holds the per-call buffers of the hot path.
type scratch struct {
	tok   tokenizer
	scan  scan
	stamp []uint32 // per model word: epoch of last sight
	pos   []int32  // per model word: index in feats
	epoch uint32
	oov   [64]uint64 // bitset of hashed unknown words, to count them once
	// prev is the stem of the previous word of the sender's own text, bg
	// the buffer a bigram key is built in.
	prev, bg []byte
	// prevPair: prev begins a word pair the model knows; prevSep is the
	// hash of prev and bigramSep, which a pair's hash continues.
	prevPair bool
	prevSep  uint64
}

type scratchPool struct {
	lx   *lexicon
	pool sync.Pool
}

func (p *scratchPool) get() *scratch {
	if sc, ok := p.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{
		tok:   tokenizer{buf: make([]byte, 0, 64)},
		prev:  make([]byte, 0, 2*stemLen),
		bg:    make([]byte, 0, 4*stemLen),
		stamp: make([]uint32, p.lx.nModel),
		pos:   make([]int32, p.lx.nModel),
	}
}

func (p *scratchPool) put(sc *scratch) { p.pool.Put(sc) }

// fnv64 is FNV-1a: a fixed hash, so training and classification are
// reproducible across processes.
func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// scanMessage tokenises the subject and the start of the body once, and
// collects the model features, flag rule inputs and rule cues. Long: the
// classifier's hot path, one pass over the email.
func (lx *lexicon) scanMessage(sc *scratch, m *mail.Message) {
	s := &sc.scan
	s.feats, s.flagIDs, s.quoted, s.oovStems = s.feats[:0], s.flagIDs[:0], s.quoted[:0], s.oovStems[:0]
	s.norm, s.oov, s.bodyWords, s.flagBits = 0, 0, 0, 0
	s.en, s.it, s.cues, s.subjCues, s.prevCue, s.downAfter, s.nothingWorks = 0, 0, 0, 0, 0, false, false
	s.asks = false
	sc.epoch++
	if sc.epoch == 0 { // wrapped: forget every stamp
		clear(sc.stamp)
		sc.epoch = 1
	}
	clear(sc.oov[:])
	var oovN int
	head := m.Text
	if len(head) > maxBody {
		head = head[:maxBody]
	}
	fl := flagLex()
	// what follows a reply header ("On ... wrote:", an Outlook "From: /
	// Sent:" block) is the earlier message, quoted or not
	qcut := replyCut(head)
	for part, text := range [...]string{m.Subject, m.Text} {
		val := float32(1)
		if part == 0 {
			val = lx.shape.subject
			if replySubject(text) {
				val = lx.shape.replySubject
			}
		}
		t := &sc.tok
		t.reset(text)
		sc.prevPair = false
		for t.next() {
			if part == 1 && t.i > maxBody {
				// past the head only the flag rules read on: a refund
				// asked at the end of a long email is still asked
				lx.flagToken(s, t, fl)
				continue
			}
			// one lookup for most words: short words are their own stem;
			// a long word is looked up whole only when its stem is shared
			// by a rule word
			var id, mid, sid int32 = -1, -1, -1
			st := stem(t.buf)
			sh := fnvMore(fnvOffset, st) // the stem's hash, its word's start
			switch {
			case !lx.known.has(sh): // neither the word nor its stem
			case len(st) < len(t.buf):
				if v, ok := lx.table.get(st, sh); ok {
					sid = v
					if int(v) < lx.nModel {
						mid = v
					}
					if lx.longRule[v] {
						if w, ok := lx.table.get(t.buf, fnvMore(sh, t.buf[len(st):])); ok {
							id = w
						}
					}
				}
			default:
				if v, ok := lx.table.get(t.buf, sh); ok {
					id, mid, sid = v, v, v
				}
			}
			// rules (flags, cues) read whole words, quotes included
			if id >= 0 {
				fid := lx.flagID[id]
				s.flagIDs = append(s.flagIDs, fid)
				if fid >= 0 {
					s.flagBits |= fl.tokenBits(fid, t, s.flagIDs)
				}
			} else {
				s.flagIDs = append(s.flagIDs, -1)
			}
			if t.inQuote || (part == 1 && t.i > qcut) {
				// quoted words count only when the sender wrote almost
				// nothing: a forward ("see below") is about its quote
				if mid >= 0 && int(mid) < lx.nModel && len(s.feats) < minOwnFeatures && len(s.quoted) < maxQuoted {
					s.quoted = append(s.quoted, mid)
				}
				s.prevCue = 0
				sc.prevPair = false
				continue
			}
			s.bodyWords += part
			var cue uint16
			if id >= 0 {
				cue = lx.cue[id]
			}
			if cue != 0 {
				lx.noteCue(s, cue)
				if part == 0 {
					s.subjCues |= cue
				}
			}
			s.prevCue = cue
			// word pairs ("how do", "come faccio", "non riesco") are
			// features too, when the model knows them
			if sc.prevPair {
				if ph := fnvMore(sc.prevSep, st); lx.known.has(ph) {
					sc.bg = append(append(append(sc.bg[:0], sc.prev...), bigramSep), st...)
					if v, ok := lx.table.get(sc.bg, ph); ok && int(v) < lx.nModel {
						sc.addFeat(v, val)
					}
				}
			}
			if sc.prevPair = sid >= 0 && lx.pairStart[sid]; sc.prevPair {
				sc.prev = append(sc.prev[:0], st...)
				sc.prevSep = (sh ^ bigramSep) * fnvPrime
			}
			if mid < 0 || int(mid) >= lx.nModel {
				// an unknown word, by its stem as the model would know
				// it: counted once, and kept for the adaptive layer
				h := sh
				if sc.oov[h>>6&63]&(1<<(h&63)) == 0 {
					sc.oov[h>>6&63] |= 1 << (h & 63)
					oovN++
					s.oovStems = append(s.oovStems, h)
				}
				continue
			}
			sc.addFeat(mid, val)
		}
		s.flagIDs = append(s.flagIDs, -1) // subject and body never form one phrase
	}
	if s.asks = strings.IndexByte(head, '?') >= 0 && strings.Contains(ownText(head, maxOwnQuestion), "?"); s.asks && lx.question >= 0 {
		sc.addFeat(lx.question, 1)
	}
	// unknown words count a little: enough that a long email full of them
	// is less sure than a short one, not so much that they drown it
	if len(s.feats) < minOwnFeatures {
		for _, id := range s.quoted {
			if sc.stamp[id] != sc.epoch {
				sc.stamp[id] = sc.epoch
				s.feats = append(s.feats, feature{id, quotedValue})
			}
		}
	}
	s.oov = oovN
	n := float64(lx.shape.oov) * float64(oovN)
	for _, f := range s.feats {
		n += float64(f.v * f.v)
	}
	s.norm = math.Sqrt(max(n, 1))
	s.flagBits |= fl.phraseBits(s.flagIDs)
}

// flagToken feeds one whole word to the flag rules only.
func (lx *lexicon) flagToken(s *scan, t *tokenizer, fl *flagLexicon) {
	h := fnvMore(fnvOffset, t.buf)
	id, ok := int32(-1), false
	if lx.known.has(h) {
		id, ok = lx.table.get(t.buf, h)
	}
	if !ok || lx.flagID[id] < 0 {
		s.flagIDs = append(s.flagIDs, -1)
		return
	}
	fid := lx.flagID[id]
	s.flagIDs = append(s.flagIDs, fid)
	s.flagBits |= fl.tokenBits(fid, t, s.flagIDs)
}

// bigramSep joins the two stems of a word pair in the vocabulary: no token
// contains it, so a pair never collides with a word.
const bigramSep = '_'

// addFeat records model word id with value val, once per email (the
// highest value wins: a subject word stays a subject word).
func (sc *scratch) addFeat(id int32, val float32) {
	s := &sc.scan
	if sc.stamp[id] == sc.epoch {
		f := &s.feats[sc.pos[id]]
		f.v = max(f.v, val)
		return
	}
	sc.stamp[id] = sc.epoch
	sc.pos[id] = int32(len(s.feats))
	s.feats = append(s.feats, feature{id, val})
}

// noteCue records a rule word: language counts, priority signals.
func (lx *lexicon) noteCue(s *scan, cue uint16) {
	if cue&cueEN != 0 {
		s.en++
	}
	if cue&cueIT != 0 {
		s.it++
	}
	if cue&cueDown != 0 && s.prevCue&cueDownBefore != 0 {
		s.downAfter = true
	}
	if (cue&cueNothing != 0 && s.prevCue&cueWorks != 0) || (cue&cueWorks != 0 && s.prevCue&cueNothing != 0) {
		s.nothingWorks = true
	}
	s.cues |= cue
}

// replySubject reports, without allocating, a subject that answers or
// forwards another message (isReplySubject's prefixes, any case).
func replySubject(subject string) bool {
	s := strings.TrimLeft(subject, " \t")
	for _, p := range [...]string{"re:", "r:", "rif:", "aw:", "sv:", "fwd:", "fw:", "i:", "tr:", "wg:", "re :"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}
