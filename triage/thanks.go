package triage

import (
	"strings"

	"smista/mail"
)

// A thank-you note ("I just wanted to say thank you to Luca, your
// engineer", "volevo solo ringraziare Marta del vostro supporto") says
// what it is for in so many words: to thank. It asks for nothing (at most
// to pass the thanks on), so it is other and never a ticket, however much
// of a support exchange it retells. It is recognised by its own words: a
// verb of thanking stated as the purpose (after "wanted to", "writing
// to", "volevo", "scrivo per"), not thanks in advance, no question, and
// nothing that says something is still wrong.

// thankVerbs are the forms of "to thank" a purpose governs.
var thankVerbs = wordSet(`thank thanks ringraziare ringraziarvi ringraziarti ringraziarla ringraziarli ringraziarle`)

// thankPurpose are the words that state a purpose before a verb of
// thanking: "wanted to thank", "a note to say thanks", "just to say
// thank you", "volevo ringraziare", "scrivo per ringraziarvi".
var thankPurpose = wordSet(`wanted want writing write note line like just volevo volevamo vorrei vorremmo
scrivo scriviamo scrivere per`)

// thankFiller may stand between a purpose and the verb: "wanted to say a
// big thank you", "volevo solo ringraziare", "volevo dire grazie".
var thankFiller = wordSet(`to say a big huge quick special only also solo solamente semplicemente soltanto giusto
dire un grande anche`)

// thanksBlockers say that something is still wrong or that a request
// follows the thanks.
var thanksBlockers = wordSet(`however unfortunately still though although tuttavia purtroppo però`)

// inAdvance, a few words after the verb, thank for what is asked: "thank
// you in advance", "ringraziarvi anticipatamente".
var inAdvance = wordSet(`advance anticipo anticipatamente`)

// maxThanksWords bounds the own text of a thank-you note.
const maxThanksWords = 150

// thanksNote reports an email whose own words are a thank-you note. The
// caller asks only when the scan saw a word of thanking (cueThank) and a
// word that may state it as the purpose (cueThankWhy).
func thanksNote(m *mail.Message) bool {
	own := cutSignature(ownText(m.Text[:replyCut(m.Text)], 2<<10))
	if strings.IndexByte(own, '?') >= 0 {
		return false
	}
	var t tokenizer
	t.reset(own)
	// the last thankWindow words' kinds, newest last: no word is kept
	var kinds [thankWindow]uint8
	n, verb := 0, -1
	for t.next() {
		if n == maxThanksWords {
			return false
		}
		n++
		b := t.buf
		if thanksBlockers[string(b)] {
			return false
		}
		if verb >= 0 {
			if n-1-verb <= 4 && inAdvance[string(b)] {
				return false
			}
			continue
		}
		if thankVerbs[string(b)] || string(b) == "grazie" && kinds[thankWindow-1] == kindDire {
			for j := thankWindow - 1; j >= 0; j-- {
				if kinds[j] == kindPurpose {
					verb = n - 1
					break
				}
				if kinds[j] != kindFiller && kinds[j] != kindDire {
					break
				}
			}
		}
		copy(kinds[:], kinds[1:])
		switch {
		case string(b) == "dire":
			kinds[thankWindow-1] = kindDire
		case thankPurpose[string(b)]:
			kinds[thankWindow-1] = kindPurpose
		case thankFiller[string(b)]:
			kinds[thankWindow-1] = kindFiller
		default:
			kinds[thankWindow-1] = kindOther
		}
	}
	return verb >= 0
}

// thankWindow is how many words before a verb of thanking may state its
// purpose: the purpose and up to four fillers.
const thankWindow = 5

// the kinds of word thanksNote remembers before a verb of thanking
const (
	kindOther uint8 = iota
	kindPurpose
	kindFiller
	kindDire // "dire", before "grazie"
)
