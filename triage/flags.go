package triage

import (
	_ "embed"
	"slices"
	"strings"
	"sync"

	"smista/mail"
)

// Flags computes the deterministic flags of m in code, never through a
// model: payments and legal (English and Italian keyword and phrase rules),
// vip (c.VIP: an exact address, or a domain that also covers its
// subdomains, compared case-insensitively with the From address) and
// injection (the email tries to steer a classifier: "ignore previous
// instructions", role markers, text that states its own intent or
// confidence, hidden HTML text, zero-width characters). The result is
// sorted and unique; nil when no flag applies.
func Flags(m *mail.Message, c Context) []Flag {
	sc := &flagScratch{tok: tokenizer{buf: make([]byte, 0, 64)}}
	lex := flagLex()
	sc.ids = sc.ids[:0]
	sc.found = 0
	for _, part := range [...]string{m.Subject, m.Text} {
		sc.tok.reset(part)
		for sc.tok.next() {
			id, ok := lex.words[string(sc.tok.buf)]
			if !ok {
				id = -1
			}
			sc.ids = append(sc.ids, id)
			if ok {
				sc.found |= lex.tokenBits(id, &sc.tok, sc.ids)
			}
		}
		sc.ids = append(sc.ids, -1) // subject and body never form one phrase
	}
	sc.found |= lex.phraseBits(sc.ids)
	sc.found |= rawInjectionBits(m, c.HTML)
	return flagsOf(sc.found, m, c)
}

// MergeFlags returns the union of the deterministic flags and those a model
// added, sorted and unique: a model may add a flag, never remove one.
// Unknown flags from a model are dropped.
func MergeFlags(deterministic, model []Flag) []Flag {
	var out []Flag
	for _, f := range slices.Concat(deterministic, model) {
		switch f {
		case FlagPayments, FlagLegal, FlagVIP, FlagInjection:
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// flag bits, in the sorted order of their names
const (
	bitInjection = 1 << iota
	bitLegal
	bitPayments
	bitVIP
	// bitBulk is no flag: newsletter and bulk-mail footer wording, which
	// the offline classifier reads as a strong "not a request" signal.
	bitBulk
	// bitMoney and bitMove are no flags either: a currency's name ("EUR",
	// "euro", "dollars") and a word of money moved ("back", "held",
	// "rimborso"), which together send the email to the slower check for
	// an amount of money in the sender's own words (amountScan).
	bitMoney
	bitMove
	flagBits = bitInjection | bitLegal | bitPayments | bitVIP
)

func flagsOf(bits uint8, m *mail.Message, c Context) []Flag {
	money := bits&bitMove != 0 && (bits&bitMoney != 0 || currencySign(m.Subject) || currencySign(m.Text))
	bits &= flagBits
	switch {
	case bits&(bitLegal|bitPayments) != 0:
		// the keyword rules saw quotes and footers too: judge these two
		// on the sender's own words
		bits = bits&^(bitLegal|bitPayments) | ownFlagBits(m, true)
	case money:
		// no phrase of either flag anywhere, so none in the own words:
		// only an amount there can raise payments
		bits |= ownFlagBits(m, false)
	}
	if isVIP(m.From.Addr, c.VIP) {
		bits |= bitVIP
	}
	if bits == 0 {
		return nil
	}
	out := make([]Flag, 0, 2)
	for _, f := range [...]struct {
		bit  uint8
		flag Flag
	}{{bitInjection, FlagInjection}, {bitLegal, FlagLegal}, {bitPayments, FlagPayments}, {bitVIP, FlagVIP}} {
		if bits&f.bit != 0 {
			out = append(out, f.flag)
		}
	}
	return out
}

// isVIP reports whether addr is listed, or its domain or a parent domain is.
func isVIP(addr string, vip []string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(addr, '@')
	if addr == "" || at < 0 {
		return false
	}
	domain := addr[at+1:]
	for _, v := range vip {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		if strings.Contains(v, "@") && !strings.HasPrefix(v, "@") {
			if v == addr {
				return true
			}
			continue
		}
		v = strings.TrimPrefix(strings.TrimPrefix(v, "@"), ".")
		if domain == v || strings.HasSuffix(domain, "."+v) {
			return true
		}
	}
	return false
}

// flagScratch holds the buffers of one Flags call.
type flagScratch struct {
	tok   tokenizer
	ids   []int32
	found uint8
}

// phrase is a keyword rule: a sequence of words that raises a flag.
type phrase struct {
	bits uint8
	rest []int32 // word ids after the first
}

// flagLexicon indexes the keyword rules by word id.
type flagLexicon struct {
	words   map[string]int32
	starts  [][]phrase // by first word id
	role    []bool     // "assistant:" at the start of a line
	system  []bool     // "system:" at the start of a line, if an order follows
	order   []bool     // words that make "system: ..." an order
	selfKey []bool     // "confidence: 0.9", "intent: support"
	jsonKey []bool     // "priority": in JSON
	money   []uint8    // moneyAfter, moneyBefore, moneyMove: what amountScan reads
}

// the money bits of a word (flagLexicon.money)
const (
	moneyAfter  = 1 << iota // a currency named after an amount ("210 euro")
	moneyBefore             // ... or before it ("EUR 96")
	moneyMove               // money moved, held or owed ("back", "rimborso")
)

// flagRules are the keyword rules, one file per flag under flagrules/:
// one phrase a line, lowercase words separated by spaces ("#" starts a
// comment line); a token is a run of letters and digits, so "art. 17" is
// "art 17".
var flagRules = []struct {
	bits    uint8
	phrases string
}{
	{bitPayments, paymentsRules},
	{bitLegal, legalRules},
	{bitInjection, injectionRules},
}

var (
	//go:embed flagrules/payments.txt
	paymentsRules string
	//go:embed flagrules/legal.txt
	legalRules string
	//go:embed flagrules/injection.txt
	injectionRules string
	// bulkRules are footer phrases of newsletters and bulk mail.
	//
	//go:embed flagrules/bulk.txt
	bulkRules string
)

// order words turn "system: ..." at a line start into a role marker, so
// "System: Windows 11" in a bug report does not.
const orderWords = `you ignore disregard override classify new set mark treat respond reply output always never
sei ignora classifica nuove nuovo imposta rispondi tratta segna sempre mai`

// flagLex is the keyword rule table, built once on first use and never
// changed after.
var flagLex = sync.OnceValue(buildFlagLexicon)

func buildFlagLexicon() *flagLexicon {
	lex := &flagLexicon{words: map[string]int32{}}
	id := func(w string) int32 {
		if v, ok := lex.words[w]; ok {
			return v
		}
		v := int32(len(lex.words))
		lex.words[w] = v
		lex.starts = append(lex.starts, nil)
		lex.role = append(lex.role, false)
		lex.system = append(lex.system, false)
		lex.order = append(lex.order, false)
		lex.selfKey = append(lex.selfKey, false)
		lex.jsonKey = append(lex.jsonKey, false)
		lex.money = append(lex.money, 0)
		return v
	}
	for _, r := range flagRules {
		for _, line := range strings.Split(r.phrases, "\n") {
			ws := strings.Fields(line)
			if len(ws) == 0 || strings.HasPrefix(ws[0], "#") {
				continue
			}
			first := id(ws[0])
			p := phrase{bits: r.bits}
			for _, w := range ws[1:] {
				p.rest = append(p.rest, id(w))
			}
			lex.starts[first] = append(lex.starts[first], p)
		}
	}
	for _, r := range [...]struct {
		bits    uint8
		phrases string
	}{{bitBulk, bulkRules}, {bitMoney, currencyNames}, {bitMove, moneyMoveWords}} {
		for _, line := range strings.Split(r.phrases, "\n") {
			ws := strings.Fields(line)
			if len(ws) == 0 || strings.HasPrefix(ws[0], "#") {
				continue
			}
			first := id(ws[0])
			p := phrase{bits: r.bits}
			for _, w := range ws[1:] {
				p.rest = append(p.rest, id(w))
			}
			lex.starts[first] = append(lex.starts[first], p)
		}
	}
	for _, set := range [...]struct {
		bit   uint8
		words string
	}{{moneyAfter, currencyNames}, {moneyBefore, currencyBefore}, {moneyMove, moneyMoveWords}} {
		for _, w := range strings.Fields(set.words) {
			lex.money[id(w)] |= set.bit
		}
	}
	for _, w := range strings.Fields("assistant assistente") {
		lex.role[id(w)] = true
	}
	for _, w := range strings.Fields("system sistema") {
		lex.system[id(w)] = true
	}
	for _, w := range strings.Fields(orderWords) {
		lex.order[id(w)] = true
	}
	for _, w := range strings.Fields("intent confidence confidenza intento classification classificazione") {
		lex.selfKey[id(w)] = true
	}
	for _, w := range strings.Fields("intent confidence priority category action flags priorità categoria azione") {
		lex.jsonKey[id(w)] = true
	}
	return lex
}

// tokenBits returns the flag bits that one token raises by its position:
// role markers and self-stated classifications. ids holds the ids so far,
// the current one last.
func (lex *flagLexicon) tokenBits(id int32, t *tokenizer, ids []int32) uint8 {
	if t.colon && (lex.selfKey[id] || (t.quoted && lex.jsonKey[id])) {
		return bitInjection
	}
	if t.colon && t.lineStart && (lex.role[id] || (lex.system[id] && t.upper)) {
		return bitInjection
	}
	// "system: <order>": the previous token is the role word
	if n := len(ids); n >= 2 && lex.order[id] {
		if prev := ids[n-2]; prev >= 0 && lex.system[prev] && t.prevSystemMarker {
			return bitInjection
		}
	}
	t.prevSystemMarker = t.colon && t.lineStart && lex.system[id]
	return 0
}

// phraseBits scans the word ids for keyword phrases.
func (lex *flagLexicon) phraseBits(ids []int32) uint8 {
	var bits uint8
	for i, id := range ids {
		if id < 0 {
			continue
		}
	next:
		for _, p := range lex.starts[id] {
			if bits&p.bits != 0 || i+len(p.rest) >= len(ids) {
				continue
			}
			for k, w := range p.rest {
				if ids[i+1+k] != w {
					continue next
				}
			}
			bits |= p.bits
		}
	}
	return bits
}
